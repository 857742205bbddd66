"""Validation gates: they decide whether a new challenger replaces the champion.

The engine holds the gate's ``n_val`` most recent arrived labels out of the challenger's
training set and hands them to :meth:`~strategies.base.Gate.accept`; a rejected
challenger has still cost its training.
"""

from __future__ import annotations

from sklearn.base import is_regressor

from sim.checks import Interval, validate
from sim.types import Decision, sample_loss
from strategies.base import Gate

__all__ = ["AlwaysAccept", "Holdout"]


class AlwaysAccept(Gate):
    """Accept every challenger (no validation).

    Examples
    --------
    >>> AlwaysAccept().accept(None, None, None, None).retrain
    True
    """

    def accept(self, champion, challenger, X_val, y_val) -> Decision:
        """Accept."""
        return Decision(True, "always accept")


class Holdout(Gate):
    """Accept the challenger only if it beats the champion by ``margin`` on held-out labels.

    The held-out labels are the ``n_val`` most recent that have arrived; the challenger
    did not train on them (the champion may have, if they predate its training, which
    only favours the champion). With no held-out label the challenger is accepted.
    Classifiers are compared by accuracy, regressors by mean absolute error.

    Parameters
    ----------
    margin
        Accuracy the challenger must gain over the champion, or for regressors mean
        absolute error it must save (0: ties accept).
    n_val
        Most recent arrived labels held out for validation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((10, 1)), np.array([0] * 7 + [1] * 3)
    >>> good = DummyClassifier(strategy="constant", constant=0).fit(X, y)
    >>> bad = DummyClassifier(strategy="constant", constant=1).fit(X, y)
    >>> Holdout(margin=0.01).check().accept(good, bad, X, y).reason
    'challenger accuracy 0.3 < champion 0.7 + margin 0.01'
    """

    _constraints = {"margin": Interval("float"), "n_val": Interval("int", 1)}

    def __init__(self, margin: float = 0.0, n_val: int = 500):
        self.margin = margin
        self.n_val = n_val

    def check(self) -> Holdout:
        """Validate the parameters; return self."""
        validate(self)
        return self

    def accept(self, champion, challenger, X_val, y_val) -> Decision:
        """Compare the two models' accuracy on the held-out labels."""
        if len(y_val) == 0:
            return Decision(True, "no held-out labels: accepted unvalidated")
        task = "regression" if is_regressor(challenger) else "classification"
        new = float(sample_loss(y_val, challenger.predict(X_val), task).mean())
        old = float(sample_loss(y_val, champion.predict(X_val), task).mean())
        if task == "classification":  # compare accuracies
            name, new, old = "accuracy", 1 - new, 1 - old
            wins = new >= old + self.margin
            verdict, margin = (">=" if wins else "<"), f"+ margin {self.margin}"
        else:
            name = "mean absolute error"
            wins = new <= old - self.margin
            verdict, margin = ("<=" if wins else ">"), f"- margin {self.margin}"
        stats = {"challenger": new, "champion": old}
        return Decision(bool(wins), f"challenger {name} {new:.4g} {verdict} champion "
                                    f"{old:.4g} {margin}", stats)

"""How the deployed model learns between retrains: not at all (batch) or online.

A :class:`Learning` policy is the engine's fifth component beside the trigger, the gate,
the cost and the protocol. :class:`Batch` (the default) leaves a model as its retrain
fitted it; :class:`Online` updates the serving model at every step on the labels that
arrived at that step (``partial_fit``), under the same rules of time as everything else:
a label updates a model only once it has arrived (``label_delay``, ``label_rate``).
Combined with a trigger, a retrain still trains a fresh model on its window ("reset on
drift") and online updates continue on the new model; with ``trigger=never`` it is pure
continuous learning.

:class:`RiverClassifier` adapts a River classifier to scikit-learn's ``fit`` /
``partial_fit`` / ``predict``, so River's online learners run under :class:`Online` too.
River is optional: the adapter names the missing package when it is not installed.

Examples
--------
>>> from sklearn.linear_model import SGDClassifier
>>> from sim import replay
>>> from sim.scripted import AtSteps
>>> from sim.streams import SEA
>>> result = replay(SEA(n_samples=10_000), SGDClassifier(random_state=0), AtSteps([]),
...                 learning=Online())
>>> int(result.summary["n_updated"])
5000
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone, is_classifier
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from sim.checks import Instance, Interval, param_error, validate

__all__ = ["AllClasses", "Batch", "Learning", "Online", "RiverClassifier"]


class Learning(BaseEstimator):
    """Base class: what happens to a model between retrains.

    ``updates`` says whether the engine calls :meth:`update` with every step's arrived
    labels; :meth:`check_model` says before any work whether a model can be updated.
    """

    updates: bool = False
    _constraints: dict = {}

    def check(self) -> Learning:
        """Validate the parameters; return self."""
        validate(self)
        return self

    def check_model(self, model) -> None:
        """Raise a ValueError naming the model if this policy cannot use it."""

    def prepare(self, model, classes):
        """Return the model the run fits, given the stream's declared ``classes`` (or None)."""
        return model

    def update(self, estimator, X: np.ndarray, y: np.ndarray) -> int:
        """Update ``estimator`` in place on arrived labels; return the samples charged."""
        return 0


class Batch(Learning):
    """No learning between retrains: a model serves as its retrain fitted it (the default).

    Examples
    --------
    >>> Batch().updates
    False
    """


class Online(Learning):
    """Continuous learning: the serving model's ``partial_fit`` on every step's arrived labels.

    The engine copies a model before its first update (a fit may be shared through
    :mod:`sim.cache`), predicts with it step by step from then on (its predictions change
    every step, so none are made ahead or cached), and charges
    :attr:`~sim.cost.Cost.per_update` per updated sample. A retrain trains a fresh model
    as under :class:`Batch`; the new model is updated from the step it serves.
    A holdout gate's validation labels are the latest arrived, which the serving model
    has already learned: it scores in-sample there, so the gate favours it.

    Parameters
    ----------
    passes
        ``partial_fit`` calls per step on the step's arrived labels (each sample is
        charged once per pass).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import SGDClassifier
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> model = SGDClassifier(random_state=0).fit(X, y)
    >>> online = Online(passes=2)
    >>> online.check().check_model(model)
    >>> online.update(model, X[:2], y[:2])
    4
    >>> model.t_ > 4
    True
    """

    updates = True
    _constraints = {"passes": Interval("int", 1)}

    def __init__(self, passes: int = 1):
        self.passes = passes

    def check_model(self, model) -> None:
        """Raise a ValueError if ``model`` has no ``partial_fit`` (or the adapter cannot run)."""
        if isinstance(model, RiverClassifier):
            model._river_class()
            return
        if not hasattr(model, "partial_fit"):
            raise ValueError(
                f"Online learning updates the model with partial_fit, and "
                f"{type(model).__name__} has none. Use a model that learns incrementally: "
                "model=sgd (SGDClassifier), model=sgd_regressor, model=naive_bayes "
                "(GaussianNB), model=mlp (MLPClassifier), model=river_hoeffding_tree "
                "(River through sim.learning.RiverClassifier); or learning=batch.")

    def prepare(self, model, classes):
        """Declare the stream's ``classes`` to a classifier: :class:`AllClasses` around it.

        A scikit-learn classifier's ``partial_fit`` refuses a class its first fit did not
        see, so a class that first appears after the initial segment would stop the run.
        The stream's class list is schema (what the label column may hold, as a
        production label set is), not a label: declaring it up front uses no label
        before it arrives. A regressor, a River model (River learns new classes as they
        come) and a stream that declares no classes keep the model as it is.
        """
        if classes is None or not is_classifier(model) or isinstance(model, RiverClassifier):
            return model
        return AllClasses(model, classes=np.asarray(classes).tolist())

    def update(self, estimator, X: np.ndarray, y: np.ndarray) -> int:
        """Call ``estimator.partial_fit(X, y)`` ``passes`` times (in place); return the samples."""
        for _ in range(self.passes):
            estimator.partial_fit(X, y)
        return self.passes * len(y)


class AllClasses(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """A classifier that knows every class of the stream from its first fit on.

    What :meth:`Online.prepare` wraps a classifier in. ``fit`` is the classifier's own
    ``fit`` when the labels hold every declared class (the same model as without the
    wrapper); when some class is missing it is the first ``partial_fit`` with
    ``classes`` declared (one pass over the rows, as an incremental learner starts), so
    that a later ``partial_fit`` can learn a class that first appears then. A class not
    seen yet has no training samples (for naive Bayes a prior of 0, never predicted)
    until it arrives.

    Parameters
    ----------
    estimator
        A scikit-learn classifier with ``partial_fit``.
    classes
        Every label the stream may emit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import SGDClassifier
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]] * 5), np.array([0, 0, 1, 1] * 5)
    >>> clf = AllClasses(SGDClassifier(random_state=0), classes=[0, 1, 2]).fit(X, y)
    >>> clf.classes_.tolist()
    [0, 1, 2]
    >>> clf.partial_fit(np.array([[9.0]] * 20), np.array([2] * 20)).predict([[9.0]]).tolist()
    [2]
    """

    def __init__(self, estimator=None, classes: Sequence | None = None):
        self.estimator = estimator
        self.classes = classes

    def fit(self, X, y) -> AllClasses:
        """Fit a clone of the classifier, declaring the classes if ``y`` lacks some."""
        classes = self._declared(y)
        self.estimator_ = clone(self.estimator)
        if np.isin(classes, y).all():
            self.estimator_.fit(X, y)
        else:
            self.estimator_.partial_fit(X, y, classes=classes)
        self.classes_ = self.estimator_.classes_
        return self

    def partial_fit(self, X, y) -> AllClasses:
        """Update the classifier (its first call declares the classes)."""
        if not hasattr(self, "estimator_"):
            self.estimator_ = clone(self.estimator)
            self.estimator_.partial_fit(X, y, classes=self._declared(y))
        else:
            self.estimator_.partial_fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def _declared(self, y) -> np.ndarray:
        """Return the declared classes; raise naming the labels that are not among them."""
        classes = np.asarray(self.classes)
        unknown = np.setdiff1d(np.unique(y), classes)
        if len(unknown):
            raise ValueError(f"The labels {unknown.tolist()} are not among the classes the "
                             f"stream declares, {classes.tolist()}: AllClasses cannot learn "
                             "them.")
        return classes

    def predict(self, X) -> np.ndarray:
        """Return the classifier's predictions."""
        check_is_fitted(self, "estimator_")
        with np.errstate(divide="ignore"):  # log of a prior 0: a class not seen yet
            return self.estimator_.predict(X)

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X) -> np.ndarray:
        """Return the class probabilities (columns in the order of ``classes_``)."""
        check_is_fitted(self, "estimator_")
        with np.errstate(divide="ignore"):
            return self.estimator_.predict_proba(X)

    @available_if(lambda self: hasattr(self.estimator, "decision_function"))
    def decision_function(self, X) -> np.ndarray:
        """Return the classifier's decision function."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)


def own(estimator):
    """Return a copy of ``estimator`` that its updates may change (fits may be shared)."""
    return copy.deepcopy(estimator)


class RiverClassifier(ClassifierMixin, BaseEstimator):
    """A River classifier behind scikit-learn's ``fit`` / ``partial_fit`` / ``predict``.

    River learns one sample at a time, and so does the adapter: ``fit`` trains a new model
    with ``learn_one`` over the rows in order (``epochs`` times), ``partial_fit`` continues
    with ``learn_one`` over the new rows once. That is River's own protocol
    (``river.evaluate.progressive_val_score`` calls ``learn_one`` per sample), and what
    its models converge under: their ``learn_many`` (where they have one) is a mini-batch
    update, a single gradient step for a whole batch in ``linear_model``, which left
    ``linear_model.LogisticRegression`` at chance (0.499) where progressive validation
    reaches 0.880 on the same data. Predictions use ``predict_proba_many`` when the model
    has it (the same probabilities as ``predict_proba_one``, computed for all rows at
    once). Features reach River as a dict per sample keyed by column position.

    Parameters
    ----------
    model
        The River class by its path under ``river``, e.g. ``"tree.HoeffdingTreeClassifier"``
        or ``"linear_model.LogisticRegression"``.
    params
        Keyword arguments of that class (None: its defaults).
    epochs
        Passes of ``learn_one`` over the rows of a ``fit`` (1: each sample once, as in
        River's progressive validation; more for a linear model trained by batch
        retrains on a small window).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]] * 10)
    >>> y = np.array([0, 0, 1, 1] * 10)
    >>> clf = RiverClassifier("naive_bayes.GaussianNB").fit(X, y)
    >>> clf.predict(np.array([[0.2], [2.9]])).tolist()
    [0, 1]
    >>> clf = RiverClassifier("linear_model.LogisticRegression", epochs=5).fit(X, y)
    >>> clf.predict(np.array([[0.2], [2.9]])).tolist()
    [0, 1]
    """

    _constraints = {"params": Instance("a dict of the River class's arguments",
                                       classes=(dict,), allow_none=True),
                    "epochs": Interval("int", 1)}

    def __init__(self, model: str = "tree.HoeffdingTreeClassifier",
                 params: dict[str, Any] | None = None, epochs: int = 1):
        self.model = model
        self.params = params
        self.epochs = epochs

    def _river_class(self):
        """Return the River class named by ``model``; a clear error if it cannot be found."""
        validate(self)
        try:
            river = importlib.import_module("river")
        except ImportError as ex:
            raise ImportError(
                "RiverClassifier needs the optional package 'river': "
                "pip install 'retrain-sim[river]' (or pip install river).") from ex
        module, _, name = self.model.rpartition(".")
        try:
            cls = getattr(importlib.import_module(f"river.{module}"), name) if module \
                else getattr(river, name)
        except (ImportError, AttributeError):
            cls = None
        if cls is None or not hasattr(cls, "learn_one") or not hasattr(cls, "predict_one"):
            raise param_error(self, "model", "name a River classifier under river, e.g. "
                              "'tree.HoeffdingTreeClassifier'", self.model, verb="")
        return cls

    def fit(self, X, y) -> RiverClassifier:
        """Train a new River model on ``X``, ``y``: ``learn_one`` per row, ``epochs`` times."""
        self.river_ = self._river_class()(**(self.params or {}))
        self.classes_ = np.unique(y)
        X, y = validate_data(self, X, y, reset=True)
        for _ in range(self.epochs):
            self._learn(X, y)
        return self

    def partial_fit(self, X, y) -> RiverClassifier:
        """Update the River model on ``X``, ``y`` (fits it first if it was never fitted)."""
        if not hasattr(self, "river_"):
            return self.fit(X, y)
        self.classes_ = np.union1d(self.classes_, y)
        X, y = validate_data(self, X, y, reset=False)
        self._learn(X, y)
        return self

    def _learn(self, X: np.ndarray, y: np.ndarray) -> None:
        """One ``learn_one`` per row, in order (River's models learn one sample at a time)."""
        learn = self.river_.learn_one
        for row, label in zip(self._rows(X), y.tolist(), strict=True):
            learn(row, label)

    @staticmethod
    def _rows(X: np.ndarray) -> list[dict]:
        return [dict(enumerate(row)) for row in X.tolist()]

    def predict_proba(self, X) -> np.ndarray:
        """Return the class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "river_")
        X = validate_data(self, X, reset=False)
        if hasattr(self.river_, "predict_proba_many"):
            import pandas as pd

            frame = self.river_.predict_proba_many(pd.DataFrame(X))
            proba = frame.reindex(columns=self.classes_, fill_value=0.0).fillna(0.0)
            return proba.to_numpy(dtype=float)
        out = np.zeros((len(X), len(self.classes_)))
        position = {c: i for i, c in enumerate(self.classes_.tolist())}
        for i, row in enumerate(self._rows(X)):
            for label, p in self.river_.predict_proba_one(row).items():
                if label in position:
                    out[i, position[label]] = p
        return out

    def predict(self, X) -> np.ndarray:
        """Return the most probable class of each sample (the first if River has none)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

"""The cost of retraining (and of validating a retrain in the shadow), in nominal units.

Nominal units keep sweeps reproducible (they do not depend on the machine); the engine
measures fit CPU seconds beside them to keep comparisons honest.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator

from sim.checks import Interval, validate

__all__ = ["Cost"]


class Cost(BaseEstimator):
    """Nominal cost: per retrain, training sample, label, online update and shadow prediction.

    Parameters
    ----------
    per_retrain
        Units charged for every model trained (a rejected challenger costs too).
    per_sample
        Units charged per training sample of each retrain.
    per_label
        Units charged per label that arrives (the labelling effort; with
        ``label_rate < 1`` fewer labels arrive and cost less).
    per_update
        Units charged per sample of an online update (:class:`~sim.learning.Online`:
        each step's arrived labels, once per pass); reported as ``cost_updates``.
    per_shadow_sample
        Units charged per sample a challenger predicts in the shadow of the deployed
        model (:class:`~strategies.Shadow`: inference that serves no one).

    Examples
    --------
    >>> cost = Cost(per_retrain=1.0, per_sample=0.001)
    >>> cost.retrain(n_train=2000)
    {'cost_retrain': 1.0, 'cost_samples': 2.0}
    """

    _constraints = {name: Interval("float", 0) for name in
                    ("per_retrain", "per_sample", "per_label", "per_update",
                     "per_shadow_sample")}

    def __init__(self, per_retrain: float = 1.0, per_sample: float = 0.0, per_label: float = 0.0,
                 per_update: float = 0.0, per_shadow_sample: float = 0.0):
        self.per_retrain = per_retrain
        self.per_sample = per_sample
        self.per_label = per_label
        self.per_update = per_update
        self.per_shadow_sample = per_shadow_sample

    def check(self) -> Cost:
        """Validate the parameters; return self."""
        validate(self)
        return self

    def retrain(self, n_train: int) -> dict[str, float]:
        """Return the cost terms of one retrain on ``n_train`` samples."""
        return {
            "cost_retrain": float(self.per_retrain),
            "cost_samples": float(self.per_sample) * n_train,
        }

    def labels(self, n_labels: int) -> float:
        """Return the cost of ``n_labels`` arriving labels."""
        return float(self.per_label) * n_labels

    def updates(self, n_updated: int) -> float:
        """Return the cost of ``n_updated`` samples of online updates."""
        return float(self.per_update) * n_updated

    def shadow(self, n_samples: int) -> float:
        """Return the cost of ``n_samples`` shadow predictions."""
        return float(self.per_shadow_sample) * n_samples

"""Prior (label) shift: class proportions move, the class-conditional inputs stay."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.checks import Interval, is_real, param_error
from sim.streams.schedule import FeatureCountMixin, SyntheticStream, is_sequence

__all__ = ["PriorShift"]


class PriorShift(FeatureCountMixin, SyntheticStream):
    """Class-conditional Gaussians whose class proportions change over time.

    ``y`` is drawn from the concept's class priors, then ``X | y = k`` is normal with
    identity covariance and mean ``separation / 2 * (cos(2 pi k / K), sin(2 pi k / K),
    0, ...)`` for ``K`` classes (for two classes: ``(+s/2, 0)`` and ``(-s/2, 0)``), the
    same in every concept. So P(X|y) is fixed, and a drift between concepts is of kind
    ``"prior"`` (features ``()``); the Bayes boundary moves with the priors, which is
    what a model trained on old proportions gets wrong. Incremental drifts interpolate
    the priors linearly.

    Parameters
    ----------
    n_samples
        Length of the stream.
    priors
        The concepts: one list of class probabilities (summing to 1) per concept, all
        of the same length ``K >= 2``.
    schedule
        Drift events; see :mod:`sim.streams.schedule`.
    concept
        Index of the concept the stream starts in.
    n_features
        Number of features (>= 2); features from index 2 on are irrelevant noise.
    separation
        Distance of the class means from each other's (twice the radius of the circle
        they lie on).

    Examples
    --------
    >>> stream = PriorShift(n_samples=20_000, schedule=[{"at": 10_000, "to": 1}])
    >>> stream.drifts
    (Drift(start=10000, end=10000, kind='prior', shape='sudden', source=0, target=1,
           recurring=False, features=()),)
    >>> [float(b.y.mean().round(2)) for b in stream.batches(seed=0, step_size=10_000)]
    [0.5, 0.11]
    """

    version = "1"

    _constraints = SyntheticStream._constraints | {
        "n_features": Interval("int", 2),
        "separation": Interval("float", 0.0),
    }

    def __init__(
        self,
        n_samples: int = 100_000,
        priors: Sequence[Sequence[float]] = ((0.5, 0.5), (0.9, 0.1)),
        schedule: Sequence[dict] = (),
        concept: int = 0,
        n_features: int = 2,
        separation: float = 2.0,
    ):
        self.n_samples = n_samples
        self.priors = priors
        self.schedule = schedule
        self.concept = concept
        self.n_features = n_features
        self.separation = separation

    @property
    def classes(self) -> np.ndarray:
        """The labels, ``0 .. K - 1``."""
        return np.arange(self._spec().n_classes)

    def _check_params(self):
        owner = type(self).__name__
        rule = (
            "a non-empty list of class-probability lists (each of the same length >= 2, "
            "non-negative, summing to 1)"
        )
        pr = self.priors
        ok = is_sequence(pr) and len(pr) > 0 and all(is_sequence(p) for p in pr)
        if ok:
            k = len(pr[0])
            ok = k >= 2 and all(
                len(p) == k
                and all(is_real(v) and np.isfinite(v) and v >= 0 for v in p)
                and abs(sum(float(v) for v in p) - 1.0) <= 1e-6
                for p in pr
            )
        if not ok:
            raise param_error(owner, "priors", rule, pr)
        table = np.array(pr, dtype=float)
        table /= table.sum(axis=1, keepdims=True)
        d, sep = self.n_features, self.separation
        angles = 2 * np.pi * np.arange(k) / k
        means = np.zeros((k, d))
        means[:, 0], means[:, 1] = np.cos(angles), np.sin(angles)
        means *= sep / 2
        return {"n_concepts": len(table), "n_classes": k, "table": table, "d": d, "means": means}

    def _concept_table(self, spec, make_rng):
        return {"priors": spec.table}

    def _drift_kind(self, spec, source, target):
        if np.array_equal(spec.table[source], spec.table[target]):
            return None
        return "prior", ()

    def _generate(self, spec, rng, params, start, n, state):
        u = rng.random(n)
        cum = np.cumsum(params["priors"], axis=1)[:, :-1]
        y = (u[:, None] >= cum).sum(axis=1)
        X = rng.standard_normal((n, spec.d))
        X += spec.means[y]
        return X, y.astype(np.int64), state

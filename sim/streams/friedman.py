"""Friedman #1 regression with drifting coefficients (Friedman, 1991)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.checks import Interval, param_error
from sim.streams.schedule import SyntheticStream

__all__ = ["Friedman"]

_TERMS = ((0, 1), (2,), (3,), (4,))  # the features of each term of the target


class Friedman(SyntheticStream):
    """Friedman #1 regression: ten uniform features, five of them in the target.

    ``y = a sin(pi x1 x2) + b (x3 - 0.5)^2 + c x4 + d x5 + noise * N(0, 1)``, with
    ``x1 ... x10`` uniform on [0, 1] (``x6 ... x10`` are irrelevant), the benchmark of
    ``sklearn.datasets.make_friedman1`` whose coefficients ``(10, 20, 10, 5)`` are the first
    concept. Each concept is one row of coefficients ``(a, b, c, d)``; a drift changes
    the target's dependence on the features whose coefficients differ (kind
    ``"concept"``). The task is ``"regression"``: scored by mean absolute error.

    Parameters
    ----------
    n_samples
        Length of the stream.
    coefficients
        The concepts: one ``(a, b, c, d)`` row each.
    schedule
        Drift events, e.g. ``[{"at": 20000, "to": 1}]``; see :mod:`sim.streams.schedule`.
    concept
        Index of the concept the stream starts in.
    noise
        Standard deviation of the Gaussian noise added to the target.

    References
    ----------
    J. H. Friedman, "Multivariate adaptive regression splines", The Annals of
    Statistics 19(1), 1991.

    Examples
    --------
    >>> stream = Friedman(n_samples=1000, schedule=[{"at": 500, "to": 1}])
    >>> stream.task, stream.classes, stream.drifts[0].features
    ('regression', None, (3, 4))
    >>> batch = next(stream.batches(seed=0, step_size=4))
    >>> batch.X.shape, batch.y.round(2).tolist()
    ((4, 10), [20.32, 12.86, 15.55, 14.77])
    """

    version = "1"
    task = "regression"
    _constraints = SyntheticStream._constraints | {
        "noise": Interval("float", 0.0, None, closed="left"),
    }

    def __init__(
        self,
        n_samples: int = 100_000,
        coefficients: Sequence[Sequence[float]] = ((10.0, 20.0, 10.0, 5.0),
                                                   (10.0, 20.0, -10.0, -5.0),
                                                   (-10.0, 20.0, 10.0, 5.0)),
        schedule: Sequence[dict] = (),
        concept: int = 0,
        noise: float = 1.0,
    ):
        self.n_samples = n_samples
        self.coefficients = coefficients
        self.schedule = schedule
        self.concept = concept
        self.noise = noise

    @property
    def n_features(self) -> int:
        """Number of features (10)."""
        return 10

    @property
    def classes(self) -> None:
        """None: a regression stream has no classes."""
        return None

    def _check_params(self):
        rows = self.coefficients
        try:
            table = np.asarray(rows, dtype=float)
        except (TypeError, ValueError):
            table = np.empty((0, 0))
        if table.ndim != 2 or table.shape[1] != len(_TERMS) or not len(table) \
                or not np.isfinite(table).all():
            raise param_error(self, "coefficients", "a non-empty list of rows of four "
                              "finite numbers (a, b, c, d)", rows)
        return {"n_concepts": len(table), "coefficients": table, "noise": float(self.noise)}

    def _concept_table(self, spec, make_rng):
        return {"coef": spec.coefficients}

    def _drift_kind(self, spec, source, target):
        moved = spec.coefficients[source] != spec.coefficients[target]
        if not moved.any():
            return None
        return "concept", tuple(f for term, m in zip(_TERMS, moved, strict=True) if m
                                for f in term)

    def _generate(self, spec, rng, params, start, n, state):
        X = rng.random((n, 10))
        coef = params["coef"]
        y = (coef[:, 0] * np.sin(np.pi * X[:, 0] * X[:, 1]) + coef[:, 1] * (X[:, 2] - 0.5) ** 2
             + coef[:, 2] * X[:, 3] + coef[:, 3] * X[:, 4]
             + spec.noise * rng.standard_normal(n))
        return X, y, state

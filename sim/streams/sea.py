"""SEA concepts (Street & Kim, 2001)."""

from __future__ import annotations

from collections.abc import Sequence

from sim.checks import Floats, Interval
from sim.streams.schedule import SyntheticStream, flip_labels

__all__ = ["SEA"]


class SEA(SyntheticStream):
    """SEA concepts: a threshold on the sum of two uniform features.

    Three features uniform on [0, 10]; the third is irrelevant. The label is 1 iff
    ``x1 + x2 > theta`` (the polarity of River's ``SEA`` and of MOA's class 1), then
    flipped with probability ``noise``. Each concept is one threshold.

    Parameters
    ----------
    n_samples
        Length of the stream.
    thresholds
        The concepts' thresholds ``theta`` (concept ``k`` uses ``thresholds[k]``).
    schedule
        Drift events, e.g. ``[{"at": 5000, "to": 1, "shape": "gradual", "width":
        1000}]``; see :mod:`sim.streams.schedule`. Drifts are of kind ``"concept"`` on
        features (0, 1).
    concept
        Index of the concept the stream starts in.
    noise
        Probability of flipping each label (MOA's default 10 %).

    References
    ----------
    W. N. Street and Y. Kim, "A streaming ensemble algorithm (SEA) for large-scale
    classification", KDD 2001.

    Examples
    --------
    >>> stream = SEA(n_samples=1000, schedule=[{"at": 500, "to": 2}])
    >>> stream.drifts
    (Drift(start=500, end=500, kind='concept', shape='sudden', source=0, target=2,
           recurring=False, features=(0, 1)),)
    >>> batch = next(stream.batches(seed=0, step_size=8))
    >>> batch.X.shape, batch.y.tolist()
    ((8, 3), [1, 1, 1, 0, 0, 0, 1, 1])
    """

    version = "1"
    _constraints = SyntheticStream._constraints | {
        "thresholds": Floats(),
        "noise": Interval("float", 0.0, 1.0, closed="left"),
    }

    def __init__(
        self,
        n_samples: int = 100_000,
        thresholds: Sequence[float] = (8.0, 9.0, 7.0, 9.5),
        schedule: Sequence[dict] = (),
        concept: int = 0,
        noise: float = 0.1,
    ):
        self.n_samples = n_samples
        self.thresholds = thresholds
        self.schedule = schedule
        self.concept = concept
        self.noise = noise

    @property
    def n_features(self) -> int:
        """Number of features (3)."""
        return 3

    def _check_params(self):
        th = self.thresholds
        return {"n_concepts": len(th), "thresholds": [float(t) for t in th], "noise": self.noise}

    def _concept_table(self, spec, make_rng):
        return {"theta": spec.thresholds}

    def _drift_kind(self, spec, source, target):
        if spec.thresholds[source] == spec.thresholds[target]:
            return None
        return "concept", (0, 1)

    def _generate(self, spec, rng, params, start, n, state):
        X = rng.random((n, 3))
        X *= 10.0
        y = (X[:, 0] + X[:, 1]) > params["theta"]
        return X, flip_labels(y, rng, spec.noise), state

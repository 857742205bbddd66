"""Rotating hyperplane (Hulten, Spencer & Domingos, 2001; as in MOA and River)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.checks import Interval, check
from sim.streams.schedule import FeatureCountMixin, SyntheticStream
from sim.types import Drift

__all__ = ["RotatingHyperplane"]


def drift_path(
    offset: np.ndarray, direction: np.ndarray, flips: np.ndarray, mag_change: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised MOA weight drift over a block of samples.

    Sample ``j`` of the block sees the weights after ``j`` drift steps; step ``k`` adds
    ``direction_k * mag_change`` to each drifting weight, then reverses its direction
    where ``flips[k]`` is True.

    Parameters
    ----------
    offset
        Accumulated weight change of the drifting features before the block.
    direction
        Their current directions (+1 or -1).
    flips
        Boolean array ``(n, n_drift_features)``: reversals after each sample.
    mag_change
        Weight change per sample.

    Returns
    -------
    offsets
        ``(n, n_drift_features)``: the weight change each sample sees.
    offset, direction
        The state after the block.

    Examples
    --------
    >>> flips = np.array([[False], [True], [False], [False]])
    >>> path, off, d = drift_path(np.zeros(1), np.array([1]), flips, 0.5)
    >>> path.ravel().tolist(), off.tolist(), d.tolist()
    ([0.0, 0.5, 1.0, 0.5], [0.0], [-1])
    """
    n_flips = np.cumsum(flips, axis=0)  # reversals up to and including each step
    before = n_flips - flips  # reversals before each step
    steps = direction * (1 - 2 * (before % 2))  # direction used at each step
    taken = np.cumsum(steps, axis=0)  # integer: exact
    path = offset + mag_change * (taken - steps)
    new_direction = direction * (1 - 2 * (n_flips[-1] % 2)) if len(flips) else direction
    new_offset = offset + mag_change * taken[-1] if len(flips) else offset
    return path, new_offset, new_direction


class RotatingHyperplane(FeatureCountMixin, SyntheticStream):
    """Rotating hyperplane: a linear rule whose weights drift a little every sample.

    Features uniform on [0, 1]; label 1 iff ``sum_i w_i x_i >= 0.5 * sum_i w_i``, then
    flipped with probability ``noise``. Initial weights are uniform on [0, 1] (drawn
    from the seed). After each sample, each of the first ``n_drift_features`` weights
    moves by ``mag_change`` in its direction (+1 at the start), and reverses direction
    with probability ``sigma`` (MOA's semantics; MOA and River express ``sigma`` and
    ``noise`` as percentages). The drift is computed per sample but vectorised
    (cumulative sums of the reversals), with the weights carried between blocks.

    When ``mag_change > 0`` the ground truth holds one incremental concept drift
    spanning the whole stream (``source`` and ``target`` None, features the drifting
    ones). In addition, the schedule can switch between ``n_concepts`` independent
    random hyperplanes (concept ``k``'s initial weights are drawn from the seed and
    ``k``; returning to ``k`` is a recurring drift); an incremental event interpolates
    the weights. The continuous rotation adds to whichever hyperplane is current.

    Parameters
    ----------
    n_samples
        Length of the stream.
    n_features
        Number of features.
    n_drift_features
        Number of features (the first ones) whose weights drift.
    mag_change
        Weight change per sample (0: no rotation).
    sigma
        Probability that a drifting weight reverses direction after each sample.
    noise
        Probability of flipping each label.
    n_concepts
        Number of independent hyperplanes the schedule can switch between.
    schedule
        Drift events; see :mod:`sim.streams.schedule`.
    concept
        Index of the hyperplane the stream starts with.

    References
    ----------
    G. Hulten, L. Spencer and P. Domingos, "Mining time-changing data streams",
    KDD 2001.

    Examples
    --------
    >>> stream = RotatingHyperplane(n_samples=1000, mag_change=0.001)
    >>> stream.drifts
    (Drift(start=0, end=1000, kind='concept', shape='incremental', source=None,
           target=None, recurring=False, features=(0, 1)),)
    >>> next(stream.batches(seed=0, step_size=10)).y.tolist()
    [1, 1, 1, 0, 1, 1, 1, 0, 1, 0]
    """

    version = "1"

    _constraints = SyntheticStream._constraints | {
        "n_features": Interval("int", 1),
        "mag_change": Interval("float", 0.0),
        "sigma": Interval("float", 0.0, 1.0),
        "noise": Interval("float", 0.0, 1.0, closed="left"),
        "n_concepts": Interval("int", 1),
    }

    def __init__(
        self,
        n_samples: int = 100_000,
        n_features: int = 10,
        n_drift_features: int = 2,
        mag_change: float = 0.0,
        sigma: float = 0.1,
        noise: float = 0.05,
        n_concepts: int = 1,
        schedule: Sequence[dict] = (),
        concept: int = 0,
    ):
        self.n_samples = n_samples
        self.n_features = n_features
        self.n_drift_features = n_drift_features
        self.mag_change = mag_change
        self.sigma = sigma
        self.noise = noise
        self.n_concepts = n_concepts
        self.schedule = schedule
        self.concept = concept

    def _check_params(self):
        d = self.n_features
        return {
            "d": d,
            "n_drift": check(self, "n_drift_features", self.n_drift_features,
                             Interval("int", 0, d)),
            "mag": self.mag_change,
            "sigma": self.sigma,
            "noise": self.noise,
            "n_concepts": self.n_concepts,
        }

    def _concept_table(self, spec, make_rng):
        return {"w": np.stack([make_rng(2, k).random(spec.d) for k in range(spec.n_concepts)])}

    def _drift_kind(self, spec, source, target):
        return "concept", tuple(range(spec.d))

    def _extra_drifts(self, spec):
        if spec.mag > 0 and spec.n_drift > 0:
            return (
                Drift(
                    start=0,
                    end=spec.n_samples,
                    kind="concept",
                    shape="incremental",
                    features=tuple(range(spec.n_drift)),
                ),
            )
        return ()

    def _init_state(self, spec, make_rng):
        return np.zeros(spec.n_drift), np.ones(spec.n_drift, dtype=np.int64)

    def _generate(self, spec, rng, params, start, n, state):
        X = rng.random((n, spec.d))
        noise_draw = rng.random(n)
        w = params["w"]
        if spec.mag > 0 and spec.n_drift > 0:
            offset, direction = state
            flips = rng.random((n, spec.n_drift)) < spec.sigma
            path, offset, direction = drift_path(offset, direction, flips, spec.mag)
            w = np.array(np.broadcast_to(w, (n, spec.d)))
            w[:, : spec.n_drift] += path
            state = (offset, direction)
        y = np.einsum("ij,ij->i", X, np.broadcast_to(w, X.shape)) >= 0.5 * w.sum(axis=1)
        y = np.logical_xor(y, noise_draw < spec.noise).astype(np.int64)
        return X, y, state

"""STAGGER concepts (Schlimmer & Granger, 1986)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.checks import Interval, Options
from sim.streams.schedule import SyntheticStream, flip_labels

__all__ = ["Stagger"]

# all 27 objects (size, colour, shape), and each concept's label for them
_OBJECTS = np.array(np.meshgrid(np.arange(3), np.arange(3), np.arange(3), indexing="ij"))
_OBJECTS = _OBJECTS.reshape(3, -1).T
_SIZE, _COLOUR, _SHAPE = _OBJECTS.T
_RULES = np.array(
    [
        (_SIZE == 0) & (_COLOUR == 0),  # 0: small and red
        (_COLOUR == 2) | (_SHAPE == 0),  # 1: green or circle
        (_SIZE == 1) | (_SIZE == 2),  # 2: medium or large
    ]
)
_RULE_FEATURES = ((0, 1), (1, 2), (0,))


def _lookup() -> tuple[np.ndarray, np.ndarray]:
    """Objects of each (concept, label), padded, and their counts (balanced sampling)."""
    counts = np.array([[np.sum(r == lab) for lab in (0, 1)] for r in _RULES])
    table = np.zeros((3, 2, counts.max()), dtype=np.intp)
    for c, r in enumerate(_RULES):
        for lab in (0, 1):
            members = np.flatnonzero(r == lab)
            table[c, lab, : len(members)] = members
    return table, counts


_TABLE, _COUNTS = _lookup()


class Stagger(SyntheticStream):
    """STAGGER concepts: boolean rules on three categorical features.

    Features (integer codes as floats, each uniform on {0, 1, 2}, coded as in River):
    size (0 small, 1 medium, 2 large), colour (0 red, 1 blue, 2 green) and shape
    (0 circle, 1 square, 2 triangle). Label 1 iff

    - concept 0: size is small and colour is red;
    - concept 1: colour is green or shape is a circle;
    - concept 2: size is medium or large.

    The concepts are not numeric, so the schedule supports sudden and gradual drifts
    only (an incremental event raises a ``ValueError``).

    Parameters
    ----------
    n_samples
        Length of the stream.
    schedule
        Drift events, e.g. ``[{"at": 5000, "to": 1}]``; see
        :mod:`sim.streams.schedule`. Drifts are of kind ``"concept"``, on the features
        either rule uses.
    concept
        Index of the concept (0, 1 or 2) the stream starts in.
    balance_classes
        If True, labels alternate 1, 0, 1, 0, ... (sample ``i`` has label
        ``1 - i % 2`` before noise) and the object is drawn uniformly among those with
        that label under the sample's concept, as River's rejection sampling does.
    noise
        Probability of flipping each label.

    References
    ----------
    J. C. Schlimmer and R. H. Granger, "Incremental learning from noisy data", Machine
    Learning 1(3), 1986.

    Examples
    --------
    >>> stream = Stagger(n_samples=300, schedule=[{"at": 100, "to": 1},
    ...                                           {"at": 200, "to": 0}])
    >>> [(d.start, d.target, d.recurring) for d in stream.drifts]
    [(100, 1, False), (200, 0, True)]
    >>> batch = next(stream.batches(seed=1, step_size=4))
    >>> batch.X.tolist(), batch.y.tolist()
    ([[2.0, 0.0, 0.0], [2.0, 1.0, 2.0], [0.0, 0.0, 1.0], [2.0, 2.0, 0.0]], [0, 0, 1, 0])
    """

    version = "1"
    _interpolable = False

    _constraints = SyntheticStream._constraints | {
        "balance_classes": Options((False, True)),
        "noise": Interval("float", 0.0, 1.0, closed="left"),
    }

    def __init__(
        self,
        n_samples: int = 100_000,
        schedule: Sequence[dict] = (),
        concept: int = 0,
        balance_classes: bool = False,
        noise: float = 0.0,
    ):
        self.n_samples = n_samples
        self.schedule = schedule
        self.concept = concept
        self.balance_classes = balance_classes
        self.noise = noise

    @property
    def n_features(self) -> int:
        """Number of features (3)."""
        return 3

    def _check_params(self):
        return {"n_concepts": 3, "balance": self.balance_classes, "noise": self.noise}

    def _concept_table(self, spec, make_rng):
        return {"rule": np.arange(3)}

    def _drift_kind(self, spec, source, target):
        features = sorted(set(_RULE_FEATURES[source]) | set(_RULE_FEATURES[target]))
        return "concept", tuple(features)

    def _generate(self, spec, rng, params, start, n, state):
        rule = np.broadcast_to(params["rule"].astype(np.intp), (n,))
        if spec.balance:
            label = 1 - (np.arange(start, start + n) % 2)
            pick = np.floor(rng.random(n) * _COUNTS[rule, label]).astype(np.intp)
            obj = _TABLE[rule, label, pick]
        else:
            obj = rng.integers(0, 27, size=n)
        X = _OBJECTS[obj].astype(float)
        y = _RULES[rule, obj]
        return X, flip_labels(y, rng, spec.noise), state

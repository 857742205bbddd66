"""Gaussian inputs under a fixed bent boundary: covariate shift, harmless or harmful."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.checks import Interval, is_real, param_error
from sim.streams.schedule import FeatureCountMixin, SyntheticStream, is_sequence

__all__ = ["Gaussian"]

_DEFAULTS: dict[str, Any] = {
    "mean": (0.0, 0.0),
    "scale": (1.0, 1.0),
    "correlation": 0.0,
    "angle": 0.0,
    "flip": 0.0,
}
_RULE_KEYS = ("angle", "flip")  # P(y|X)


def default_concepts(knee: float = 3.0, bend: float = -0.5) -> list[dict[str, Any]]:
    """Return the concept table :class:`Gaussian` uses when ``concepts`` is None.

    Parameters
    ----------
    knee, bend
        The boundary's knee and bend (the harmful shift is placed on the bent part).

    Examples
    --------
    >>> for c in default_concepts():
    ...     print(c)
    {}
    {'mean': (-3.0, 0.0)}
    {'mean': (4.5, -0.75)}
    {'mean': (4.5, -0.75), 'flip': 1.0}
    {'angle': 45.0}
    """
    harmful = (knee + 1.5, 1.5 * bend)
    return [
        {},  # 0: base
        {"mean": (-3.0, 0.0)},  # 1: harmless covariate shift (along the flat boundary)
        {"mean": harmful},  # 2: harmful covariate shift (onto the bent part)
        {"mean": harmful, "flip": 1.0},  # 3: concept change after the harmful shift
        {"angle": 45.0},  # 4: concept change from the base (boundary rotated)
    ]


class Gaussian(FeatureCountMixin, SyntheticStream):
    """Gaussian inputs labelled by a fixed bent boundary: covariate and concept drifts.

    The first two features are bivariate normal with a concept's ``mean``, ``scale``
    (standard deviations) and ``correlation``; the other ``n_features - 2`` are
    irrelevant standard normal noise. The label is ``1[x2 > h(x1)]`` with the piecewise
    linear

    ``h(x1) = bend * max(x1 - knee, 0)``

    (flat ``x2 = 0`` left of the knee, slope ``bend`` right of it), evaluated after
    rotating the point by ``-angle`` degrees about the origin (i.e. the boundary is
    rotated by ``angle``); it is then reversed with probability ``flip`` and flipped
    with probability ``noise``. With ``softness`` > 0 the classes overlap near the
    boundary: ``x2`` is compared with ``h(x1)`` after adding normal noise of that
    standard deviation, so ``P(y = 1 | x) = Phi((x2 - h(x1)) / softness)`` (before
    ``flip`` and ``noise``), and a calibrated model's confidence says where it errs.
    A concept is a mapping with any of the keys ``mean`` (pair), ``scale`` (pair,
    > 0), ``correlation`` (in (-1, 1)), which set P(X), and
    ``angle`` (degrees), ``flip`` (in [0, 1]), which set P(y|X); missing keys take the
    defaults mean (0, 0), scale (1, 1), correlation 0, angle 0, flip 0. A drift
    between concepts differing only in P(X) is of kind ``"covariate"``, otherwise
    ``"concept"``. All keys are numeric: incremental drifts interpolate them.

    With ``concepts=None`` the table is :func:`default_concepts`:

    ==  ==========================================  =======================================
    #   concept                                     effect (defaults: knee 3, bend -0.5)
    ==  ==========================================  =======================================
    0   base: mean (0, 0)                           Bayes and a fitted linear model at
                                                    1 - noise: the data never reach the knee
    1   *harmless* shift: mean (-3, 0)              mass slides along the flat part of the
                                                    boundary; a logistic regression trained
                                                    on concept 0 keeps its accuracy (within
                                                    about half a point)
    2   *harmful* shift: mean                       mass moves onto the bent part, which the
        (knee + 1.5, 1.5 bend) = (4.5, -0.75)       old data never covered: that logistic
                                                    regression loses about 25 points while
                                                    the Bayes rule keeps 1 - noise
    3   concept 2 with ``flip=1``                   concept drift after the harmful shift:
                                                    labels reversed, same P(X)
    4   concept 0 with ``angle=45``                 concept drift from the base: boundary
                                                    rotated by 45 degrees
    ==  ==========================================  =======================================

    The project's default experiment, a harmful covariate drift at 1/3 of the stream
    and a concept drift at 2/3, is ``schedule=[{"at": n // 3, "to": 2},
    {"at": 2 * n // 3, "to": 3}]`` (see the example).

    Parameters
    ----------
    n_samples
        Length of the stream.
    concepts
        The concept table (a list of mappings as above), or None for
        :func:`default_concepts`.
    schedule
        Drift events; see :mod:`sim.streams.schedule`.
    concept
        Index of the concept the stream starts in.
    noise
        Probability of flipping each label.
    n_features
        Number of features (>= 2); features from index 2 on are irrelevant noise.
    knee
        Position on x1 where the boundary bends.
    bend
        Slope of the boundary right of the knee.
    softness
        Standard deviation of the class overlap across the boundary (0: a sharp
        boundary).

    Examples
    --------
    >>> n = 30_000
    >>> stream = Gaussian(n_samples=n, schedule=[{"at": n // 3, "to": 2},
    ...                                          {"at": 2 * n // 3, "to": 3}])
    >>> for drift in stream.drifts:
    ...     print(drift.start, drift.kind, drift.source, drift.target, drift.features)
    10000 covariate 0 2 (0, 1)
    20000 concept 2 3 (0, 1)
    >>> [round(float(b.X[:, 0].mean()), 1) for b in stream.batches(seed=0, step_size=n // 3)]
    [0.0, 4.5, 4.5]
    """

    version = "1"

    _constraints = SyntheticStream._constraints | {
        "noise": Interval("float", 0.0, 1.0, closed="left"),
        "n_features": Interval("int", 2),
        "knee": Interval("float"),
        "bend": Interval("float"),
        "softness": Interval("float", 0.0),
    }

    def __init__(
        self,
        n_samples: int = 100_000,
        concepts: Sequence[Mapping[str, Any]] | None = None,
        schedule: Sequence[dict] = (),
        concept: int = 0,
        noise: float = 0.05,
        n_features: int = 2,
        knee: float = 3.0,
        bend: float = -0.5,
        softness: float = 0.0,
    ):
        self.n_samples = n_samples
        self.concepts = concepts
        self.schedule = schedule
        self.concept = concept
        self.noise = noise
        self.n_features = n_features
        self.knee = knee
        self.bend = bend
        self.softness = softness

    def _check_params(self):
        owner = type(self).__name__
        knee, bend = self.knee, self.bend
        concepts = default_concepts(knee, bend) if self.concepts is None else self.concepts
        rule = f"None or a non-empty list of mappings with keys among {list(_DEFAULTS)}"
        if not is_sequence(concepts) or len(concepts) == 0:
            raise param_error(owner, "concepts", rule, concepts)
        table = []
        for i, c in enumerate(concepts):
            if not isinstance(c, Mapping) or any(k not in _DEFAULTS for k in c):
                raise ValueError(
                    f"Concept {i} of the 'concepts' parameter of {owner} must be "
                    f"a mapping with keys among {list(_DEFAULTS)}. Got {c!r} "
                    "instead."
                )
            table.append(self._check_concept(i, {**_DEFAULTS, **c}, owner))
        return {
            "n_concepts": len(table),
            "table": table,
            "noise": self.noise,
            "d": self.n_features,
            "knee": knee,
            "bend": bend,
            "softness": self.softness,
        }

    @staticmethod
    def _check_concept(i: int, c: dict[str, Any], owner: str) -> dict[str, Any]:
        def bad(key: str, rule: str) -> ValueError:
            return ValueError(
                f"Concept {i} of the 'concepts' parameter of {owner}: {key!r} "
                f"must be {rule}. Got {c[key]!r} instead."
            )

        def finite(v: Any) -> bool:
            return is_real(v) and bool(np.isfinite(v))

        for key, positive in (("mean", False), ("scale", True)):
            v = c[key]
            if not (
                is_sequence(v)
                and len(v) == 2
                and all(finite(x) for x in v)
                and (not positive or all(x > 0 for x in v))
            ):
                raise bad(key, "a pair of floats > 0" if positive else "a pair of finite floats")
        if not (finite(c["correlation"]) and -1 < c["correlation"] < 1):
            raise bad("correlation", "a float in (-1, 1)")
        if not finite(c["angle"]):
            raise bad("angle", "a finite float (degrees)")
        if not (finite(c["flip"]) and 0 <= c["flip"] <= 1):
            raise bad("flip", "a float in [0, 1]")
        return {
            "mean": np.array(c["mean"], dtype=float),
            "scale": np.array(c["scale"], dtype=float),
            "correlation": float(c["correlation"]),
            "angle": float(c["angle"]),
            "flip": float(c["flip"]),
        }

    def _concept_table(self, spec, make_rng):
        return {k: np.array([c[k] for c in spec.table]) for k in _DEFAULTS}

    def _drift_kind(self, spec, source, target):
        a, b = spec.table[source], spec.table[target]
        moved = set()
        for key in ("mean", "scale"):
            moved |= {int(j) for j in np.flatnonzero(a[key] != b[key])}
        if a["correlation"] != b["correlation"]:
            moved |= {0, 1}
        if any(a[k] != b[k] for k in _RULE_KEYS):
            return "concept", (0, 1)
        if moved:
            return "covariate", tuple(sorted(moved))
        return None

    def _generate(self, spec, rng, params, start, n, state):
        z = rng.standard_normal((n, spec.d))
        u_flip = rng.random(n)
        u_noise = rng.random(n)
        mean, scale, rho = params["mean"], params["scale"], params["correlation"]
        X = z  # features 2.. stay standard normal
        x1 = mean[:, 0] + scale[:, 0] * z[:, 0]
        x2 = mean[:, 1] + scale[:, 1] * (rho * z[:, 0] + np.sqrt(1.0 - rho**2) * z[:, 1])
        X[:, 0], X[:, 1] = x1, x2
        angle = params["angle"]
        if np.any(angle != 0):
            a = np.deg2rad(angle)
            cos, sin = np.cos(a), np.sin(a)
            x1, x2 = cos * x1 + sin * x2, cos * x2 - sin * x1
        if spec.softness:
            x2 = x2 + spec.softness * rng.standard_normal(n)
        y = x2 > spec.bend * np.maximum(x1 - spec.knee, 0.0)
        y ^= u_flip < params["flip"]
        y ^= u_noise < spec.noise
        return X, y.astype(np.int64), state

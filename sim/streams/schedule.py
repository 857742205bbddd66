"""The composable drift schedule shared by every synthetic generator.

A synthetic stream has a numbered table of *concepts* (for SEA the thresholds, for
:class:`~sim.streams.Gaussian` means, scales and boundary settings, ...) and a
*schedule*: a list of events, each a plain mapping (so that Hydra YAML can express it)

``{"at": 5000, "to": 1, "shape": "gradual", "width": 1000}``

with keys

``at``
    Sample index where the drift starts (int, ``0 <= at < n_samples``).
``to``
    Index of the concept the stream drifts to.
``shape``
    ``"sudden"`` (default), ``"gradual"`` or ``"incremental"``.
``width``
    Length of the drift window in samples: 0 for a sudden drift (the default), at
    least 1 otherwise. The window ``[at, at + width)`` must end by ``n_samples``.

Events must be in order of ``at`` and must not overlap; the stream starts in concept
``concept``. A drift to a concept the stream has been in before is *recurring*.

Shapes, for a sample with index ``i`` in the window ``[at, at + width)``:

sudden
    Every sample from ``at`` on comes from the new concept.
gradual
    Each sample comes from the new concept with probability ``p(i)``, MOA's sigmoid
    ``s(i) = 1 / (1 + exp(-4 (i - at - width/2) / width))`` rescaled as
    ``p(i) = (s(i) - s(at)) / (s(at + width) - s(at))`` so that ``p`` is exactly 0 at
    ``at`` and exactly 1 at ``at + width``: unlike MOA, no sample of the new concept
    leaks before the declared window and none of the old one after it. The per-sample
    ``concept`` array holds the concept actually drawn.
incremental
    The concept's numeric parameters move linearly, ``(1 - l) * old + l * new`` with
    ``l = (i - at) / width``; the ``concept`` array holds the fractional
    ``(1 - l) * source + l * target``. Generators whose concepts are not numeric (e.g.
    :class:`~sim.streams.Stagger`) reject it.

Data are generated in fixed blocks of :data:`BLOCK_SIZE` samples, each with its own
generator seeded from ``np.random.SeedSequence(seed, spawn_key=(purpose, block))``, so
the arrays depend only on the seed (never on the step size) and memory stays
O(block).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from sim.checks import Interval, check, is_int, is_sequence, param_error, validate
from sim.streams.base import Stream, seed_root
from sim.types import DRIFT_SHAPES, Drift

__all__ = ["BLOCK_SIZE", "SyntheticStream", "gradual_probability"]

BLOCK_SIZE = 2**14
"""Samples per internal generation block (the unit of seeding and of memory)."""

_EVENT_KEYS = ("at", "to", "shape", "width")

# spawn_key purposes: independent random streams per block and purpose
_DATA, _MIX, _TABLE, _STATE = 0, 1, 2, 3


def gradual_probability(index: np.ndarray, at: int, width: int) -> np.ndarray:
    """Probability that sample ``index`` comes from the new concept in a gradual drift.

    MOA's sigmoid ``1 / (1 + exp(-4 (i - p) / w))`` with ``p = at + width / 2``,
    rescaled to be exactly 0 at ``at`` and exactly 1 at ``at + width`` (and clipped to
    [0, 1] outside the window).

    Parameters
    ----------
    index
        Sample indices.
    at
        First sample of the drift window.
    width
        Length of the window in samples (>= 1).

    Examples
    --------
    >>> gradual_probability(np.array([0, 50, 100]), at=0, width=100).round(3).tolist()
    [0.0, 0.5, 1.0]
    """
    index = np.asarray(index, dtype=float)
    lo = 1.0 / (1.0 + math.exp(2.0))
    hi = 1.0 / (1.0 + math.exp(-2.0))
    s = 1.0 / (1.0 + np.exp(-4.0 * (index - at - width / 2.0) / width))
    return np.clip((s - lo) / (hi - lo), 0.0, 1.0)


# ---------------------------------------------------------------------------------------
# validation helpers (messages name the parameter, the rule and the value)


# ---------------------------------------------------------------------------------------
# the schedule


@dataclass(frozen=True)
class _Event:
    at: int
    end: int
    source: int
    target: int
    shape: str
    recurring: bool


def _check_event(raw: Any, bad, owner: str, n_samples: int, n_concepts: int,
                 incremental_ok: bool) -> tuple[int, int, str, int]:
    """Check one schedule event on its own; return its ``at``, ``to``, ``shape`` and ``width``."""
    if not isinstance(raw, Mapping):
        raise bad(f"must be a mapping with keys {_EVENT_KEYS}. Got {raw!r} instead.")
    unknown = sorted(str(k) for k in raw if k not in _EVENT_KEYS)
    if unknown:
        raise bad(f"unknown key(s) {unknown}; the allowed keys are {list(_EVENT_KEYS)}.")
    for key in ("at", "to"):
        if key not in raw:
            raise bad(f"the required key {key!r} is missing.")
    at, to = raw["at"], raw["to"]
    shape = raw.get("shape", "sudden")
    width = raw.get("width", 0)
    if not is_int(at) or not 0 <= at < n_samples:
        raise bad(
            f"'at' must be an int in [0, n_samples) = [0, {n_samples}). Got {at!r} instead."
        )
    if not is_int(to) or not 0 <= to < n_concepts:
        raise bad(
            f"'to' must be a concept index, an int in [0, {n_concepts - 1}]. "
            f"Got {to!r} instead.",
        )
    if shape not in DRIFT_SHAPES:
        raise bad(
            f"'shape' must be one of {', '.join(map(repr, DRIFT_SHAPES))}. "
            f"Got {shape!r} instead.",
        )
    if shape == "sudden":
        if not is_int(width) or width != 0:
            raise bad(f"'width' must be 0 for a sudden drift. Got {width!r} instead.")
    elif not is_int(width) or width < 1:
        raise bad(f"'width' must be an int >= 1 for a {shape} drift. Got {width!r} instead.")
    if shape == "incremental" and not incremental_ok:
        raise bad(
            f"shape 'incremental' is not supported by {owner}, whose concepts "
            "are not numeric; use 'sudden' or 'gradual'.",
        )
    return int(at), int(to), shape, int(width)


def _parse_schedule(
    schedule: Any,
    owner: str,
    n_samples: int,
    n_concepts: int,
    initial: int,
    incremental_ok: bool,
) -> tuple[_Event, ...]:
    if schedule is None:
        return ()
    allowed = "a list of events (mappings with keys 'at', 'to' and optionally 'shape', 'width')"
    if not is_sequence(schedule):
        raise param_error(owner, "schedule", allowed, schedule)

    def bad(i: int, message: str) -> ValueError:
        return ValueError(f"Event {i} of the 'schedule' parameter of {owner}: {message}")

    events: list[_Event] = []
    current = initial
    visited = {initial}
    for i, raw in enumerate(schedule):
        at, to, shape, width = _check_event(raw, lambda message, i=i: bad(i, message), owner,
                                            n_samples, n_concepts, incremental_ok)
        if at + width > n_samples:
            raise bad(
                i,
                f"the window must end by n_samples = {n_samples}. "
                f"Got at + width = {at} + {width} = {at + width} instead.",
            )
        if events:
            prev = events[-1]
            if at < prev.end or at <= prev.at:
                raise bad(
                    i,
                    f"it starts at {at}, before event {i - 1} (at {prev.at}) ends "
                    f"at {prev.end}; events must be in order of 'at' and must not "
                    "overlap.",
                )
        if to == current:
            raise bad(
                i,
                f"'to' is concept {to}, which the stream is already in at that "
                "point; an event must change the concept.",
            )
        events.append(_Event(at, at + width, current, to, shape, to in visited))
        visited.add(to)
        current = to
    return tuple(events)


class SyntheticStream(Stream):
    """Base of the synthetic generators: a concept table driven by a drift schedule.

    Subclasses store their constructor arguments (which must include ``n_samples``,
    ``schedule`` and ``concept``) and implement:

    - ``_check_params()`` -> dict of validated parameters, including ``n_concepts``;
    - ``_concept_table(spec, make_rng)`` -> dict of arrays with one row per concept
      (their per-sample values are mixed or interpolated by the schedule);
    - ``_drift_kind(spec, source, target)`` -> ``(kind, features)``, or None when the
      two concepts are identical;
    - ``_generate(spec, rng, params, start, n, state)`` -> ``(X, y, state)``, where each
      entry of ``params`` has a leading axis of length ``n`` (or 1 when the whole block
      is in one concept);
    - optionally ``_init_state(spec, make_rng)`` and ``_extra_drifts(spec)``.

    The schedule format and the drift shapes are described in
    :mod:`sim.streams.schedule`.
    """

    #: a generated stream's drifts start at an exact sample: a retrain before a drift's
    #: start step saw nothing of it
    onset_tolerance = 0
    #: whether the concepts' parameters can be interpolated (incremental drifts)
    _interpolable = True
    _block_size = BLOCK_SIZE
    #: the rules of the parameters that stand alone (validated first, by ``_spec``)
    _constraints: dict = {"n_samples": Interval("int", 1)}
    rechunkable = True  # batches() validates, then cuts as Stream.batches does

    # ----- the public interface -----------------------------------------------------

    def batches(self, seed: int, step_size: int | None = None):
        """Yield the stream's steps in order.

        Parameters
        ----------
        seed
            Seed of the stream (an int >= 0 or a ``np.random.SeedSequence``); the same
            seed gives identical arrays whatever the ``step_size``.
        step_size
            Samples per step.
        """
        self._spec()  # validate now rather than at the first next()
        seed_root(seed, type(self).__name__)
        return super().batches(seed, step_size)

    @property
    def drifts(self) -> tuple[Drift, ...]:
        """The true drifts, in sample indices (ground truth)."""
        spec = self._spec()
        out = list(self._extra_drifts(spec))
        for ev in spec.events:
            kind, features = self._drift_kind(spec, ev.source, ev.target)
            out.append(
                Drift(
                    start=ev.at,
                    end=ev.end,
                    kind=kind,
                    shape=ev.shape,
                    source=ev.source,
                    target=ev.target,
                    recurring=ev.recurring,
                    features=tuple(int(f) for f in features),
                )
            )
        return tuple(sorted(out, key=lambda d: (d.start, d.end)))

    @property
    def classes(self) -> np.ndarray | None:
        """The labels the stream can emit."""
        return np.array([0, 1])

    # ----- validation ---------------------------------------------------------------
    def _spec(self) -> SimpleNamespace:
        """Validate: ``_constraints``, then the generator's own rules, then the schedule."""
        owner = type(self).__name__
        validate(self)
        n_samples = self.n_samples
        spec = self._check_params()
        n_concepts = spec["n_concepts"]
        concept = check(owner, "concept", self.concept, Interval("int", 0, n_concepts - 1))
        events = _parse_schedule(
            self.schedule, owner, n_samples, n_concepts, concept, self._interpolable
        )
        spec = SimpleNamespace(n_samples=n_samples, concept=concept, events=events, **spec)
        for i, ev in enumerate(events):
            if self._drift_kind(spec, ev.source, ev.target) is None:
                raise ValueError(
                    f"Event {i} of the 'schedule' parameter of {owner}: concepts "
                    f"{ev.source} and {ev.target} are identical, so it is no drift."
                )
        return spec

    # ----- generation ---------------------------------------------------------------
    def _blocks(self, seed: Any) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        spec = self._spec()
        entropy, key = seed_root(seed, type(self).__name__)

        def make_rng(*purpose: int) -> np.random.Generator:
            seq = np.random.SeedSequence(entropy, spawn_key=key + purpose)
            return np.random.Generator(np.random.PCG64(seq))

        table = {
            k: np.asarray(v, dtype=float) for k, v in self._concept_table(spec, make_rng).items()
        }
        state = self._init_state(spec, make_rng)
        ends = [ev.end for ev in spec.events]
        size = int(self._block_size)
        for b, start in enumerate(range(0, spec.n_samples, size)):
            n = min(size, spec.n_samples - start)
            source, target, lam = self._mixing(spec, ends, start, n, lambda b=b: make_rng(_MIX, b))
            if target is None:  # the whole block is in one concept
                params = {k: v[source][None] for k, v in table.items()}
                concept = np.full(n, float(source))
            else:
                params = {}
                for k, v in table.items():
                    w = lam.reshape((n,) + (1,) * (v.ndim - 1))
                    params[k] = (1.0 - w) * v[source] + w * v[target]
                concept = (1.0 - lam) * source + lam * target
            X, y, state = self._generate(spec, make_rng(_DATA, b), params, start, n, state)
            yield X, y, concept

    def _mixing(self, spec, ends, start, n, mix_rng):
        """Per-sample (source, target, weight of target) of the block, or (concept, None, None)."""
        events = spec.events
        k = bisect.bisect_right(ends, start)  # events[:k] are over before the block
        current = events[k - 1].target if k else spec.concept
        stop = start + n
        active = [ev for ev in events[k:] if ev.at < stop]
        if not active:
            return current, None, None
        source = np.full(n, current, dtype=np.intp)
        target = source.copy()
        lam = np.zeros(n)
        u = None
        for ev in active:
            lo = max(ev.at, start) - start
            hi = min(ev.end, stop) - start
            source[lo:] = ev.source
            target[lo:] = ev.target
            lam[hi:] = 1.0
            if hi > lo:
                idx = np.arange(lo + start, hi + start)
                if ev.shape == "gradual":
                    if u is None:
                        u = mix_rng().random(n)
                    lam[lo:hi] = u[lo:hi] < gradual_probability(idx, ev.at, ev.end - ev.at)
                else:  # incremental
                    lam[lo:hi] = (idx - ev.at) / (ev.end - ev.at)
        return source, target, lam

    # ----- hooks ----------------------------------------------------------------------
    def _check_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _concept_table(self, spec, make_rng) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _drift_kind(self, spec, source: int, target: int) -> tuple[str, tuple[int, ...]] | None:
        raise NotImplementedError

    def _generate(self, spec, rng, params, start, n, state):
        raise NotImplementedError

    def _init_state(self, spec, make_rng) -> Any:
        return None

    def _extra_drifts(self, spec) -> tuple[Drift, ...]:
        return ()


def flip_labels(y: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Flip each 0/1 label with probability ``noise`` (one uniform draw per sample)."""
    flip = rng.random(len(y)) < noise
    return np.logical_xor(y, flip).astype(np.int64)


class FeatureCountMixin:
    """Let ``n_features`` be both a constructor parameter and the base's property.

    :class:`~sim.streams.base.Stream` declares ``n_features`` as a read-only property;
    generators that take ``n_features`` as an argument store it through this setter and
    return it unchanged (it is validated with the other parameters).
    """

    @property
    def n_features(self):
        """Number of features (the constructor argument)."""
        return self._n_features

    @n_features.setter
    def n_features(self, value):
        self._n_features = value

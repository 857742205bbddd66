"""Inject declared drifts into any stream, with the ground truth recorded: :class:`Injection`.

Real data has no known drifts, so detection delays and false alarms cannot be measured
on it. :class:`Injection` wraps a stream (a :class:`~sim.streams.Tabular` replay of a
team's own data, or a synthetic generator) and changes it from a given sample on, in a
declared way, recording each change as a :class:`~sim.types.Drift` exactly as a
synthetic stream does. Before the first injected drift the wrapped stream is unchanged.

Each event of the ``schedule`` is a plain mapping (so that Hydra YAML can express it):

``{"kind": "covariate", "at": 20000, "features": [2, 3], "shift": 0.1}``

Keys common to every kind:

``kind``
    ``"covariate"``, ``"concept"`` or ``"prior"``.
``at``
    Sample index where the drift starts (an int >= 1; the drift must end by the end
    of the stream). For steps of ``k`` samples, step ``s`` starts at ``s * k``.
``shape``, ``width``
    ``"sudden"`` (``width`` 0, the default), ``"gradual"`` (each sample of the window
    ``[at, at + width)`` is changed with the rising probability of
    :func:`~sim.streams.schedule.gradual_probability`) or ``"incremental"`` (the
    change itself grows linearly over the window; covariate and prior drifts only).

Covariate drift (P(X) changes, P(y|X) does not: the labels are kept):

``features``
    The features to change: column indices, or names when the wrapped stream has
    ``feature_names`` (a :class:`~sim.streams.Tabular`).
``shift``
    Added to each feature (a number, or one per feature; default 0).
``scale``
    Multiplies each feature's deviation from its mean over the samples before ``at``
    (a number, or one per feature; default 1): ``x' = m + scale * (x - m) + shift``.

Concept drift (P(y|X) changes):

``mode``
    ``"flip"``: labels in ``region`` become the other class (two classes only);
    ``"permute"``: labels in ``region`` are mapped by ``mapping`` (a mapping from each
    class to another; None: a random cyclic permutation drawn from the seed);
    ``"swap"``: the two ``features`` exchange their columns, so the label now follows
    the other column (P(X) changes too unless the two are alike).
``region``
    For flip and permute: a mapping ``{feature: [low, high]}`` (``low <= x < high``,
    None for an open end); a sample is in the region when every condition holds.
    None: everywhere.

Prior drift (P(y) changes, P(X|y) does not):

``proportions``
    The new class proportions: a list in the order of the stream's sorted classes, or a
    mapping ``{class: proportion}``; they sum to 1. Each changed sample is replaced by a
    sample of a class drawn from ``proportions``, taken (with replacement) from the same
    step, or, when the step has none of that class, from the latest samples of it.

Randomness (the gradual mixing, the random permutation, the prior resampling) comes from
the seed: the same seed and step size give the same arrays, and the wrapped stream
receives the seed unchanged, so its samples are those it yields on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from sim.checks import is_int, is_real
from sim.streams.base import Stream, Wrapper
from sim.streams.schedule import BLOCK_SIZE, gradual_probability, is_sequence
from sim.types import DRIFT_KINDS, DRIFT_SHAPES, Batch, Drift

__all__ = ["Injection"]

_KEYS = {
    "covariate": ("kind", "at", "shape", "width", "features", "shift", "scale"),
    "concept": ("kind", "at", "shape", "width", "mode", "region", "mapping", "features"),
    "prior": ("kind", "at", "shape", "width", "proportions"),
}
_MODES = ("flip", "permute", "swap")
_POOL = 2048  # latest samples kept per class for prior resampling
_INJECT = 0x1D  # spawn_key purpose of the injection's randomness, apart from the stream's
_MIX, _PERM, _PRIOR = 0, 1, 2


class Injection(Wrapper):
    """Wrap a stream and inject declared drifts into it, with the ground truth recorded.

    The drifts are listed in ``schedule`` (see :mod:`sim.streams.inject` for the
    keys); they apply in order, each from its ``at`` to the end of the stream, on top
    of the wrapped stream's own drifts. ``drifts`` lists both, so the engine measures
    detection delay, recovery and false alarms against them.

    Parameters
    ----------
    stream
        The stream to change (any :class:`~sim.streams.base.Stream`).
    schedule
        The drifts to inject, a list of mappings.

    Examples
    --------
    >>> import pandas as pd
    >>> from sim.streams import Tabular
    >>> frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 25, "y": [0, 1] * 50})
    >>> stream = Injection(Tabular(frame, target="y"), schedule=[
    ...     {"kind": "covariate", "at": 60, "features": ["x"], "shift": 10.0},
    ...     {"kind": "concept", "at": 80, "mode": "flip", "region": {"x": [12.0, None]}},
    ... ])
    >>> [(d.start, d.kind, d.features) for d in stream.drifts]
    [(60, 'covariate', (0,)), (80, 'concept', (0,))]
    >>> batches = list(stream.batches(seed=0, step_size=20))
    >>> [b.X[:4, 0].tolist() for b in batches[2:]]
    [[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0], [10.0, 11.0, 12.0, 13.0]]
    >>> [b.y[:4].tolist() for b in batches[2:]]
    [[0, 1, 0, 1], [0, 1, 0, 1], [0, 1, 1, 0]]
    """

    version = "1"

    def __init__(self, stream: Stream | None = None, schedule: Sequence[Mapping] = ()):
        self.stream = stream
        self.schedule = schedule

    @property
    def drifts(self) -> tuple[Drift, ...]:
        """The wrapped stream's drifts and the injected ones, in order of start."""
        events = self._events()
        own = tuple(self._inner().drifts)
        injected = tuple(
            Drift(start=ev.at, end=ev.end, kind=ev.kind, shape=ev.shape,
                  features=ev.drift_features)
            for ev in events
        )
        return tuple(sorted(own + injected, key=lambda d: (d.start, d.end)))

    def batches(self, seed: Any = 0, step_size: int | None = None):
        """Yield the wrapped stream's steps with the drifts injected.

        Parameters
        ----------
        seed
            Seed (an int >= 0 or a ``SeedSequence``): passed unchanged to the wrapped
            stream; the injection's own randomness is derived from it.
        step_size
            Passed to the wrapped stream (which may cut its own steps).
        """
        events = self._events()
        if self._inner().incidents:
            raise ValueError("Injection: the wrapped stream has incidents, which an "
                             "injection would lose; wrap the other way round: "
                             "Incidents(Injection(stream, schedule), events).")
        entropy, key = _root(seed)
        inner = self._inner().batches(seed, step_size)
        classes = None
        if any(ev.kind in ("prior", "concept") and ev.mode != "swap" for ev in events):
            classes = self._inner().classes
            if classes is None:
                raise ValueError("Injection: concept (flip, permute) and prior drifts need "
                                 "a classification stream; the wrapped stream has no "
                                 "classes (task 'regression'). Use a covariate drift or a "
                                 "concept drift of mode 'swap'.")
        plans = [_plan(ev, i, classes, entropy, key) for i, ev in enumerate(events)]
        return self._generate(inner, events, plans, entropy, key)

    # ----- validation -----------------------------------------------------------------
    def _events(self) -> tuple[SimpleNamespace, ...]:
        return self._parsed("schedule", "a list of drift events (mappings with keys 'kind', "
                            "'at', ...)", _parse_event)

    # ----- generation -----------------------------------------------------------------
    def _generate(self, inner, events, plans, entropy, key):
        sums = None  # feature sums over the samples before each covariate drift's 'at'
        counts = np.zeros(len(events))
        if any(ev.kind == "covariate" for ev in events):
            sums = np.zeros((len(events), self._inner().n_features))
        means: dict[int, np.ndarray] = {}
        pools: dict[Any, list] = {}
        n_seen = 0
        for batch in inner:
            n = len(batch)
            index = np.arange(batch.index, batch.index + n)
            X = np.array(batch.X, dtype=float, copy=True)
            y = np.array(batch.y, copy=True)
            level = np.zeros(n)
            for i, (ev, plan) in enumerate(zip(events, plans, strict=True)):
                if sums is not None and ev.kind == "covariate" and i not in means:
                    before = index < ev.at
                    sums[i] += X[before].sum(axis=0)
                    counts[i] += int(before.sum())
                if index[-1] < ev.at:
                    continue
                if ev.kind == "covariate" and i not in means:
                    means[i] = sums[i] / max(counts[i], 1)
                w = _weight(ev, index, entropy, key, i)
                level += w
                if not w.any():
                    continue
                if ev.kind == "covariate":
                    cols = list(ev.features)
                    m = means[i][cols]
                    delta = ev.shift + (ev.scale - 1.0) * (X[:, cols] - m)
                    X[:, cols] += w[:, None] * delta
                elif ev.kind == "concept":
                    X, y = _concept(ev, plan, X, y, w > 0)
                else:
                    X, y = _prior(ev, plan, X, y, w, batch.index, pools, entropy, key, i)
            _remember(pools, X, y)
            n_seen = batch.index + n
            yield Batch(t=batch.t, X=X, y=y, index=batch.index, time=batch.time,
                        concept=level)
        for i, ev in enumerate(events):
            if ev.end > n_seen or ev.at >= n_seen:
                raise ValueError(
                    f"Event {i} of the 'schedule' parameter of Injection: the drift "
                    f"[{ev.at}, {ev.end}] must end by the end of the stream, which has "
                    f"{n_seen} samples."
                )


# ---------------------------------------------------------------------------------------
# parsing


def _root(seed: Any) -> tuple[Any, tuple[int, ...]]:
    if isinstance(seed, np.random.SeedSequence):
        return seed.entropy, tuple(seed.spawn_key)
    if not is_int(seed) or seed < 0:
        raise ValueError("The 'seed' argument of Injection.batches must be an int >= 0 or a "
                         f"numpy SeedSequence. Got {seed!r} instead.")
    return int(seed), ()


def _rng(entropy, key, *purpose: int) -> np.random.Generator:
    seq = np.random.SeedSequence(entropy, spawn_key=key + (_INJECT, *purpose))
    return np.random.Generator(np.random.PCG64(seq))


def _parse_event(i: int, raw: Any, inner: Stream, n_samples: int | None) -> SimpleNamespace:
    def bad(message: str) -> ValueError:
        return ValueError(f"Event {i} of the 'schedule' parameter of Injection: {message}")

    if not isinstance(raw, Mapping):
        raise bad(f"must be a mapping with keys 'kind', 'at', ... Got {raw!r} instead.")
    kind = raw.get("kind")
    if kind not in DRIFT_KINDS:
        raise bad(f"'kind' must be one of {', '.join(map(repr, DRIFT_KINDS))}. "
                  f"Got {kind!r} instead.")
    unknown = sorted(str(k) for k in raw if k not in _KEYS[kind])
    if unknown:
        raise bad(f"unknown key(s) {unknown} for a {kind} drift; the allowed keys are "
                  f"{list(_KEYS[kind])}.")
    at = raw.get("at")
    if not is_int(at) or at < 1:
        raise bad(f"'at' must be an int >= 1 (a sample index). Got {at!r} instead.")
    shape = raw.get("shape", "sudden")
    width = raw.get("width", 0)
    if shape not in DRIFT_SHAPES:
        raise bad(f"'shape' must be one of {', '.join(map(repr, DRIFT_SHAPES))}. "
                  f"Got {shape!r} instead.")
    if shape == "sudden":
        if not is_int(width) or width != 0:
            raise bad(f"'width' must be 0 for a sudden drift. Got {width!r} instead.")
    elif not is_int(width) or width < 1:
        raise bad(f"'width' must be an int >= 1 for a {shape} drift. Got {width!r} instead.")
    at, width = int(at), int(width)
    if n_samples is not None and at + width > n_samples:
        raise bad(f"the drift must end by the end of the stream, n_samples = {n_samples}. "
                  f"Got at + width = {at} + {width} = {at + width} instead.")
    ev = SimpleNamespace(kind=kind, at=at, end=at + width, shape=shape, mode=None,
                         features=(), drift_features=(), region=(), mapping=None,
                         proportions=None, shift=0.0, scale=1.0)
    if kind == "covariate":
        ev.features = _features(raw.get("features"), inner, bad, "features")
        if not ev.features:
            raise bad("'features' must list at least one feature to change.")
        k = len(ev.features)
        ev.shift = _per_feature(raw.get("shift", 0.0), k, "shift", bad)
        ev.scale = _per_feature(raw.get("scale", 1.0), k, "scale", bad)
        if np.all(ev.shift == 0.0) and np.all(ev.scale == 1.0):
            raise bad("a covariate drift needs a 'shift' other than 0 or a 'scale' other "
                      "than 1; this one changes nothing.")
        ev.drift_features = tuple(ev.features)
    elif kind == "concept":
        _parse_concept(ev, raw, inner, shape, bad)
    else:
        ev.proportions = raw.get("proportions")
        p = ev.proportions
        values = list(p.values()) if isinstance(p, Mapping) else p
        if (not is_sequence(values) or len(values) < 2
                or not all(is_real(v) and v >= 0 for v in values)
                or not np.isclose(sum(values), 1.0)):
            raise bad(f"'proportions' must be a list (or a mapping {{class: proportion}}) "
                      f"of at least two proportions >= 0 that sum to 1. Got {p!r} instead.")
    return ev


def _parse_concept(ev: SimpleNamespace, raw: Mapping, inner: Stream, shape: str, bad) -> None:
    """Check a concept drift's mode and what it changes; fill them into ``ev``."""
    mode = raw.get("mode")
    if mode not in _MODES:
        raise bad(f"'mode' must be one of {', '.join(map(repr, _MODES))}. "
                  f"Got {mode!r} instead.")
    ev.mode = mode
    if shape == "incremental":
        raise bad("a concept drift cannot be 'incremental' (labels do not "
                  "interpolate); use 'sudden' or 'gradual'.")
    if mode == "swap":
        for extra in ("region", "mapping"):
            if raw.get(extra) is not None:
                raise bad(f"'{extra}' does not apply to mode 'swap'.")
        ev.features = _features(raw.get("features"), inner, bad, "features")
        if len(ev.features) != 2 or ev.features[0] == ev.features[1]:
            raise bad(f"mode 'swap' needs 'features' to list two different features. "
                      f"Got {raw.get('features')!r} instead.")
        ev.drift_features = tuple(ev.features)
    else:
        if raw.get("features") is not None:
            raise bad(f"'features' does not apply to mode {mode!r}; use 'region'.")
        if mode == "flip" and raw.get("mapping") is not None:
            raise bad("'mapping' applies to mode 'permute' only.")
        ev.region = _region(raw.get("region"), inner, bad)
        ev.mapping = raw.get("mapping")
        if ev.mapping is not None and not isinstance(ev.mapping, Mapping):
            raise bad(f"'mapping' must be None or a mapping {{class: new class}}. "
                      f"Got {ev.mapping!r} instead.")
        ev.drift_features = tuple(sorted({f for f, _, _ in ev.region}))


def _features(value: Any, inner: Stream, bad, name: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not is_sequence(value):
        value = [value]
    out = []
    for f in value:
        out.append(_feature(f, inner, bad, name))
    if len(set(out)) != len(out):
        raise bad(f"'{name}' lists a feature twice. Got {list(value)!r} instead.")
    return tuple(out)


def _feature(f: Any, inner: Stream, bad, name: str) -> int:
    if isinstance(f, str):
        names = getattr(inner, "feature_names", None)
        if names is None:
            raise bad(f"'{name}' names feature {f!r}, but the wrapped stream has no "
                      "feature names; use column indices.")
        if f not in names:
            raise bad(f"'{name}' names feature {f!r}, which the wrapped stream does not "
                      f"have; its features are {list(names)}.")
        return list(names).index(f)
    n = inner.n_features
    if not is_int(f) or not 0 <= f < n:
        raise bad(f"'{name}' must hold feature names or column indices in [0, {n - 1}]. "
                  f"Got {f!r} instead.")
    return int(f)


def _per_feature(value: Any, k: int, name: str, bad) -> np.ndarray:
    values = list(value) if is_sequence(value) else [value] * k
    if len(values) != k or not all(is_real(v) and np.isfinite(v) for v in values):
        raise bad(f"'{name}' must be a finite number or a list of {k} (one per feature). "
                  f"Got {value!r} instead.")
    return np.asarray(values, dtype=float)


def _region(value: Any, inner: Stream, bad) -> tuple[tuple[int, float, float], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not value:
        raise bad(f"'region' must be None or a mapping {{feature: [low, high]}}. "
                  f"Got {value!r} instead.")
    out = []
    for f, bounds in value.items():
        j = _feature(f, inner, bad, "region")
        if (not is_sequence(bounds) or len(bounds) != 2
                or not all(b is None or is_real(b) for b in bounds)):
            raise bad(f"the bounds of feature {f!r} in 'region' must be [low, high] "
                      f"(numbers or None). Got {bounds!r} instead.")
        low = -np.inf if bounds[0] is None else float(bounds[0])
        high = np.inf if bounds[1] is None else float(bounds[1])
        if not low < high:
            raise bad(f"the bounds of feature {f!r} in 'region' must have low < high. "
                      f"Got {list(bounds)!r} instead.")
        out.append((j, low, high))
    return tuple(out)


def _plan(ev, i: int, classes, entropy, key) -> SimpleNamespace:
    """Prepare what an event needs besides its parameters: the label map, the proportions."""
    plan = SimpleNamespace(source=None, target=None, classes=None, p=None)

    def bad(message: str) -> ValueError:
        return ValueError(f"Event {i} of the 'schedule' parameter of Injection: {message}")

    if ev.kind == "concept" and ev.mode == "flip":
        if len(classes) != 2:
            raise bad(f"mode 'flip' needs two classes; the stream has {list(classes)}. "
                      "Use mode 'permute'.")
        plan.source, plan.target = np.asarray(classes), np.asarray(classes)[::-1]
    elif ev.kind == "concept" and ev.mode == "permute":
        classes = np.asarray(classes)
        if ev.mapping is None:
            if len(classes) < 2:
                raise bad("mode 'permute' needs at least two classes.")
            order = _rng(entropy, key, i, _PERM).permutation(len(classes))
            plan.source, plan.target = classes[order], classes[np.roll(order, -1)]
        else:
            mapping = {_match(c, classes, bad): _match(v, classes, bad)
                       for c, v in ev.mapping.items()}
            if sorted(map(str, mapping.values())) != sorted(map(str, mapping.keys())):
                raise bad(f"'mapping' must map a set of classes onto itself (a "
                          f"permutation). Got {ev.mapping!r} instead.")
            plan.source = np.array(list(mapping.keys()), dtype=classes.dtype)
            plan.target = np.array(list(mapping.values()), dtype=classes.dtype)
    elif ev.kind == "prior":
        classes = np.asarray(classes)
        p = ev.proportions
        if isinstance(p, Mapping):
            probs = np.zeros(len(classes))
            for c, v in p.items():
                probs[list(classes).index(_match(c, classes, bad))] = float(v)
        else:
            if len(p) != len(classes):
                raise bad(f"'proportions' has {len(p)} values but the stream has "
                          f"{len(classes)} classes {list(classes)}.")
            probs = np.asarray(p, dtype=float)
        plan.classes, plan.p = classes, probs / probs.sum()
    return plan


def _match(value: Any, classes: np.ndarray, bad) -> Any:
    """Find ``value`` among the classes (YAML keys may be strings of numbers)."""
    for c in classes:
        if c == value or str(c) == str(value):
            return c
    raise bad(f"{value!r} is not one of the stream's classes {list(classes)}.")


# ---------------------------------------------------------------------------------------
# the changes


def _uniform(entropy, key, i: int, start: int, n: int) -> np.ndarray:
    """One uniform per sample index in ``[start, start + n)``, whatever the step size."""
    out = np.empty(n)
    pos = start
    while pos < start + n:
        block = pos // BLOCK_SIZE
        u = _rng(entropy, key, i, _MIX, block).random(BLOCK_SIZE)
        lo = pos - block * BLOCK_SIZE
        take = min(BLOCK_SIZE - lo, start + n - pos)
        out[pos - start:pos - start + take] = u[lo:lo + take]
        pos += take
    return out


def _weight(ev, index: np.ndarray, entropy, key, i: int) -> np.ndarray:
    """How much of the change applies to each sample: 0 or 1, or a fraction (incremental)."""
    if ev.shape == "sudden":
        return (index >= ev.at).astype(float)
    width = ev.end - ev.at
    if ev.shape == "incremental":
        return np.clip((index - ev.at) / width, 0.0, 1.0)
    w = (index >= ev.end).astype(float)
    inside = (index >= ev.at) & (index < ev.end)
    if inside.any():
        lo = int(np.flatnonzero(inside)[0])
        hi = int(np.flatnonzero(inside)[-1]) + 1
        u = _uniform(entropy, key, i, int(index[lo]), hi - lo)
        w[lo:hi] = u < gradual_probability(index[lo:hi], ev.at, width)
    return w


def _in_region(ev, X: np.ndarray) -> np.ndarray:
    inside = np.ones(len(X), dtype=bool)
    for j, low, high in ev.region:
        inside &= (X[:, j] >= low) & (X[:, j] < high)
    return inside


def _concept(ev, plan, X: np.ndarray, y: np.ndarray, changed: np.ndarray):
    if ev.mode == "swap":
        a, b = ev.features
        X[np.ix_(changed, [a, b])] = X[np.ix_(changed, [b, a])]
        return X, y
    sel = changed & _in_region(ev, X)
    new = y.copy()
    for s, t in zip(plan.source, plan.target, strict=True):
        new[sel & (y == s)] = t
    return X, new


def _remember(pools: dict, X: np.ndarray, y: np.ndarray) -> None:
    """Keep the latest ``_POOL`` samples of each class (for prior resampling)."""
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)[-_POOL:]
        px, py = pools.get(c, (X[:0], y[:0]))
        pools[c] = (np.concatenate([px, X[rows]])[-_POOL:],
                    np.concatenate([py, y[rows]])[-_POOL:])


def _prior(ev, plan, X, y, w, batch_index: int, pools, entropy, key, i: int):
    rng = _rng(entropy, key, i, _PRIOR, batch_index)
    n = len(y)
    if ev.shape == "incremental":
        changed = rng.random(n) < w
    else:
        changed = w > 0
    m = int(changed.sum())
    if not m:
        return X, y
    drawn = plan.classes[rng.choice(len(plan.classes), size=m, p=plan.p)]
    slots = np.flatnonzero(changed)
    X_new, y_new = X.copy(), y.copy()
    for c in np.unique(drawn):
        want = slots[drawn == c]
        here = np.flatnonzero(y == c)
        if len(here):
            pick = here[rng.integers(len(here), size=len(want))]
            X_new[want], y_new[want] = X[pick], y[pick]
            continue
        pool = pools.get(c)
        if pool is None or not len(pool[1]):
            raise ValueError(
                f"Event {i} of the 'schedule' parameter of Injection: the prior drift "
                f"must draw class {c!r} at sample {batch_index + int(want[0])}, but no "
                "sample of that class has appeared yet."
            )
        pick = rng.integers(len(pool[1]), size=len(want))
        X_new[want], y_new[want] = pool[0][pick], pool[1][pick]
    return X_new, y_new

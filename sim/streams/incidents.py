"""Incidents, non-drift causes of a performance drop, on any stream: :class:`Incidents`.

Performance drops for reasons other than drift: a sensor sticks, a unit changes, an
upstream bug swaps two columns, a label pipeline writes wrong labels, one segment's
traffic spikes. Retraining during such an incident trains on broken data, and when the
incident ends that model is wrong. :class:`Incidents` wraps a stream (synthetic or a
:class:`~sim.streams.Tabular` replay, or an :class:`~sim.streams.Injection`) and breaks
it during declared windows, recording each as an :class:`~sim.types.Incident` in
``incidents``, apart from ``drifts`` (the wrapped stream's, unchanged), so the drift
scores do not take an incident for a drift (see :func:`sim.metrics.incident_scores`).

Each event is a plain mapping (so that Hydra YAML can express it):

``{"cause": "labels", "start": 20000, "end": 23000, "fraction": 0.5}``

Keys common to every cause:

``cause``
    ``"stuck"``, ``"missing"``, ``"unit"``, ``"swap"``, ``"labels"`` or ``"spike"``.
``start``, ``end``
    The broken samples are ``[start, end)`` (ints, ``1 <= start < end``, ``end`` at most
    the stream's length). For steps of ``k`` samples, step ``s`` starts at ``s * k``.

By cause:

``stuck``
    ``features`` read ``value`` (a number or one per feature; None, the default: each
    feature's last value before ``start``, a frozen sensor).
``missing``
    ``features`` are NaN. Most models reject NaN: the run fails before it starts unless
    the model accepts missing values: scikit-learn's trees (``model=decision_tree``,
    ``random_forest``), or a pipeline that starts with an imputer
    (``model=imputed_logistic_regression``). The two-sample tests of
    :class:`~strategies.DataDrift` (and the triggers built on it) stop the run when
    the incident starts (they refuse NaN inputs): give them a ``stuck`` outage.
``unit``
    ``features`` are multiplied by ``factor`` (a number other than 1, or one per feature).
``swap``
    The two ``features`` exchange their columns (an upstream bug).
``labels``
    A ``fraction`` (in (0, 1], default 1) of the *delivered* labels is wrong: each
    becomes ``to`` (a class; None, the default: another class drawn at random).
    Predictions are still scored against the true labels; the labeled history, the
    triggers, the gates and the training sets get the wrong ones
    (:attr:`~sim.types.Batch.delivered`). Classification only.
``spike``
    Traffic from one ``segment`` (a mapping ``{feature: [low, high]}``, ``low <= x <
    high``, None for an open end) is over-represented: each sample is replaced, with
    probability ``share`` (in (0, 1)), by a sample of the segment taken from the same
    step, or from the latest samples of the segment when the step has none.

The counterfactual: ``enabled=False`` (or :meth:`Incidents.counterfactual`) replays the
wrapped stream whole, the same samples for the same seed, with no incident declared. The
engine replays every run with incidents a second time on it, with the same policy and
seeds, and scores each incident as the difference between the two runs (see
:func:`sim.metrics.incident_scores`).

Features are column indices, or names when the wrapped stream has ``feature_names``.
Randomness comes from the seed (passed unchanged to the wrapped stream): the same seed
and step size give the same arrays; the labels corrupted do not depend on the step size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags

from sim.checks import Instance, check, is_int, is_real
from sim.streams.base import Stream, Wrapper
from sim.streams.inject import _features, _per_feature, _region, _root
from sim.streams.schedule import BLOCK_SIZE
from sim.types import INCIDENT_CAUSES, Batch, Drift, Incident

__all__ = ["Incidents"]

_KEYS = {
    "stuck": ("features", "value"),
    "missing": ("features",),
    "unit": ("features", "factor"),
    "swap": ("features",),
    "labels": ("fraction", "to"),
    "spike": ("segment", "share"),
}
_POOL = 2048  # latest samples of a spike's segment kept, for steps that have none
_INCIDENT = 0x1C  # spawn_key purpose of the incidents' randomness, apart from the stream's
_PICK, _CLASS, _SPIKE = 0, 1, 2


class Incidents(Wrapper):
    """Wrap a stream and break it during declared incidents, with the ground truth recorded.

    See :mod:`sim.streams.incidents` for the causes and their keys. ``incidents`` lists
    them as :class:`~sim.types.Incident`; ``drifts`` is the wrapped stream's (an
    incident is not a drift). Wrap outermost (``Incidents(Injection(...))``).

    Parameters
    ----------
    stream
        The stream to break (any :class:`~sim.streams.base.Stream`).
    events
        The incidents, a list of mappings.
    enabled
        Whether the incidents happen. False replays the wrapped stream unbroken (the
        events are still checked) and declares no incident: the counterfactual run.

    Examples
    --------
    >>> import pandas as pd
    >>> from sim.streams import Tabular
    >>> frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 25, "y": [0, 1] * 50})
    >>> stream = Incidents(Tabular(frame, target="y"), events=[
    ...     {"cause": "unit", "start": 20, "end": 40, "features": ["x"], "factor": 100},
    ...     {"cause": "labels", "start": 60, "end": 80},
    ... ])
    >>> [(i.start, i.end, i.cause) for i in stream.incidents]
    [(20, 40, 'unit'), (60, 80, 'labels')]
    >>> batches = list(stream.batches(seed=0, step_size=20))
    >>> [b.X[:4, 0].tolist() for b in batches[:3]]
    [[0.0, 1.0, 2.0, 3.0], [0.0, 100.0, 200.0, 300.0], [0.0, 1.0, 2.0, 3.0]]
    >>> batches[3].y[:4].tolist(), batches[3].delivered[:4].tolist()
    ([0, 1, 0, 1], [1, 0, 1, 0])
    >>> whole = list(stream.counterfactual().batches(seed=0, step_size=20))
    >>> whole[1].X[:4, 0].tolist(), whole[3].delivered, stream.counterfactual().incidents
    ([0.0, 1.0, 2.0, 3.0], None, ())
    """

    version = "1"

    def __init__(self, stream: Stream | None = None, events: Sequence[Mapping] = (),
                 enabled: bool = True):
        self.stream = stream
        self.events = events
        self.enabled = enabled

    def counterfactual(self) -> Incidents:
        """Return a copy with the incidents disabled: the same stream, unbroken."""
        return clone(self).set_params(enabled=False)

    @property
    def onset_tolerance(self) -> int:
        """The wrapped stream's tolerance on a drift's onset."""
        return self._inner().onset_tolerance

    @property
    def drifts(self) -> tuple[Drift, ...]:
        """The wrapped stream's drifts (an incident is not one)."""
        return tuple(self._inner().drifts)

    @property
    def incidents(self) -> tuple[Incident, ...]:
        """The declared incidents, in order of start (none when not ``enabled``)."""
        if not self._enabled():
            return ()
        return tuple(sorted((Incident(start=ev.start, end=ev.end, cause=ev.cause,
                                      features=ev.features) for ev in self._events()),
                            key=lambda i: (i.start, i.end)))

    def check_model(self, model) -> None:
        """Refuse, before the run, a model that cannot take the NaN of a ``missing`` incident."""
        missing = any(ev.cause == "missing" for ev in self._events())
        if missing and self._enabled() and not _allows_nan(model):
            raise ValueError(
                f"Incidents: a 'missing' incident feeds NaN features to the model, and "
                f"{type(model).__name__} does not accept missing values. Use a model "
                "that does: model=decision_tree or model=random_forest (scikit-learn's "
                "trees take NaN), model=imputed_logistic_regression (SimpleImputer, then "
                "logistic regression), any scikit-learn Pipeline that starts with an "
                "imputer; or declare the outage as cause 'stuck'.")

    def batches(self, seed: Any = 0, step_size: int | None = None):
        """Yield the wrapped stream's steps, broken during the incidents.

        Parameters
        ----------
        seed
            Seed (an int >= 0 or a ``SeedSequence``): passed unchanged to the wrapped
            stream; the incidents' own randomness is derived from it.
        step_size
            Passed to the wrapped stream (which may cut its own steps).
        """
        events = self._events()
        if not self._enabled():
            return self._inner().batches(seed, step_size)
        root = _root(seed)
        classes = None
        if any(ev.cause == "labels" for ev in events):
            classes = self._inner().classes
            if classes is None:
                raise ValueError("Incidents: a 'labels' incident needs a classification "
                                 "stream; the wrapped stream has no classes (task "
                                 "'regression').")
            classes = np.sort(np.asarray(classes))
            for i, ev in enumerate(events):
                if ev.cause == "labels" and ev.to is not None:
                    ev.to = _class(ev.to, classes, i)
        return self._generate(self._inner().batches(seed, step_size), events, classes, root)

    # ----- validation -----------------------------------------------------------------
    def _enabled(self) -> bool:
        return check("Incidents", "enabled", self.enabled, Instance("a bool", classes=(bool,)))

    def _events(self) -> tuple[SimpleNamespace, ...]:
        return self._parsed("events", "a list of incidents (mappings with keys 'cause', "
                            "'start', 'end', ...)", _parse)

    # ----- generation -----------------------------------------------------------------
    def _generate(self, inner, events, classes, root):
        last: dict[int, np.ndarray] = {}  # a frozen sensor's last value before its start
        pools: dict[int, tuple] = {}  # a spike's latest samples of its segment
        n_seen = 0
        for batch in inner:
            n = len(batch)
            index = np.arange(batch.index, batch.index + n)
            X = np.array(batch.X, dtype=float, copy=True)
            y = batch.y
            delivered = None if batch.delivered is None else np.array(batch.delivered)
            for i, ev in enumerate(events):
                on = (index >= ev.start) & (index < ev.end)
                cols = list(ev.features)
                if ev.cause == "stuck" and ev.value is None and index[0] < ev.start:
                    last[i] = np.array(batch.X[index < ev.start][-1, cols], dtype=float)
                if ev.cause == "spike":
                    X, y, delivered = _spike(ev, i, on, X, y, delivered, batch, pools, root)
                    continue
                if not on.any():
                    continue
                if ev.cause == "stuck":
                    X[np.ix_(on, cols)] = last[i] if ev.value is None else ev.value
                elif ev.cause == "missing":
                    X[np.ix_(on, cols)] = np.nan
                elif ev.cause == "unit":
                    X[np.ix_(on, cols)] *= ev.factor
                elif ev.cause == "swap":
                    X[np.ix_(on, cols)] = X[np.ix_(on, cols[::-1])]
                else:
                    delivered = np.array(y, copy=True) if delivered is None else delivered
                    delivered[on] = _corrupt(ev, i, index[on], delivered[on], classes, root)
            n_seen = batch.index + n
            yield Batch(t=batch.t, X=X, y=y, index=batch.index, time=batch.time,
                        concept=batch.concept, delivered=delivered)
        for i, ev in enumerate(events):
            if ev.end > n_seen:
                raise ValueError(f"Event {i} of the 'events' parameter of Incidents: the "
                                 f"incident [{ev.start}, {ev.end}) must end by the end of "
                                 f"the stream, which has {n_seen} samples.")


# ---------------------------------------------------------------------------------------
# parsing


def _parse(i: int, raw: Any, inner: Stream, n_samples: int | None) -> SimpleNamespace:
    def bad(message: str) -> ValueError:
        return ValueError(f"Event {i} of the 'events' parameter of Incidents: {message}")

    if not isinstance(raw, Mapping):
        raise bad(f"must be a mapping with keys 'cause', 'start', 'end', ... Got {raw!r} "
                  "instead.")
    cause = raw.get("cause")
    if cause not in INCIDENT_CAUSES:
        raise bad(f"'cause' must be one of {', '.join(map(repr, INCIDENT_CAUSES))}. "
                  f"Got {cause!r} instead.")
    allowed = ("cause", "start", "end", *_KEYS[cause])
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise bad(f"unknown key(s) {unknown} for a {cause!r} incident; the allowed keys "
                  f"are {list(allowed)}.")
    start, end = raw.get("start"), raw.get("end")
    if not is_int(start) or start < 1:
        raise bad(f"'start' must be an int >= 1 (a sample index). Got {start!r} instead.")
    if not is_int(end) or end <= start:
        raise bad(f"'end' must be an int > start = {start} (the first sample after the "
                  f"incident). Got {end!r} instead.")
    if n_samples is not None and end > n_samples:
        raise bad(f"the incident must end by the end of the stream, n_samples = "
                  f"{n_samples}. Got end = {end} instead.")
    ev = SimpleNamespace(cause=cause, start=int(start), end=int(end), features=(),
                         value=None, factor=None, fraction=1.0, to=None, region=(),
                         share=None)
    if cause in ("stuck", "missing", "unit", "swap"):
        ev.features = _features(raw.get("features"), inner, bad, "features")
        if not ev.features:
            raise bad("'features' must list at least one feature to break.")
    if cause == "stuck" and raw.get("value") is not None:
        ev.value = _per_feature(raw["value"], len(ev.features), "value", bad)
    elif cause == "unit":
        ev.factor = _per_feature(raw.get("factor"), len(ev.features), "factor", bad)
        if np.any(ev.factor == 1.0):
            raise bad(f"'factor' must differ from 1 (a unit change); got {raw['factor']!r}.")
    elif cause == "swap" and len(ev.features) != 2:
        raise bad(f"a 'swap' incident needs 'features' to list two different features. "
                  f"Got {raw.get('features')!r} instead.")
    elif cause == "labels":
        ev.fraction, ev.to = raw.get("fraction", 1.0), raw.get("to")
        if not is_real(ev.fraction) or not 0 < ev.fraction <= 1:
            raise bad(f"'fraction' must be a number in (0, 1]. Got {ev.fraction!r} instead.")
    elif cause == "spike":
        ev.region = _region(raw.get("segment"), inner, bad)
        if not ev.region:
            raise bad("a 'spike' incident needs a 'segment' {feature: [low, high]}.")
        ev.features = tuple(sorted({f for f, _, _ in ev.region}))
        ev.share = raw.get("share")
        if not is_real(ev.share) or not 0 < ev.share < 1:
            raise bad(f"'share' must be a number in (0, 1). Got {ev.share!r} instead.")
    return ev


def _class(value: Any, classes: np.ndarray, i: int) -> Any:
    """Find ``value`` among the classes (YAML may give a class as a string)."""
    for c in classes:
        if c == value or str(c) == str(value):
            return c
    raise ValueError(f"Event {i} of the 'events' parameter of Incidents: 'to' = {value!r} "
                     f"is not one of the stream's classes {list(classes)}.")


def _allows_nan(model) -> bool:
    """Whether a model declares it accepts NaN inputs (its tags; a pipeline: its first step)."""
    if isinstance(model, Pipeline):
        model = model.steps[0][1]
    try:
        return bool(get_tags(model).input_tags.allow_nan)
    except (AttributeError, TypeError):
        return False


# ---------------------------------------------------------------------------------------
# the breaks


def _uniform(root, i: int, purpose: int, index: np.ndarray) -> np.ndarray:
    """One uniform per sample index (of consecutive ``index``), whatever the step size."""
    entropy, key = root
    out = np.empty(len(index))
    pos, stop = int(index[0]), int(index[-1]) + 1
    while pos < stop:
        block = pos // BLOCK_SIZE
        seq = np.random.SeedSequence(entropy, spawn_key=key + (_INCIDENT, i, purpose, block))
        u = np.random.Generator(np.random.PCG64(seq)).random(BLOCK_SIZE)
        lo = pos - block * BLOCK_SIZE
        take = min(BLOCK_SIZE - lo, stop - pos)
        out[pos - int(index[0]):pos - int(index[0]) + take] = u[lo:lo + take]
        pos += take
    return out


def _corrupt(ev, i: int, index: np.ndarray, labels: np.ndarray, classes: np.ndarray,
             root) -> np.ndarray:
    """Return the delivered labels of samples ``index`` with a ``fraction`` made wrong."""
    out = labels.copy()
    wrong = _uniform(root, i, _PICK, index) < ev.fraction
    if ev.to is not None:
        out[wrong] = ev.to
        return out
    k = len(classes)
    position = np.searchsorted(classes, labels[wrong])
    shift = 1 + np.floor(_uniform(root, i, _CLASS, index)[wrong] * (k - 1)).astype(int)
    out[wrong] = classes[(position + shift) % k]
    return out


def _spike(ev, i: int, on, X, y, delivered, batch, pools: dict, root):
    """Replace a ``share`` of the incident's samples by samples of the segment."""
    inside = np.ones(len(y), dtype=bool)
    for j, low, high in ev.region:
        inside &= (X[:, j] >= low) & (X[:, j] < high)
    own = bool(inside.any())
    seg_X, seg_y = X[inside], y[inside]
    seg_d = None if delivered is None else delivered[inside]
    if on.any():
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            root[0], spawn_key=root[1] + (_INCIDENT, i, _SPIKE, batch.index))))
        changed = on & (rng.random(len(y)) < ev.share)
        if not own:
            if i not in pools:
                raise ValueError(
                    f"Event {i} of the 'events' parameter of Incidents: the spike needs "
                    f"samples of its segment at sample {batch.index}, but none has "
                    "appeared yet; widen the 'segment' or start the incident later.")
            seg_X, seg_y, seg_d = pools[i]
        pick = rng.integers(len(seg_y), size=int(changed.sum()))
        X, y = X.copy(), np.array(y, copy=True)
        X[changed], y[changed] = seg_X[pick], seg_y[pick]
        if delivered is not None:
            delivered[changed] = (seg_y if seg_d is None else seg_d)[pick]
    if own:
        old = pools.get(i)
        both = (seg_X, seg_y, seg_y if seg_d is None else seg_d)
        if old is not None:
            both = tuple(np.concatenate([a, b]) for a, b in zip(old, both, strict=True))
        pools[i] = tuple(a[-_POOL:] for a in both)
    return X, y, delivered

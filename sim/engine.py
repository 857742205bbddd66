"""The replay engine: one stream, one model, one trigger, under the rules of time.

At every step ``t`` the engine

1. deploys any accepted model whose ``deploy_latency`` has passed,
2. lets the deployed model predict ``X_t`` and scores it against ``y_t`` (the metric is
   the engine's alone: the trigger does not see ``y_t``),
3. delivers the labels of step ``t - label_delay`` (a ``label_rate`` fraction of
   them) into the labeled history,
4. shows the trigger an :class:`~sim.types.Observation` of what it may see,
5. on a retrain decision trains ``clone(model)`` on the training window of labels that
   have arrived, lets the gate judge it on held-out arrived labels, and schedules the
   accepted model to serve from ``t + 1 + deploy_latency``.

No label is used — by the trigger, the training set or the gate — before it arrives.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

try:
    import resource as _resource
except ImportError:  # pragma: no cover (Windows)
    _resource = None

from sim.cache import RunKeys, Uncacheable, as_cache
from sim.checks import Interval, Options, check, is_int, validate
from sim.cost import Cost
from sim.metrics import summarize
from sim.streams.base import Stream
from sim.streams.schedule import SyntheticStream
from sim.types import TASKS, Decision, Holdout, Labels, Observation, RunResult, sample_loss

__all__ = ["WINDOWS", "Protocol", "child_seeds", "compare", "replay", "seeded_clone"]

WINDOWS = ("sliding", "expanding", "since_retrain", "since_change")


class Protocol(BaseEstimator):
    """The rules of a replay: steps, labels, training windows, deployment.

    Parameters
    ----------
    step_size
        Samples per step (the monitoring interval).
    initial_train
        Samples at the start of the stream used, fully labeled, to train the first model;
        rounded up to whole steps. They are not scored.
    label_delay
        Steps until the labels of a step arrive (0: at the end of the same step).
    label_rate
        Fraction of samples whose label ever arrives, in (0, 1].
    window
        Training-window policy: ``"sliding"`` (the last ``train_window`` arrived
        labels), ``"expanding"`` (every label so far), ``"since_retrain"`` (labels of
        samples since the previous retrain decision, at least ``min_train``), or
        ``"since_change"`` (labels since the change point the trigger estimated, at
        least ``min_train``; the last ``train_window`` when the trigger gives none).
    train_window
        Most recent labeled samples a model trains on; the cap for every policy but
        ``"expanding"``. Memory is O(``train_window``).
    min_train
        Fewest samples a ``since_*`` window trains on (it reaches further back if needed).
    deploy_latency
        Extra steps between a retrain decision and the new model serving; it serves from
        step ``t + 1 + deploy_latency``.
    benefit_window
        Steps over which a new model is scored against the model it replaced (or, for a
        rejected one, the model it challenged) to measure its ``benefit``.
    min_benefit
        A retrain whose benefit (accuracy gain, or mean absolute error saved for
        regression) is below this is counted as unneeded.
    recovery_window
        Steps averaged when judging recovery after a drift.
    recovery_tolerance
        Accuracy within this of the pre-drift level counts as recovered.

    Examples
    --------
    >>> Protocol(step_size=250, label_delay=2).check().label_delay
    2
    """

    _constraints = {
        "step_size": Interval("int", 1),
        "initial_train": Interval("int", 1),
        "label_delay": Interval("int", 0),
        "label_rate": Interval("float", 0, 1, closed="right"),
        "window": Options(WINDOWS),
        "train_window": Interval("int", 1),
        "min_train": Interval("int", 1),
        "deploy_latency": Interval("int", 0),
        "benefit_window": Interval("int", 1),
        "min_benefit": Interval("float"),
        "recovery_window": Interval("int", 1),
        "recovery_tolerance": Interval("float", 0),
    }

    def __init__(
        self,
        step_size: int = 500,
        initial_train: int = 5000,
        label_delay: int = 0,
        label_rate: float = 1.0,
        window: str = "since_change",
        train_window: int = 5000,
        min_train: int = 500,
        deploy_latency: int = 0,
        benefit_window: int = 10,
        min_benefit: float = 0.005,
        recovery_window: int = 5,
        recovery_tolerance: float = 0.01,
    ):
        self.step_size = step_size
        self.initial_train = initial_train
        self.label_delay = label_delay
        self.label_rate = label_rate
        self.window = window
        self.train_window = train_window
        self.min_train = min_train
        self.deploy_latency = deploy_latency
        self.benefit_window = benefit_window
        self.min_benefit = min_benefit
        self.recovery_window = recovery_window
        self.recovery_tolerance = recovery_tolerance

    def check(self) -> Protocol:
        """Validate the parameters; return self."""
        validate(self)
        if self.min_train > self.train_window:
            raise ValueError(
                "The 'min_train' parameter of Protocol must be <= train_window "
                f"({self.train_window}). Got {self.min_train!r} instead."
            )
        return self

    def check_stream(self, n_samples: int) -> int:
        """Check that the windows fit in a stream of ``n_samples``; return the steps scored.

        Examples
        --------
        >>> Protocol(step_size=500, initial_train=5000).check_stream(20_000)
        30
        >>> Protocol(step_size=500, initial_train=5000).check_stream(5_000)
        Traceback (most recent call last):
        ...
        ValueError: The 'initial_train' parameter of Protocol must leave at least one step...
        """
        step = self.step_size
        n_scored = -(-n_samples // step) - -(-self.initial_train // step)
        if n_scored < 1:
            raise ValueError(
                f"The 'initial_train' parameter of Protocol must leave at least one step to "
                f"score: the stream has {n_samples} samples, fewer than initial_train="
                f"{self.initial_train} plus a step of {step}. Got {self.initial_train!r} "
                "instead.")
        if self.train_window > n_samples:
            raise ValueError(f"The 'train_window' parameter of Protocol must be <= the stream's "
                             f"n_samples ({n_samples}). Got {self.train_window!r} instead.")
        return n_scored


class _History:
    """The labeled samples that have arrived, oldest first, kept in per-step chunks.

    Keeps at most ``capacity`` samples (None: all). Windows are cut by sample index.
    """

    def __init__(self, capacity: int | None):
        self.capacity = capacity
        self.chunks: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque()
        self.size = 0

    def add(self, X: np.ndarray, y: np.ndarray, index: np.ndarray) -> None:
        if len(y) == 0:
            return
        self.chunks.append((X, y, index))
        self.size += len(y)
        while self.capacity is not None and self.size - len(self.chunks[0][1]) >= self.capacity:
            self.size -= len(self.chunks.popleft()[1])

    def last(self, n: int | None, *, since: int | None = None, skip: int = 0):
        """Return the newest labeled samples, the newest ``skip`` left out.

        Takes at most ``n`` samples (None: all kept) and, when ``since`` is given, only
        those with sample index >= ``since``. Returns ``(X, y, index)`` oldest first.
        """
        parts = []
        need = n if n is not None else self.size
        to_skip = skip
        for X, y, index in reversed(self.chunks):
            if to_skip >= len(y):
                to_skip -= len(y)
                continue
            stop = len(y) - to_skip
            to_skip = 0
            start = max(0, stop - need)
            if since is not None:
                start = max(start, int(np.searchsorted(index[:stop], since)))
            if start < stop:
                parts.append((X[start:stop], y[start:stop], index[start:stop]))
                need -= stop - start
            if need <= 0 or (since is not None and index[0] < since):
                break
        if not parts:
            return None
        parts.reverse()
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


@dataclass
class _Model:
    """A trained model and what the engine must remember of it."""

    id: int
    estimator: object
    reference: np.ndarray  # features it was trained on (for data-drift triggers)
    trained_at: int  # step of the decision that trained it (-1: the initial model)
    key: str | None = None  # its fit's cache key (None: not cached)
    horizon: int = 0  # rows it predicts ahead (see _predict)
    holdout: Holdout | None = None  # labels held out of its fit (Trigger.n_holdout)

    def __post_init__(self):
        self.horizon = max(self.horizon, _FIRST_HORIZON)


@dataclass
class _BenefitTrack:
    """Scores a new model against the one it replaced (or challenged), step by step."""

    event: int
    new: _Model
    old: _Model
    start: int
    steps_left: int
    loss_new: float = 0.0
    loss_old: float = 0.0
    n: int = 0

    @property
    def benefit(self) -> float:
        """Mean loss the new model saved over the old one (accuracy gained)."""
        return (self.loss_old - self.loss_new) / self.n


def child_seeds(seed: int) -> dict[str, int]:
    """Return the independent child seeds of a run: stream, labels, model and trigger.

    Everything that must reproduce a run's data (the oracle, baselines, benchmarks)
    derives its seeds from here.

    Examples
    --------
    >>> sorted(child_seeds(0))
    ['labels', 'model', 'stream', 'trigger']
    >>> child_seeds(0) == child_seeds(0)
    True
    """
    children = np.random.SeedSequence(seed).spawn(4)
    names = ("stream", "labels", "model", "trigger")
    return {name: int(c.generate_state(1)[0]) for name, c in zip(names, children, strict=True)}


def seeded_clone(model, seed: int):
    """Clone ``model``, setting every unset ``random_state`` in it (nested too) to ``seed``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> pipe = seeded_clone(make_pipeline(StandardScaler(), DecisionTreeClassifier()), 7)
    >>> pipe.get_params()["decisiontreeclassifier__random_state"]
    7
    """
    model = clone(model)
    unset = {k: seed for k, v in model.get_params(deep=True).items()
             if (k == "random_state" or k.endswith("__random_state")) and v is None}
    return model.set_params(**unset) if unset else model


# ---------------------------------------------------------------------------------------
# chunks: the stream is read, and each deployed model predicts, a chunk of steps at a time

#: samples per chunk (at most); a chunk's features are also kept under _CHUNK_BYTES
_CHUNK_SAMPLES = 1 << 16
_CHUNK_BYTES = 1 << 23
#: rows a newly deployed model predicts ahead at first
_FIRST_HORIZON = 1 << 12


class _Chunk:
    """Consecutive steps of the stream: their samples and the predictions made on them.

    ``steps`` holds ``(t, lo, hi, index)`` per step: rows ``lo:hi`` of ``X``/``y``, the
    first of which is sample ``index`` of the stream. ``preds`` maps a model id to
    ``(first row, predictions of the rows from it)``: a model predicts many steps in one
    call (predictions are per sample), see :func:`_predict`.
    """

    __slots__ = ("X", "y", "start", "steps", "preds", "u", "u_lo")

    def __init__(self, X, y, start, steps):
        self.X, self.y, self.start, self.steps = X, y, start, steps
        self.preds: dict[int, tuple[int, np.ndarray]] = {}
        self.u = None  # the label draws of the chunk's scored rows (label_rate < 1)
        self.u_lo = 0


def _chunks(stream, seed: int, step_size: int) -> Iterator[_Chunk]:
    """Yield the stream's steps grouped in chunks of whole steps.

    Streams that cut their steps with :class:`~sim.streams.base.Stream`'s own
    ``batches`` (every synthetic stream) give the same arrays whatever the step size, so
    they are read one chunk per batch; other streams (which may cut their own steps, e.g.
    by time) are read step by step and grouped.
    """
    try:
        n_features = max(1, int(stream.n_features))
    except Exception:
        n_features = 1
    k = max(1, min(_CHUNK_SAMPLES // step_size, _CHUNK_BYTES // (8 * n_features * step_size)))
    if type(stream).batches in (Stream.batches, SyntheticStream.batches):
        for batch in stream.batches(seed, k * step_size):
            n = len(batch)
            steps = [(batch.index // step_size + j, lo, min(lo + step_size, n), batch.index + lo)
                     for j, lo in enumerate(range(0, n, step_size))]
            yield _Chunk(batch.X, batch.y, batch.index, steps)
        return
    group: list = []
    for batch in stream.batches(seed, step_size):
        group.append(batch)
        if len(group) == k:
            yield _group(group)
            group = []
    if group:
        yield _group(group)


def _group(batches: list) -> _Chunk:
    steps, lo = [], 0
    for b in batches:
        steps.append((b.t, lo, lo + len(b), b.index))
        lo += len(b)
    if len(batches) == 1:
        X, y = batches[0].X, batches[0].y
    else:
        X = np.concatenate([b.X for b in batches])
        y = np.concatenate([b.y for b in batches])
    return _Chunk(X, y, batches[0].index, steps)


def _predict(chunk: _Chunk, model: _Model, lo: int, hi: int, cache) -> np.ndarray:
    """Predictions of ``model`` on rows ``lo:hi`` of the chunk.

    A model predicts ahead of the step it is asked about: ``model.horizon`` rows (at
    least the step), up to the end of the chunk; the horizon doubles every time a
    model is asked again, so a model that stays deployed soon predicts whole chunks,
    and one replaced soon after it is deployed wasted few predictions.
    """
    entry = chunk.preds.get(model.id)
    if entry is None or entry[0] > lo or entry[0] + len(entry[1]) < hi:
        stop = min(len(chunk.y), max(hi, lo + model.horizon))
        model.horizon = min(2 * model.horizon, _CHUNK_SAMPLES)
        entry = None
        key = None
        if cache is not None and model.key is not None:
            key = RunKeys.predictions(model.key, chunk.start + lo, chunk.start + stop)
            found = cache.get_predictions(key)
            entry = None if found is None else (lo, found)
        if entry is None:
            entry = (lo, model.estimator.predict(chunk.X[lo:stop]))
            if key is not None:
                cache.put_predictions(key, entry[1])
        chunk.preds[model.id] = entry
    first, values = entry
    return values[lo - first : hi - first]


def _scores(estimator, X: np.ndarray, task: str) -> np.ndarray | None:
    """Return ``predict_proba(X)`` (else ``decision_function(X)``); None for regression."""
    if task == "regression":
        return None
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    return estimator.decision_function(X)


def _holdout(estimator, X, y, index, task: str) -> Holdout:
    """Return the held-out labels of a fit with the fitted model's outputs on them."""
    return Holdout(X=X, y=y, y_pred=estimator.predict(X), scores=_scores(estimator, X, task),
                   index=index)


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process so far.

    ``getrusage`` where there is one: it reads the same accounting as
    ``time.process_time`` (they agree to about 0.05 ms) at about 1 us a call, where
    ``process_time``'s ``clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`` took 0.1-5 ms a call
    on the shared 2-core VM of benchmarks/README.md, i.e. more than a small fit.
    """
    if _resource is None:  # pragma: no cover (Windows)
        return time.process_time()
    usage = _resource.getrusage(_resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _fit(seeded, X, y, key: str | None, cache):
    """Fit ``clone(seeded)`` on ``X, y`` or take it from the cache; return it and its seconds."""
    if key is not None:
        found = cache.get_fit(key)
        if found is not None:
            return found
    t0 = _cpu_seconds()
    estimator = clone(seeded).fit(X, y)
    seconds = _cpu_seconds() - t0
    if key is not None:
        cache.put_fit(key, estimator, seconds)
    return estimator, seconds


def replay(
    stream,
    model,
    trigger,
    *,
    gate=None,
    cost: Cost | None = None,
    seed: int = 0,
    protocol: Protocol | None = None,
    callback: Callable[[int], None] | None = None,
    cache=None,
    **protocol_params,
) -> RunResult:
    """Replay ``stream`` through ``model`` under ``trigger`` and report what happened.

    Parameters
    ----------
    stream
        A :class:`~sim.streams.base.Stream`.
    model
        Any scikit-learn classifier; only clones are ever fitted.
    trigger
        A :class:`~strategies.base.Trigger`; only a clone is used.
    gate
        A :class:`~strategies.base.Gate`; None accepts every retrain.
    cost
        A :class:`~sim.cost.Cost`; None charges 1 unit per retrain.
    seed
        The run's seed; child seeds go to the stream, the labels, the model and the
        trigger. The same seed gives the same result.
    protocol
        A :class:`Protocol`; keyword arguments override its parameters.
    callback
        Called with the step index after every scored step (progress bars).
    cache
        Reuse fits and predictions made by other runs on the same stream and seed (see
        :mod:`sim.cache`): None (no cache), ``"memory"``, a directory for an on-disk
        cache, or a :class:`~sim.cache.Cache`. The result is the same with or without
        it; a reused fit reports the CPU seconds of the original fit. With a cache the
        trigger also gets the deployed model's :class:`~sim.cache.ReferenceMemo` as
        ``Observation.memo``, where e.g. ``DataDrift`` shares its tests with the
        other runs that deploy a model with the same reference.
    **protocol_params
        Parameters of :class:`Protocol` (``step_size``, ``label_delay``, ...).

    Returns
    -------
    RunResult
        The per-step timeline, the retrain events and the summary metrics.

    Notes
    -----
    The engine reads the stream and lets the deployed model predict a chunk of steps at
    a time (up to 65,536 samples), so a model's predictions must not depend on which
    other samples it predicts with (true of scikit-learn's estimators). The trigger
    still sees one step at a time, and nothing about the rules of time changes.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim.streams import SEA
    >>> from strategies import Periodic
    >>> stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    >>> result = replay(stream, LogisticRegression(), Periodic(every=10), seed=1)
    >>> result.events["step"].tolist()
    [19, 29, 39]
    >>> round(result.summary["mean_accuracy"], 2)
    0.86
    """
    check("replay", "seed", seed, Interval("int", 0))
    protocol = clone(protocol) if protocol is not None else Protocol()
    protocol.set_params(**protocol_params).check()
    cost = (clone(cost) if cost is not None else Cost()).check()
    gate = clone(gate).check() if gate is not None else None
    cache = as_cache(cache)
    seeds = child_seeds(seed)
    trigger = clone(trigger)
    trigger.reset(seed=seeds["trigger"])
    step_size = protocol.step_size
    n_samples = stream.get_params().get("n_samples")
    if is_int(n_samples):  # a stream of known length: the windows must fit in it
        trigger.check_stream(protocol.check_stream(n_samples), step_size)
    task = stream.task
    check(stream, "task", task, Options(TASKS))
    if trigger.requires_ground_truth:
        trigger.reveal(tuple(stream.drifts), step_size)
    trigger.check_model(model, task)
    n_holdout = trigger.n_holdout  # labels held out of every fit, for the trigger
    needs_scores = trigger.needs_scores

    label_rng = np.random.default_rng(seeds["labels"])
    label_rate = protocol.label_rate
    label_delay = protocol.label_delay
    chunks = _chunks(stream, seeds["stream"], step_size)
    n_val = gate.n_val if gate is not None else 0
    capacity = None if protocol.window == "expanding" else (
        protocol.train_window + max(n_val, n_holdout))
    history = _History(capacity)

    # the initial segment: whole steps until initial_train samples
    parts = []  # (chunk, first row, last row) of the initial samples in each chunk
    n_initial = 0
    chunk = None
    rest: list = []  # the steps of the current chunk after the initial segment
    first_index = last_t = None
    for chunk in chunks:
        lo = chunk.steps[0][1]
        for j, (t, _, hi, index) in enumerate(chunk.steps):
            if first_index is None:
                first_index = index
            n_initial += hi - chunk.steps[j][1]
            last_t = t
            if n_initial >= protocol.initial_train:
                rest = chunk.steps[j + 1 :]
                break
        parts.append((chunk, lo, hi))
        if n_initial >= protocol.initial_train:
            break
    if n_initial < protocol.initial_train:
        raise ValueError(
            f"The stream has {n_initial} samples, fewer than initial_train="
            f"{protocol.initial_train}: it must be longer than the initial training segment."
        )
    if len(parts) == 1:
        X0, y0 = parts[0][0].X[parts[0][1] : parts[0][2]], parts[0][0].y[parts[0][1] : parts[0][2]]
    else:
        X0 = np.concatenate([c.X[a:b] for c, a, b in parts])
        y0 = np.concatenate([c.y[a:b] for c, a, b in parts])
    idx0 = np.arange(first_index, first_index + len(y0))
    history.add(X0, y0, idx0)
    first_step = last_t + 1
    if n_holdout >= len(y0):
        raise ValueError(
            f"The 'n_holdout' parameter of {type(trigger).__name__} must be < the initial "
            f"training segment ({len(y0)} samples), which it is held out of. Got "
            f"{n_holdout!r} instead.")
    held0 = None
    if n_holdout:
        held0 = (X0[-n_holdout:], y0[-n_holdout:], idx0[-n_holdout:])
        X0, y0, idx0 = X0[:-n_holdout], y0[:-n_holdout], idx0[:-n_holdout]
    if task == "classification" and len(np.unique(y0)) < 2:
        raise ValueError(
            f"The initial training segment (first {n_initial} samples) has a single class "
            f"({y0[0]!r}); a classifier needs at least two. Increase initial_train."
        )
    seeded = seeded_clone(model, seeds["model"])  # what every fit clones
    keys = None
    if cache is not None:
        first_scored = rest[0][3] if rest else first_index + n_initial
        mask = ("all",) if label_rate == 1 else (seeds["labels"], float(label_rate),
                                                 int(first_scored))
        try:
            keys = RunKeys(stream, seeds["stream"], seeded, mask)
        except Uncacheable:
            cache.stats["uncacheable_runs"] += 1
            cache = None
    key0 = keys.fit(idx0[0], idx0[-1] + 1, len(y0)) if keys is not None else None
    estimator, initial_fit_seconds = _fit(seeded, X0, y0, key0, cache)
    reference = X0[-protocol.train_window :]
    deployed = _Model(0, estimator, reference, first_step - 1, key0,
                      holdout=None if held0 is None else _holdout(estimator, *held0, task))
    memos: list = []  # the reference memos this run used (flushed at its end)
    latest = deployed  # the newest accepted model (champion of the next gate)
    deployed_at = first_step
    memo = None  # the deployed model's ReferenceMemo (with a cache)
    n_models = 1
    pending_deploy: deque[tuple[int, _Model]] = deque()
    pending_labels: deque[tuple[int, Labels]] = deque()
    last_retrain_index = int(idx0[0])
    tracks: list[_BenefitTrack] = []
    classification = task != "regression"

    metrics = ["mae", "rmse"] if task == "regression" else ["accuracy"]
    rows: dict[str, list] = {
        "step": [], "sample_index": [], "n_samples": [], **{m: [] for m in metrics},
        "model_id": [],
        "n_labels": [], "retrain": [], "accepted": [], "cost": [],
    }
    row_step, row_n, row_model = rows["step"].append, rows["n_samples"].append, \
        rows["model_id"].append
    row_labels, row_retrain = rows["n_labels"].append, rows["retrain"].append
    row_accepted, row_cost = rows["accepted"].append, rows["cost"].append
    stats_rows: list[Mapping[str, float]] = []
    row_stats = stats_rows.append
    events: list[dict] = []
    total_cost = 0.0
    per_label = cost.labels

    def scored(first=chunk):
        """(chunk, steps to score) in stream order."""
        if rest:
            yield first, rest
        for c in chunks:
            yield c, c.steps

    for chunk, steps in scored():
        Xc, yc = chunk.X, chunk.y
        if label_rate < 1:  # the same draws, in the same order, as one per step
            chunk.u_lo = steps[0][1]
            chunk.u = label_rng.random(steps[-1][2] - chunk.u_lo)
        for t, lo, hi, index in steps:
            while pending_deploy and pending_deploy[0][0] <= t:
                _, deployed = pending_deploy.popleft()
                deployed_at = t
                memo = None
            if memo is None and deployed.key is not None:
                memo = cache.reference_memo(
                    RunKeys.reference(deployed.key, len(deployed.reference)))
                memos.append(memo)
            y_pred = _predict(chunk, deployed, lo, hi, cache)
            X = Xc[lo:hi]
            y = yc[lo:hi]
            n = hi - lo

            if tracks:
                for track in tracks:
                    if track.start > t:
                        continue
                    p_new = _predict(chunk, track.new, lo, hi, cache)
                    p_old = _predict(chunk, track.old, lo, hi, cache)
                    track.loss_new += float(sample_loss(y, p_new, task).sum())
                    track.loss_old += float(sample_loss(y, p_old, task).sum())
                    track.n += n
                    track.steps_left -= 1
                    if track.steps_left == 0:
                        events[track.event]["benefit"] = track.benefit
                tracks = [tr for tr in tracks if tr.steps_left > 0]

            if label_rate < 1:
                mask = chunk.u[lo - chunk.u_lo : hi - chunk.u_lo] < label_rate
                k = int(np.count_nonzero(mask))
                new_labels = Labels(
                    X=X[mask], y=y[mask], y_pred=y_pred[mask],
                    model_id=np.full(k, deployed.id), index=np.arange(index, index + n)[mask],
                    step=np.full(k, t),
                )
            else:  # every label arrives (the same values as masking with all True)
                new_labels = Labels(
                    X=X, y=y, y_pred=y_pred, model_id=np.full(n, deployed.id),
                    index=np.arange(index, index + n), step=np.full(n, t),
                )
            if label_delay == 0 and not pending_labels:
                labels = new_labels
            else:
                pending_labels.append((t, new_labels))
                arrived = []
                while pending_labels and pending_labels[0][0] <= t - label_delay:
                    arrived.append(pending_labels.popleft()[1])
                labels = _concat_labels(arrived, X.shape[1])
            n_labels = len(labels.y)
            history.add(labels.X, labels.y, labels.index)
            total_cost += per_label(n_labels)

            obs = Observation(
                t=t, X=X, y_pred=y_pred, labels=labels, model_id=deployed.id,
                deployed_at=deployed_at, reference=deployed.reference, sample_index=index,
                task=task, memo=memo, holdout=deployed.holdout,
                scores=_scores(deployed.estimator, X, task) if needs_scores else None,
            )
            decision = trigger.update(obs)
            accepted = False
            if decision.retrain:
                event, challenger = _retrain(
                    t, decision, seeded, history, protocol, gate, cost, latest,
                    last_retrain_index, n_models, task, keys, cache, n_holdout,
                )
                events.append(event)
                total_cost += event["cost"]
                last_retrain_index = index + n
                if challenger is not None:
                    n_models += 1
                    accepted = event["accepted"]
                    trigger.on_retrain(t, accepted)
                    start = t + 1 + protocol.deploy_latency
                    # an accepted model is scored against the one it replaces, a rejected one
                    # against the champion it failed to beat
                    tracks.append(_BenefitTrack(len(events) - 1, challenger, latest, start,
                                                protocol.benefit_window))
                    if accepted:
                        pending_deploy.append((start, challenger))
                        latest = challenger
            row_step(t)
            rows["sample_index"].append(index)
            row_n(n)
            if classification:
                # 0/1 losses sum exactly in any order: the same value as 1 - loss.mean()
                rows["accuracy"].append(float(1.0 - np.count_nonzero(y_pred != y) / n))
            else:
                loss = sample_loss(y, y_pred, task)
                rows["mae"].append(float(loss.mean()))
                rows["rmse"].append(float(np.sqrt(np.mean(loss**2))))
            row_model(deployed.id)
            row_labels(n_labels)
            row_retrain(bool(decision.retrain))
            row_accepted(accepted)
            row_cost(total_cost)
            row_stats(decision.stats)
            if callback is not None:
                callback(t)
        chunk.preds.clear()

    if not rows["step"]:  # a stream of unknown length ended within the initial segment
        raise ValueError(
            f"The 'initial_train' parameter of Protocol must leave at least one step of the "
            f"stream to score; the stream ended after {n_initial} samples. Got "
            f"{protocol.initial_train!r} instead.")
    for track in tracks:
        if track.n:
            events[track.event]["benefit"] = track.benefit
    for memo in memos:
        memo.flush()

    timeline = pd.DataFrame(rows)
    stats = _stats_frame(stats_rows, timeline.index)
    if len(stats.columns):
        timeline = pd.concat([timeline, stats.add_prefix("stat_")], axis=1)
    events_df = pd.DataFrame(events, columns=EVENT_COLUMNS)
    config = {
        "stream": stream.get_params(deep=False) | {"class": type(stream).__name__},
        "model": repr(model),
        "trigger": repr(trigger),
        "gate": repr(gate),
        "cost": cost.get_params(),
        "protocol": protocol.get_params(),
        "seed": seed,
    }
    summary = summarize(
        timeline, events_df, tuple(stream.drifts), protocol=protocol, cost=cost,
        first_step=first_step, task=task,
    )
    summary["initial_fit_seconds"] = initial_fit_seconds
    return RunResult(timeline=timeline, events=events_df, summary=summary, config=config)


def _stats_frame(stats_rows: list[Mapping[str, float]], index) -> pd.DataFrame:
    """Build the frame of the trigger statistics, one row per step."""
    return pd.DataFrame.from_records(stats_rows, index=index)


EVENT_COLUMNS = [
    "step", "reason", "follow_up", "accepted", "skipped", "model_id", "deploy_step",
    "train_start", "train_end", "n_train", "n_val", "cost", "cost_retrain", "cost_samples",
    "fit_seconds", "benefit", "gate_reason",
]


def _concat_labels(arrived: list[Labels], n_features: int) -> Labels:
    if len(arrived) == 1:
        return arrived[0]
    if not arrived:
        empty = np.empty(0, dtype=np.int64)
        return Labels(np.empty((0, n_features)), np.empty(0), np.empty(0), empty, empty, empty)
    return Labels(*(np.concatenate([getattr(a, f) for a in arrived]) for f in
                    ("X", "y", "y_pred", "model_id", "index", "step")))


def _single_class(y: np.ndarray) -> bool:
    """``len(np.unique(y)) < 2``, without sorting integer labels."""
    if y.dtype.kind in "biu":
        return not (y != y[0]).any()
    return len(np.unique(y)) < 2


def _retrain(t, decision: Decision, seeded, history: _History, protocol: Protocol,
             gate, cost: Cost, champion: _Model, last_retrain_index: int, n_models: int,
             task: str, keys: RunKeys | None = None, cache=None, n_holdout: int = 0):
    """Train a challenger on the window the policy picks; return its event row and model.

    The newest ``max(n_val, n_holdout)`` arrived labels are held out of the fit: the
    gate's ``n_val`` newest to judge it, the trigger's ``n_holdout`` newest to become
    the challenger's :class:`~sim.types.Holdout`.

    The model is None when the retrain was skipped (a window with a single class, or no
    labels at all); the event row says why.
    """
    n_val = gate.n_val if gate is not None else 0
    since = None
    if protocol.window == "since_retrain":
        since = last_retrain_index
    elif protocol.window == "since_change":
        since = decision.since
    n_max = None if protocol.window == "expanding" else protocol.train_window
    skip = max(n_val, n_holdout)
    window = history.last(n_max, since=since, skip=skip)
    if since is not None and (window is None or len(window[1]) < protocol.min_train):
        window = history.last(protocol.min_train, skip=skip)
    event = {
        "step": t, "reason": decision.reason, "follow_up": decision.follow_up,
        "accepted": False, "skipped": "",
        "model_id": -1, "deploy_step": -1, "train_start": -1, "train_end": -1, "n_train": 0,
        "n_val": 0, "cost": 0.0, "cost_retrain": 0.0, "cost_samples": 0.0,
        "fit_seconds": 0.0, "benefit": np.nan, "gate_reason": "",
    }
    if window is None:
        event["skipped"] = "no labeled samples have arrived"
        return event, None
    X, y, index = window
    event.update(train_start=int(index[0]), train_end=int(index[-1]) + 1, n_train=len(y))
    if task == "classification" and _single_class(y):
        event["skipped"] = f"the training window has a single class ({y[0]!r})"
        return event, None
    key = keys.fit(index[0], index[-1] + 1, len(y)) if keys is not None else None
    estimator, event["fit_seconds"] = _fit(seeded, X, y, key, cache)
    terms = cost.retrain(len(y))
    event.update(terms, cost=sum(terms.values()), model_id=n_models)
    challenger = _Model(n_models, estimator, X, t, key)
    if n_holdout:
        challenger.holdout = _holdout(estimator, *history.last(n_holdout), task)
    accepted = True
    if gate is not None:
        val = history.last(n_val) if n_val else None
        X_val, y_val = (val[0], val[1]) if val is not None else (X[:0], y[:0])
        verdict = gate.accept(champion.estimator, estimator, X_val, y_val)
        accepted = verdict.retrain
        event["gate_reason"] = verdict.reason
        event["n_val"] = len(y_val)
    event["accepted"] = accepted
    if accepted:
        event["deploy_step"] = t + 1 + protocol.deploy_latency
    return event, challenger


def compare(stream, model, triggers: Mapping[str, object], *, seed: int = 0, cache=None,
            **kwargs):
    """Replay the same stream and seed through several triggers; one summary row each.

    Parameters
    ----------
    stream, model
        As for :func:`replay`.
    triggers
        ``{name: trigger}``.
    seed
        Seed shared by every replay, so every trigger sees the same samples and labels.
    cache
        As for :func:`replay`; one cache is shared by all the replays (``"memory"``: a
        new in-memory cache for this call), so a model trained on the same window, and
        its predictions, are computed once. The table is the same with or without it.
    **kwargs
        Passed to :func:`replay` (``gate``, ``cost``, protocol parameters).

    Returns
    -------
    pandas.DataFrame
        One row per trigger (indexed by name) with the scalar summary metrics and
        ``accuracy_gap``, the mean accuracy lost against the best trigger (for
        regression ``mae_gap``, the mean absolute error above the best trigger's).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim.streams import SEA
    >>> from strategies import Never, Periodic
    >>> stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    >>> table = compare(stream, LogisticRegression(),
    ...                 {"never": Never(), "periodic": Periodic(every=5)}, seed=1)
    >>> table["n_retrains"].to_dict()
    {'never': 0, 'periodic': 6}
    """
    cache = as_cache(cache)
    rows = {}
    for name, trigger in triggers.items():
        summary = replay(stream, model, trigger, seed=seed, cache=cache, **kwargs).summary
        rows[name] = {k: v for k, v in summary.items() if np.isscalar(v) or v is None}
    table = pd.DataFrame.from_dict(rows, orient="index")
    if "mean_accuracy" in table:
        table["accuracy_gap"] = table["mean_accuracy"].max() - table["mean_accuracy"]
    else:
        table["mae_gap"] = table["mean_mae"] - table["mean_mae"].min()
    return table

"""The replay engine: one stream, one model, one trigger, stepped under the rules of time.

:class:`Replay` holds a run's state (the deployed model, the labeled history, and one
:class:`Agenda` of what is due at which step: deployments, label arrivals, benefit
tracks) and advances it one step at a time; :func:`replay` resets one and steps it to the
end. At every step ``t`` the stepper

1. takes what the agenda has due at ``t`` (:meth:`Replay._take_due`): deploys an
   accepted model whose ``deploy_latency`` has passed, starts the benefit tracks that
   begin now, collects the labels that arrive now, and marks a live trial's look;
2. lets the deployed model predict ``X_t`` (:meth:`Replay._predict`) and scores it
   against ``y_t`` (the metric is the engine's alone: the trigger does not see ``y_t``),
   and the models of the running benefit tracks too (:meth:`Replay._score_tracks`);
3. delivers the labels that arrive at ``t`` into the labeled history, and schedules
   those of step ``t`` for step ``t + label_delay`` (:meth:`Replay._deliver_labels`);
4. shows the trigger an :class:`~sim.types.Observation` of what it may see (its arrays
   are read-only views; the model's scores only for a trigger that ``needs_scores``, the
   deployed model's :class:`~sim.types.Holdout` only for one with ``n_holdout`` > 0) and
   asks for a :class:`~sim.types.Decision`; under online learning
   (:mod:`sim.learning`) the serving model then learns on the arrived labels
   (:meth:`Replay._update`);
5. on a retrain decision (:meth:`Replay._retrain`) trains ``clone(model)`` on the
   training window of arrived labels, lets the gate judge it on held-out arrived labels,
   keeps the trigger's held-out labels as the new model's holdout, and puts the accepted
   model on the agenda to serve from ``t + 1 + deploy_latency``
   (:meth:`Protocol.serves_from <sim.protocol.Protocol.serves_from>`);
6. records the step's row (:meth:`Replay._record`).

With a live gate (:class:`~sim.rollout.LiveGate`) a retrain the gate's offline check
accepts starts the gate's :class:`~sim.rollout.Rollout` (see :meth:`Replay._retrain`),
the run's one current trial: at every step it looks (an agenda entry ``"look"``) it
says who serves each sample, takes the arrived labels, gives the gate its evidence, and
turns the gate's verdict into actions (deploy, restore, an event row with its ``kind``).
Such a run's timeline has ``challenger_id`` and ``challenger_share`` (of the step's
samples the challenger served), its ``accuracy`` is what users received from both
models, and its labels carry the model that served each sample. A run with a live gate,
or with ``Protocol.exposure``, also scores every retrained model that serves against the
model it challenged, on the samples it served (the *exposure* metrics).

Which labels arrive when, and which arrived labels a retrain trains on, are decided by
:mod:`sim.protocol` (the oracle calls the same code). No label is used, by the trigger,
the training set or the gate, before it arrives.

To give a trigger something new to look at: add a field to
:class:`~sim.types.Observation` (with a default, read-only if it is an array) and fill it
where :meth:`Replay.step` builds the observation.

Examples
--------
Step a run by hand, look at it between steps, and get the same result as :func:`replay`:

>>> from sklearn.linear_model import LogisticRegression
>>> from sim.scripted import AtSteps
>>> from sim.streams import SEA
>>> run = Replay(SEA(n_samples=20_000), LogisticRegression(), AtSteps([10, 20, 30])).reset()
>>> outcome = run.step()
>>> outcome.observation.t, run.model_id, len(outcome.observation.labels)
(10, 0, 500)
>>> while not run.done:
...     outcome = run.step()
>>> run.result().events["step"].tolist()
[10, 20, 30]
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from sim.cache import run_cache
from sim.checks import param_error
from sim.cost import Cost
from sim.learning import Learning, own
from sim.metrics import exposure, rows_summary, summarize
from sim.preflight import check_run
from sim.protocol import (
    WINDOWS,
    LabelArrival,
    Protocol,
    TrainingWindows,
    check_initial_labels,
    child_seeds,
    initial_segment,
    seeded_clone,
)
from sim.rollout import Actions, Ledger, Rollout, TrafficStep
from sim.threads import limited
from sim.types import (
    Decision,
    Holdout,
    Labels,
    Observation,
    RunResult,
    sample_loss,
)

__all__ = ["WINDOWS", "Agenda", "Protocol", "Replay", "StepOutcome", "child_seeds", "replay",
           "seeded_clone"]

# the stream is read, and each deployed model predicts, a chunk of steps at a time
#: samples per chunk (at most); a chunk's features are also kept under _CHUNK_BYTES
_CHUNK_SAMPLES = 1 << 16
_CHUNK_BYTES = 1 << 23
#: rows a newly deployed model predicts ahead at first
_FIRST_HORIZON = 1 << 12


class _History:
    """The labeled samples that have arrived, oldest first, kept in per-step chunks.

    Labels are numbered by arrival position (0 is the first label that ever arrived);
    at most ``capacity`` of the newest are kept (None: all), which covers every window
    :class:`~sim.protocol.TrainingWindows` asks for.
    """

    def __init__(self, capacity: int | None):
        self.capacity = capacity
        self.chunks: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque()
        self.size = 0  # labels kept
        self.total = 0  # labels arrived

    def add(self, X: np.ndarray, y: np.ndarray, index: np.ndarray) -> None:
        if len(y) == 0:
            return
        self.chunks.append((X, y, index))
        self.size += len(y)
        self.total += len(y)
        while self.capacity is not None and self.size - len(self.chunks[0][1]) >= self.capacity:
            self.size -= len(self.chunks.popleft()[1])

    def first_at_or_after(self, since: int, hi: int) -> int:
        """Position of the first kept label before ``hi`` whose sample index is >= ``since``."""
        end = self.total
        for _, _, index in reversed(self.chunks):
            start = end - len(index)
            if start < hi:
                stop = min(hi, end) - start
                if index[0] < since:
                    return start + int(np.searchsorted(index[:stop], since))
            end = start
        return end

    def take(self, lo: int, hi: int):
        """Return ``(X, y, index)`` of the labels at positions ``[lo, hi)``; None if empty."""
        if lo >= hi:
            return None
        parts, end = [], self.total
        for chunk in reversed(self.chunks):
            start = end - len(chunk[1])
            if start < hi:
                a, b = max(lo, start) - start, min(hi, end) - start
                parts.append(tuple(part[a:b] for part in chunk))
            if start <= lo:
                break
            end = start
        parts.reverse()
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


@dataclass
class _Model:
    """A trained model and what the engine must remember of it."""

    id: int
    estimator: object
    reference: np.ndarray  # features it was trained on (for data-drift triggers), read-only
    key: str | None = None  # its fit's cache key (None: not cached)
    horizon: int = _FIRST_HORIZON  # rows it predicts ahead (see Replay._predict)
    ids: np.ndarray | None = None  # read-only, its id repeated (labels' model_id: a slice)
    holdout: Holdout | None = None  # labels held out of its fit (Trigger.n_holdout)
    learning: bool = False  # updated online (its own copy): predicts step by step, never cached
    label_counts: dict | None = None  # its fit's {class: count} (Gate.needs_training_labels)

    def __post_init__(self):
        self.reference.flags.writeable = False
        self.ids = _frozen(np.full(0, self.id))

    def id_column(self, n: int) -> np.ndarray:
        """Return a read-only array of ``n`` (or more) times this model's id."""
        if len(self.ids) < n:
            self.ids = _frozen(np.full(n, self.id))
        return self.ids


@dataclass
class _BenefitTrack:
    """Scores a new model against the one it replaced (or challenged), step by step."""

    event: int
    new: _Model
    old: _Model
    steps_left: int
    loss_new: float = 0.0
    loss_old: float = 0.0
    n: int = 0

    @property
    def benefit(self) -> float:
        """Mean loss the new model saved over the old one (accuracy gained)."""
        return (self.loss_old - self.loss_new) / self.n


class Agenda:
    """What is due at which step: one queue of the run's future, in step order.

    Entries due at the same step come out in the order they were scheduled (like a
    SimPy event queue). The engine schedules deployments (``"deploy"``; ``"restore"``
    for a model that serves again), label arrivals (``"labels"``), benefit tracks
    (``"benefit"``) and a live gate's trial looks (``"look"``), and hands each entry
    due to the handler of its kind.

    Examples
    --------
    >>> agenda = Agenda()
    >>> agenda.schedule(5, "deploy", "model 1")
    >>> agenda.schedule(3, "labels", "labels of step 1")
    >>> agenda.pending()
    [(3, 'labels'), (5, 'deploy')]
    >>> agenda.due(4)
    [('labels', 'labels of step 1')]
    """

    def __init__(self):
        self._heap: list[tuple[int, int, str, Any]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, step: int, kind: str, item: Any) -> None:
        """Put ``item`` of kind ``kind`` on the agenda for ``step``."""
        heapq.heappush(self._heap, (step, next(self._order), kind, item))

    def due(self, t: int) -> list[tuple[str, Any]]:
        """Take every entry due at or before step ``t``: ``(kind, item)`` in order."""
        heap = self._heap
        if not heap or heap[0][0] > t:
            return []
        out = []
        while heap and heap[0][0] <= t:
            _, _, kind, item = heapq.heappop(heap)
            out.append((kind, item))
        return out

    def pending(self) -> list[tuple[int, str]]:
        """``(step, kind)`` of every entry still to come, in order."""
        return [(step, kind) for step, _, kind, _ in sorted(self._heap)]


# ---------------------------------------------------------------------------------------
# chunks



class _Chunk:
    """Consecutive steps of the stream: their samples and the predictions made on them.

    ``steps`` holds ``(t, lo, hi, index)`` per step: rows ``lo:hi`` of ``X``/``y``, the
    first of which is sample ``index`` of the stream. ``preds`` maps a model id to
    ``(first row, predictions of the rows from it)``: a model predicts many steps in one
    call (predictions are per sample), see :meth:`Replay._predict`. ``X``, ``y``, and
    per row its sample ``index`` and its step ``t``, are read-only, so a step's slices
    handed to a trigger are read-only views at no copy.
    """

    __slots__ = ("X", "y", "delivered", "index", "t", "start", "steps", "preds", "draws",
                 "draws_lo")

    def __init__(self, X, y, start, steps, delivered=None):
        sizes = [hi - lo for _, lo, hi, _ in steps]
        self.X, self.y = _frozen(X[:]), _frozen(y[:])
        # the labels the history receives (Batch.delivered); the truth y scores predictions
        self.delivered = self.y if delivered is None else _frozen(delivered[:])
        self.index = _frozen(np.concatenate([np.arange(i, i + n) for (_, _, _, i), n in
                                             zip(steps, sizes, strict=True)]))
        self.t = _frozen(np.repeat(np.array([s[0] for s in steps], dtype=np.int64), sizes))
        self.start, self.steps = start, steps
        self.preds: dict[int, tuple[int, np.ndarray]] = {}
        self.draws = None  # the label draws of the chunk's scored rows (label_rate < 1)
        self.draws_lo = 0


def _chunks(stream, seed: int, step_size: int) -> Iterator[_Chunk]:
    """Yield the stream's steps grouped in chunks of whole steps.

    A stream whose tags say ``rechunkable`` (:class:`~sim.streams.base.StreamTags`)
    gives the same arrays whatever the step size, so it is read one chunk per batch;
    others (which may cut their own steps, e.g. by time) are read step by step and
    grouped.
    """
    try:
        n_features = max(1, int(stream.n_features))
    except Exception:
        n_features = 1
    k = max(1, min(_CHUNK_SAMPLES // step_size, _CHUNK_BYTES // (8 * n_features * step_size)))
    if stream.__retrain_tags__().rechunkable:
        for batch in stream.batches(seed, k * step_size):
            n = len(batch)
            steps = [(batch.index // step_size + j, lo, min(lo + step_size, n), batch.index + lo)
                     for j, lo in enumerate(range(0, n, step_size))]
            yield _Chunk(batch.X, batch.y, batch.index, steps, batch.delivered)
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
    delivered = None
    if any(b.delivered is not None for b in batches):
        delivered = np.concatenate([b.y if b.delivered is None else b.delivered
                                    for b in batches])
    return _Chunk(X, y, batches[0].index, steps, delivered)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _scores(estimator, X: np.ndarray, task: str) -> np.ndarray | None:
    """Return ``predict_proba(X)`` (else ``decision_function(X)``), read-only.

    None for regression.
    """
    if task == "regression":
        return None
    if hasattr(estimator, "predict_proba"):
        return _frozen(estimator.predict_proba(X))
    return _frozen(estimator.decision_function(X))


def _holdout(estimator, X, y, index, task: str) -> Holdout:
    """Return the held-out labels of a fit with the fitted model's outputs on them (read-only)."""
    return Holdout(X=_frozen(X), y=_frozen(y), y_pred=_frozen(estimator.predict(X)),
                   scores=_scores(estimator, X, task), index=_frozen(index))


def _labels(chunk: _Chunk, lo: int, hi: int, X, y, y_pred, model_ids, mask=None) -> Labels:
    """Return the labels of rows ``lo:hi`` (those in ``mask``), with read-only arrays.

    ``X``, ``y`` and ``y_pred`` are the step's (read-only views); ``model_ids`` a
    read-only array of the deployed model's id, at least a step long.
    """
    columns = (X, y, y_pred, model_ids[:hi - lo], chunk.index[lo:hi], chunk.t[lo:hi])
    if mask is None:  # every label (the same values as masking with all True): views
        return Labels(*columns)
    return Labels(*(_frozen(a[mask]) for a in columns))


def _concat_labels(arrived: list[Labels], n_features: int) -> Labels:
    if len(arrived) == 1:
        return arrived[0]
    if not arrived:
        empty = _frozen(np.empty(0, dtype=np.int64))
        return Labels(_frozen(np.empty((0, n_features))), _frozen(np.empty(0)),
                      _frozen(np.empty(0)), empty, empty, empty)
    return Labels(*(_frozen(np.concatenate([getattr(a, f) for a in arrived])) for f in
                    ("X", "y", "y_pred", "model_id", "index", "step")))


def _single_class(y: np.ndarray) -> bool:
    """``len(np.unique(y)) < 2``, without sorting integer labels."""
    if y.dtype.kind in "biu":
        return not (y != y[0]).any()
    return len(np.unique(y)) < 2


EVENT_COLUMNS = [
    "step", "reason", "follow_up", "accepted", "skipped", "model_id", "deploy_step",
    "train_start", "train_end", "n_train", "n_val", "cost", "cost_retrain", "cost_samples",
    "fit_seconds", "benefit", "gate_reason",
]


def _event(t: int, reason: str, follow_up: bool = False) -> dict:
    """Return the event row of a decision, before anything is trained."""
    return {
        "step": t, "reason": reason, "follow_up": follow_up,
        "accepted": False, "skipped": "",
        "model_id": -1, "deploy_step": -1, "train_start": -1, "train_end": -1, "n_train": 0,
        "n_val": 0, "cost": 0.0, "cost_retrain": 0.0, "cost_samples": 0.0,
        "fit_seconds": 0.0, "benefit": np.nan, "gate_reason": "",
    }


class StepOutcome(NamedTuple):
    """What :meth:`Replay.step` did at one step.

    ``observation`` is what the trigger was shown, ``decision`` what it answered and
    ``event`` the retrain's event row (a row of :attr:`~sim.types.RunResult.events`;
    None without a retrain).
    """

    observation: Observation
    decision: Decision
    event: dict | None


class Replay:
    """A replay as a stepper: reset it, step it through the stream, read its result.

    Nothing is validated or read until :meth:`reset`, which trains the initial model;
    every :meth:`step` then scores one step of the stream and lets the trigger decide,
    until :attr:`done`; :meth:`result` returns the :class:`~sim.types.RunResult`, the
    same as :func:`replay`'s. Between steps, :attr:`t`, :attr:`model_id`,
    :attr:`deployed`, :attr:`n_labels` and :attr:`agenda` show the run's state.

    Parameters
    ----------
    stream
        A :class:`~sim.streams.base.Stream`.
    model
        Any scikit-learn classifier or regressor; only clones are ever fitted.
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
        A :class:`~sim.protocol.Protocol`; keyword arguments override its parameters.
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
    learning
        A :class:`~sim.learning.Learning`: None or :class:`~sim.learning.Batch` leaves a
        model as its retrain fitted it; :class:`~sim.learning.Online` updates the serving
        model at every step on the labels that arrived (after the trigger's decision, so
        the trigger sees the predictions that were served), and the timeline gains an
        ``n_updated`` column (samples of the step's updates) charged at
        ``Cost.per_update``. The models of running benefit tracks are updated on the same
        labels (uncharged), so a retrain's benefit is what the reset gained over the model
        it replaced had that one kept learning.
    **protocol_params
        Parameters of :class:`~sim.protocol.Protocol` (``step_size``, ``label_delay``, ...).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim.scripted import AtSteps
    >>> from sim.streams import SEA
    >>> run = Replay(SEA(n_samples=10_000), LogisticRegression(), AtSteps([12]),
    ...              deploy_latency=2).reset()
    >>> while run.t < 12:
    ...     outcome = run.step()
    >>> outcome.event["deploy_step"], run.agenda.pending()
    (15, [(15, 'benefit'), (15, 'deploy')])
    >>> while not run.done:
    ...     _ = run.step()
    >>> by_hand = run.result()
    >>> at_once = replay(SEA(n_samples=10_000), LogisticRegression(), AtSteps([12]),
    ...                  deploy_latency=2)
    >>> by_hand.timeline.equals(at_once.timeline)
    True
    """

    def __init__(self, stream, model, trigger, *, gate=None, cost: Cost | None = None,
                 seed: int = 0, protocol: Protocol | None = None,
                 callback: Callable[[int], None] | None = None, cache=None,
                 learning: Learning | None = None, **protocol_params):
        self.stream, self.model, self.trigger, self.gate = stream, model, trigger, gate
        self.cost, self.seed, self.protocol, self.callback = cost, seed, protocol, callback
        self.cache, self.learning, self.protocol_params = cache, learning, protocol_params
        self.t: int | None = None  # the step last stepped (first scored step - 1 after reset)
        self._next = None

    # -- the public stepper ---------------------------------------------------------------

    def reset(self) -> Replay:
        """Validate the run, read the initial segment and train the first model; return self."""
        self._configure()
        chunk, rest = self._read_initial()
        self._steps = self._scored_steps(chunk, rest)
        self._next = next(self._steps, None)
        if self._next is None:  # a stream of unknown length ended within the initial segment
            raise param_error(
                self._protocol, "initial_train", "leave at least one step of the stream to "
                f"score; the stream ended after {self._history.total} samples",
                self._protocol.initial_train, verb="")
        self._start(first_scored=self._next[4])
        return self

    @property
    def done(self) -> bool:
        """Whether every step has been stepped (True before :meth:`reset`)."""
        return self._next is None

    def step(self) -> StepOutcome:
        """Score the next step, show the trigger what it may see, act on its decision."""
        if self._next is None:
            raise RuntimeError("The replay is done (or was never reset): call reset() first.")
        chunk, t, lo, hi, index = self._next
        self.t = t
        self._take_due(t)
        deployed = self._deployed
        y_pred = self._predict(chunk, deployed, lo, hi)
        X, y = chunk.X[lo:hi], chunk.y[lo:hi]
        trial, self._looking = self._looking, None  # the trial whose look is due at t
        served, ids = y_pred, None  # what users received, and from which model
        if trial is not None:
            served, ids = self._serve(trial, chunk, t, lo, hi, y_pred)
        if self._exposure:
            self._expose(chunk, lo, hi, y, y_pred, served, ids, trial)
        if self._tracks:
            self._score_tracks(chunk, lo, hi, y)
        labels = self._deliver_labels(chunk, t, lo, hi, X, chunk.delivered[lo:hi], served, ids)
        if self._live:
            self._ledger.add(t, labels)
            if self._trial is not None:
                self._trial.observe(labels, self._arrival.complete_through(t))
            if trial is not None:
                self._look(trial, t)
        y_pred = served
        obs = Observation(
            t=t, X=X, y_pred=y_pred, labels=labels, model_id=deployed.id,
            deployed_at=self._deployed_at, reference=deployed.reference, sample_index=index,
            task=self._task, memo=self._memo, holdout=deployed.holdout,
            scores=_scores(deployed.estimator, X, self._task) if self._needs_scores else None,
        )
        decision = self._trigger.update(obs)
        if self._online:
            self._update(chunk, labels)
        event = self._retrain(t, index + hi - lo, decision) if decision.retrain else None
        self._record(t, index, y, y_pred, len(labels.y), decision, event)
        if self._live:
            self._rows["challenger_id"].append(self._share[0])
            self._rows["challenger_share"].append(self._share[1])
            self._share = (-1, 0.0)
        if self.callback is not None:
            self.callback(t)
        self._next = next(self._steps, None)
        return StepOutcome(obs, decision, event)

    def run(self) -> RunResult:
        """Reset, step to the end and return the result."""
        self.reset()
        while self._next is not None:
            self.step()
        return self.result()

    def result(self) -> RunResult:
        """Return the :class:`~sim.types.RunResult` of a finished run."""
        if self._next is not None or not hasattr(self, "_rows"):
            raise RuntimeError("The replay is not done: step() until done, then result().")
        for track in self._tracks:
            if track.n:
                self._events[track.event]["benefit"] = track.benefit
        if self._trial is not None:
            self._trial.abandon()
        self._cache.close()
        timeline = pd.DataFrame(self._rows)
        stats = pd.DataFrame.from_records(self._stats, index=timeline.index)
        if len(stats.columns):
            timeline = pd.concat([timeline, stats.add_prefix("stat_")], axis=1)
        events = pd.DataFrame(self._events, columns=EVENT_COLUMNS
                              + (list(self._gate.event_fields) if self._live else []))
        stream = self.stream
        summary = summarize(timeline, events, tuple(stream.drifts),
                            evaluation=self._protocol.evaluation, cost=self._cost,
                            first_step=self._first_step, task=self._task,
                            label_delay=self._protocol.label_delay,
                            ground_truth="complete"
                            if self._stream_tags.ground_truth_complete else "partial",
                            tolerance=self._stream_tags.onset_tolerance,
                            incidents=tuple(stream.incidents),
                            counterfactual=self._counterfactual())
        summary["initial_fit_seconds"] = self._initial_fit_seconds
        summary |= rows_summary(stream)  # a table's rows read and skipped, as the CLI reports
        if self._exposure:
            summary |= exposure(self._exposed, int(timeline["n_samples"].sum()))
        return RunResult(timeline=timeline, events=events, summary=summary,
                         config=self._config())

    def _counterfactual(self) -> pd.DataFrame | None:
        """Return this run's timeline on the stream without its incidents (None without any).

        The same policy, seeds and protocol: what the incidents cost is the difference
        (:func:`sim.metrics.incident_scores`).
        """
        if not getattr(self.stream, "incidents", ()):
            return None
        return Replay(self.stream.counterfactual(), self.model, self.trigger, gate=self.gate,
                      cost=self.cost, seed=self.seed, protocol=self.protocol,
                      cache=self.cache, learning=self.learning,
                      **self.protocol_params).run().timeline

    @property
    def model_id(self) -> int:
        """Id of the deployed model (0: the initial one)."""
        return self._deployed.id

    @property
    def deployed(self):
        """The deployed (fitted) model."""
        return self._deployed.estimator

    @property
    def n_labels(self) -> int:
        """Labels that have arrived so far (the initial segment's included)."""
        return self._history.total

    @property
    def agenda(self) -> Agenda:
        """What is due at which step (deployments, label arrivals, benefit tracks, looks)."""
        return self._agenda

    # -- set-up -----------------------------------------------------------------------------

    def _configure(self) -> None:
        """Check the run (:func:`~sim.preflight.check_run`); reveal the truth to an oracle."""
        run = check_run(self.stream, self.model, self.trigger, gate=self.gate, cost=self.cost,
                        seed=self.seed, protocol=self.protocol, cache=self.cache,
                        learning=self.learning, **self.protocol_params)
        self._protocol, self._cost, self._gate = run.protocol, run.cost, run.gate
        self._learning, self._trigger, self._task = run.learning, run.trigger, run.task
        self._seeds, self._checked_cache = run.seeds, run.cache
        self._stream_tags = run.stream_tags
        self._online = self._learning is not None and self._learning.updates
        self._live = run.gate_tags.live
        self._labels_needed = run.gate_tags.needs_training_labels
        self._exposure = self._live or self._protocol.exposure
        if run.trigger_tags.requires_ground_truth:
            self._trigger.reveal(tuple(self.stream.drifts), self._protocol.step_size)
        self._needs_scores = run.trigger_tags.needs_scores
        self._windows = TrainingWindows(self._protocol, run.gate_tags.n_val,
                                        run.trigger_tags.n_holdout)
        self._arrival = LabelArrival(self._protocol, self._seeds["labels"])
        self._history = _History(self._windows.capacity)

    def _read_initial(self) -> tuple[_Chunk, list]:
        """Read the initial segment (whole steps) into the history; return where scoring starts."""
        chunks = _chunks(self.stream, self._seeds["stream"], self._protocol.step_size)
        self._chunk_iter = chunks
        seen: list[tuple[_Chunk, int]] = []

        def sizes():
            for chunk in chunks:
                for j, (_, lo, hi, _) in enumerate(chunk.steps):
                    seen.append((chunk, j))
                    yield hi - lo

        initial_segment(sizes(), self._protocol.initial_train)
        parts = {}  # chunk -> (first row, end row) of its initial samples
        for chunk, j in seen:
            parts.setdefault(chunk, [chunk.steps[j][1], 0])[1] = chunk.steps[j][2]
        if len(parts) == 1:
            (chunk, (a, b)), = parts.items()
            X0, y0 = chunk.X[a:b], chunk.delivered[a:b]
        else:
            X0 = np.concatenate([c.X[a:b] for c, (a, b) in parts.items()])
            y0 = np.concatenate([c.delivered[a:b] for c, (a, b) in parts.items()])
        check_initial_labels(y0, self._task)
        chunk, j = seen[-1]
        first_index = seen[0][0].steps[seen[0][1]][3]
        self._X0, self._y0 = X0, y0
        self._idx0 = np.arange(first_index, first_index + len(y0))
        self._history.add(X0, y0, self._idx0)
        self._first_step = chunk.steps[j][0] + 1
        return chunk, chunk.steps[j + 1:]

    def _scored_steps(self, first: _Chunk, rest: list):
        """Yield ``(chunk, t, lo, hi, index)`` of every scored step, drawing the label draws."""
        def by_chunk():
            if rest:
                yield first, rest
            for chunk in self._chunk_iter:
                yield chunk, chunk.steps

        for chunk, steps in by_chunk():
            # the same draws, in the same order, as one per step
            chunk.draws_lo = steps[0][1]
            chunk.draws = self._arrival.draw(steps[-1][2] - chunk.draws_lo)
            for t, lo, hi, index in steps:
                yield chunk, t, lo, hi, index
            chunk.preds.clear()

    def _start(self, first_scored: int) -> None:
        """Open the run's cache, train and deploy the initial model, clear the records."""
        model = (self._learning.prepare(self.model, self.stream.classes) if self._online
                 else self.model)
        self._seeded = seeded_clone(model, self._seeds["model"])  # what every fit clones
        self._cache = run_cache(self._checked_cache, self.stream, self._seeds["stream"],
                                self._seeded, self._arrival.identity(first_scored))
        idx0, windows = self._idx0, self._windows
        fit = windows.initial(len(idx0), owner=type(self._trigger).__name__)
        X0, y0 = self._X0[fit], self._y0[fit]
        estimator, self._initial_fit_seconds, key = self._cache.fit(
            self._seeded, X0, y0, idx0[fit][0], idx0[fit][-1] + 1)
        self._trigger.set_cost(self._cost, len(y0))
        initial = _Model(0, estimator, X0[-self._protocol.train_window:], key,
                         label_counts=self._label_counts(y0))
        if windows.n_holdout:
            held = slice(fit.stop, None)
            initial.holdout = _holdout(estimator, self._X0[held], self._y0[held], idx0[held],
                                       self._task)
        del self._X0, self._y0
        self._agenda = Agenda()
        self._on_due = {"deploy": self._on_deploy, "restore": self._on_restore,
                        "benefit": self._on_benefit, "labels": self._on_labels,
                        "look": self._on_look}
        self._tracks: list[_BenefitTrack] = []
        self._deploy(initial, self._first_step)
        self._latest = initial  # the newest accepted model (champion of the next gate)
        self._n_models = 1
        self._last_retrain_index = int(idx0[0])
        self._total_cost = 0.0
        self._arriving: list[Labels] = []
        self.t = self._first_step - 1
        metrics = ["mae", "rmse"] if self._task == "regression" else ["accuracy"]
        self._rows: dict[str, list] = {
            "step": [], "sample_index": [], "n_samples": [], **{m: [] for m in metrics},
            "model_id": [], "n_labels": [], "retrain": [], "accepted": [], "cost": [],
        }
        self._stats: list[Mapping[str, float]] = []
        self._append = [column.append for column in self._rows.values()] + [self._stats.append]
        self._events: list[dict] = []
        if self._online:
            self._rows["n_updated"] = []
        self._trial: Rollout | None = None  # the live gate's current trial
        self._looking: Rollout | None = None  # the trial that serves and looks this step
        self._ledger = Ledger(self._gate.memory) if self._live else None
        self._exposed: dict[int, list[int]] = {}  # model id: [served, wrong, rival wrong]
        self._rival: _Model | None = None  # the model the deployed one challenged
        self._traffic = np.random.default_rng(self._seeds["traffic"])
        self._share = (-1, 0.0)  # (challenger id, share it served) of the step
        if self._live:
            self._rows |= {"challenger_id": [], "challenger_share": []}

    def _config(self) -> dict:
        return {
            "stream": self.stream.get_params(deep=False) | {"class": type(self.stream).__name__},
            "model": repr(self.model),
            "trigger": repr(self._trigger),
            "gate": repr(self._gate),
            "learning": repr(self._learning),
            "cost": self._cost.get_params(),
            "protocol": self._protocol.get_params(),
            "seed": self.seed,
        }

    # -- one step ---------------------------------------------------------------------------

    def _deploy(self, model: _Model, t: int) -> None:
        self._deployed, self._deployed_at = model, t
        self._memo = self._cache.memo(model.key, len(model.reference))

    def _take_due(self, t: int) -> None:
        """Act on what the agenda has due at ``t``: each entry goes to its kind's handler."""
        for kind, item in self._agenda.due(t):
            self._on_due[kind](item)

    def _on_deploy(self, model: _Model) -> None:
        if self._exposure:
            self._rival = self._deployed
        self._deploy(model, self.t)

    def _on_restore(self, model: _Model) -> None:
        """Serve a model again: it is judged no more."""
        self._rival = None
        self._deploy(model, self.t)

    def _on_benefit(self, track: _BenefitTrack) -> None:
        self._tracks.append(track)

    def _on_labels(self, labels: Labels) -> None:
        self._arriving.append(labels)

    def _on_look(self, trial: Rollout) -> None:
        """Let the trial serve and look at this step, unless it has ended meanwhile."""
        if trial is self._trial:
            self._looking = trial

    def _predict(self, chunk: _Chunk, model: _Model, lo: int, hi: int) -> np.ndarray:
        """Predictions (read-only) of ``model`` on rows ``lo:hi`` of the chunk.

        A model predicts ahead of the step it is asked about: ``model.horizon`` rows (at
        least the step), up to the end of the chunk; the horizon doubles every time a
        model is asked again, so a model that stays deployed soon predicts whole chunks,
        and one replaced soon after it is deployed wasted few predictions.
        """
        entry = chunk.preds.get(model.id)
        if entry is None or entry[0] > lo or entry[0] + len(entry[1]) < hi:
            if model.learning:  # its predictions change with every update: the step only
                entry = chunk.preds[model.id] = (lo, _frozen(model.estimator.predict(
                    chunk.X[lo:hi])))
                return entry[1]
            stop = min(len(chunk.y), max(hi, lo + model.horizon))
            model.horizon = min(2 * model.horizon, _CHUNK_SAMPLES)
            values = self._cache.predict(model.estimator, model.key, chunk.X[lo:stop],
                                         chunk.start + lo, chunk.start + stop)
            values.flags.writeable = False
            entry = chunk.preds[model.id] = (lo, values)
        first, values = entry
        return values[lo - first : hi - first]

    def _score_tracks(self, chunk: _Chunk, lo: int, hi: int, y: np.ndarray) -> None:
        """Score the running benefit tracks' models on the step; close the finished ones."""
        task, n = self._task, hi - lo
        for track in self._tracks:
            p_new = self._predict(chunk, track.new, lo, hi)
            p_old = self._predict(chunk, track.old, lo, hi)
            track.loss_new += float(sample_loss(y, p_new, task).sum())
            track.loss_old += float(sample_loss(y, p_old, task).sum())
            track.n += n
            track.steps_left -= 1
            if track.steps_left == 0:
                self._events[track.event]["benefit"] = track.benefit
        self._tracks = [tr for tr in self._tracks if tr.steps_left > 0]

    def _deliver_labels(self, chunk: _Chunk, t: int, lo: int, hi: int, X, y,
                        y_pred, model_ids=None) -> Labels:
        """Schedule the labels of step ``t``; deliver those that arrive now to the history.

        ``model_ids``: the model that served each sample (None: the deployed one).
        """
        mask = None
        if chunk.draws is not None:
            mask = self._arrival.mask(chunk.draws[lo - chunk.draws_lo: hi - chunk.draws_lo])
        if model_ids is None:
            model_ids = self._deployed.id_column(hi - lo)
        new = _labels(chunk, lo, hi, X, y, y_pred, model_ids, mask)
        due = self._arrival.due(t)
        if due == t and not self._arriving:
            labels = new
        else:
            self._agenda.schedule(due, "labels", new)
            self._take_due(t)  # the labels due now, this step's among them
            labels = _concat_labels(self._arriving, X.shape[1])
            self._arriving = []
        self._history.add(labels.X, labels.y, labels.index)
        self._total_cost += self._cost.labels(len(labels.y))
        return labels

    def _update(self, chunk: _Chunk, labels: Labels) -> None:
        """Update the serving model on the labels that arrived at this step (online learning).

        A model is copied before its first update (its fit may be shared by the cache)
        and predicts step by step from then on; its holdout's outputs are refreshed. The
        models of the running benefit tracks learn on the same labels, uncharged.
        """
        models = {self._deployed.id: self._deployed}
        for track in self._tracks:
            models.setdefault(track.new.id, track.new)
            models.setdefault(track.old.id, track.old)
        n_updated = 0
        for model in models.values() if len(labels.y) else ():
            if not model.learning:
                model.estimator, model.learning = own(model.estimator), True
            chunk.preds.pop(model.id, None)
            n = self._learning.update(model.estimator, labels.X, labels.y)
            if model is self._deployed:
                n_updated = n
            if model.holdout is not None:
                held = model.holdout
                model.holdout = _holdout(model.estimator, held.X, held.y, held.index,
                                         self._task)
        self._rows["n_updated"].append(n_updated)
        self._total_cost += self._cost.updates(n_updated)

    def _record(self, t, index, y, y_pred, n_labels, decision, event) -> None:
        """Append the step's row to the timeline."""
        n = len(y)
        if self._task == "regression":
            loss = sample_loss(y, y_pred, self._task)
            metrics = (float(loss.mean()), float(np.sqrt(np.mean(loss**2))))
        else:  # 0/1 losses sum exactly in any order: the same value as 1 - loss.mean()
            metrics = (float(1.0 - np.count_nonzero(y_pred != y) / n),)
        row = (t, index, n, *metrics, self._deployed.id, n_labels, bool(decision.retrain),
               event is not None and event["accepted"], self._total_cost, decision.stats)
        for append, value in zip(self._append, row, strict=True):
            append(value)

    # -- live gates: trials and exposure ---------------------------------------------------

    def _serve(self, trial: Rollout, chunk: _Chunk, t: int, lo: int, hi: int,
               y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Let the trial serve the step; return what was served, and by whom (None: all)."""
        served = trial.serve(TrafficStep(t, int(chunk.index[lo]), y_pred, self._deployed.id,
                                         lambda: self._predict(chunk, trial.challenger, lo, hi)))
        self._total_cost += served.cost
        if served.share is not None:
            self._share = (trial.challenger.id, served.share)
        return served.y_pred, served.model_id

    def _look(self, trial: Rollout, t: int) -> None:
        """Show the live gate the trial's evidence so far; act on its verdict."""
        evidence = trial.evidence(t, self._ledger)
        verdict = self._gate.judge(evidence)
        if verdict is not None or evidence.final:  # the last look is the trial's expiry
            if not isinstance(verdict, (bool, np.bool_)):
                raise TypeError(f"{type(self._gate).__name__}.judge must answer True or False "
                                f"at a trial's last look (None before it to wait). Got "
                                f"{verdict!r}.")
            self._act(trial.resolve(t, bool(verdict), self._gate.explain(evidence,
                                                                         bool(verdict))))
        if trial.done:
            self._trial = None
        else:
            self._agenda.schedule(t + 1, "look", trial)

    def _act(self, actions: Actions) -> None:
        """Do what a trial asks: deploy or restore a model, append an event row."""
        if actions.deploy is not None:
            self._agenda.schedule(actions.at, "deploy", actions.deploy)
            self._latest = actions.deploy
        if actions.restore is not None:
            self._agenda.schedule(actions.at, "restore", actions.restore)
            self._latest = actions.restore
        if actions.row is not None:
            self._events.append(_event(actions.row["step"], actions.row["reason"])
                                | self._gate.event_fields | actions.row)

    def _expose(self, chunk: _Chunk, lo: int, hi: int, y, y_pred, served, ids,
                trial: Rollout | None) -> None:
        """Tally each serving retrained model's errors against its rival's on its own samples."""
        wrong = served != y
        split = ids is not None  # the trial's challenger served part of the step
        if self._rival is not None:
            own = ids == self._deployed.id if split else slice(None)
            rival = self._predict(chunk, self._rival, lo, hi)
            self._tally(self._deployed.id, wrong[own], (rival != y)[own])
        if split:  # the deployed champion (y_pred) is the challenger's rival
            new = ids == trial.challenger.id
            self._tally(trial.challenger.id, wrong[new], (y_pred != y)[new])

    def _tally(self, model_id: int, wrong: np.ndarray, rival_wrong: np.ndarray) -> None:
        entry = self._exposed.setdefault(model_id, [0, 0, 0])
        entry[0] += len(wrong)
        entry[1] += int(np.count_nonzero(wrong))
        entry[2] += int(np.count_nonzero(rival_wrong))

    # -- a retrain --------------------------------------------------------------------------

    def _retrain(self, t: int, end_index: int, decision: Decision) -> dict:
        """Train a challenger as the decision asks, let the gate judge it, schedule it.

        ``end_index`` is the first sample after step ``t`` (where a ``since_retrain``
        window starts next time). Returns the event row.
        """
        event = _event(t, decision.reason, decision.follow_up)
        if self._live:
            event.update(self._gate.event_fields)
            if self._trial is not None:  # a new retrain ends the running trial
                self._trial.interrupt(t)
                self._trial = None
        challenger = self._challenger(t, decision, event)
        self._events.append(event)
        self._total_cost += event["cost"]
        self._last_retrain_index = end_index
        if challenger is None:
            return event
        self._n_models += 1
        accepted = event["accepted"]
        self._trigger.on_retrain(t, accepted)
        start = self._protocol.serves_from(t)
        # an accepted model is scored against the one it replaces, a rejected one against
        # the champion it failed to beat
        track = _BenefitTrack(len(self._events) - 1, challenger, self._latest,
                              self._protocol.evaluation.benefit_window)
        self._agenda.schedule(start, "benefit", track)
        if accepted and self._live:
            self._start_trial(challenger, start, event)
        elif accepted:
            self._agenda.schedule(start, "deploy", challenger)
            self._latest = challenger
        return event

    def _start_trial(self, challenger: _Model, start: int, event: dict) -> None:
        """Put a challenger the live gate's offline check accepted on trial from ``start``."""
        trial = self._gate.start_trial(challenger, self._latest, start, event, self._cost,
                                       self._traffic)
        self._trial = trial
        self._act(trial.begin())
        self._agenda.schedule(start, "look", trial)

    def _challenger(self, t: int, decision: Decision, event: dict) -> _Model | None:
        """Train on the window the policy picks and judge; None when the retrain is skipped.

        A retrain is skipped (the event says why) when no label is left to train on, or
        when a classifier's window holds a single class.
        """
        windows, history = self._windows, self._history
        since = windows.since(decision.since, self._last_retrain_index)
        window = history.take(*windows.span(history.total, history.first_at_or_after, since))
        if window is None:
            event["skipped"] = "no labeled samples have arrived"
            return None
        X, y, index = window
        event.update(train_start=int(index[0]), train_end=int(index[-1]) + 1, n_train=len(y))
        if self._task == "classification" and _single_class(y):
            event["skipped"] = f"the training window has a single class ({y[:1].tolist()[0]!r})"
            return None
        estimator, event["fit_seconds"], key = self._cache.fit(self._seeded, X, y, index[0],
                                                               index[-1] + 1)
        terms = self._cost.retrain(len(y))
        event.update(terms, cost=sum(terms.values()), model_id=self._n_models)
        accepted, counts = True, self._label_counts(y)
        if self._gate is not None:
            accepted = self._judge(estimator, X, y, counts, event)
        event["accepted"] = accepted
        if accepted:
            event["deploy_step"] = self._protocol.serves_from(t)
        model = _Model(self._n_models, estimator, X, key, label_counts=counts)
        if self._windows.n_holdout:
            held = history.take(*self._windows.holdout(history.total))
            model.holdout = _holdout(estimator, *held, self._task)
        return model

    def _label_counts(self, y: np.ndarray) -> dict | None:
        """Return ``{class: count}`` of training labels ``y`` when the gate needs them."""
        if not self._labels_needed:
            return None
        classes, counts = np.unique(y, return_counts=True)
        return dict(zip(classes.tolist(), counts.tolist(), strict=True))

    def _judge(self, estimator, X, y, counts: dict | None, event: dict) -> bool:
        """Let the gate compare the challenger with the champion on the held-out labels.

        A gate that needs_training_labels also gets both models' training class ``counts``.
        """
        val = self._history.take(*self._windows.validation(self._history.total))
        X_val, y_val = (val[0], val[1]) if val is not None else (X[:0], y[:0])
        labels = ({"champion_labels": self._latest.label_counts,
                   "challenger_labels": counts}
                  if self._labels_needed else {})
        verdict = self._gate.accept(self._latest.estimator, estimator, X_val, y_val, **labels)
        event["gate_reason"] = verdict.reason
        event["n_val"] = len(y_val)
        return verdict.retrain


@limited  # BLAS/OpenMP threads: its share of the cores (sim.threads); threads=n
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
    learning: Learning | None = None,
    **protocol_params,
) -> RunResult:
    """Replay ``stream`` through ``model`` under ``trigger`` and report what happened.

    ``replay(...)`` is ``Replay(...).run()``; the parameters are :class:`Replay`'s. To
    look at a run between steps, use :class:`Replay`.

    Returns
    -------
    RunResult
        The per-step timeline, the retrain events and the summary metrics.

    Notes
    -----
    The engine reads the stream and lets the deployed model predict a
    chunk of steps at a time (up to 65,536 samples), so a model's predictions must not
    depend on which other samples it predicts with (true of scikit-learn's estimators).
    The trigger still sees one step at a time, and nothing about the rules of time
    changes.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim.scripted import AtSteps
    >>> from sim.streams import SEA
    >>> stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    >>> result = replay(stream, LogisticRegression(), AtSteps([19, 29, 39]), seed=1)
    >>> result.events["step"].tolist()
    [19, 29, 39]
    >>> round(result.summary["mean_accuracy"], 2)
    0.86
    """
    return Replay(stream, model, trigger, gate=gate, cost=cost, seed=seed, protocol=protocol,
                  callback=callback, cache=cache, learning=learning, **protocol_params).run()

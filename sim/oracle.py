"""Hindsight-optimal retraining schedules: the ceiling every trigger is measured against.

A trigger decides *when* to retrain from what it has seen. The oracle here decides with
hindsight: it trains candidate models at a grid of steps, scores every candidate on
every later step, and finds by dynamic programming the schedule that

(a) maximises mean accuracy - ``cost_weight`` x cost (:meth:`Frontier.best_for_cost_weight`), or
(b) maximises mean accuracy with at most ``K`` retrains, for every ``K`` from 0 to
    ``max_retrains`` (the frontier, :attr:`Frontier.frontier`; :meth:`Frontier.best`).

Only *when* is chosen with hindsight. Every candidate obeys the engine's rules of
information exactly (see :mod:`sim.protocol`): the stream, the label masks and the
model's ``random_state`` come from the same child seeds, drawn in the same order; a
candidate decided at step ``t`` trains ``clone(model)`` on the training window of
labels that have arrived by ``t`` and serves from step ``t + 1 + deploy_latency``. A
candidate at step ``t`` is therefore the very model a replay would train if its trigger
retrained at ``t`` (tests check this against :func:`sim.replay`).

Training-window policies:

``sliding``, ``expanding``
    A candidate depends on its step only.
``since_retrain``
    A candidate depends on the previous retrain of the schedule, so the dynamic
    programme runs over (previous, next) pairs; models with the same window are
    trained once.
``since_change``
    The window depends on a trigger's change-point estimate, which the oracle does not
    have: with ``windows="policy"`` grid candidates are trained on the sliding window
    (the engine's fallback when a trigger gives no estimate). Pass a run's ``events`` as
    ``extra_steps`` to add that run's own models, with their exact windows, so that the
    optimum stays a ceiling for that run.

``windows="all"`` (with ``every=1``: the ceiling ``retrain-sim`` uses)
    At every step, every window a trigger can make the policy produce: for
    ``since_change`` and ``since_retrain`` one candidate per distinct window starting at
    a step's first sample (a detected change, the step after the previous retrain), and
    the policy's own. Every candidate is then a fixed window (one dynamic programme over
    candidates; for ``since_retrain`` a superset of its schedules). The one action left
    out is a window starting inside a step (a change point estimated between steps): a
    run's ``events`` add its own, counted by :func:`regret` as ``oracle_own_windows``.
    On the default stream (110 scored steps, windows of at most 10 steps) that is about
    1,100 models per stream, seed, model and protocol, shared by every policy.

Cost is :class:`~sim.cost.Cost`'s: ``per_retrain`` plus ``per_sample`` x training
samples for every retrain; the label cost is the same for every schedule (it is reported
in ``total_cost`` so that figures compare with a run's ``total_cost``). A gate is not
modelled (every retrain of a schedule is deployed), but its ``n_val`` held-out labels are
left out of the training windows as the engine does, and so are the ``n_holdout`` labels
a trigger holds out of every fit (``Trigger.n_holdout``, e.g. the label-free triggers';
the initial model's too): pass the runs' trigger's ``n_holdout``, or the candidates are
not the models those runs train.

The accuracy matrix (candidate x step counts of correct predictions) is computed once
and shared by every cost weight and every ``K``; :func:`accuracy_matrix` can cache it on
disk (``cache_dir``) so that the jobs of a sweep compute it once per stream, seed, model
and protocol, and so is the frontier solved on it (once per matrix and cost).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from sim.cache import Uncacheable, fingerprint
from sim.checks import Interval, Options, check
from sim.cost import Cost
from sim.files import atomic_write
from sim.metrics import retrain_rows
from sim.protocol import (
    LabelArrival,
    Protocol,
    TrainingWindows,
    check_initial_labels,
    child_seeds,
    initial_segment,
    seeded_clone,
)
from sim.rollout import LiveGate

__all__ = [
    "AccuracyMatrix",
    "Frontier",
    "Schedule",
    "accuracy_matrix",
    "cache_key",
    "hindsight",
    "not_bounded",
    "regret",
]

ORACLE_VERSION = "1"
"""Bumped whenever the matrix computed for the same inputs changes (invalidates caches)."""

_PREDICT_CHUNK = 1 << 20  # samples per predict call
_POLICY = -1  # candidate `since`: the protocol's own window policy

# candidate origins
INITIAL, GRID, EXTRA, EVENT, START = 0, 1, 2, 3, 4
_ORIGINS = {INITIAL: "initial", GRID: "grid", EXTRA: "extra", EVENT: "event", START: "start"}
WINDOW_SETS = ("policy", "all")
"""The candidate windows at a step: the protocol's window policy only, or every window a
trigger can make the policy produce (:func:`accuracy_matrix`'s ``windows``)."""
_MEMORY: dict[str, AccuracyMatrix] = {}
_MEMORY_SIZE = 8  # matrices kept in memory (the last ones computed or loaded)


# ---------------------------------------------------------------------------------------
# the replay's data, as the engine sees it
# ---------------------------------------------------------------------------------------


class _Data:
    """The stream, its steps and the labels that arrive, reproduced from the run's seed.

    Which labels arrive when, and which a retrain trains on, come from
    :mod:`sim.protocol` (:class:`~sim.protocol.LabelArrival`,
    :class:`~sim.protocol.TrainingWindows`), as in the engine.
    """

    def __init__(self, stream, seed: int, protocol: Protocol, n_val: int, n_holdout: int = 0):
        seeds = child_seeds(seed)
        self.model_seed = seeds["model"]
        batches = list(stream.batches(seeds["stream"], protocol.step_size))
        if not batches:
            raise ValueError("The stream yielded no samples.")
        self.offsets = np.array([b.index for b in batches] + [batches[-1].index
                                                              + len(batches[-1])], dtype=np.int64)
        self.X = np.concatenate([b.X for b in batches])
        self.y = np.concatenate([b.y for b in batches])  # the truth, that scores
        # the labels as delivered (a label-corruption incident), that train
        self.delivered = self.y
        if any(b.delivered is not None for b in batches):
            self.delivered = np.concatenate([b.y if b.delivered is None else b.delivered
                                             for b in batches])
        del batches
        n_steps = len(self.offsets) - 1
        sizes = np.diff(self.offsets)
        self.first_step = initial_segment(sizes, protocol.initial_train)
        n_initial = int(self.offsets[self.first_step])
        self.task = getattr(stream, "task", "classification")
        check_initial_labels(self.delivered[:n_initial], self.task)
        self.n_cols = n_steps - self.first_step  # scored steps
        self.n_per_step = sizes[self.first_step:].astype(np.int64)
        arrival = LabelArrival(protocol, seeds["labels"])
        n_scored = int(self.offsets[-1]) - n_initial
        scored = np.flatnonzero(arrival.mask(arrival.draw(n_scored), n_scored)) + n_initial
        step_of = np.searchsorted(self.offsets, scored, side="right") - 1
        self.lab = np.concatenate([np.arange(n_initial), scored]).astype(np.int64)
        arrives = np.concatenate([np.full(n_initial, self.first_step - 1),
                                  arrival.due(step_of)]).astype(np.int64)
        # labels arrived by the end of each scored step (delivered before the decision)
        self.arrived = np.searchsorted(arrives, np.arange(self.first_step, n_steps),
                                       side="right")
        self.n_labels = int(np.sum((arrives >= self.first_step) & (arrives < n_steps)))
        self.protocol = protocol
        self.windows = TrainingWindows(protocol, n_val, n_holdout)
        self.initial = self.windows.initial(n_initial)  # the initial model's fit

    def window(self, t: int, since: int | None) -> tuple[int, int]:
        """Positions ``[lo, hi)`` into the labeled samples of the window of a retrain at ``t``.

        ``since`` is the sample index the window policy starts from, or None (see
        :meth:`~sim.protocol.TrainingWindows.span`).
        """
        return self.windows.span(int(self.arrived[t - self.first_step]), self.lab, since)

    def starts(self, t: int) -> list[int]:
        """Return one ``since`` per distinct window a trigger can make at step ``t``.

        Under ``since_change`` a trigger names the sample its window starts from, and under
        ``since_retrain`` the window starts after the previous retrain's step: every
        window that starts at a step's first sample (the policy's clamps applied:
        ``train_window``, ``min_train``, the held-out labels), one ``since`` per distinct
        window. None for ``sliding`` and ``expanding``, whose window is the step's own.
        """
        if self.windows.since(0, 0) is None:
            return []
        out: dict[tuple[int, int], int] = {}
        for since in self.offsets[:t + 1].tolist():
            out.setdefault(self.window(t, since), int(since))
        return list(out.values())

    def policy_since(self, previous: int) -> int | None:
        """Return the policy's ``since`` for a retrain after one at step ``previous``."""
        after = 0 if previous < self.first_step else int(self.offsets[previous + 1])
        return self.windows.since(None, after)

    def fit(self, model, lo: int, hi: int):
        """Train ``clone(model)`` on the window, or return None when the engine would skip it."""
        if hi <= lo:
            return None
        idx = self.lab[lo:hi]
        y = self.delivered[idx]
        if len(np.unique(y)) < 2:
            return None
        return seeded_clone(model, self.model_seed).fit(self.X[idx], y)

    def fit_initial(self, model):
        fit = self.initial
        return seeded_clone(model, self.model_seed).fit(self.X[fit], self.delivered[fit])

    def score(self, estimator, col: int) -> np.ndarray:
        """Correct predictions per scored step, from scored step ``col`` on (zeros before).

        Predicts over many whole steps per call (up to about a million samples) and
        reduces per step with :func:`numpy.add.reduceat`.
        """
        classification = self.task == "classification"
        out = np.zeros(self.n_cols, dtype=np.int64 if classification else np.float64)
        bounds = self.offsets[self.first_step:]  # n_cols + 1 step boundaries
        c = col
        while c < self.n_cols:
            stop = int(np.searchsorted(bounds, bounds[c] + _PREDICT_CHUNK, side="right")) - 1
            stop = min(max(stop, c + 1), self.n_cols)
            s0, s1 = int(bounds[c]), int(bounds[stop])
            pred = estimator.predict(self.X[s0:s1])
            # the score: correct predictions, or minus the absolute errors (regression)
            hit = pred == self.y[s0:s1] if classification else -np.abs(self.y[s0:s1] - pred)
            out[c:stop] = np.add.reduceat(hit, bounds[c:stop] - s0, dtype=out.dtype)
            c = stop
        return out


# ---------------------------------------------------------------------------------------
# the accuracy matrix
# ---------------------------------------------------------------------------------------


@dataclass
class AccuracyMatrix:
    """Candidate models x scored steps: how many predictions each model got right.

    Rows are distinct trained models (row 0 is the initial model), columns the scored
    steps (column ``j`` is step ``first_step + j``). Candidates are retrain decisions
    (candidate 0 is the initial model); a candidate's model is ``cand_row[c]``, or
    ``pair_row[p, c]`` for the since-last-retrain window where it depends on the previous
    retrain ``p``. Build it with :func:`accuracy_matrix`.

    Attributes
    ----------
    first_step
        The first scored step.
    n_per_step
        Samples per scored step.
    correct
        ``(n_rows, n_steps)`` correct predictions per model and step (0 before the model
        could first serve); for a regression stream (a float matrix: a loss matrix),
        minus the sum of the absolute errors, so that higher is better in both.
    row_col
        First column each model is scored from.
    row_train_start, row_train_end, row_n_train
        Each model's training window: sample indices ``[start, end)`` and sample count.
    cand_step
        Step of each candidate's retrain decision (for the initial model, the step
        before ``first_step``).
    cand_col
        First column each candidate serves (``step + 1 + deploy_latency - first_step``).
    cand_origin
        0 initial, 1 grid, 2 extra step, 3 a run's event.
    cand_row
        Model of each candidate (-1: nothing to train, as the engine would skip it), or
        None when ``pair_row`` is used.
    pair_row
        ``(n_candidates, n_candidates)`` model of candidate ``c`` after ``p`` (-1: none),
        or None.
    n_labels
        Labels that arrive during the scored steps (for the label cost).
    key
        The cache key it was computed for ("" when not cached).
    """

    first_step: int
    n_per_step: np.ndarray
    correct: np.ndarray
    row_col: np.ndarray
    row_train_start: np.ndarray
    row_train_end: np.ndarray
    row_n_train: np.ndarray
    cand_step: np.ndarray
    cand_col: np.ndarray
    cand_origin: np.ndarray
    cand_since: np.ndarray
    cand_row: np.ndarray | None
    pair_row: np.ndarray | None
    n_labels: int
    key: str = ""

    @property
    def task(self) -> str:
        """``"regression"`` for a loss matrix (float scores), else ``"classification"``."""
        return "regression" if self.correct.dtype.kind == "f" else "classification"

    @property
    def n_steps(self) -> int:
        """Number of scored steps."""
        return len(self.n_per_step)

    @property
    def n_samples(self) -> int:
        """Number of scored samples."""
        return int(self.n_per_step.sum())

    @property
    def n_candidates(self) -> int:
        """Number of candidates, the initial model included."""
        return len(self.cand_step)

    @property
    def candidates(self) -> pd.DataFrame:
        """One row per candidate: step, first serving step, origin, model row."""
        return pd.DataFrame({
            "step": self.cand_step,
            "serves_from": self.cand_col + self.first_step,
            "origin": [_ORIGINS[int(o)] for o in self.cand_origin],
            "row": self.cand_row if self.cand_row is not None else -2,
        })

    def save(self, path) -> Path:
        """Write the matrix to ``path`` (npz) atomically: temp file, then :func:`os.replace`."""
        path = Path(path)
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        arrays["cand_row"] = self.cand_row if self.cand_row is not None else np.empty(0, int)
        arrays["pair_row"] = self.pair_row if self.pair_row is not None else np.empty((0, 0),
                                                                                      int)
        arrays["scalars"] = np.array([self.first_step, self.n_labels,
                                      self.cand_row is not None], dtype=np.int64)
        arrays["key"] = np.array(self.key)

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as f:  # a file object: savez would add ".npz" to a name
                np.savez(f, **arrays)

        return atomic_write(path, save)

    @classmethod
    def load(cls, path) -> AccuracyMatrix:
        """Read a matrix written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            first_step, n_labels, chain = (int(v) for v in z["scalars"])
            kw = {name: z[name] for name in _ARRAYS}
            return cls(first_step=first_step, n_labels=n_labels,
                       cand_row=z["cand_row"] if chain else None,
                       pair_row=None if chain else z["pair_row"], key=str(z["key"]), **kw)


_ARRAYS = ("n_per_step", "correct", "row_col", "row_train_start", "row_train_end",
           "row_n_train", "cand_step", "cand_col", "cand_origin", "cand_since")


class _Builder:
    """Trains and scores models, once per distinct training window."""

    def __init__(self, data: _Data, model, base: AccuracyMatrix | None = None):
        self.data = data
        self.model = model
        self.rows: list[np.ndarray] = []
        self.meta: list[tuple[int, int, int, int]] = []  # col, start, end, n
        self.by_window: dict[tuple[int, int], int] = {}
        if base is not None:
            for r in range(len(base.row_col)):
                self.rows.append(base.correct[r])
                self.meta.append((int(base.row_col[r]), int(base.row_train_start[r]),
                                  int(base.row_train_end[r]), int(base.row_n_train[r])))
                if r > 0:
                    lo = int(np.searchsorted(data.lab, base.row_train_start[r]))
                    self.by_window[(lo, lo + int(base.row_n_train[r]))] = r
        else:
            estimator = data.fit_initial(model)
            n = data.initial.stop
            self.rows.append(data.score(estimator, 0))
            self.meta.append((0, 0, n, n))
        self.skipped: set[tuple[int, int]] = set()

    def row(self, lo: int, hi: int, col: int) -> int:
        key = (lo, hi)
        if key in self.skipped:
            return -1
        r = self.by_window.get(key)
        if r is not None and self.meta[r][0] <= col:
            return r
        estimator = self.data.fit(self.model, lo, hi)
        if estimator is None:
            self.skipped.add(key)
            return -1
        idx = self.data.lab
        meta = (col, int(idx[lo]), int(idx[hi - 1]) + 1, hi - lo)
        if r is not None:  # the same window needed earlier than scored: rescore
            self.rows[r], self.meta[r] = self.data.score(estimator, col), meta
            return r
        self.rows.append(self.data.score(estimator, col))
        self.meta.append(meta)
        self.by_window[key] = len(self.rows) - 1
        return len(self.rows) - 1


def _candidates(data: _Data, every: int | None, extra_steps,
                windows: str = "policy") -> list[tuple[int, int, int]]:
    """(step, since, origin) of every candidate, the initial model first, sorted by step."""
    last = data.first_step + data.n_cols - 1
    latest = data.protocol.decided_at(last)  # a later retrain never serves
    out = {(data.first_step - 1, _POLICY): INITIAL}
    # every window of since_retrain starts at a step: its candidates are all fixed windows
    policy = windows == "policy" or data.protocol.window != "since_retrain"
    if every is not None:
        for t in range(data.first_step - 1 + every, latest + 1, every):
            if policy:
                out.setdefault((t, _POLICY), GRID)
            if windows == "all":
                for since in data.starts(t):
                    out.setdefault((t, since), START)
    for t, since, origin in _extra(extra_steps):
        if t < data.first_step or t > last:
            raise ValueError(
                f"The 'extra_steps' parameter must hold scored steps ({data.first_step} to "
                f"{last}). Got {t} instead.")
        if t <= latest:
            out.setdefault((t, since), origin)
    items = sorted(out.items(), key=lambda kv: (kv[0][0], kv[1] != INITIAL, kv[0][1]))
    return [(t, since, origin) for (t, since), origin in items]


def _extra(extra_steps) -> list[tuple[int, int, int]]:
    """Normalise ``extra_steps`` (steps, or a run's events) to (step, since, origin)."""
    if extra_steps is None:
        return []
    if isinstance(extra_steps, pd.DataFrame):
        ev = retrain_rows(extra_steps) if "model_id" in extra_steps else extra_steps
        return [(int(s), int(a), EVENT) for s, a in zip(ev["step"], ev["train_start"],
                                                        strict=True)]
    out = []
    for t in extra_steps:
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)):
            raise ValueError(f"The 'extra_steps' parameter must hold int steps or be a run's "
                             f"events DataFrame. Got {t!r} instead.")
        out.append((int(t), _POLICY, EXTRA))
    return out


def _event_windows(extra_steps) -> dict[tuple[int, int], tuple[int, int]]:
    if not isinstance(extra_steps, pd.DataFrame) or not len(extra_steps):
        return {}
    ev = retrain_rows(extra_steps) if "model_id" in extra_steps else extra_steps
    return {(int(s), int(a)): (int(e), int(n)) for s, a, e, n in
            zip(ev["step"], ev["train_start"], ev["train_end"], ev["n_train"], strict=True)}


def _build(data: _Data, model, cands, base: AccuracyMatrix | None, events) -> AccuracyMatrix:
    builder = _Builder(data, model, base)
    steps = np.array([c[0] for c in cands], dtype=np.int64)
    since = np.array([c[1] for c in cands], dtype=np.int64)
    origin = np.array([c[2] for c in cands], dtype=np.int64)
    cols = data.protocol.serves_from(steps) - data.first_step
    cols[0] = 0
    n = len(cands)
    pair = data.protocol.window == "since_retrain" and bool(np.any(since[1:] == _POLICY))

    def fixed_row(c):
        lo, hi = data.window(int(steps[c]), int(since[c]))
        r = builder.row(lo, hi, int(cols[c]))
        expected = events.get((int(steps[c]), int(since[c])))
        if expected is not None:
            got = (builder.meta[r][2], builder.meta[r][3]) if r >= 0 else None
            if got != expected:
                raise ValueError(
                    f"The run's retrain at step {steps[c]} trained on samples ending at "
                    f"{expected[0]} ({expected[1]} samples), but this stream, seed and "
                    f"protocol give {got}: the events come from a different run.")
        return r

    if not pair:
        cand_row = np.empty(n, dtype=np.int64)
        cand_row[0] = 0
        for c in range(1, n):
            if since[c] != _POLICY:
                cand_row[c] = fixed_row(c)
            else:
                # sliding / expanding; since_change without an estimate is sliding
                lo, hi = data.window(int(steps[c]), data.policy_since(int(steps[0])))
                cand_row[c] = builder.row(lo, hi, int(cols[c]))
        pair_row = None
    else:
        cand_row = None
        pair_row = np.full((n, n), -1, dtype=np.int64)
        for c in range(1, n):
            if since[c] != _POLICY:
                pair_row[:c, c] = fixed_row(c)
                continue
            for p in range(c):
                if steps[p] >= steps[c]:
                    continue
                lo, hi = data.window(int(steps[c]), data.policy_since(int(steps[p])))
                pair_row[p, c] = builder.row(lo, hi, int(cols[c]))
        pair_row[:, :][steps[:, None] >= steps[None, :]] = -1
    meta = np.array(builder.meta, dtype=np.int64).reshape(-1, 4)
    return AccuracyMatrix(
        first_step=data.first_step, n_per_step=data.n_per_step,
        correct=np.vstack(builder.rows), row_col=meta[:, 0],
        row_train_start=meta[:, 1], row_train_end=meta[:, 2], row_n_train=meta[:, 3],
        cand_step=steps, cand_col=cols, cand_origin=origin, cand_since=since,
        cand_row=cand_row, pair_row=pair_row, n_labels=data.n_labels,
    )


def cache_key(stream, model, *, seed: int, protocol: Protocol | None = None, gate=None,
              every: int | None = 10, extra_steps=(), n_holdout: int = 0,
              windows: str = "policy") -> str:
    """Return a stable key of everything the accuracy matrix depends on.

    The stream by content (:func:`sim.cache.fingerprint`: its class, parameters and
    ``version``, and a data file by the digest of its bytes, never by its path), the
    seed, the model's class and parameters, the protocol's rules of time
    (:meth:`~sim.protocol.Protocol.rules`: every parameter but the evaluation settings),
    the gate's ``n_val``, the trigger's
    ``n_holdout`` (when > 0), the grid ``every``, the candidate ``windows`` (when not
    ``"policy"``) and the extra steps (ints only: a run's events are never cached), and
    :data:`ORACLE_VERSION`.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim.streams import SEA
    >>> a = cache_key(SEA(n_samples=5000), LogisticRegression(), seed=0)
    >>> b = cache_key(SEA(n_samples=5000), LogisticRegression(C=2.0), seed=0)
    >>> len(a), a == b
    (24, False)
    """
    protocol = protocol if protocol is not None else Protocol()
    spec = {
        "oracle_version": ORACLE_VERSION,
        "stream": fingerprint(stream),
        "seed": int(seed),
        "model": {"class": f"{type(model).__module__}.{type(model).__qualname__}",
                  "params": model.get_params(deep=True)},
        "protocol": protocol.rules(),
        "n_val": int(getattr(gate, "n_val", 0) or 0) if gate is not None else 0,
        "every": every,
        "extra_steps": sorted(int(t) for t in (extra_steps or ())),
    }
    if n_holdout:  # keys without a holdout stay those of the caches already written
        spec["n_holdout"] = int(n_holdout)
    if windows != "policy":  # and so do those of the policy's windows
        spec["windows"] = windows
    text = json.dumps(spec, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def accuracy_matrix(stream, model, *, seed: int = 0, protocol: Protocol | None = None,
                    gate=None, every: int | None = 10, extra_steps=(),
                    cache_dir=None, n_holdout: int = 0,
                    windows: str = "policy") -> AccuracyMatrix:
    """Train the candidates and score each on every later step.

    Parameters
    ----------
    stream
        A :class:`~sim.streams.base.Stream`.
    model
        A scikit-learn classifier; only clones are fitted, with the run's model seed.
    seed
        The run's seed (child seeds as in :func:`sim.replay`).
    protocol
        The :class:`~sim.protocol.Protocol` of the runs the oracle is a ceiling for.
    gate
        The runs' gate, for its ``n_val`` (labels held out of training); None: none.
    every
        Grid spacing: candidates at steps ``first_step - 1 + every * i`` (the steps
        ``Periodic(every)`` retrains at); None: no grid.
    extra_steps
        More candidate steps (ints, trained with the protocol's window), or a run's
        ``events`` DataFrame: each trained event becomes a candidate with exactly the
        window that run used (``train_start``), checked against its ``train_end`` and
        ``n_train``.
    cache_dir
        Directory for an on-disk cache of the grid matrix (None: no cache). The grid
        (``every``, ``windows`` and int ``extra_steps``) is cached under
        :func:`cache_key` (an ``.npz`` file, read without pickle), and the last few
        matrices are kept in memory too; a run's events are added on top, training only
        the models not in the cache. Writes are atomic, so parallel jobs can share the
        directory.
    n_holdout
        The runs' trigger's ``n_holdout`` (labels held out of every fit, the initial
        one's too); 0: none.
    windows
        ``"policy"``: at each grid step, the protocol's window policy (for
        ``since_change``, its fallback: the sliding window). ``"all"``: also every window
        a trigger can make the policy produce there (:meth:`_Data.starts`: under
        ``since_change`` and ``since_retrain`` every window that starts at a step's
        first sample), so that with ``every=1`` the candidates hold every retrain a
        policy can make, but for a change point a trigger estimates inside a step
        (pass the run's ``events``). Under ``since_retrain`` the schedules may then pick
        any of those windows at every retrain, a superset of what the policy trains.

    Returns
    -------
    AccuracyMatrix

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import Protocol
    >>> from sim.streams import SEA
    >>> m = accuracy_matrix(SEA(n_samples=6000), LogisticRegression(), seed=0, every=4,
    ...                     protocol=Protocol(step_size=500, initial_train=1000))
    >>> m.cand_step.tolist(), m.correct.shape
    ([1, 5, 9], (3, 10))
    """
    protocol = clone(protocol) if protocol is not None else Protocol()
    protocol.check()
    if every is not None:
        check("hindsight", "every", every, Interval("int", 1))
    check("hindsight", "n_holdout", n_holdout, Interval("int", 0))
    check("hindsight", "windows", windows, Options(WINDOW_SETS))
    n_val = int(getattr(gate, "n_val", 0) or 0) if gate is not None else 0
    events = _event_windows(extra_steps)
    int_extra = [] if isinstance(extra_steps, pd.DataFrame) else list(extra_steps or ())
    try:
        key = None if cache_dir is None else cache_key(
            stream, model, seed=seed, protocol=protocol, gate=gate, every=every,
            extra_steps=int_extra, n_holdout=n_holdout, windows=windows)
    except Uncacheable:  # a stream or model that cannot be keyed by content is not cached
        key = None
    path = None if key is None else Path(cache_dir) / f"oracle-{key}.npz"
    # one job of a sweep computes a key's matrix; the others wait for it, then read it
    with contextlib.nullcontext() if path is None else _locked(path.with_suffix(".lock")):
        return _matrix(stream, model, seed, protocol, n_val, n_holdout, every, int_extra,
                       windows, extra_steps, events, key, path)


@contextlib.contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on ``path`` (a no-op where ``fcntl`` is missing: Windows)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _matrix(stream, model, seed, protocol, n_val, n_holdout, every, int_extra, windows,
            extra_steps, events, key, path) -> AccuracyMatrix:
    """Return the cached grid (memory, ``path``, or computed and stored) plus a run's events."""
    base = None
    if path is not None:
        base = _MEMORY.get(key) or _load(path, key)
        if base is not None:
            _remember(base)
            if _covers(base, extra_steps, events):
                return base
    data = _Data(stream, seed, protocol, n_val, n_holdout)
    if base is None:
        grid = _build(data, model, _candidates(data, every, int_extra, windows), None, {})
        if path is not None:
            grid.key = key
            grid.save(path)
            _remember(grid)
        if not events:
            return grid
        base = grid
    cands = _candidates(data, every, int_extra, windows)
    cands += [c for c in _candidates(data, None, extra_steps) if c[2] == EVENT]
    cands = [cands[0]] + sorted(set(cands[1:]), key=lambda c: (c[0], c[1]))
    out = _build(data, model, cands, base, events)
    out.key = ""
    return out


def _remember(matrix: AccuracyMatrix) -> None:
    """Keep ``matrix`` in memory under its key, dropping the oldest beyond the limit."""
    _MEMORY.pop(matrix.key, None)
    _MEMORY[matrix.key] = matrix
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.pop(next(iter(_MEMORY)))


def _load(path: Path, key: str) -> AccuracyMatrix | None:
    """Return the matrix cached at ``path`` for ``key``, or None (missing, stale, damaged)."""
    try:
        base = AccuracyMatrix.load(path)
    except (OSError, ValueError, KeyError):
        return None
    return base if base.key == key else None


def _save_ends(path: Path, key: str, ends: list[tuple[int, ...] | None]) -> None:
    """Write a solved frontier (each ``K``'s candidates, or None) atomically (npz)."""
    table = np.full((len(ends), max(len(e) for e in ends if e is not None)), -1, np.int64)
    for k, e in enumerate(ends):
        if e is not None:
            table[k, :len(e)] = e

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, ends=table, solved=np.array([e is not None for e in ends]),
                     key=np.array(key))

    atomic_write(path, save)


def _load_ends(path: Path, key: str) -> list[tuple[int, ...] | None] | None:
    """Return the frontier solved under ``key`` at ``path``, or None (missing, stale)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            table, solved = z["ends"], z["solved"]
    except (OSError, ValueError, KeyError):
        return None
    return [tuple(int(c) for c in row if c >= 0) if ok else None
            for row, ok in zip(table, solved, strict=True)]


def _covers(base: AccuracyMatrix, extra_steps, events) -> bool:
    """Whether every event of a run is already a candidate of ``base`` with its window."""
    if not events:
        return True
    if base.cand_row is None:
        return False
    have = {}
    for c in range(1, base.n_candidates):
        r = int(base.cand_row[c])
        if r >= 0:
            have[(int(base.cand_step[c]), int(base.row_train_start[r]))] = (
                int(base.row_train_end[r]), int(base.row_n_train[r]))
    return all(have.get(k) == v for k, v in events.items())


# ---------------------------------------------------------------------------------------
# dynamic programmes
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A retraining schedule and what it achieves.

    Attributes
    ----------
    steps
        Steps of the retrain decisions.
    candidates
        Their candidate indices in the :class:`AccuracyMatrix`.
    accuracy
        Mean prequential accuracy over every scored sample (exact: from counts).
    cost
        Retraining cost (``per_retrain`` and ``per_sample`` terms).
    total_cost
        ``cost`` plus the label cost (the same for every schedule): comparable with a
        run's ``total_cost``.
    n_retrains
        ``len(steps)``.
    """

    steps: tuple[int, ...]
    candidates: tuple[int, ...]
    accuracy: float
    cost: float
    total_cost: float

    @property
    def n_retrains(self) -> int:
        """Number of retrains."""
        return len(self.steps)


class Frontier:
    """Hindsight-optimal schedules over one :class:`AccuracyMatrix`.

    Parameters
    ----------
    matrix
        The candidates' accuracy matrix (:func:`accuracy_matrix`).
    cost
        The :class:`~sim.cost.Cost`; None charges 1 unit per retrain.
    max_retrains
        Largest ``K`` of the frontier; None: as many as there are distinct candidate
        steps (a schedule's steps all differ; the frontier is then exact for every
        ``K``). The since-last-retrain window with ``windows="policy"`` needs memory
        O(``max_retrains`` x candidates^2).
    cache_dir
        Directory where the solved frontier of a cached matrix (one with a ``key``: no
        run's own windows) is kept, keyed by that key, the cost and ``max_retrains``
        (an ``.npz`` of candidate indices, read without pickle), so that the jobs of a
        sweep sharing a matrix solve it once; None: always solve.

    Attributes
    ----------
    frontier
        DataFrame, one row per ``K`` = 0 .. ``max_retrains``: ``K``, ``accuracy`` (the
        best mean accuracy with at most ``K`` retrains; non-decreasing in ``K``),
        ``n_retrains`` (retrains the optimum uses), ``cost``, ``total_cost`` and
        ``steps``. Among schedules of equal accuracy the cheapest is chosen.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import Protocol
    >>> from sim.streams import SEA
    >>> stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    >>> frontier = hindsight(stream, LogisticRegression(), seed=1, every=2,
    ...                      protocol=Protocol(window="sliding", train_window=2000))
    >>> frontier.frontier[["K", "n_retrains", "steps"]].head(3)
       K  n_retrains     steps
    0  0           0        ()
    1  1           1     (23,)
    2  2           2  (21, 23)
    >>> frontier.best(max_retrains=1).accuracy > frontier.best(max_retrains=0).accuracy
    True
    """

    def __init__(self, matrix: AccuracyMatrix, cost: Cost | None = None,
                 max_retrains: int | None = None, cache_dir=None):
        self.matrix = matrix
        self.cost = (clone(cost) if cost is not None else Cost()).check()
        n_free = len(set(matrix.cand_step[1:].tolist()))  # a schedule's steps all differ
        check("Frontier", "max_retrains", max_retrains, Interval("int", 0, allow_none=True))
        self.max_retrains = n_free if max_retrains is None else min(int(max_retrains), n_free)
        self._complete = self.max_retrains == n_free
        m = matrix
        self._P = np.concatenate([np.zeros((len(m.correct), 1), dtype=np.int64),
                                  np.cumsum(m.correct, axis=1)], axis=1).astype(np.float64)
        self._row_cost = (float(self.cost.per_retrain)
                          + float(self.cost.per_sample) * m.row_n_train.astype(np.float64))
        self._row_cost[0] = 0.0
        self._label_cost = float(self.cost.per_label) * m.n_labels
        self._frontier = self._solve_frontier(cache_dir)

    # -- public ---------------------------------------------------------------------------

    @property
    def frontier(self) -> pd.DataFrame:
        """The accuracy-vs-retrains frontier (see the class docstring).

        For a regression stream ``accuracy`` is minus the mean absolute error (the score
        the programme maximises) and ``mae`` is added.
        """
        rows = [{"K": k, "accuracy": s.accuracy, "n_retrains": s.n_retrains, "cost": s.cost,
                 "total_cost": s.total_cost, "steps": s.steps}
                for k, s in enumerate(self._frontier)]
        out = pd.DataFrame(rows)
        if self.matrix.task == "regression":
            out.insert(2, "mae", -out["accuracy"])
        return out

    def best(self, max_retrains: int) -> Schedule:
        """Return the most accurate schedule with at most ``max_retrains`` retrains.

        Beyond the computed ``max_retrains`` of the frontier, the last row is returned
        when it covers every candidate (more retrains cannot help); otherwise a
        ValueError is raised.
        """
        check("Frontier.best", "max_retrains", max_retrains, Interval("int", 0))
        if max_retrains > self.max_retrains:
            if not self._complete:
                raise ValueError(
                    f"The 'max_retrains' parameter of Frontier.best must be <= "
                    f"{self.max_retrains} (the frontier's max_retrains). Got {max_retrains} "
                    "instead.")
            max_retrains = self.max_retrains
        return self._frontier[int(max_retrains)]

    def best_for_cost_weight(self, cost_weight: float) -> Schedule:
        """Return the schedule maximising mean accuracy - ``cost_weight`` x cost per 10k samples.

        ``cost_weight`` is in accuracy (fraction correct) per cost unit per 10,000 scored
        samples: with ``Cost(per_retrain=1)`` and ``cost_weight=0.001`` a retrain every
        10,000 samples must buy 0.1 points of accuracy. It is the same unit as
        ``retrain-sim-advise --cost-weight``.
        """
        check("Frontier.best_for_cost_weight", "cost_weight", cost_weight, Interval("float", 0))
        w = 1e4 * float(cost_weight)
        cands = self._dp_weighted(w)
        return self._schedule(cands)

    def evaluate(self, steps=None, *, candidates=None) -> Schedule:
        """Score a given schedule on the matrix.

        Parameters
        ----------
        steps
            A run's ``events`` DataFrame, taken as it is: its accepted, trained retrains
            that served (a retrain decided too late to serve, or rejected by the gate,
            changes nothing), each with the run's own model when the matrix holds it
            (built with the events as ``extra_steps``), else the protocol's window at
            its step. Or retrain steps (any sequence of ints): at each the candidate
            trained with the protocol's window is used (a run's event candidate when
            there is no other); steps too late to serve are left out.
        candidates
            Candidate indices instead of steps.
        """
        if candidates is None:
            candidates = self._candidates_of(steps)
        return self._schedule(tuple(int(c) for c in candidates))

    def timeline(self, schedule: Schedule) -> pd.DataFrame:
        """Per scored step: ``step``, ``n_samples``, ``accuracy`` and the serving ``row``."""
        m = self.matrix
        rows = self._serving_rows(schedule.candidates)
        cols = np.arange(m.n_steps)
        correct = m.correct[rows, cols]
        return pd.DataFrame({"step": cols + m.first_step, "n_samples": m.n_per_step,
                             "accuracy": correct / m.n_per_step, "row": rows})

    # -- internals ------------------------------------------------------------------------

    def _serves(self, t: int) -> bool:
        """Whether a retrain decided at step ``t`` serves before the run ends."""
        m = self.matrix
        free = np.flatnonzero(m.cand_step > m.cand_step[0])
        latency = int(m.cand_col[free[0]] - m.cand_step[free[0]] + m.first_step - 1) \
            if len(free) else 0
        return t + 1 + latency < m.first_step + m.n_steps

    def _candidates_of(self, steps) -> list[int]:
        m = self.matrix
        if steps is None:
            return []
        if isinstance(steps, pd.DataFrame):
            ev = retrain_rows(steps) if "model_id" in steps else steps
            if "accepted" in ev:
                ev = ev[ev["accepted"].astype(bool)]
            out = []
            for t, start in zip(ev["step"].astype(int), ev.get("train_start", [None] * len(ev)),
                                strict=True):
                if not self._serves(int(t)):
                    continue
                own = [c for c in np.flatnonzero(m.cand_step == t)
                       if start is not None and self._trains_from(c, int(start))]
                out.append(int(own[0]) if own else self._candidate_at(int(t)))
            return out
        return [self._candidate_at(int(t)) for t in np.asarray(list(steps), dtype=np.int64)
                if self._serves(int(t))]

    def _trains_from(self, c: int, start: int) -> bool:
        """Whether candidate ``c``'s window starts at sample ``start`` (a run's event's)."""
        m = self.matrix
        if m.cand_row is None:
            return m.cand_origin[c] == EVENT and int(m.cand_since[c]) == start
        r = int(m.cand_row[c])
        return r >= 0 and int(m.row_train_start[r]) == start

    def _candidate_at(self, t: int) -> int:
        m = self.matrix
        hits = np.flatnonzero(m.cand_step == t)
        hits = [c for c in hits if c > 0]
        if not hits:
            raise ValueError(f"Step {t} is not a candidate of the matrix (a retrain there "
                             "never serves, or it is off the grid; candidates: "
                             f"{sorted(set(m.cand_step[1:].tolist()))}).")
        policy = [c for c in hits if m.cand_origin[c] in (GRID, EXTRA)]
        if not policy and all(m.cand_origin[c] == START for c in hits):
            raise ValueError(
                f"Step {t} has no candidate with the protocol's own window: under "
                "since_retrain with windows='all' a retrain's window depends on the "
                "previous one; pass a run's events or the candidates instead of steps.")
        return int((policy or hits)[0])

    def _row(self, p: int, c: int) -> int:
        m = self.matrix
        return int(m.cand_row[c]) if m.cand_row is not None else int(m.pair_row[p, c])

    def _serving_rows(self, cands) -> np.ndarray:
        m = self.matrix
        rows = np.zeros(m.n_steps, dtype=np.int64)
        prev = 0
        for c in cands:
            if m.cand_step[c] <= m.cand_step[prev]:
                raise ValueError("A schedule's steps must be strictly increasing.")
            r = self._row(prev, c)
            if r < 0:
                raise ValueError(f"Candidate {c} (step {m.cand_step[c]}) has nothing to "
                                 "train on; the engine would skip it.")
            rows[m.cand_col[c]:] = r
            prev = c
        return rows

    def _schedule(self, cands: tuple[int, ...]) -> Schedule:
        m = self.matrix
        rows = self._serving_rows(cands)
        correct = int(m.correct[rows, np.arange(m.n_steps)].sum())
        prev, cost = 0, 0.0
        for c in cands:
            cost += self._row_cost[self._row(prev, c)]
            prev = c
        return Schedule(steps=tuple(int(m.cand_step[c]) for c in cands), candidates=cands,
                        accuracy=correct / m.n_samples, cost=cost,
                        total_cost=cost + self._label_cost)

    def _eps(self) -> float:
        # a tie-breaker on cost that can never outweigh one correct prediction
        return 0.5 / (float(self._row_cost.sum()) * max(self.matrix.n_candidates, 1) + 1.0)

    def _solve_frontier(self, cache_dir=None) -> list[Schedule]:
        key = self._key() if cache_dir is not None else ""
        path = Path(cache_dir) / f"frontier-{key}.npz" if key else None
        ends = _load_ends(path, key) if path is not None else None
        if ends is None:
            eps = self._eps()
            if self.matrix.cand_row is not None:
                ends = self._chain_frontier(eps)
            else:
                ends = self._pair_frontier(eps)
            if path is not None:
                _save_ends(path, key, ends)
        out, best = [], None
        for cands in ends:
            s = self._schedule(cands) if cands is not None else None
            if best is None or (s is not None and (s.accuracy > best.accuracy or (
                    s.accuracy == best.accuracy and s.cost < best.cost))):
                best = s
            out.append(best)
        return out

    def _key(self) -> str:
        """Key of the solved frontier: the cached matrix's key, the cost and ``K``; or ''.

        '' (not cached) for a matrix with a run's own windows, which has no key.
        """
        if not self.matrix.key:
            return ""
        spec = {"matrix": self.matrix.key, "cost": self.cost.get_params(),
                "max_retrains": self.max_retrains, "oracle_version": ORACLE_VERSION}
        text = json.dumps(spec, sort_keys=True, default=repr, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _chain_tables(self):
        m, P = self.matrix, self._P
        rows, cols, steps = m.cand_row, m.cand_col, m.cand_step
        valid = rows >= 0
        r = np.where(valid, rows, 0)
        at_own = P[r, cols]
        seg = P[r[:, None], cols[None, :]] - at_own[:, None]
        ok = (steps[:, None] < steps[None, :]) & valid[:, None] & valid[None, :]
        seg = np.where(ok, seg, -np.inf)
        end = np.where(valid, P[r, m.n_steps] - at_own, -np.inf)
        return seg, end, np.where(valid, self._row_cost[r], 0.0)

    def _chain_frontier(self, eps: float) -> list[tuple[int, ...] | None]:
        seg, end, cost = self._chain_tables()
        C = len(end)
        V = np.full(C, -np.inf)
        V[0] = 0.0
        parents, out = [], [()]
        # next candidate x previous, so that each argmax runs along contiguous memory
        # (2.3 times faster than along columns, the same values and the same ties)
        seg_next = np.ascontiguousarray(seg.T)
        M = np.empty_like(seg_next)
        every = np.arange(C)
        for _ in range(self.max_retrains):
            np.add(seg_next, V[None, :], out=M)
            par = np.argmax(M, axis=1)
            V = M[every, par] - eps * cost
            parents.append(par)
            tot = V + end
            c = int(np.argmax(tot))
            if not np.isfinite(tot[c]):
                out.append(None)
                continue
            seq = [c]
            for par_k in reversed(parents[1:]):
                c = int(par_k[c])
                seq.append(c)
            out.append(tuple(reversed(seq)))
        return out

    def _dp_weighted(self, w: float) -> tuple[int, ...]:
        if self.matrix.cand_row is not None:
            return self._chain_weighted(w)
        return self._pair_weighted(w)

    def _chain_weighted(self, w: float) -> tuple[int, ...]:
        seg, end, cost = self._chain_tables()
        C = len(end)
        V = np.full(C, -np.inf)
        V[0] = 0.0
        parent = np.zeros(C, dtype=np.int64)
        for c in range(1, C):
            M = V[:c] + seg[:c, c]
            p = int(np.argmax(M))
            V[c] = M[p] - w * cost[c]
            parent[c] = p
        tot = V + end
        c = int(np.argmax(tot))
        seq = []
        while c != 0:
            seq.append(c)
            c = int(parent[c])
        return tuple(reversed(seq))

    def _pair_tables(self):
        m = self.matrix
        R = m.pair_row
        valid = R >= 0
        Rz = np.where(valid, R, 0)
        pen = np.where(valid, self._row_cost[Rz], np.inf)
        return R, valid, Rz, pen

    def _pair_step(self, U_col, p_ok, c, R_col, pen_row):
        """Best extension of the states (q, c), q in p_ok, to (c, d) for every d > c."""
        m, P = self.matrix, self._P
        cols = m.cand_col
        d = np.arange(c + 1, m.n_candidates)
        rows = R_col[p_ok]
        G = P[rows[:, None], cols[None, d]] - P[rows, cols[c]][:, None]
        M = U_col[p_ok][..., None] + G  # (..., q, d)
        arg = np.argmax(M, axis=-2)
        best = np.take_along_axis(M, arg[..., None, :], axis=-2)[..., 0, :] - pen_row[d]
        return d, best, p_ok[arg]

    def _pair_frontier(self, eps: float) -> list[tuple[int, ...] | None]:
        m, P = self.matrix, self._P
        C, K, cols, J = m.n_candidates, self.max_retrains, m.cand_col, m.n_steps
        R, valid, Rz, pen = self._pair_tables()
        pen = pen * eps
        itype = np.int16 if C < 2**15 else np.int64
        U = np.full((C, C), -np.inf)  # U[p, c]: k retrains, the last two p, c
        U[0, 1:] = P[0, cols[1:]] - pen[0, 1:]
        U[~valid] = -np.inf
        end = np.where(valid, P[Rz, J] - P[Rz, cols[None, :]], -np.inf)
        parents = np.zeros((max(K, 1), C, C), dtype=itype)
        out: list[tuple[int, ...] | None] = [()]
        for k in range(1, K + 1):
            tot = U + end
            p, c = np.unravel_index(int(np.argmax(tot)), tot.shape)
            if np.isfinite(tot[p, c]):
                seq, kk = [int(c), int(p)], k - 1
                while kk > 0 and seq[-1] != 0:
                    q = int(parents[kk, seq[-1], seq[-2]])
                    seq.append(q)
                    kk -= 1
                out.append(tuple(reversed([s for s in seq if s != 0])))
            else:
                out.append(None)
            if k == K:
                break
            nxt = np.full((C, C), -np.inf)
            for c in range(1, C - 1):
                p_ok = np.flatnonzero(np.isfinite(U[:c, c]))
                if not len(p_ok):
                    continue
                d, best, arg = self._pair_step(U[:, c], p_ok, c, Rz[:, c], pen[c])
                nxt[c, d] = best
                parents[k, c, d] = arg
            nxt[~valid] = -np.inf
            U = nxt
        return out

    def _pair_weighted(self, w: float) -> tuple[int, ...]:
        m, P = self.matrix, self._P
        C, cols, J = m.n_candidates, m.cand_col, m.n_steps
        R, valid, Rz, pen = self._pair_tables()
        pen = pen * w if w > 0 else np.where(valid, 0.0, np.inf)
        U = np.full((C, C), -np.inf)
        U[0, 1:] = P[0, cols[1:]] - pen[0, 1:]
        U[~valid] = -np.inf
        parent = np.zeros((C, C), dtype=np.int64)
        for c in range(1, C - 1):
            p_ok = np.flatnonzero(np.isfinite(U[:c, c]))
            if not len(p_ok):
                continue
            d, best, arg = self._pair_step(U[:, c], p_ok, c, Rz[:, c], pen[c])
            best = np.where(valid[c, d], best, -np.inf)
            U[c, d] = best
            parent[c, d] = arg
        end = np.where(valid, P[Rz, J] - P[Rz, cols[None, :]], -np.inf)
        tot = U + end
        p, c = np.unravel_index(int(np.argmax(tot)), tot.shape)
        if not np.isfinite(tot[p, c]) or tot[p, c] <= P[0, J]:
            return ()
        seq = [int(c), int(p)]
        while seq[-1] != 0:
            seq.append(int(parent[seq[-1], seq[-2]]))
        return tuple(reversed(seq[:-1]))


def hindsight(stream, model, *, seed: int = 0, protocol: Protocol | None = None,
              cost: Cost | None = None, gate=None, every: int | None = 10, extra_steps=(),
              max_retrains: int | None = None, cache_dir=None, n_holdout: int = 0,
              windows: str = "policy") -> Frontier:
    """Find the hindsight-optimal schedules of one stream, model, seed and protocol.

    With ``every=1`` and ``windows="all"`` the candidates are every retrain a policy can
    decide (any step, any window its trigger can make the protocol produce); with the
    run's ``events`` as ``extra_steps`` its own models join them, so that the optimum at
    a run's number of served retrains is at least the run's accuracy by construction
    (the run's schedule is one of those searched), and one matrix serves every policy
    of a sweep on the same stream, seed, model and protocol (see :func:`regret` and
    :func:`not_bounded` for the runs it does not bound).

    Parameters
    ----------
    stream, model, seed, protocol, gate, every, extra_steps, cache_dir, n_holdout, windows
        As for :func:`accuracy_matrix`. Pass a run's ``events`` as ``extra_steps`` to
        make the optimum a ceiling for that run (its own models become candidates).
    cost
        The runs' :class:`~sim.cost.Cost`; None charges 1 unit per retrain.
    max_retrains
        Largest ``K`` of the frontier; None: as many as there are candidate steps.

    Returns
    -------
    Frontier

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim.streams import SEA
    >>> stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    >>> f = hindsight(stream, LogisticRegression(), seed=1, every=4, max_retrains=3)
    >>> f.frontier["accuracy"].is_monotonic_increasing
    True
    >>> f.best_for_cost_weight(1.0).n_retrains  # a retrain costs far too much
    0
    """
    matrix = accuracy_matrix(stream, model, seed=seed, protocol=protocol, gate=gate,
                             every=every, extra_steps=extra_steps, cache_dir=cache_dir,
                             n_holdout=n_holdout, windows=windows)
    return Frontier(matrix, cost=cost, max_retrains=max_retrains, cache_dir=cache_dir)


def not_bounded(gate=None, learning=None) -> str | None:
    """Return why the optimum bounds no run with this gate and learning, or None if it does.

    The optimum's schedules hold one model at a time, each trained on a window at its
    decision step and serving from ``t + 1 + deploy_latency`` until the next. A run that
    updates its model online, or whose live gate (:class:`~sim.rollout.LiveGate`)
    serves a challenger beside the champion (canary), promotes it after a trial (shadow)
    or restores an older model (rollback), takes actions outside that space: its regret
    is "not bounded" (NaN) rather than a number that looks like one.

    Examples
    --------
    >>> from strategies import Canary, Holdout
    >>> not_bounded(Holdout()) is None
    True
    >>> not_bounded(Canary())
    'a live gate (Canary) serves two models at once, promotes late or rolls back'
    """
    if getattr(learning, "updates", False):
        return "online learning updates the serving model at every step"
    if isinstance(gate, LiveGate):
        return (f"a live gate ({type(gate).__name__}) serves two models at once, promotes "
                "late or rolls back")
    return None


def regret(summary: dict, frontier: Frontier | None, unbounded: str | None = None
           ) -> dict[str, float]:
    """How far a run fell short of the hindsight optimum with as many retrains.

    Parameters
    ----------
    summary
        The run's summary (:func:`sim.metrics.summarize`): ``mean_accuracy`` and
        ``n_served`` (retrained models that served: a retrain decided at the last step,
        or rejected by the gate, is not one).
    frontier
        The :class:`Frontier` of the run's stream, model, seed and protocol, best built
        with the run's ``events`` as ``extra_steps`` (then ``regret >= 0`` exactly);
        None only with ``unbounded``.
    unbounded
        Why the optimum does not bound the run (:func:`not_bounded`), or None.

    Returns
    -------
    dict
        ``optimal_accuracy_same_retrains``: the frontier at the run's number of
        retrained models that served (for regression ``optimal_mae_same_retrains``, and
        the regret is the run's mean absolute error minus it); ``regret``: that minus
        the run's ``mean_accuracy``; ``oracle_bounded``: False (and NaN for the two
        others) when ``unbounded`` says why the optimum is no ceiling for the run;
        ``oracle_own_windows``: the run's retrain models that are no candidate of the
        shared matrix (0: its optimum is the one every policy of the sweep shares; more:
        a window starting inside a step, e.g. at a change point a trigger estimated,
        added to the search for this run).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from sim.scripted import AtSteps
    >>> stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    >>> run = replay(stream, LogisticRegression(), AtSteps([19, 29, 39]), seed=1)
    >>> f = hindsight(stream, LogisticRegression(), seed=1, every=5, extra_steps=run.events)
    >>> r = regret(run.summary, f)
    >>> r["regret"] >= 0
    True
    """
    regression = "mean_mae" in summary
    if unbounded is not None:
        name = "optimal_mae_same_retrains" if regression else "optimal_accuracy_same_retrains"
        return {name: float("nan"), "regret": float("nan"), "oracle_bounded": False}
    if frontier is None:
        raise ValueError("The 'frontier' parameter of regret must be a Frontier when the "
                         "run is bounded (unbounded=None). Got None instead.")
    k = summary.get("n_served")
    if k is None:
        k = summary.get("n_accepted", summary.get("n_retrains", 0))
    k = int(k or 0)
    best = frontier.best(min(k, frontier.max_retrains) if frontier._complete else k)
    if frontier.matrix.task == "regression":
        mean = float(summary["mean_mae"])
        return {"optimal_mae_same_retrains": -best.accuracy,
                "regret": mean + best.accuracy if math.isfinite(mean) else float("nan"),
                "oracle_bounded": True, "oracle_own_windows": _own_windows(frontier.matrix)}
    mean = float(summary["mean_accuracy"])
    return {"optimal_accuracy_same_retrains": best.accuracy,
            "regret": best.accuracy - mean if math.isfinite(mean) else float("nan"),
            "oracle_bounded": True, "oracle_own_windows": _own_windows(frontier.matrix)}


def _own_windows(m: AccuracyMatrix) -> int:
    """Models of a run's events that no other candidate trains (0: the shared optimum)."""
    own = m.cand_origin == EVENT
    if m.cand_row is None:
        return int(own.sum())
    return len(set(m.cand_row[own].tolist()) - set(m.cand_row[~own].tolist()))

"""The basic retraining triggers: when to retrain, from what a production system sees.

- :class:`Never` and :class:`Periodic`: the schedule baselines.
- :class:`DataDrift`: a two-sample test between the deployed model's training inputs
  and recent inputs (no labels needed).
- :class:`Performance`: accuracy on arrived labels, against a threshold or a drop.
- :class:`ErrorDetector`: a streaming detector (DDM, ADWIN, ...) on the error stream.
- :class:`DriftAware`: a reference that knows where the true drifts are (not a ceiling:
  the hindsight optimum of :mod:`sim.oracle` is).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from sim.cache import Uncacheable, fingerprint
from sim.checks import Instance, Interval, Options, check, param_error, validate
from sim.types import Decision, Drift, Observation, sample_loss
from strategies.base import Trigger
from strategies.detectors import (
    KS,
    ChiSquare,
    StreamingDetector,
    TwoSampleTest,
    adjust_p_values,
)
from strategies.detectors.base import CORRECTIONS

__all__ = ["DriftAware", "DataDrift", "ErrorDetector", "Never", "Performance", "Periodic"]


class _Tail:
    """The newest ``capacity`` values appended so far, in order, in O(1) amortised per value.

    Appending to a NumPy array copies it; this keeps a buffer of twice the capacity and
    moves the newest values to its front only when it fills.
    """

    def __init__(self, capacity: int, dtype):
        self.capacity = capacity
        self._buf = np.empty(2 * capacity, dtype=dtype)
        self.clear()

    def clear(self) -> None:
        """Forget every value."""
        self._start = self._end = 0
        self.n_seen = 0

    def extend(self, values: np.ndarray) -> None:
        """Append ``values`` (oldest first)."""
        self.n_seen += len(values)
        values = values[-self.capacity:]
        n = len(values)
        if self._end + n > len(self._buf):
            keep = min(self._end - self._start, self.capacity - n)
            self._buf[:keep] = self._buf[self._end - keep : self._end]
            self._start, self._end = 0, keep
        self._buf[self._end : self._end + n] = values
        self._end += n
        self._start = max(self._start, self._end - self.capacity)

    @property
    def values(self) -> np.ndarray:
        """The kept values, oldest first (a view)."""
        return self._buf[self._start : self._end]

    @property
    def dropped(self) -> int:
        """How many of the values appended are no longer kept."""
        return self.n_seen - (self._end - self._start)

    def __len__(self) -> int:
        return self._end - self._start


def _seeded(component, seed):
    """Clone ``component``, giving it the trigger's seed if it takes one and has none."""
    component = clone(component)
    if component.get_params().get("seed", 0) is None:
        component.set_params(seed=seed)
    return component


class Never(Trigger):
    """Never retrain: the model trained at the start serves the whole stream.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> replay(SEA(n_samples=10_000), LogisticRegression(), Never()).summary["n_retrains"]
    0
    """

    def update(self, obs: Observation) -> Decision:
        """Never ask for a retrain."""
        return Decision(False)


class Periodic(Trigger):
    """Retrain every ``every`` steps (counted from the last retrain).

    Parameters
    ----------
    every
        Steps between retrains.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> result = replay(SEA(n_samples=10_000), LogisticRegression(), Periodic(every=4))
    >>> result.events["step"].tolist()
    [13, 17]
    """

    _constraints = {"every": Interval("int", 1)}

    def __init__(self, every: int = 10):
        self.every = every

    def reset(self, seed=None) -> Periodic:
        """Validate ``every`` and restart the count."""
        validate(self)
        self._last: int | None = None
        return self

    def update(self, obs: Observation) -> Decision:
        """Fire when ``every`` steps have passed since the last retrain."""
        if self._last is None:
            self._last = obs.t - 1
        since = obs.t - self._last
        if since >= self.every:
            return Decision(True, f"{since} steps since the last retrain", {"steps": since})
        return Decision(False, stats={"steps": since})

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Restart the count."""
        self._last = t


class _Detecting(Trigger):
    """A trigger that detects changes and may refit once more data of the new concept exists.

    Right after a detection only a few labels of the new concept have arrived, so the
    ``since_change`` window is short and the quick-fix model is weaker than it will be.
    With ``refit_after`` set, the trigger asks once more, ``refit_after`` steps after a
    detection that estimated a change point, for a retrain on everything since that
    point. Subclasses implement :meth:`_detect`.
    """

    def _start(self) -> None:
        """Validate the parameters and clear the refit schedule."""
        validate(self)
        self._refit_at: int | None = None
        self._refit_since: int | None = None

    def _detect(self, obs: Observation) -> Decision:
        raise NotImplementedError

    def update(self, obs: Observation) -> Decision:
        """Detect; or, when a refit is due, ask for it."""
        decision = self._detect(obs)
        if decision.retrain:
            if self.refit_after is not None and decision.since is not None:
                self._refit_at, self._refit_since = obs.t + self.refit_after, decision.since
            return decision
        if self._refit_at is not None and obs.t >= self._refit_at:
            since, self._refit_at = self._refit_since, None
            return Decision(True, f"refit on the new concept since sample {since}",
                            decision.stats, since=since, follow_up=True)
        return decision


class DataDrift(_Detecting):
    """Retrain when recent inputs differ from the deployed model's training inputs.

    Every step, a two-sample test compares the reference (the deployed model's training
    window) with the inputs of the last ``window`` steps, for every feature at once. It
    needs no labels, and it sees only P(X): a concept drift that leaves P(X) alone is
    invisible to it, and a covariate drift that a model handles well still fires it.

    Each column gets the test its type needs: ``test`` for the numeric columns,
    ``categorical_test`` (χ² by default) for the integer-coded categorical columns
    listed in ``categorical`` (e.g. a :class:`~sim.streams.Tabular` stream's
    ``categorical_features``). When both tests give p-values the correction runs over
    every column together; otherwise each test applies its own rule to its columns.

    Parameters
    ----------
    test
        A :class:`~strategies.detectors.TwoSampleTest` for the numeric columns; KS by
        default.
    alpha
        Significance level, for tests with p-values.
    threshold
        Threshold on ``test``'s statistic, for tests without p-values (None: the test's
        ``default_threshold``).
    correction
        Multiple-testing correction across features: ``"none"``, ``"bonferroni"``,
        ``"holm"`` or ``"bh"``.
    share
        None: drift when any feature drifts; a number in (0, 1]: when at least this
        share of features drifts (Evidently's ``drift_share``).
    window
        Steps of recent inputs compared with the reference; checks start once the
        deployed model has seen this many steps.
    refit_after
        Steps after a detection at which to retrain once more on everything since the
        drifted window began (None: no refit).
    categorical
        Indices of the integer-coded categorical columns of ``X`` (default: none).
    categorical_test
        The test of the categorical columns (None: :class:`~strategies.detectors.ChiSquare`;
        :class:`~strategies.detectors.PSI` is the other usual choice, with its
        ``default_threshold``).

    Notes
    -----
    After its own alarm the trigger does not test against the window that fired: a window
    picked for looking unlike the old reference is an atypical sample of its
    distribution, and fresh inputs tested against it fire too often (with the
    ``since_change`` window, where the new model trains on that window alone, 8.7% of
    checks at ``alpha=0.05`` on a drift-free stream). The new model's reference leaves
    those inputs out; when fewer rows remain than the first model's reference held, the
    steps that follow (once out of the current window) complete it, and each check tests
    against the rows gathered so far. No step goes unchecked: while nothing but the fired
    window is left (the first check after the alarm under ``since_change``), a check fires
    only when the current window differs from the fired window *and* from the reference
    before the alarm, so a drift right after a false alarm is caught at once and a real
    drift's second window does not fire again. A reference of the trigger's own is not
    shared through a cache. On drift-free streams 4.6-5.8% of checks fire at
    ``alpha=0.05`` under every training-window policy (benchmarks/false_alarms.py).
    With ``window`` > 1 consecutive checks share steps (dependent looks: one alarm-free
    window makes the next one likelier to pass), so fewer than ``alpha`` of them fire
    (2.3-3.0% with ``window=3``); each check alone still has level ``alpha``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import Gaussian
    >>> stream = Gaussian(n_samples=20_000, schedule=[{"at": 10_000, "to": 1}])
    >>> result = replay(stream, LogisticRegression(), DataDrift(alpha=0.01), window="sliding")
    >>> result.events["step"].tolist()[:1]
    [20]

    A text column is integer-coded by :class:`~sim.streams.Tabular` and tested with χ²,
    the numeric one with KS:

    >>> import pandas as pd
    >>> from sim.streams import Tabular
    >>> rng = np.random.default_rng(0)
    >>> colour = np.where(np.arange(4000) < 2000, rng.choice(["red", "blue"], 4000), "red")
    >>> frame = pd.DataFrame({"colour": colour, "x": rng.normal(size=4000),
    ...                       "y": rng.integers(0, 2, 4000)})
    >>> table = Tabular(frame, target="y")
    >>> result = replay(table, LogisticRegression(), DataDrift(alpha=0.001, categorical=[0]),
    ...                 step_size=100, initial_train=1000)
    >>> int(result.events["step"].iloc[0]), result.events["reason"].iloc[0]
    (20, 'KS and ChiSquare: adjusted p < 0.001 (bonferroni) on feature [0]')
    """

    _constraints = {
        "test": Instance("a TwoSampleTest (KS, PSI, ...)", classes=(TwoSampleTest,),
                         allow_none=True),
        "alpha": Interval("float", 0, 1, closed="neither"),
        "threshold": Interval("float", allow_none=True),
        "correction": Options(CORRECTIONS),
        "share": Interval("float", 0, 1, closed="right", allow_none=True),
        "window": Interval("int", 1),
        "refit_after": Interval("int", 1, allow_none=True),
        "categorical": Instance("a list of column indices", classes=(list, tuple)),
        "categorical_test": Instance("a TwoSampleTest (ChiSquare, PSI, ...)",
                                     classes=(TwoSampleTest,), allow_none=True),
    }

    def __init__(self, test: TwoSampleTest | None = None, alpha: float = 0.05,
                 threshold: float | None = None, correction: str = "bonferroni",
                 share: float | None = None, window: int = 1, refit_after: int | None = None,
                 categorical: list[int] | tuple[int, ...] = (),
                 categorical_test: TwoSampleTest | None = None):
        self.test = test
        self.alpha = alpha
        self.threshold = threshold
        self.correction = correction
        self.share = share
        self.window = window
        self.refit_after = refit_after
        self.categorical = categorical
        self.categorical_test = categorical_test

    def reset(self, seed=None) -> DataDrift:
        """Validate the parameters and forget the reference."""
        self._start()
        categorical = list(self.categorical)
        if (not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c >= 0
                    for c in categorical) or len(set(categorical)) != len(categorical)):
            raise param_error(self, "categorical", "a list of distinct column indices "
                              "(ints >= 0)", self.categorical)
        self._categorical = [int(c) for c in categorical]
        self._test = _seeded(self.test if self.test is not None else KS(), seed)
        self._categorical_test = _seeded(self.categorical_test if self.categorical_test
                                         is not None else ChiSquare(), seed)
        self._parts = None  # (test, memo name, columns), set at the first observation
        self._model_id = None
        self._reference = None  # fitted lazily: with a shared memo most steps need no fit
        self._fitted: set[int] = set()
        self._recent: list[tuple[int, np.ndarray]] = []
        self._fired: np.ndarray | None = None  # the inputs of the window that last fired
        self._fresh: np.ndarray | None = None  # a reference still filling after an alarm
        self._before: np.ndarray | None = None  # while the reference is the fired window
        self._min_rows = 0  # the first model's reference size: no fresh one stops smaller
        return self

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Refuse a window longer than the scored part of the stream."""
        check(self, "window", self.window, Interval("int", 1, n_steps))

    def _columns(self, n_features: int) -> list[tuple]:
        """Return the tests and the columns each takes: ``[(test, memo name, columns), ...]``."""
        outside = [c for c in self._categorical if c >= n_features]
        if outside:
            raise param_error(self, "categorical", f"a list of column indices below the "
                              f"{n_features} features", self.categorical)
        numeric = [j for j in range(n_features) if j not in self._categorical]
        parts = [(self._test, numeric), (self._categorical_test, sorted(self._categorical))]
        return [(test, _memo_name(test), columns) for test, columns in parts if columns]

    def _detect(self, obs: Observation) -> Decision:
        """Test the last ``window`` steps of inputs against the reference."""
        if self._parts is None:
            self._parts = self._columns(obs.X.shape[1])
        if obs.model_id != self._model_id:
            self._deployed(obs)
        self._recent.append((obs.sample_index, obs.X))
        if len(self._recent) > self.window:
            self._grow(self._recent.pop(0)[1])
        if len(self._recent) < self.window:
            return Decision(False)
        results = [self._test_current(obs, i, *part) for i, part in enumerate(self._parts)]
        stats = {}
        for _, part_stats in results:
            stats |= part_stats
        drifted, rules = self._drifted(results)
        n_drifted = int(drifted.sum())
        stats["n_drifted"] = n_drifted
        fired = self._fires(drifted)
        if fired and self._before is not None:  # the reference is the window that fired
            fired = self._fires_against(self._before)
        if not fired:
            return Decision(False, stats=stats)
        self._fired = np.concatenate([x for _, x in self._recent])
        order = [c for (result, _), (_, _, columns) in zip(results, self._parts, strict=True)
                 for c in _labels(columns, result.statistic)]
        which = sorted(order[i] for i in np.flatnonzero(drifted))
        reason = f"{rules} on feature{'s' if n_drifted > 1 else ''} {which}"
        return Decision(True, reason, stats, since=self._recent[0][0])

    def _fires(self, drifted: np.ndarray) -> bool:
        """Whether enough columns drifted: any, or at least ``share`` of them."""
        n_drifted = int(drifted.sum())
        return n_drifted / len(drifted) >= self.share if self.share is not None else (
            n_drifted > 0)

    def _fires_against(self, reference: np.ndarray) -> bool:
        """Whether the current window also differs from ``reference`` (no memo, no stats)."""
        current = np.concatenate([x for _, x in self._recent])
        results = []
        for test, _, columns in self._parts:
            test.fit(reference[:, columns])
            results.append((test.test(current[:, columns]), None))
        self._fitted = set()  # the next check fits the reference again
        return self._fires(self._drifted(results)[0])

    def _deployed(self, obs: Observation) -> None:
        """Take a newly deployed model's reference, or a fresh one after an alarm."""
        before = self._before if self._before is not None else self._reference
        self._model_id = obs.model_id
        self._reference = obs.reference
        self._min_rows = self._min_rows or len(obs.reference)
        self._fresh = self._before = None
        if self._fired is not None:  # leave out the inputs that fired the alarm
            self._fresh = _without_rows(obs.reference, self._fired)
            self._fired = None
            if len(self._fresh) >= self._min_rows:
                self._reference, self._fresh = self._fresh, None
            elif len(self._fresh):
                self._reference = self._fresh
            else:  # nothing else yet: the window that fired, and the reference before it
                self._before = before
        self._fitted = set()
        self._recent = []

    def _grow(self, x: np.ndarray) -> None:
        """Add a step that left the current window to a fresh reference still filling."""
        if self._fresh is None:
            return
        self._fresh = np.concatenate([self._fresh, x])
        self._reference = self._fresh
        self._before = None
        self._fitted = set()
        if len(self._fresh) >= self._min_rows:
            self._fresh = None

    def _drifted(self, results) -> tuple[np.ndarray, str]:
        """Which columns drifted (in the parts' column order), and the rules applied."""
        tests = [part[0] for part in self._parts]
        with_p = [r.p_value is not None and t.has_p_value
                  for (r, _), t in zip(results, tests, strict=True)]
        rule_p = f"adjusted p < {self.alpha} ({self.correction})"
        names = [type(t).__name__ for t in tests]
        if all(with_p):  # one correction over every column
            p = np.concatenate([r.p_value for r, _ in results])
            return (adjust_p_values(p, self.correction) < self.alpha,
                    f"{' and '.join(names)}: {rule_p}")
        drifted, rules = [], []
        for (result, _), test, has_p in zip(results, tests, with_p, strict=True):
            if has_p:
                drifted.append(adjust_p_values(result.p_value, self.correction) < self.alpha)
                rules.append(rule_p)
                continue
            threshold = self.threshold if test is self._test and self.threshold is not None \
                else test.default_threshold
            drifted.append(result.statistic >= threshold)
            rules.append(f"statistic >= {threshold}")
        return np.concatenate(drifted), "; ".join(
            f"{name}: {rule}" for name, rule in zip(names, rules, strict=True))

    def _test_current(self, obs: Observation, part: int, test, memo_name, columns):
        """Test the last ``window`` steps against the reference on ``columns``.

        Returns the result and its statistics, named by column of ``X``. With a cache
        (``obs.memo``) and a test that is a pure function of the reference and the
        current sample, the result is shared by every run that deploys a model with the
        same reference: it is keyed by the test (class and parameters), the columns and
        the current window (first sample index and length), the reference's identity
        being the memo's. Its statistics do not depend on ``alpha``, ``threshold``,
        ``correction`` or ``share``, so runs differing only in those share every check
        until their deployed models differ.
        """
        own = self._reference is not obs.reference  # the trigger's, not the model's
        memo = obs.memo if memo_name is not None and not own else None
        if memo is not None:
            n = sum(len(x) for _, x in self._recent)
            whole = len(columns) == obs.X.shape[1]
            key = (memo_name, self._recent[0][0], n) + (() if whole else (tuple(columns),))
            found = memo.get(key)
            if found is not None:
                return found
        if part not in self._fitted:  # the first test since the deployed model changed
            test.fit(self._reference[:, columns])
            self._fitted.add(part)
        current = self._recent[0][1] if self.window == 1 else np.concatenate(
            [x for _, x in self._recent])
        result = test.test(current[:, columns])
        labels = _labels(columns, result.statistic)
        stats = {f"statistic_{c}": float(s) for c, s in zip(labels, result.statistic,
                                                             strict=True)}
        if result.p_value is not None and test.has_p_value:
            stats |= {f"p_value_{c}": float(p) for c, p in zip(labels, result.p_value,
                                                               strict=True)}
        if memo is not None:
            memo.put(key, (result, stats))
        return result, stats


def _without_rows(reference: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return the rows of ``reference`` that are not among ``rows`` (compared bytewise).

    Examples
    --------
    >>> _without_rows(np.array([[1.0], [2.0], [3.0]]), np.array([[2.0]])).ravel().tolist()
    [1.0, 3.0]
    """
    reference = np.ascontiguousarray(reference)
    drop = {row.tobytes() for row in np.ascontiguousarray(rows, dtype=reference.dtype)}
    keep = np.fromiter((row.tobytes() not in drop for row in reference), bool, len(reference))
    return reference[keep]


def _labels(columns: list[int], statistic: np.ndarray) -> list[int]:
    """Name each statistic by its column of ``X`` (a multivariate test's by its number)."""
    return columns if len(statistic) == len(columns) else list(range(len(statistic)))


def _memo_name(test) -> tuple | None:
    """Identity of a two-sample test for shared results; None when it may not be shared.

    Only tests that declare themselves pure functions of (reference, current)
    (``_memoisable``: KS, PSI, ...; not the seeded, stateful MMD or domain classifier)
    and whose parameters can be fingerprinted are shared.
    """
    if not getattr(type(test), "_memoisable", False):
        return None
    try:
        return ("DataDrift.test", fingerprint(test))
    except Uncacheable:
        return None


class Performance(_Detecting):
    """Retrain when the deployed model's measured performance falls below a rule.

    Only labels of predictions made by the deployed model count. Once ``min_labels`` of
    them have arrived, their mean loss is the model's *baseline*; from then on the mean
    loss over the last ``window`` labels is checked. For classification the loss is the
    0/1 error and the rules read in accuracy: retrain when accuracy < ``threshold`` or
    accuracy < baseline accuracy - ``drop``. For regression the loss is the absolute
    error: retrain when the mean absolute error > ``threshold`` or > baseline + ``drop``.

    On firing it estimates where the change began (the split that best separates a
    better part from a worse part of the deployed model's labeled predictions, a
    standardised CUSUM); when that split is significant the ``since_change`` window
    trains on data of the new concept only, otherwise on the full ``train_window``.
    ``refit_after`` steps later it retrains once more on all the data since the change,
    now that more of it has arrived.

    Parameters
    ----------
    threshold
        Classification: retrain when accuracy < threshold. Regression: when mean
        absolute error > threshold. None: no absolute rule.
    drop
        Classification: retrain when accuracy falls more than this below its baseline.
        Regression: when mean absolute error rises more than this above it. None: no
        relative rule.
    window
        Number of most recent labels whose performance is monitored.
    min_labels
        Labels needed before the baseline is set and checks begin.
    refit_after
        Steps after a detection at which to retrain once more on the data since the
        estimated change (None: no refit).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> replay(stream, LogisticRegression(), Performance(drop=0.05)).events["step"].tolist()
    [30, 34]
    """

    _constraints = {
        "threshold": Interval("float", 0, allow_none=True),
        "drop": Interval("float", 0, closed="neither", allow_none=True),
        "window": Interval("int", 1),
        "min_labels": Interval("int", 1),
        "refit_after": Interval("int", 1, allow_none=True),
    }

    def __init__(self, threshold: float | None = None, drop: float | None = 0.05,
                 window: int = 500, min_labels: int = 500, refit_after: int | None = 4):
        self.threshold = threshold
        self.drop = drop
        self.window = window
        self.min_labels = min_labels
        self.refit_after = refit_after

    def reset(self, seed=None) -> Performance:
        """Validate the parameters and clear the label history."""
        self._start()
        if self.threshold is None and self.drop is None:
            raise ValueError("Performance needs a rule: set 'threshold', 'drop' or both. "
                             "Got threshold=None and drop=None.")
        self._model_id = None
        keep = 20 * max(self.window, self.min_labels)  # bounded memory
        self._loss = _Tail(keep, float)
        self._index = _Tail(keep, np.int64)
        self._baseline = None
        return self

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Refuse a window or a baseline needing more labels than the stream can deliver."""
        most = n_steps * step_size
        check(self, "window", self.window, Interval("int", 1, most))
        check(self, "min_labels", self.min_labels, Interval("int", 1, most))

    def _detect(self, obs: Observation) -> Decision:
        """Add the arrived labels of the deployed model and check its performance."""
        if obs.model_id != self._model_id:
            self._model_id = obs.model_id
            self._loss.clear()
            self._index.clear()
            self._baseline = None
        mine = obs.labels.model_id == obs.model_id
        if mine.any():
            self._loss.extend(sample_loss(obs.labels.y[mine], obs.labels.y_pred[mine],
                                          obs.task))
            self._index.extend(obs.labels.index[mine])
        if len(self._loss) < self.min_labels:
            return Decision(False)
        if self._baseline is None:
            self._baseline = float(self._loss.values[: self.min_labels].mean())
        loss = float(self._loss.values[-self.window:].mean())
        if obs.task == "regression":
            stats = {"mae": loss, "baseline": self._baseline}
            limit = self.threshold
            text = f"mean absolute error {loss:.4g}"
            above, over = "above", lambda x: x
        else:
            stats = {"accuracy": 1 - loss, "baseline": 1 - self._baseline}
            limit = None if self.threshold is None else 1 - self.threshold
            text = f"accuracy {1 - loss:.3f}"
            above, over = "below", lambda x: 1 - x
        if limit is not None and loss > limit:
            reason = f"{text} {above} threshold {self.threshold}"
        elif self.drop is not None and loss > self._baseline + self.drop:
            reason = (f"{text} moved more than {self.drop} {above} its baseline "
                      f"{over(self._baseline):.4g}")
        else:
            return Decision(False, stats=stats)
        return Decision(True, reason, stats, since=self._change_point())

    def _change_point(self) -> int | None:
        """Sample index where the deployed model's loss most likely rose, if it did.

        The maximum of the standardised CUSUM of the loss sequence is the split that
        best separates a better part before from a worse part after (the maximum
        likelihood change point for a shift in mean). It is returned only when the two
        parts differ significantly (z > 3); otherwise None.
        """
        c = -self._loss.values  # higher is better
        n = len(c)
        sd = c.std()
        if n < 2 or sd == 0:
            return None
        split = np.arange(1, n)
        s = np.cumsum(c - c.mean())[:-1] / np.sqrt(split * (n - split) / n)
        k = int(np.argmax(s)) + 1
        z = s[k - 1] / sd  # = (mean before - mean after) / its standard error
        return int(self._index.values[k]) if z > 3 else None


class ErrorDetector(_Detecting):
    """Retrain when a streaming detector signals a change in the error stream.

    The losses (0/1 errors; absolute errors for regression) of the deployed model's
    arrived labels are fed, in arrival order, to
    ``detector`` (DDM, EDDM, Page-Hinkley, ADWIN, KSWIN, CUSUM, HDDM-A); it restarts with
    every new model. The estimated change point is the start of the detector's warning
    zone when it has one (``use_warning``), else the detection point itself.

    Parameters
    ----------
    detector
        A :class:`~strategies.detectors.StreamingDetector`.
    use_warning
        Start the ``since_change`` training window at the warning zone (DDM-style).
    refit_after
        Steps after a detection at which to retrain once more on the data since the
        estimated change (None: no refit).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from strategies.detectors import PageHinkley
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> trigger = ErrorDetector(PageHinkley())
    >>> replay(stream, LogisticRegression(), trigger).events["reason"].tolist()
    ['PageHinkley detected a drift at error #...', 'refit on the new concept since sample ...']
    """

    _constraints = {
        "detector": Instance("a StreamingDetector (DDM, ADWIN, ...)",
                             classes=(StreamingDetector,)),
        "use_warning": Options((False, True)),
        "refit_after": Interval("int", 1, allow_none=True),
    }

    def __init__(self, detector: StreamingDetector | None = None, use_warning: bool = True,
                 refit_after: int | None = 4):
        self.detector = detector
        self.use_warning = use_warning
        self.refit_after = refit_after

    def reset(self, seed=None) -> ErrorDetector:
        """Validate the detector and restart it."""
        self._start()
        self._detector = _seeded(self.detector, seed).reset()
        self._model_id = None
        self._index = _Tail(100_000, np.int64)  # sample index of the errors fed (newest)
        return self

    def _detect(self, obs: Observation) -> Decision:
        """Feed the deployed model's arrived errors to the detector."""
        if obs.model_id != self._model_id:
            self._model_id = obs.model_id
            self._detector.reset()
            self._index.clear()
        mine = obs.labels.model_id == obs.model_id
        if not mine.any():
            return Decision(False)
        errors = sample_loss(obs.labels.y[mine], obs.labels.y_pred[mine], obs.task)
        self._index.extend(obs.labels.index[mine])
        det = self._detector.update(errors)
        stats = {"warning": float(det.warning_detected)}
        if not det.drift_detected:
            return Decision(False, stats=stats)
        at = int(det.drift_indices[-1])
        start = det.warning_start if (self.use_warning and det.warning_start is not None) else at
        kept = self._index.values
        since = int(kept[min(max(start - self._index.dropped, 0), len(kept) - 1)])
        return Decision(True, f"{type(det).__name__} detected a drift at error #{at}",
                        stats, since=since)


class DriftAware(_Detecting):
    """Drift-aware reference: retrain once labels of each new concept arrive (plus ``delay``).

    It alone receives the ground truth, through :meth:`reveal`, which the engine calls
    for triggers whose ``requires_ground_truth`` is True. It retrains once the first
    label from after a drift's start has arrived, with the start as the change point
    (so the ``since_change`` window trains on the new concept only); for a gradual or
    incremental drift it retrains again (a follow-up) once labels from after the drift's
    end arrive, with the end as the change point; and like the detecting triggers it refits
    ``refit_after`` steps after its last retrain on the data gathered since. Use it as
    a reference, never as a production policy. It is not a ceiling: retraining at every
    drift is not the best schedule (late labels, gradual drifts, weak short windows);
    the hindsight optimum (:mod:`sim.oracle`) is the ceiling.

    Parameters
    ----------
    delay
        Steps to wait after the first label from after a drift's start has arrived.
    refit_after
        Steps after the first retrain at which to retrain once more on the data since
        the drift (None: no refit).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> replay(stream, LogisticRegression(), DriftAware(delay=1)).events["step"].tolist()
    [31, 35]
    """

    requires_ground_truth = True

    _constraints = {
        "delay": Interval("int", 0),
        "refit_after": Interval("int", 1, allow_none=True),
    }

    def __init__(self, delay: int = 0, refit_after: int | None = 4):
        self.delay = delay
        self.refit_after = refit_after

    def reset(self, seed=None) -> DriftAware:
        """Validate ``delay``; the ground truth arrives through :meth:`reveal`."""
        self._start()
        self._marks: list[tuple[int, str, bool]] = []
        self._due: list[tuple[int, int, str, bool]] = []
        return self

    def reveal(self, drifts: tuple[Drift, ...], step_size: int) -> None:
        """Receive the true drifts (sample indices) and the step size."""
        marks = [(d.start, f"true drift at sample {d.start}", False) for d in drifts]
        marks += [(d.end, f"true drift complete at sample {d.end}", True) for d in drifts
                  if d.end > d.start]
        self._marks = sorted(marks)

    def _detect(self, obs: Observation) -> Decision:
        """Fire ``delay`` steps after the first label from past a drift's start or end."""
        newest = obs.labels.index.max() if len(obs.labels) else -1
        while self._marks and newest >= self._marks[0][0]:
            self._due.append((obs.t + self.delay, *self._marks.pop(0)))
        if self._due and obs.t >= self._due[0][0]:
            _, since, reason, follow_up = self._due.pop(0)
            return Decision(True, reason, since=since, follow_up=follow_up)
        return Decision(False)

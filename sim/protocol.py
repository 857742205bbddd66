"""The rules of time, once: what a replay may know at each step.

The replay engine (:mod:`sim.engine`) and the hindsight oracle (:mod:`sim.oracle`) both
follow these rules, and both call the code here rather than keeping copies:

- :class:`Protocol`: the parameters (steps, labels, windows, deployment);
- :func:`child_seeds`, :func:`seeded_clone`: where a run's randomness comes from;
- :class:`LabelArrival`: which labels of the scored samples ever arrive (``label_rate``,
  with its random draws) and at which step (``label_delay``);
- :class:`TrainingWindows`: which arrived labels a retrain trains on and which it holds
  out for the gate or the trigger (every window policy, ``train_window``, ``min_train``,
  ``n_val``, ``n_holdout``);
- :func:`initial_segment`: the whole steps that train the first model.

The evaluation settings (``benefit_window``, ``min_benefit``, ``recovery_*``,
``exposure``) are
parameters of :class:`Protocol` too, so that one config sets a run, but they are no rule
of time: :attr:`Protocol.evaluation` hands them to :func:`sim.metrics.summarize` as an
:class:`~sim.types.Evaluation`, and :meth:`Protocol.rules` leaves them out (the oracle's
cache key is built from the rules).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator, clone

from sim.checks import Interval, Options, param_error, validate
from sim.types import Evaluation

__all__ = ["WINDOWS", "LabelArrival", "Protocol", "TrainingWindows", "child_seeds",
           "initial_segment", "seeded_clone"]

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
    exposure
        Measure the *exposure* of every run (``exposed_samples``, ``exposed_share``,
        ``exposed_accuracy_lost``, see :func:`sim.metrics.summarize`): every retrained
        model that serves is also scored against the model it challenged on the samples
        it served (one more prediction per served sample). Always on with a live gate
        (:class:`~strategies.base.LiveGate`); turn it on to compare a run without one.

    Examples
    --------
    >>> Protocol(step_size=250, label_delay=2).check().label_delay
    2
    >>> sorted(Protocol().rules())[:3], Protocol().evaluation.benefit_window
    (['deploy_latency', 'initial_train', 'label_delay'], 10)
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
        "exposure": Options((False, True)),
    }
    #: the parameters that judge a run rather than shape it (see :attr:`evaluation`)
    _evaluation = ("benefit_window", "min_benefit", "recovery_window", "recovery_tolerance",
                   "exposure")

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
        exposure: bool = False,
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
        self.exposure = exposure

    def check(self) -> Protocol:
        """Validate the parameters; return self."""
        validate(self)
        if self.min_train > self.train_window:
            raise param_error(self, "min_train", f"<= train_window ({self.train_window})",
                              self.min_train)
        return self

    def rules(self) -> dict:
        """Return the parameters that shape what a run sees and trains on (not the evaluation's)."""
        return {k: v for k, v in self.get_params().items() if k not in self._evaluation}

    @property
    def evaluation(self) -> Evaluation:
        """The settings the metrics judge a run with (see :func:`sim.metrics.summarize`)."""
        return Evaluation(**{k: getattr(self, k) for k in self._evaluation})

    def serves_from(self, t):
        """Return the first step a model retrained on the decision of step(s) ``t`` serves.

        The rule of deployment: a retrain decided at ``t`` serves from
        ``t + 1 + deploy_latency`` (``t`` may be an array of steps).

        Examples
        --------
        >>> Protocol(deploy_latency=2).serves_from(10)
        13
        """
        return t + 1 + self.deploy_latency

    def decided_at(self, serve_step):
        """Return the decision step of a retrain that serves from ``serve_step`` (the inverse).

        Examples
        --------
        >>> Protocol(deploy_latency=2).decided_at(13)
        10
        """
        return serve_step - 1 - self.deploy_latency

    def check_stream(self, n_samples: int) -> int:
        """Check that the windows fit in a stream of ``n_samples``; return the steps scored.

        Examples
        --------
        >>> Protocol(step_size=500, initial_train=5000).check_stream(20_000)
        30
        >>> Protocol(step_size=500, initial_train=5000).check_stream(5_000)
        Traceback (most recent call last):
        ...
        sim.checks.ParamError: The 'initial_train' parameter of Protocol must leave at least...
        """
        step = self.step_size
        n_scored = -(-n_samples // step) - -(-self.initial_train // step)
        if n_scored < 1:
            raise param_error(
                self, "initial_train",
                f"leave at least one step to score: the stream has {n_samples} samples, fewer "
                f"than initial_train={self.initial_train} plus a step of {step}",
                self.initial_train, verb="")
        if self.train_window > n_samples:
            raise param_error(self, "train_window", f"<= the stream's n_samples ({n_samples})",
                              self.train_window)
        return n_scored


def child_seeds(seed: int) -> dict[str, int]:
    """Return the independent child seeds of a run: stream, labels, model, trigger, traffic.

    ``traffic`` draws which samples a canary challenger serves (:class:`~strategies.Canary`).

    Everything that must reproduce a run's data (the oracle, baselines, benchmarks)
    derives its seeds from here.

    Examples
    --------
    >>> sorted(child_seeds(0))
    ['labels', 'model', 'stream', 'traffic', 'trigger']
    >>> child_seeds(0) == child_seeds(0)
    True
    """
    children = np.random.SeedSequence(seed).spawn(5)  # the first four as with spawn(4)
    names = ("stream", "labels", "model", "trigger", "traffic")
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


def initial_segment(sizes, initial_train: int) -> int:
    """Return how many whole steps, of ``sizes`` samples each, train the first model.

    The initial segment is the first steps until they hold ``initial_train`` samples;
    a stream too short for it is refused. ``sizes`` may be any iterable (the engine
    counts steps as it reads them).

    Examples
    --------
    >>> initial_segment([500, 500, 500], 800)
    2
    """
    n = 0
    for j, size in enumerate(sizes):
        n += int(size)
        if n >= initial_train:
            return j + 1
    raise ValueError(f"The stream has {n} samples, fewer than initial_train={initial_train}: "
                     "it must be longer than the initial training segment.")


def check_initial_labels(y: np.ndarray, task: str) -> None:
    """Refuse an initial training segment a classifier cannot learn from (a single class)."""
    if task == "classification" and len(np.unique(y)) < 2:
        raise ValueError(
            f"The initial training segment (first {len(y)} samples) has a single class "
            f"({y[:1].tolist()[0]!r}); a classifier needs at least two. Increase initial_train.")


class LabelArrival:
    """Which labels of the scored samples arrive, and at which step.

    Every label of the initial segment is known from the start. Of the scored samples,
    each label arrives with probability ``label_rate``, decided by one uniform draw per
    sample from the run's ``labels`` child seed, in stream order (drawing the scored
    samples in pieces gives the same draws as all at once); the labels of step ``t``
    arrive at step ``t + label_delay``, before the trigger looks at it.

    Examples
    --------
    >>> arrival = LabelArrival(Protocol(label_rate=0.5, label_delay=2), seed=0)
    >>> draws = arrival.draw(6)
    >>> arrival.mask(draws).tolist(), arrival.due(10), arrival.complete_through(12)
    ([False, True, True, True, False, False], 12, 10)
    >>> LabelArrival(Protocol(), seed=0).draw(6) is None  # every label arrives: no draws
    True
    """

    def __init__(self, protocol: Protocol, seed: int):
        self.rate = protocol.label_rate
        self.delay = protocol.label_delay
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def draw(self, n: int) -> np.ndarray | None:
        """Return the draws of the next ``n`` scored samples (None when every label arrives)."""
        return None if self.rate == 1 else self._rng.random(n)

    def mask(self, draws: np.ndarray | None, n: int | None = None) -> np.ndarray:
        """Return which of the drawn samples' labels arrive (``n`` True without draws)."""
        return np.ones(n, dtype=bool) if draws is None else draws < self.rate

    def due(self, t):
        """Return the step at which the labels of step(s) ``t`` arrive."""
        return t + self.delay

    def complete_through(self, t):
        """Return the last step whose labels have all arrived at step ``t`` (:meth:`due` inverted).

        The labels of step ``s`` are complete by ``s + label_delay``: at ``t`` those of
        every step up to ``t - label_delay`` (a step before the first scored one: none yet).
        """
        return t - self.delay

    def identity(self, first_scored: int) -> tuple:
        """Return what fixes the mask, for cache keys: all labels, or seed, rate and start."""
        if self.rate == 1:
            return ("all",)
        return (self.seed, float(self.rate), int(first_scored))


class TrainingWindows:
    """Which arrived labels a retrain trains on, and which it holds out of the fit.

    Arrived labels are numbered by arrival (oldest first; their sample indices increase).
    With ``n`` arrived, the newest ``n_val`` are held out for the gate and the newest
    ``n_holdout`` for the trigger (its :class:`~sim.types.Holdout`; the two overlap), and
    the training window ends just before the newest ``max(n_val, n_holdout)``; it holds at
    most ``train_window`` labels (every one for ``"expanding"``), and for the ``since_*``
    policies only those of samples from the policy's sample index on, reaching further
    back to hold at least ``min_train``. The initial model is trained on the initial
    segment but its newest ``n_holdout`` labels (the gate judges no initial model).

    Parameters
    ----------
    protocol
        The run's :class:`Protocol`.
    n_val
        Labels the gate holds out (0: no gate, or none).
    n_holdout
        Labels the trigger holds out (``Trigger.n_holdout``; 0: none).

    Examples
    --------
    >>> index = np.arange(0, 3000)  # the sample indices of the arrived labels
    >>> windows = TrainingWindows(Protocol(window="since_change", train_window=1000,
    ...                                    min_train=200), n_val=100)
    >>> windows.span(3000, index, since=None), windows.span(3000, index, since=2850)
    ((1900, 2900), (2700, 2900))
    >>> windows.validation(3000)
    (2900, 3000)
    >>> held = TrainingWindows(Protocol(window="sliding", train_window=1000), 100, 400)
    >>> held.span(3000, index, since=None), held.holdout(3000), held.initial(2000)
    ((1600, 2600), (2600, 3000), slice(0, 1600, None))
    """

    def __init__(self, protocol: Protocol, n_val: int = 0, n_holdout: int = 0):
        self.policy = protocol.window
        self.cap = None if protocol.window == "expanding" else protocol.train_window
        self.min_train = protocol.min_train
        self.n_val = n_val
        self.n_holdout = n_holdout
        self.n_held = max(n_val, n_holdout)  # the newest labels no retrain trains on

    @property
    def capacity(self) -> int | None:
        """The most recent labels a run must keep (None: all)."""
        return None if self.cap is None else self.cap + self.n_held

    def initial(self, n_initial: int, owner: str = "Trigger") -> slice:
        """Return the positions the initial model trains on: all but the newest ``n_holdout``.

        ``owner`` names the trigger in the error for an ``n_holdout`` the initial segment
        of ``n_initial`` labels cannot spare.
        """
        if self.n_holdout >= n_initial:
            raise ValueError(
                f"The 'n_holdout' parameter of {owner} must be < the initial training "
                f"segment ({n_initial} samples), which it is held out of. Got "
                f"{self.n_holdout!r} instead.")
        return slice(0, n_initial - self.n_holdout)

    def since(self, change: int | None, last_retrain: int) -> int | None:
        """Return the first sample index the policy trains from (None: no such bound).

        ``change`` is the change point a trigger estimated (``Decision.since``) and
        ``last_retrain`` the first sample after the step of the previous retrain decision
        (the first sample of the stream before any).
        """
        if self.policy == "since_retrain":
            return last_retrain
        if self.policy == "since_change":
            return change
        return None

    def span(self, n_arrived: int, index: np.ndarray | Callable[[int, int], int],
             since: int | None) -> tuple[int, int]:
        """Return arrival positions ``[lo, hi)`` of the training window.

        ``index`` holds the sample indices of the arrived labels (by arrival position), or
        is a function ``(since, hi) -> the first position before hi whose sample index is
        >= since``. The window is empty (``lo == hi``) when nothing is left to train on.
        """
        hi = max(n_arrived - self.n_held, 0)
        lo = 0 if self.cap is None else max(0, hi - self.cap)
        if since is not None:
            first = index(since, hi) if callable(index) else int(
                np.searchsorted(index[:hi], since))
            lo = max(lo, first)
            if hi - lo < self.min_train:
                lo = max(0, hi - self.min_train)
        return lo, hi

    def validation(self, n_arrived: int) -> tuple[int, int]:
        """Return arrival positions ``[lo, hi)`` of the labels held out for the gate."""
        return max(n_arrived - self.n_val, 0), n_arrived

    def holdout(self, n_arrived: int) -> tuple[int, int]:
        """Return arrival positions ``[lo, hi)`` of the labels held out for the trigger."""
        return max(n_arrived - self.n_holdout, 0), n_arrived

"""Triggers made of triggers: votes, cooldowns, warm-ups and budgets.

Every child sees every observation (so its state stays current) and hears of every
retrain, whichever child asked for it. A planned refit (``Decision.follow_up``) stays
one through every combinator: a vote made of follow-ups only is a follow-up, and
:class:`Cooldown` never holds a planned refit back (it spaces detections).
"""

from __future__ import annotations

from collections import deque

from sklearn.base import clone

from sim.checks import Instance, Interval, check, param_error, validate
from sim.types import Decision, Drift, Observation
from strategies.base import Trigger, TriggerTags

__all__ = ["AllOf", "AnyOf", "Budget", "Cooldown", "KOfN", "Warmup"]


def _check_children(owner, triggers) -> list[Trigger]:
    if not isinstance(triggers, (list, tuple)) or not triggers or not all(
        isinstance(t, Trigger) for t in triggers
    ):
        raise param_error(owner, "triggers", "a non-empty list of triggers", triggers)
    return [clone(t) for t in triggers]


def _names(children) -> list[str]:
    """Return unique, readable prefixes for the children's statistics."""
    names = [type(c).__name__.lower() for c in children]
    return [f"{i}_{n}" if names.count(n) > 1 else n for i, n in enumerate(names)]


class _Combined(Trigger):
    """A trigger made of triggers: its tags combine its children's, read from its parameters.

    The attribute names of the tags read the combined tags, so that code written against
    them (e.g. a user's wrapper forwarding ``trigger.n_holdout``) sees what the engine
    sees.
    """

    requires_ground_truth = property(lambda self: self.__retrain_tags__().requires_ground_truth)
    needs_scores = property(lambda self: self.__retrain_tags__().needs_scores)
    n_holdout = property(lambda self: self.__retrain_tags__().n_holdout)


class _Vote(_Combined):
    """Retrain when at least ``_needed()`` children fired within the last ``within`` steps."""

    def _needed(self) -> int:
        raise NotImplementedError

    def reset(self, seed=None):
        """Validate the parameters and reset every child."""
        self._children = _check_children(self, self.triggers)
        validate(self)
        for child in self._children:
            child.reset(seed)
        self._prefixes = _names(self._children)
        self._fired: list[deque] = [deque() for _ in self._children]
        return self

    def update(self, obs: Observation) -> Decision:
        """Update every child and count those that fired recently."""
        stats, reasons, sinces, follow_ups = {}, [], [], []
        for i, (child, prefix) in enumerate(zip(self._children, self._prefixes, strict=False)):
            decision = child.update(obs)
            stats |= {f"{prefix}_{k}": v for k, v in decision.stats.items()}
            fired = self._fired[i]
            if decision.retrain:
                fired.append(obs.t)
                reasons.append(f"{prefix}: {decision.reason}")
                follow_ups.append(decision.follow_up)
                if decision.since is not None:
                    sinces.append(decision.since)
            while fired and fired[0] <= obs.t - self.within:
                fired.popleft()
        n_fired = sum(bool(f) for f in self._fired)
        stats["n_fired"] = n_fired
        if n_fired >= self._needed() and reasons:
            return Decision(True, "; ".join(reasons), stats, since=max(sinces, default=None),
                            follow_up=all(follow_ups))
        return Decision(False, stats=stats)

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Tell every child, and start counting votes afresh."""
        for child, fired in zip(self._children, self._fired, strict=False):
            child.on_retrain(t, accepted)
            fired.clear()

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Let every child check the stream."""
        for child in self._children:
            child.check_stream(n_steps, step_size)

    def check_model(self, model, task: str) -> None:
        """Let every child check the model."""
        for child in self._children:
            child.check_model(model, task)

    def reveal(self, drifts: tuple[Drift, ...], step_size: int) -> None:
        """Pass the ground truth to the children that require it."""
        for child in self._children:
            if child.__retrain_tags__().requires_ground_truth:
                child.reveal(drifts, step_size)

    def set_cost(self, cost, n_train: int) -> None:
        """Pass the run's cost model on to every child."""
        for child in self._children:
            child.set_cost(cost, n_train)

    def __retrain_tags__(self) -> TriggerTags:
        """Return the children's tags combined (:meth:`~sim.interfaces.TriggerTags.combine`)."""
        return TriggerTags().combine(*(child.__retrain_tags__() for child in self.triggers))


_TRIGGER = Instance("a trigger", classes=(Trigger,))


class AnyOf(_Vote):
    """Retrain when any child fires.

    Parameters
    ----------
    triggers
        The child triggers.
    within
        A child's vote counts for this many steps (1: the same step).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from strategies import Periodic, Performance
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> trigger = AnyOf([Periodic(every=25), Performance(drop=0.05)])
    >>> replay(stream, LogisticRegression(), trigger).events["step"].tolist()
    [30, 34, 59]
    """

    _constraints = {"within": Interval("int", 1)}

    def __init__(self, triggers: list[Trigger] = (), within: int = 1):
        self.triggers = triggers
        self.within = within

    def _needed(self) -> int:
        return 1


class AllOf(_Vote):
    """Retrain when every child has fired within the last ``within`` steps.

    Parameters
    ----------
    triggers
        The child triggers.
    within
        A child's vote counts for this many steps (1: all must fire at the same step).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from strategies import Periodic, Performance
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> trigger = AllOf([Periodic(every=5), Performance(drop=0.05)], within=5)
    >>> replay(stream, LogisticRegression(), trigger).events["step"].tolist()
    [30, 35]
    """

    _constraints = {"within": Interval("int", 1)}

    def __init__(self, triggers: list[Trigger] = (), within: int = 1):
        self.triggers = triggers
        self.within = within

    def _needed(self) -> int:
        return len(self._children)


class KOfN(_Vote):
    """Retrain when at least ``k`` children fired within the last ``within`` steps.

    Parameters
    ----------
    triggers
        The child triggers.
    k
        Votes needed.
    within
        A child's vote counts for this many steps.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from strategies import Periodic, Performance
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> trigger = KOfN([Periodic(every=7), Periodic(every=11), Performance()], k=2, within=3)
    >>> replay(stream, LogisticRegression(), trigger).events["step"].tolist()
    [...]
    """

    _constraints = {"within": Interval("int", 1)}

    def __init__(self, triggers: list[Trigger] = (), k: int = 2, within: int = 1):
        self.triggers = triggers
        self.k = k
        self.within = within

    def reset(self, seed=None) -> KOfN:
        """Validate ``k`` against the number of children, then reset them."""
        super().reset(seed)
        check(self, "k", self.k, Interval("int", 1, len(self._children)))
        return self

    def _needed(self) -> int:
        return self.k


class _Wrapper(_Combined):
    """A trigger that filters one child's decisions."""

    def reset(self, seed=None):
        """Validate the child and reset it."""
        validate(self)
        self._child = clone(self.trigger).reset(seed)
        return self

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Tell the child."""
        self._child.on_retrain(t, accepted)

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Let the child check the stream."""
        self._child.check_stream(n_steps, step_size)

    def check_model(self, model, task: str) -> None:
        """Let the child check the model."""
        self._child.check_model(model, task)

    def reveal(self, drifts: tuple[Drift, ...], step_size: int) -> None:
        """Pass the ground truth on to the child."""
        self._child.reveal(drifts, step_size)

    def set_cost(self, cost, n_train: int) -> None:
        """Pass the run's cost model on to the child."""
        self._child.set_cost(cost, n_train)

    def __retrain_tags__(self) -> TriggerTags:
        """Return the child's tags: a filter needs what its child needs."""
        return self.trigger.__retrain_tags__()

    @staticmethod
    def _suppress(decision: Decision) -> Decision:
        """Turn a retrain into a no, keeping the child's statistics."""
        return Decision(False, stats=dict(decision.stats) | {"suppressed": 1.0})


class Cooldown(_Wrapper):
    """Let a detection through only when ``min_gap`` steps have passed since the last retrain.

    A planned refit (a decision with ``follow_up``) always passes: the cooldown spaces
    detections, it does not cancel the refit a detection scheduled.

    Parameters
    ----------
    trigger
        The child trigger.
    min_gap
        Fewest steps between two retrains.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from strategies import Periodic
    >>> trigger = Cooldown(Periodic(every=1), min_gap=4)
    >>> replay(SEA(n_samples=10_000), LogisticRegression(), trigger).events["step"].tolist()
    [10, 14, 18]
    """

    _constraints = {"trigger": _TRIGGER, "min_gap": Interval("int", 0)}

    def __init__(self, trigger: Trigger | None = None, min_gap: int = 5):
        self.trigger = trigger
        self.min_gap = min_gap

    def reset(self, seed=None) -> Cooldown:
        """Validate ``min_gap`` and reset the child."""
        super().reset(seed)
        self._last: int | None = None
        return self

    def update(self, obs: Observation) -> Decision:
        """Pass the child's decision on unless it comes too soon."""
        decision = self._child.update(obs)
        if (decision.retrain and not decision.follow_up and self._last is not None
                and obs.t - self._last < self.min_gap):
            return self._suppress(decision)
        return decision

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Start the cooldown."""
        self._last = t
        super().on_retrain(t, accepted)


class Warmup(_Wrapper):
    """Ignore the child for the first ``n_steps`` steps of the run.

    Parameters
    ----------
    trigger
        The child trigger.
    n_steps
        Scored steps at the start during which no retrain is allowed.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from strategies import Periodic
    >>> trigger = Warmup(Periodic(every=1), n_steps=7)
    >>> replay(SEA(n_samples=10_000), LogisticRegression(), trigger).events["step"].tolist()
    [17, 18, 19]
    """

    _constraints = {"trigger": _TRIGGER, "n_steps": Interval("int", 0)}

    def __init__(self, trigger: Trigger | None = None, n_steps: int = 10):
        self.trigger = trigger
        self.n_steps = n_steps

    def reset(self, seed=None) -> Warmup:
        """Validate ``n_steps`` and reset the child."""
        super().reset(seed)
        self._first: int | None = None
        return self

    def update(self, obs: Observation) -> Decision:
        """Pass the child's decision on once the warm-up is over."""
        if self._first is None:
            self._first = obs.t
        decision = self._child.update(obs)
        if decision.retrain and obs.t - self._first < self.n_steps:
            return self._suppress(decision)
        return decision


class Budget(_Wrapper):
    """Allow at most ``max_retrains`` retrains (in all, or within any ``period`` steps).

    Parameters
    ----------
    trigger
        The child trigger.
    max_retrains
        Most retrains allowed.
    period
        None: over the whole run; an int: within any window of this many steps.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from strategies import Periodic
    >>> trigger = Budget(Periodic(every=2), max_retrains=3)
    >>> replay(SEA(n_samples=10_000), LogisticRegression(), trigger).events["step"].tolist()
    [11, 13, 15]
    """

    _constraints = {
        "trigger": _TRIGGER,
        "max_retrains": Interval("int", 0),
        "period": Interval("int", 1, allow_none=True),
    }

    def __init__(self, trigger: Trigger | None = None, max_retrains: int = 10,
                 period: int | None = None):
        self.trigger = trigger
        self.max_retrains = max_retrains
        self.period = period

    def reset(self, seed=None) -> Budget:
        """Validate the budget and reset the child."""
        super().reset(seed)
        self._spent: deque[int] = deque()
        return self

    def update(self, obs: Observation) -> Decision:
        """Pass the child's decision on while budget remains."""
        decision = self._child.update(obs)
        if self.period is not None:
            while self._spent and self._spent[0] <= obs.t - self.period:
                self._spent.popleft()
        left = self.max_retrains - len(self._spent)
        if decision.retrain and left <= 0:
            return self._suppress(decision)
        return decision

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Spend one retrain."""
        self._spent.append(t)
        super().on_retrain(t, accepted)

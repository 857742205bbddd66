"""A person in the loop: every retrain request is an alert that waits for approval.

In production a trigger seldom retrains by itself: it alerts an engineer, who looks at
the alert and starts the retrain some time later, and who can act on only so many
alerts a week. :class:`Approval` wraps any trigger to simulate that person.
"""

from __future__ import annotations

from collections import deque

from sim.checks import Interval, check, param_error
from sim.types import Decision, Observation
from strategies.combinators import _TRIGGER, _Wrapper

__all__ = ["Approval"]


class Approval(_Wrapper):
    """Make every retrain request of ``trigger`` an alert that a person approves.

    Each request of the child that is not a planned refit raises an **alert**. The
    person acts on it when no approved alert is still waiting and the alert budget
    allows (at most ``budget`` alerts acted upon within any ``period`` steps); the
    retrain then starts ``latency`` steps after the alert, at step ``t + latency``,
    training on the labels that have arrived by then with the child's estimate of the
    change point (``since``), and deploys ``deploy_latency`` steps after that like any
    retrain. An alert raised while an approved one waits is counted but not acted on
    (the waiting retrain answers it), and so is one over the budget; the child is only
    told of retrains that happen, so a monitor whose condition persists keeps alerting
    until its retrain starts (that is what alert fatigue counts).

    A planned refit (a decision with ``follow_up``) of an alert that was acted upon is
    part of the response the person approved: it raises no alert, spends no budget,
    stays a planned refit for the metrics, and comes as many steps after the retrain as
    the child planned it after its alert (so a refit stays after the retrain it
    follows, whatever the latency). When it falls on the step an approved retrain
    starts, that retrain (on the newest labels) stands for both. A refit of an alert
    that was not acted upon is an alert of its own.

    Every step records the statistics ``alert_raised``, ``alert_acted`` and
    ``alert_retrain`` (an approved alert's retrain starts; 1 or 0) beside the child's;
    :func:`sim.metrics.alerts` counts them into the summary. Wrap
    the whole trigger: a combinator around :class:`Approval` could suppress a retrain
    the person approved.

    Parameters
    ----------
    trigger
        The child trigger whose requests are alerts.
    latency
        Steps between an alert and the start of its retrain (0: the same step).
    budget
        Most alerts acted upon within ``period`` steps; None: every alert that does not
        arrive while another waits.
    period
        The budget's window in steps (any ``period`` consecutive steps); None: the
        whole run. Needs a ``budget``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from strategies import Periodic
    >>> trigger = Approval(Periodic(every=4), latency=2, budget=1, period=10)
    >>> result = replay(SEA(n_samples=15_000), LogisticRegression(), trigger)
    >>> result.events["step"].tolist()
    [15, 25]
    >>> {k: result.summary[k] for k in ("alerts_raised", "alerts_acted", "alerts_not_acted")}
    {'alerts_raised': 11, 'alerts_acted': 2, 'alerts_not_acted': 9}
    """

    _constraints = {
        "trigger": _TRIGGER,
        "latency": Interval("int", 0),
        "budget": Interval("int", 1, allow_none=True),
        "period": Interval("int", 1, allow_none=True),
    }

    def __init__(self, trigger=None, latency: int = 2, budget: int | None = None,
                 period: int | None = None):
        self.trigger = trigger
        self.latency = latency
        self.budget = budget
        self.period = period

    def reset(self, seed=None) -> Approval:
        """Validate the parameters, reset the child and forget every alert."""
        super().reset(seed)
        if self.period is not None and self.budget is None:
            raise param_error(self, "period", "None when 'budget' is None (a period is the "
                              "window of an alert budget)", self.period)
        self._acted: deque[int] = deque()  # steps of the alerts acted upon (the budget spent)
        self._waiting: tuple[int, int, Decision] | None = None  # (start step, alert step, ask)
        self._last: tuple[int, int | None] | None = None  # newest alert, its retrain's start
        self._refit: tuple[int, Decision] | None = None  # a planned refit held back
        return self

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Refuse a latency that no approved retrain could outlast on ``n_steps`` steps."""
        check(self, "latency", self.latency, Interval("int", 0, n_steps - 1))
        super().check_stream(n_steps, step_size)

    def update(self, obs: Observation) -> Decision:
        """Raise an alert for the child's request, act on it if allowed, start due retrains."""
        t, decision = obs.t, self._child.update(obs)
        refit = decision.retrain and decision.follow_up
        if refit and (self._last is None or self._last[1] is None):
            refit = False  # the detection it follows was not acted upon: an alert of its own
        raised = decision.retrain and not refit
        acted = raised and self._waiting is None and self._within_budget(t)
        if acted:
            self._acted.append(t)
            self._waiting = (t + self.latency, t, decision)
        if raised:  # answered by the waiting retrain, if any
            self._last = (t, self._waiting[0] if self._waiting is not None else None)
        if refit:  # as many steps after the retrain as the child planned after its alert
            alerted, started = self._last
            self._refit = (max(t, started + t - alerted), decision)
        stats = dict(decision.stats) | {"alert_raised": float(raised),
                                        "alert_acted": float(acted), "alert_retrain": 0.0}
        if self._waiting is not None and self._waiting[0] <= t:
            _, alerted, ask = self._waiting
            self._waiting = None
            stats["alert_retrain"] = 1.0
            if self._refit is not None and self._refit[0] <= t:
                self._refit = None  # the approved retrain, on the newest labels, stands for it
            reason = ask.reason if alerted == t else f"alert of step {alerted} approved " \
                                                     f"({ask.reason})"
            return Decision(True, reason, stats, since=ask.since)
        if self._refit is not None and self._refit[0] <= t:
            _, ask = self._refit
            self._refit = None
            return Decision(True, ask.reason, stats, since=ask.since, follow_up=True)
        return Decision(False, stats=stats)

    def _within_budget(self, t: int) -> bool:
        """Whether one more alert may be acted upon at step ``t``."""
        if self.budget is None:
            return True
        if self.period is not None:
            while self._acted and self._acted[0] <= t - self.period:
                self._acted.popleft()
        return len(self._acted) < self.budget

"""Live rollouts: a challenger judged on live traffic before (or while) it serves everyone.

A :class:`LiveGate` is a gate that goes on judging on live traffic, as production
validates a retrain. The engine first asks its :meth:`~LiveGate.accept` (the offline
check of the gate it wraps, ``gate``: a challenger that fails it never goes live), then
asks it to :meth:`~LiveGate.start_trial`: the gate creates a :class:`Rollout` (its
class attribute ``rollout``) from the step the challenger could serve. The engine keeps
one optional current rollout and calls it, at every step it looks (each look is an entry
``"look"`` on the engine's :class:`~sim.engine.Agenda`, put there by the previous one):

1. :meth:`Rollout.serve`: which model serves each sample of the step (the champion's
   predictions, the challenger's on request), and what that cost;
2. :meth:`Rollout.observe`: the step's arrived labels;
3. :meth:`Rollout.evidence`: a :class:`~sim.types.Trial` of the arrived labels so far,
   which the gate's :meth:`~LiveGate.judge` answers with True, False or None (wait; never
   at the trial's last look, ``trial.final``);
4. :meth:`Rollout.resolve`: the verdict turned into :class:`Actions` (deploy the
   challenger, restore the previous model, append an event row) and into the retrain's
   event row (``accepted``, ``trial_end``, ``gate_reason``); the rollout is
   :attr:`~Rollout.done`, or looks again at the next step.

A new retrain ends a running rollout (:meth:`Rollout.interrupt`), and so does the end of
the run (:meth:`Rollout.abandon`). The trigger's ``on_retrain`` hears the offline verdict
(True: gone to the trial).

The patterns: :class:`ShadowRollout` (the challenger predicts beside the champion on
every sample without serving), :class:`CanaryRollout` (it serves a seeded random share
of each step's samples), :class:`StagedRollout` (that share ramps through stages, each
with its own test), :class:`RollbackWatch` (it is deployed, serves everything and is
watched; the previous model stays ready to return). A new pattern is a :class:`Rollout`
subclass, a :class:`LiveGate` subclass whose ``rollout`` is it (in ``strategies``), and a
config in ``conf/gate/``; the engine does not change.

Examples
--------
A live gate that lets the challenger serve half the traffic and promotes it at the
canary's second look, whatever the labels say:

>>> from sklearn.linear_model import LogisticRegression
>>> from sim import replay
>>> from sim.scripted import AtSteps
>>> from sim.streams import SEA
>>> class Trusting(LiveGate):
...     rollout, fraction, steps, gate = CanaryRollout, 0.5, 2, None
...     def judge(self, trial):
...         return True if trial.final else None
>>> result = replay(SEA(n_samples=10_000), LogisticRegression(), AtSteps([12]),
...                 gate=Trusting(), seed=0)
>>> result.events[["step", "accepted", "trial_end", "deploy_step"]].values.tolist()
[[12, True, 14, 15]]
>>> timeline = result.timeline.set_index("step")
>>> timeline.loc[12:15, "challenger_share"].round(2).tolist()
[0.0, 0.53, 0.5, 0.0]
>>> timeline.loc[12:15, "model_id"].tolist()
[0, 0, 0, 1]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.checks import param_error, validate
from sim.interfaces import Gate, GateTags
from sim.types import Decision, Labels, Trial

__all__ = ["LIVE_EVENT_FIELDS", "Actions", "CanaryRollout", "Ledger", "LiveGate", "Rollout",
           "RollbackWatch", "Served", "ShadowRollout", "StagedRollout", "TrafficStep",
           "check_offline"]

#: the event fields of a run with a live gate, beside the retrain's, with their defaults:
#: ``kind`` (``"retrain"``, or an event row a rollout appended, e.g. ``"rollback"``),
#: ``trial_end`` (the step the live gate decided, -1: none) and ``cost_shadow`` (the
#: trial's shadow predictions)
LIVE_EVENT_FIELDS = {"kind": "retrain", "trial_end": -1, "cost_shadow": 0.0}


@dataclass(frozen=True)
class TrafficStep:
    """One step's traffic, as a rollout is asked to serve it.

    Parameters
    ----------
    t
        The step.
    first
        Sample index of its first sample.
    y_pred
        The deployed model's predictions of its samples (read-only).
    deployed
        The deployed model's id.
    challenger
        Returns the challenger's predictions of the step's samples (read-only); call it
        only if the challenger predicts (the engine computes them on request).
    """

    t: int
    first: int
    y_pred: np.ndarray
    deployed: int
    challenger: Callable[[], np.ndarray]


@dataclass(frozen=True)
class Served:
    """What users received at one step of a rollout.

    Parameters
    ----------
    y_pred
        The predictions served (read-only).
    model_id
        The model that served each sample (read-only), None when the deployed one
        served every sample.
    share
        Share of the step's samples the challenger served, for the timeline's
        ``challenger_share``; None: the step is not a trial step of the timeline (the
        challenger is the deployed model, as in a rollback watch).
    cost
        What the step's trial cost beyond serving (shadow predictions).
    """

    y_pred: np.ndarray
    model_id: np.ndarray | None = None
    share: float | None = None
    cost: float = 0.0


@dataclass(frozen=True)
class Actions:
    """What a rollout asks the engine to do.

    Parameters
    ----------
    deploy
        A model to serve everyone from step ``at`` on (the newest accepted model).
    restore
        A model to serve everyone again from step ``at`` on (judged no more).
    at
        The step ``deploy`` or ``restore`` serves from.
    row
        An event row to append (``step`` and ``reason`` at least; the other fields
        default as a retrain's row does).
    """

    deploy: Any = None
    restore: Any = None
    at: int = -1
    row: dict | None = None


class Ledger:
    """The arrived labels of the last steps, counted per (step, serving model).

    A live gate's evidence is read from it: the labels of the steps a rollout looks at,
    and, for a rollback watch, of the steps before the switch, which arrived before the
    rollout existed. It keeps the counts of steps ``t - memory - 1`` on.

    Parameters
    ----------
    memory
        Steps of counts a look reads back (the gate's :attr:`LiveGate.memory`).

    Examples
    --------
    >>> from sim.types import Labels
    >>> ledger = Ledger(memory=5)
    >>> labels = Labels(X=np.zeros((4, 1)), y=np.array([1, 0, 1, 1]),
    ...                 y_pred=np.array([1, 1, 1, 0]), model_id=np.array([0, 0, 2, 2]),
    ...                 index=np.arange(4), step=np.array([7, 7, 7, 8]))
    >>> ledger.add(9, labels)
    >>> ledger.count(0, 7, 9), ledger.count(2, 7, 9), ledger.count(2, 8, 9)
    ((2, 1), (2, 1), (1, 0))
    """

    def __init__(self, memory: int):
        self.memory = memory
        self.counts: dict[tuple[int, int], list[int]] = {}  # (step, model id): [n, right]

    def add(self, t: int, labels: Labels) -> None:
        """Count the labels that arrived at step ``t``; forget the steps out of memory."""
        if len(labels):
            right = labels.y_pred == labels.y
            base = int(labels.model_id.max()) + 1
            codes, inverse = np.unique(labels.step * base + labels.model_id, return_inverse=True)
            n, k = np.bincount(inverse), np.bincount(inverse, weights=right)
            for code, ni, ki in zip(codes.tolist(), n.tolist(), k.tolist(), strict=True):
                entry = self.counts.setdefault(divmod(code, base), [0, 0])
                entry[0] += ni
                entry[1] += int(ki)
        oldest = t - self.memory - 1
        self.counts = {k: v for k, v in self.counts.items() if k[0] >= oldest}

    def count(self, model_id: int, lo: int, hi: int) -> tuple[int, int]:
        """Count arrived labels of steps ``[lo, hi)`` served by ``model_id``, and right ones."""
        n = k = 0
        for (step, m), (ni, ki) in self.counts.items():
            if m == model_id and lo <= step < hi:
                n, k = n + ni, k + ki
        return n, k


class Rollout:
    """Base class of live rollouts: one challenger's trial on live traffic.

    Created by :meth:`LiveGate.start_trial`; ``challenger`` and ``champion`` are the
    engine's models (objects with an ``id``), ``event`` the retrain's event row, which
    the rollout writes (``accepted``, ``deploy_step``, ``trial_end``, ``gate_reason``,
    its own fields of :meth:`fields`). A subclass implements :meth:`serve` and
    :meth:`evidence`, and may override :meth:`begin`, :meth:`observe` and
    :meth:`resolve`.

    Attributes
    ----------
    kind
        The pattern's name in the events' reasons.
    rival
        What the evidence calls the model the challenger is compared with.
    outcomes
        What a verdict does, in the events' reasons: ``{True: ..., False: ...}``.
    unjudged
        What happens to the challenger when the trial ends without a verdict.
    paired
        Whether the evidence counts the same samples for both models.
    done
        Whether the trial has ended.

    Examples
    --------
    >>> from types import SimpleNamespace as Model
    >>> gate = Model(steps=3, fraction=0.5)
    >>> event = {"accepted": True, "deploy_step": 11}
    >>> rollout = CanaryRollout(gate, Model(id=2), Model(id=1), 11, event, None,
    ...                         np.random.default_rng(0))
    >>> rollout.begin(), event
    (Actions(deploy=None, restore=None, at=-1, row=None), {'accepted': False, 'deploy_step': -1})
    >>> rollout.resolve(13, True, "better"), event["deploy_step"], rollout.done
    (Actions(deploy=namespace(id=2), restore=None, at=14, row=None), 14, True)
    """

    kind = "live"
    rival = "champion"
    outcomes = {True: "promoted", False: "discarded"}
    unjudged = "not promoted"
    paired = False

    def __init__(self, gate, challenger, champion, start: int, event: dict, cost,
                 rng: np.random.Generator):
        self.gate, self.challenger, self.champion = gate, challenger, champion
        self.start, self.event, self.cost, self.rng = start, event, cost, rng
        self.done = False

    @classmethod
    def fields(cls, gate) -> dict:
        """Return the event fields of a run with this rollout, with their defaults."""
        return dict(LIVE_EVENT_FIELDS)

    @classmethod
    def memory(cls, gate) -> int:
        """Return the steps of arrived-label counts a look reads back: the trial's steps."""
        return gate.steps

    def begin(self) -> Actions:
        """Act on the offline acceptance: here the challenger is not accepted until promoted."""
        self.event.update(accepted=False, deploy_step=-1)
        return Actions()

    def serve(self, step: TrafficStep) -> Served:
        """Say who serves each sample of ``step`` (a step of the trial)."""
        raise NotImplementedError

    def observe(self, labels: Labels, complete: int) -> None:
        """Take the labels that arrived this step; every label of steps <= ``complete`` has."""

    def evidence(self, t: int, ledger: Ledger) -> Trial:
        """Return what the gate may see at the look of step ``t``."""
        raise NotImplementedError

    def look(self, t: int) -> int:
        """Return the look of step ``t`` (1 at the trial's first step)."""
        return t - self.start + 1

    def resolve(self, t: int, verdict: bool, reason: str) -> Actions:
        """End the trial at step ``t``: promote (True) or discard (False) the challenger."""
        self.done = True
        self.event.update(trial_end=t, gate_reason=reason, accepted=verdict)
        if not verdict:
            return Actions()
        self.event["deploy_step"] = t + 1
        return Actions(deploy=self.challenger, at=t + 1)

    def interrupt(self, t: int) -> None:
        """End the trial for the retrain decided at step ``t``, without a verdict."""
        self.done = True
        self.event.update(trial_end=t, gate_reason=f"{self.kind} trial ended by the retrain "
                                                   f"at step {t}: {self.unjudged}")

    def abandon(self) -> None:
        """Leave the trial unfinished: the run ended."""
        self.event["gate_reason"] = (f"{self.kind} trial unfinished when the run ended: "
                                     f"{self.unjudged}")


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class ShadowRollout(Rollout):
    """The challenger predicts beside the champion on every sample, serving no one.

    Each prediction costs ``Cost.per_shadow_sample`` (the event's ``cost_shadow``). The
    challenger's predictions of a step are kept until that step's labels have all
    arrived; the evidence pairs them with the champion's outcomes on the same labels
    (``wins``: the challenger right and the champion wrong; ``losses``: the other way).

    Examples
    --------
    >>> from types import SimpleNamespace as Model
    >>> from sim.cost import Cost
    >>> from sim.types import Labels
    >>> rollout = ShadowRollout(Model(steps=4), Model(id=1), Model(id=0), 5,
    ...                         {"cost_shadow": 0.0}, Cost(per_shadow_sample=0.5), None)
    >>> champion = np.array([1, 1, 0])
    >>> step = TrafficStep(5, 100, champion, 0, lambda: np.array([1, 0, 0]))
    >>> rollout.serve(step).cost, rollout.event["cost_shadow"]
    (1.5, 1.5)
    >>> rollout.observe(Labels(np.zeros((3, 1)), np.array([1, 0, 1]), champion,
    ...                        np.zeros(3, int), np.arange(100, 103), np.full(3, 5)), 5)
    >>> evidence = rollout.evidence(5, None)
    >>> evidence.look, evidence.correct_challenger, evidence.correct_champion, evidence.wins
    (1, 2, 1, 1)
    """

    kind = "shadow"
    paired = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.predictions: dict[int, tuple[int, np.ndarray]] = {}  # step: (first, predicted)
        self.n = self.correct_challenger = self.correct_champion = 0
        self.wins = self.losses = 0

    def serve(self, step: TrafficStep) -> Served:
        """Let the challenger predict the step (kept until its labels arrive); serve none."""
        predicted = step.challenger()
        self.predictions[step.t] = (step.first, predicted)
        cost = self.cost.shadow(len(predicted))
        self.event["cost_shadow"] += cost
        return Served(step.y_pred, None, 0.0, cost)

    def observe(self, labels: Labels, complete: int) -> None:
        """Pair the arrived labels of the trial's steps with both models' outcomes."""
        if len(labels) and self.predictions:
            right = labels.y_pred == labels.y
            for s in np.unique(labels.step).tolist():
                if s not in self.predictions:
                    continue
                first, predicted = self.predictions[s]
                m = labels.step == s
                new = predicted[labels.index[m] - first] == labels.y[m]
                old = right[m]
                self.n += len(new)
                self.correct_challenger += int(np.count_nonzero(new))
                self.correct_champion += int(np.count_nonzero(old))
                self.wins += int(np.count_nonzero(new & ~old))
                self.losses += int(np.count_nonzero(old & ~new))
        for s in [s for s in self.predictions if s <= complete]:
            del self.predictions[s]

    def evidence(self, t: int, ledger: Ledger) -> Trial:
        """Return the paired labels so far."""
        return Trial(self.look(t), self.gate.steps, self.n, self.correct_challenger, self.n,
                     self.correct_champion, self.wins, self.losses, paired=True)


class CanaryRollout(Rollout):
    """The challenger serves a seeded random share of each step's samples, the champion the rest.

    The share is the gate's ``fraction``; each sample is the challenger's with that
    probability (one draw per sample from the run's traffic generator). The evidence
    counts each model's arrived labels of its own traffic in the trial.

    Examples
    --------
    >>> from types import SimpleNamespace as Model
    >>> rollout = CanaryRollout(Model(steps=5, fraction=0.5), Model(id=3), Model(id=2), 8,
    ...                         {}, None, np.random.default_rng(0))
    >>> step = TrafficStep(8, 0, np.zeros(6, int), 2, lambda: np.ones(6, int))
    >>> served = rollout.serve(step)
    >>> served.y_pred.tolist(), served.model_id.tolist(), served.share
    ([0, 1, 1, 1, 0, 0], [2, 3, 3, 3, 2, 2], 0.5)
    """

    kind = "canary"
    outcomes = {True: "promoted", False: "rolled back"}

    @property
    def share(self) -> float:
        """Share of each step's samples the challenger serves."""
        return self.gate.fraction

    def serve(self, step: TrafficStep) -> Served:
        """Draw which samples the challenger serves; serve its predictions there."""
        predicted = step.challenger()
        n = len(step.y_pred)
        canary = self.rng.random(n) < self.share
        return Served(_frozen(np.where(canary, predicted, step.y_pred)),
                      _frozen(np.where(canary, self.challenger.id, step.deployed)),
                      float(np.count_nonzero(canary) / n))

    def evidence(self, t: int, ledger: Ledger) -> Trial:
        """Each model's arrived labels of its own traffic since the trial started."""
        return Trial(self.look(t), self.gate.steps,
                     *ledger.count(self.challenger.id, self.start, t + 1),
                     *ledger.count(self.champion.id, self.start, t + 1))


class StagedRollout(CanaryRollout):
    """A canary whose traffic share ramps through stages, each with its own test.

    Stage ``k`` serves the challenger the share ``gate.shares[k - 1]`` for at most
    ``gate.steps`` steps; its looks are a sequential test of their own (the evidence's
    ``look``/``looks`` count the stage's steps, ``stage``/``stages`` say which stage),
    on the arrived labels of each model's own traffic since the trial started. A True
    verdict before the last stage moves the challenger to the next stage from the next
    step; True at the last stage promotes it to all traffic; False at any stage rolls it
    back. The event counts the challenger's samples per stage (``served_stage_<k>``) and
    the stage it reached (``stage``).

    Examples
    --------
    >>> from types import SimpleNamespace as Model
    >>> gate = Model(steps=2, shares=(0.01, 0.1, 0.5))
    >>> event = StagedRollout.fields(gate)
    >>> rollout = StagedRollout(gate, Model(id=3), Model(id=2), 8, event, None,
    ...                         np.random.default_rng(0))
    >>> _ = rollout.begin()
    >>> rollout.resolve(9, True, "stage 1 passed"), rollout.share, rollout.done
    (Actions(deploy=None, restore=None, at=-1, row=None), 0.1, False)
    >>> rollout.look(10), event["stage"]
    (1, 2)
    >>> _ = rollout.resolve(10, False, "worse")
    >>> event["gate_reason"], event["accepted"], rollout.done
    ('stage 1 passed; worse', False, True)
    """

    kind = "staged canary"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage, self.stage_start, self.passed = 1, self.start, []

    @classmethod
    def fields(cls, gate) -> dict:
        """Return the live fields, the stage reached and the challenger's samples per stage."""
        return super().fields(gate) | {"stage": 0} | {
            f"served_stage_{k}": 0 for k in range(1, len(gate.shares) + 1)}

    @classmethod
    def memory(cls, gate) -> int:
        """Return the most steps of all stages."""
        return gate.steps * len(gate.shares)

    @property
    def share(self) -> float:
        """The current stage's share of traffic."""
        return self.gate.shares[self.stage - 1]

    def begin(self) -> Actions:
        """Start at the first stage; the challenger is not accepted until promoted."""
        self.event["stage"] = 1
        return super().begin()

    def serve(self, step: TrafficStep) -> Served:
        """Serve the stage's share; count the challenger's samples of the stage."""
        served = super().serve(step)
        self.event[f"served_stage_{self.stage}"] += int(
            np.count_nonzero(served.model_id == self.challenger.id))
        return served

    def look(self, t: int) -> int:
        """Return the look of step ``t`` within the current stage (1 at its first step)."""
        return t - self.stage_start + 1

    def evidence(self, t: int, ledger: Ledger) -> Trial:
        """Return the canary's evidence since the trial started, with the stage's looks."""
        trial = super().evidence(t, ledger)
        return Trial(trial.look, trial.looks, trial.n_challenger, trial.correct_challenger,
                     trial.n_champion, trial.correct_champion, stage=self.stage,
                     stages=len(self.gate.shares))

    def resolve(self, t: int, verdict: bool, reason: str) -> Actions:
        """Move to the next stage on True before the last; else end as a canary does."""
        if verdict and self.stage < len(self.gate.shares):
            self.passed.append(reason)
            self.stage, self.stage_start = self.stage + 1, t + 1
            self.event["stage"] = self.stage
            return Actions()
        return super().resolve(t, verdict, "; ".join([*self.passed, reason]))


class RollbackWatch(Rollout):
    """The challenger is deployed now and watched; the previous model may come back.

    The evidence compares the new model's arrived labels of its own traffic since the
    switch with the previous model's over the gate's ``window`` steps before it. False
    restores the previous model from the next step (an event row of kind
    ``"rollback"``, no training cost); True keeps the new model.

    Examples
    --------
    >>> from types import SimpleNamespace as Model
    >>> rollout = RollbackWatch(Model(steps=3, window=4), Model(id=5), Model(id=4), 20,
    ...                         {}, None, None)
    >>> rollout.begin()
    Actions(deploy=namespace(id=5), restore=None, at=20, row=None)
    >>> actions = rollout.resolve(22, False, "worse")
    >>> actions.restore, actions.at, actions.row["kind"], actions.row["model_id"]
    (namespace(id=4), 23, 'rollback', 4)
    """

    kind = "rollback"
    rival = "previous model"
    outcomes = {True: "kept", False: "rolled back"}
    unjudged = "kept"

    @classmethod
    def memory(cls, gate) -> int:
        """Return the watch's steps and the ``window`` before the switch."""
        return gate.steps + gate.window

    def begin(self) -> Actions:
        """Deploy the challenger from the trial's first step."""
        return Actions(deploy=self.challenger, at=self.start)

    def serve(self, step: TrafficStep) -> Served:
        """Serve as usual: the watched model is the deployed one."""
        return Served(step.y_pred)

    def evidence(self, t: int, ledger: Ledger) -> Trial:
        """Return the new model's own traffic against the previous model's before the switch."""
        return Trial(self.look(t), self.gate.steps,
                     *ledger.count(self.challenger.id, self.start, t + 1),
                     *ledger.count(self.champion.id, self.start - self.gate.window,
                                   self.start))

    def resolve(self, t: int, verdict: bool, reason: str) -> Actions:
        """Keep the new model (True) or restore the previous one from the next step."""
        self.done = True
        self.event.update(trial_end=t, gate_reason=reason)
        if verdict:
            return Actions()
        row = {"step": t, "reason": f"rollback of model {self.challenger.id}",
               "kind": "rollback", "model_id": self.champion.id, "accepted": True,
               "deploy_step": t + 1, "gate_reason": reason, "trial_end": t,
               "cost_shadow": 0.0}
        return Actions(restore=self.champion, at=t + 1, row=row)


def check_offline(owner: Gate) -> None:
    """Check the offline gate ``owner.gate`` wraps (None, or a Gate that is not live)."""
    if owner.gate is not None:
        if isinstance(owner.gate, LiveGate):
            raise param_error(owner, "gate", "an offline Gate (not a LiveGate) or None",
                              owner.gate)
        owner.gate.check()


class LiveGate(Gate):
    """Base class of gates that judge a challenger on live traffic (see the module doc).

    A subclass sets :attr:`rollout`, stores ``gate`` (an offline :class:`Gate` checked
    first, or None), ``steps`` (the most looks of one test, >= 1) and what its rollout
    reads (a canary's ``fraction``, a rollback watch's ``window``), and implements
    :meth:`judge`.

    Attributes
    ----------
    rollout
        The :class:`Rollout` subclass :meth:`start_trial` creates.

    Examples
    --------
    >>> class Watch(LiveGate):
    ...     rollout, steps, window, gate = RollbackWatch, 3, 10, None
    ...     def judge(self, trial):
    ...         return True if trial.final else None
    >>> gate = Watch().check()
    >>> gate.accept(None, None, None, None).reason, gate.memory
    ('to the rollback trial', 13)
    """

    rollout: type[Rollout] = Rollout
    n_val = property(lambda self: self.__retrain_tags__().n_val)
    needs_training_labels = property(lambda self: self.__retrain_tags__().needs_training_labels)

    def __retrain_tags__(self) -> GateTags:
        """Return the offline gate's needs (none without one), live, on classification streams."""
        inner = self.gate.__retrain_tags__() if self.gate is not None else GateTags()
        return GateTags(inner.n_val, inner.needs_training_labels, live=True,
                        tasks=("classification",))

    @property
    def memory(self) -> int:
        """Steps of arrived-label counts a look reads back (the engine's :class:`Ledger`)."""
        return self.rollout.memory(self)

    @property
    def event_fields(self) -> dict:
        """The event fields of a run with this gate, beside a retrain's, with defaults."""
        return self.rollout.fields(self)

    def check(self) -> LiveGate:
        """Validate the parameters (and the offline gate's) and the rollout; return self."""
        rollout = self.rollout
        if not (isinstance(rollout, type) and issubclass(rollout, Rollout)) or rollout is Rollout:
            raise TypeError(f"{type(self).__name__}.rollout must be a subclass of "
                            f"sim.rollout.Rollout (the pattern its trials follow). Got "
                            f"{rollout!r} instead.")
        validate(self)
        check_offline(self)
        return self

    def accept(self, champion, challenger, X_val, y_val, **training_labels) -> Decision:
        """Check offline: the wrapped gate's verdict (without one every challenger goes live).

        ``training_labels`` (see :attr:`Gate.needs_training_labels`) go to the wrapped gate.
        """
        if self.gate is None:
            return Decision(True, f"to the {self.rollout.kind} trial")
        return self.gate.accept(champion, challenger, X_val, y_val, **training_labels)

    def start_trial(self, challenger, champion, start: int, event: dict, cost,
                    rng: np.random.Generator) -> Rollout:
        """Create the rollout of a challenger the offline check accepted, from step ``start``.

        ``cost`` is the run's :class:`~sim.cost.Cost`, ``rng`` its traffic generator.
        """
        return self.rollout(self, challenger, champion, start, event, cost, rng)

    def judge(self, trial: Trial) -> bool | None:
        """Decide on the evidence so far: True, False, or None to wait (never at the end)."""
        raise NotImplementedError

    def explain(self, trial: Trial, verdict: bool) -> str:
        """Say why ``verdict`` was reached on ``trial`` (the event's ``gate_reason``)."""
        rollout = self.rollout
        return (f"{rollout.kind} look {trial.look}/{trial.looks}: challenger "
                f"{trial.correct_challenger}/{trial.n_challenger} right, {rollout.rival} "
                f"{trial.correct_champion}/{trial.n_champion}: {rollout.outcomes[verdict]}")

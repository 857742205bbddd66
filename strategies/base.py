"""The base classes of the strategy families: triggers, gates and live gates.

A :class:`Trigger` watches one :class:`~sim.types.Observation` per step and answers
with a :class:`~sim.types.Decision`; a :class:`Gate` decides whether a freshly trained
challenger replaces the deployed champion, offline, on held-out labels that have
arrived (:meth:`Gate.accept`).

A :class:`LiveGate` is a gate that goes on judging on live traffic, as production
validates a retrain. The engine first asks its :meth:`~Gate.accept` (the offline check
of the gate it wraps, ``gate``: a challenger that fails it never goes live), then runs
a *trial* of at most ``steps`` steps, from the step the challenger could serve:

- ``mode = "shadow"``: the challenger predicts beside the champion on every sample
  without serving (each prediction costs ``Cost.per_shadow_sample``);
- ``mode = "canary"``: the challenger serves a seeded random ``fraction`` of each step's
  samples, the champion the rest;
- ``mode = "rollback"``: the challenger is deployed (it serves everything) and watched;
  the previous model stays ready to return.

At every step of the trial the engine hands :meth:`LiveGate.judge` a
:class:`~sim.types.Trial` (counts of the trial's labels that have *arrived*) and acts on
the answer: True promotes (shadow, canary) or keeps (rollback) the challenger from the
next step, False discards (shadow), rolls back (canary, rollback), None goes on; at the
last look (``trial.final``) the gate must answer True or False. A new retrain ends a
running trial (a shadow or canary challenger is discarded, a watched model kept). The
trigger's :meth:`Trigger.on_retrain` hears the offline verdict (True: gone to the trial).
"""

from __future__ import annotations

from sklearn.base import BaseEstimator

from sim.checks import param_error, validate
from sim.types import Decision, Drift, Observation, Trial

__all__ = ["Gate", "LiveGate", "Trigger"]

LIVE_MODES = ("shadow", "canary", "rollback")


class Trigger(BaseEstimator):
    """Base class of retraining triggers.

    The engine clones the trigger, calls :meth:`reset` once, then :meth:`update` at
    every step and :meth:`on_retrain` whenever a retrain it asked for was trained.
    ``__init__`` stores its arguments unchanged; :meth:`reset` validates them and builds
    the runtime state (``_underscored`` attributes).

    Attributes
    ----------
    requires_ground_truth
        Only a trigger that sets this to True (:class:`~strategies.DriftAware`) is
        handed the stream's true drifts, through :meth:`reveal`; no other trigger ever
        sees them.
    needs_scores
        True for a trigger that watches the deployed model's scores: the engine then
        computes ``Observation.scores`` every step (other runs do not pay for them).
    n_holdout
        How many of the newest arrived labels the engine holds out of every fit (the
        initial one too) and shows as ``Observation.holdout`` (0: none).
    """

    requires_ground_truth = False
    needs_scores = False
    n_holdout = 0
    _constraints: dict = {}

    def reset(self, seed: int | None = None) -> Trigger:
        """Validate the parameters and clear the state; return self."""
        return self

    def update(self, obs: Observation) -> Decision:
        """Look at one step and decide whether to retrain."""
        raise NotImplementedError

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Hear that a retrain decided at step ``t`` was trained and whether it was accepted."""

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Raise a ValueError if the trigger could never fire on ``n_steps`` scored steps.

        The engine calls it, after :meth:`reset`, when the stream's length is known.
        """

    def check_model(self, model, task: str) -> None:
        """Raise a ValueError if the trigger cannot watch ``model`` on a ``task`` stream.

        The engine calls it, after :meth:`reset`, before the replay starts.
        """

    def reveal(self, drifts: tuple[Drift, ...], step_size: int) -> None:
        """Receive the ground truth (only when :attr:`requires_ground_truth` is True)."""

    def set_cost(self, cost, n_train: int) -> None:
        """Hear the run's cost model (a :class:`~sim.cost.Cost`) and the initial fit's size.

        The engine calls it once, after the initial model is trained, for every trigger;
        a cost-aware trigger (:mod:`strategies.cost_aware`) prices a retrain at
        ``cost.retrain(n_train)``. Costs are not information about the stream: no rule of
        time is involved.
        """


class Gate(BaseEstimator):
    """Base class of validation gates.

    Attributes
    ----------
    n_val
        How many of the most recent arrived labels the engine holds out of the
        challenger's training set for :meth:`accept` (0: none).
    needs_training_labels
        True for a gate that checks the labels the models were trained on: the engine
        then passes :meth:`accept` the keywords ``champion_labels`` and
        ``challenger_labels``, each a ``{class: count}`` mapping of a model's training
        labels (classification only; other gates are not asked to take them).
    """

    n_val = 0
    needs_training_labels = False
    _constraints: dict = {}

    def check(self) -> Gate:
        """Validate the parameters; return self."""
        return self

    def accept(self, champion, challenger, X_val, y_val) -> Decision:
        """Decide whether ``challenger`` replaces ``champion``."""
        raise NotImplementedError


def check_offline(owner: Gate) -> None:
    """Check the offline gate ``owner.gate`` wraps (None, or a Gate that is not live)."""
    if owner.gate is not None:
        if isinstance(owner.gate, LiveGate):
            raise param_error(owner, "gate", "an offline Gate (not a LiveGate) or None",
                              owner.gate)
        owner.gate.check()


class LiveGate(Gate):
    """Base class of gates that judge a challenger on live traffic (see the module doc).

    A subclass sets :attr:`mode`, stores ``gate`` (an offline :class:`Gate` checked
    first, or None), ``steps`` (the trial's most steps, >= 1) and for a canary
    ``fraction``, and implements :meth:`judge`.

    Attributes
    ----------
    mode
        ``"shadow"``, ``"canary"`` or ``"rollback"``.
    """

    mode = "shadow"

    @property
    def n_val(self) -> int:
        """The offline gate's held-out labels (0 without one)."""
        return int(self.gate.n_val) if self.gate is not None else 0

    @property
    def needs_training_labels(self) -> bool:
        """Whether the offline gate checks the training labels (False without one)."""
        return self.gate is not None and self.gate.needs_training_labels

    def share(self) -> float:
        """Share of each trial step's samples the challenger serves."""
        return {"shadow": 0.0, "rollback": 1.0}.get(self.mode, getattr(self, "fraction", 0.0))

    def check(self) -> LiveGate:
        """Validate the parameters (and the offline gate's); return self."""
        validate(self)
        check_offline(self)
        return self

    def accept(self, champion, challenger, X_val, y_val, **training_labels) -> Decision:
        """Check offline: the wrapped gate's verdict (without one every challenger goes live).

        ``training_labels`` (see :attr:`Gate.needs_training_labels`) go to the wrapped gate.
        """
        if self.gate is None:
            return Decision(True, f"to the {self.mode} trial")
        return self.gate.accept(champion, challenger, X_val, y_val, **training_labels)

    def judge(self, trial: Trial) -> bool | None:
        """Decide on the evidence so far: True, False, or None to wait (never at the end)."""
        raise NotImplementedError

    def explain(self, trial: Trial, verdict: bool) -> str:
        """Say why ``verdict`` was reached on ``trial`` (the event's ``gate_reason``)."""
        outcome = {("rollback", True): "kept", ("rollback", False): "rolled back",
                   ("canary", False): "rolled back", ("shadow", False): "discarded"}
        return (f"{self.mode} look {trial.look}/{trial.looks}: challenger "
                f"{trial.correct_challenger}/{trial.n_challenger} right, "
                f"{'previous model' if self.mode == 'rollback' else 'champion'} "
                f"{trial.correct_champion}/{trial.n_champion}: "
                + outcome.get((self.mode, verdict), "promoted"))

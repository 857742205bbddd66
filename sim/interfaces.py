"""The base classes the engine steps: triggers and (offline) gates.

They live in ``sim``, below the engine that calls them, and are re-exported by
``strategies`` (``from strategies import Trigger, Gate`` is the public spelling). The
base class of live gates, :class:`~sim.rollout.LiveGate`, lives with the rollouts it
starts, in :mod:`sim.rollout`.

A :class:`Trigger` watches one :class:`~sim.types.Observation` per step and answers
with a :class:`~sim.types.Decision`; a :class:`Gate` decides whether a freshly trained
challenger replaces the deployed champion, offline, on held-out labels that have
arrived (:meth:`Gate.accept`).

Examples
--------
>>> from sim.types import Decision
>>> class Every3(Trigger):
...     def update(self, obs):
...         return Decision(obs.t % 3 == 0, "every third step")
>>> from sklearn.linear_model import LogisticRegression
>>> from sim import replay
>>> from sim.streams import SEA
>>> replay(SEA(n_samples=8_000), LogisticRegression(), Every3()).events["step"].tolist()
[12, 15]
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.base import BaseEstimator

from sim.types import TASKS, Decision, Drift, Observation

__all__ = ["Gate", "GateTags", "Trigger", "TriggerTags"]


@dataclass(frozen=True)
class TriggerTags:
    """What a trigger needs from the engine: the one record the engine reads.

    :meth:`Trigger.__retrain_tags__` returns it; a trigger made of triggers combines its
    children's with :meth:`combine`.

    Attributes
    ----------
    requires_ground_truth
        The trigger is handed the stream's true drifts (:meth:`Trigger.reveal`).
    needs_scores
        The engine computes ``Observation.scores`` (the deployed model's scores) every step.
    n_holdout
        The newest arrived labels held out of every fit and shown as
        ``Observation.holdout`` (0: none).

    Examples
    --------
    >>> TriggerTags(needs_scores=True).combine(TriggerTags(n_holdout=300))
    TriggerTags(requires_ground_truth=False, needs_scores=True, n_holdout=300)
    """

    requires_ground_truth: bool = False
    needs_scores: bool = False
    n_holdout: int = 0

    def combine(self, *others: TriggerTags) -> TriggerTags:
        """Return the tags of a trigger whose children have these tags and ``others``.

        The rule: a child's need is the parent's (any child requiring the ground truth or
        the scores), and the parent holds out the most any child holds out.
        """
        every = (self, *others)
        return TriggerTags(any(t.requires_ground_truth for t in every),
                           any(t.needs_scores for t in every),
                           max(t.n_holdout for t in every))


@dataclass(frozen=True)
class GateTags:
    """What a gate needs from the engine: the one record the engine reads.

    Attributes
    ----------
    n_val
        The newest arrived labels held out of the challenger's fit for :meth:`Gate.accept`.
    needs_training_labels
        :meth:`Gate.accept` takes the keywords ``champion_labels`` and ``challenger_labels``.
    live
        The gate is a :class:`~sim.rollout.LiveGate` (its accepted challengers go on trial).
    tasks
        The stream tasks the gate can judge (the engine refuses the others before any work).

    Examples
    --------
    >>> GateTags(n_val=500).tasks
    ('classification', 'regression')
    """

    n_val: int = 0
    needs_training_labels: bool = False
    live: bool = False
    tasks: tuple[str, ...] = TASKS


class Trigger(BaseEstimator):
    """Base class of retraining triggers.

    The engine clones the trigger, calls :meth:`reset` once, then :meth:`update` at
    every step and :meth:`on_retrain` whenever a retrain it asked for was trained.
    ``__init__`` stores its arguments unchanged; :meth:`reset` validates them and builds
    the runtime state (``_underscored`` attributes).

    What a trigger needs from the engine is one :class:`TriggerTags` record,
    :meth:`__retrain_tags__`; the engine reads nothing else. A trigger declares its needs
    with the three attributes below (class attributes, or ``n_holdout`` as a parameter),
    which the base :meth:`__retrain_tags__` reads; a trigger made of triggers overrides
    :meth:`__retrain_tags__` instead, combining its children's
    (:meth:`TriggerTags.combine`).

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

    Examples
    --------
    >>> Trigger().reset(seed=0).__retrain_tags__()
    TriggerTags(requires_ground_truth=False, needs_scores=False, n_holdout=0)
    """

    requires_ground_truth = False
    needs_scores = False
    n_holdout = 0
    _constraints: dict = {}

    def __retrain_tags__(self) -> TriggerTags:
        """Return what the trigger needs from the engine (read after :meth:`reset`)."""
        return TriggerTags(bool(self.requires_ground_truth), bool(self.needs_scores),
                           int(self.n_holdout))

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

    What a gate needs from the engine is one :class:`GateTags` record,
    :meth:`__retrain_tags__`, which the engine alone reads. A gate declares its needs with
    the two attributes below (``n_val`` is usually a parameter); a gate wrapping another
    overrides :meth:`__retrain_tags__`.

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

    Examples
    --------
    >>> tags = Gate().check().__retrain_tags__()
    >>> tags.n_val, tags.needs_training_labels, tags.live
    (0, False, False)
    """

    n_val = 0
    needs_training_labels = False
    _constraints: dict = {}

    def __retrain_tags__(self) -> GateTags:
        """Return what the gate needs from the engine (read after :meth:`check`).

        A gate that checks training labels judges classification streams only.
        """
        labels = bool(self.needs_training_labels)
        return GateTags(int(self.n_val), labels,
                        tasks=("classification",) if labels else TASKS)

    def check(self) -> Gate:
        """Validate the parameters; return self."""
        return self

    def accept(self, champion, challenger, X_val, y_val) -> Decision:
        """Decide whether ``challenger`` replaces ``champion``."""
        raise NotImplementedError


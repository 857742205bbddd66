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

from sklearn.base import BaseEstimator

from sim.types import Decision, Drift, Observation

__all__ = ["Gate", "Trigger"]


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

    Examples
    --------
    >>> Trigger().reset(seed=0).n_holdout
    0
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

    Examples
    --------
    >>> Gate().check().n_val
    0
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


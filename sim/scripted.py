"""A scripted trigger: retrain at steps given in advance.

It lets ``sim`` show and test a replay without the strategies package (which builds on
``sim``), and replays a schedule found elsewhere, e.g. one of the oracle's
(:class:`~sim.oracle.Schedule`'s ``steps``).
"""

from __future__ import annotations

from sklearn.base import BaseEstimator

from sim.checks import Instance, Interval, check, validate
from sim.types import Decision, Observation

__all__ = ["AtSteps"]


class AtSteps(BaseEstimator):
    """Retrain at the given steps, whatever the data say.

    Parameters
    ----------
    steps
        The steps of the retrain decisions (ints >= 0, any order).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> result = replay(SEA(n_samples=10_000), LogisticRegression(), AtSteps([12, 15]))
    >>> result.events[["step", "reason"]].to_dict("list")
    {'step': [12, 15], 'reason': ['scheduled at step 12', 'scheduled at step 15']}
    """

    requires_ground_truth = False
    needs_scores = False
    n_holdout = 0
    _constraints = {"steps": Instance("a list of steps (ints >= 0)", classes=(list, tuple))}

    def __init__(self, steps=()):
        self.steps = steps

    def reset(self, seed: int | None = None) -> AtSteps:
        """Validate the steps; return self."""
        validate(self)
        for t in self.steps:
            check(self, "steps", t, Interval("int", 0))
        self._steps = frozenset(int(t) for t in self.steps)
        return self

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Any steps are accepted (a step past the stream's end never comes)."""

    def check_model(self, model, task: str) -> None:
        """Any model is accepted (the steps do not look at it)."""

    def reveal(self, drifts, step_size: int) -> None:
        """Not used: the steps are given."""

    def set_cost(self, cost, n_train: int) -> None:
        """Not used: the steps do not depend on what a retrain costs."""

    def update(self, obs: Observation) -> Decision:
        """Retrain when ``obs.t`` is one of the steps."""
        if obs.t in self._steps:
            return Decision(True, f"scheduled at step {obs.t}")
        return Decision(False)

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Nothing to remember."""

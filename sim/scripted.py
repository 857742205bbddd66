"""A scripted trigger: retrain at steps given in advance.

It lets ``sim`` show and test a replay without the strategies package (which builds on
``sim``), and replays a schedule found elsewhere, e.g. one of the oracle's
(:class:`~sim.oracle.Schedule`'s ``steps``). It needs nothing of the engine: the base
class's tags (:meth:`~sim.interfaces.Trigger.__retrain_tags__`) and its no-op hooks.
"""

from __future__ import annotations

from sim.checks import Instance, Interval, check, validate
from sim.interfaces import Trigger
from sim.types import Decision, Observation

__all__ = ["AtSteps"]


class AtSteps(Trigger):
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

    def update(self, obs: Observation) -> Decision:
        """Retrain when ``obs.t`` is one of the steps."""
        if obs.t in self._steps:
            return Decision(True, f"scheduled at step {obs.t}")
        return Decision(False)


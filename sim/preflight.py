"""One check of a whole run, before any work: :func:`check_run`.

:meth:`Replay.reset <sim.engine.Replay.reset>` calls it first, and so does the sweep's
pre-launch check (``hydra_plugins.retrain_sim.launcher.check_components``) for one job of
every configuration: a value the run would refuse is refused before launch, with the same
error, because it is the same code. It covers

- the top-level values: ``seed``, ``cache`` and the hindsight oracle's ``every``;
- every component's parameters (protocol, cost, gate, learning, trigger, model) and the
  rules between them (a trigger's windows on the stream's length, a gate or trigger that
  needs a classification stream, a model a learning policy or a trigger cannot use);
- the stream's own values, by reading its first step: a stream validates its
  parameters (incident events, a schedule, a table's columns and types) when it starts
  to be read.

It returns a :class:`CheckedRun`: the validated clones and the tags the engine reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.base import clone

from sim.cache import Cache, as_cache
from sim.checks import Interval, Options, check, is_int
from sim.cost import Cost
from sim.interfaces import Gate, GateTags, Trigger, TriggerTags
from sim.learning import Learning
from sim.protocol import Protocol, child_seeds
from sim.streams.base import StreamTags
from sim.types import TASKS

__all__ = ["CheckedRun", "check_run"]


@dataclass(frozen=True)
class CheckedRun:
    """The components of a run :func:`check_run` accepted: validated clones, and their tags.

    Attributes
    ----------
    protocol, cost
        Checked clones (the defaults when none was given).
    gate, learning
        Checked clones, or None.
    trigger
        A clone, reset with the run's ``trigger`` child seed.
    task
        The stream's task (one of :data:`~sim.types.TASKS`).
    seeds
        The run's child seeds (:func:`~sim.protocol.child_seeds`).
    trigger_tags, gate_tags, stream_tags
        What the trigger and the gate need of the engine (``GateTags()`` without a gate),
        and how the engine reads the stream.
    cache
        The run's :class:`~sim.cache.Cache`, or None.
    """

    protocol: Protocol
    cost: Cost
    gate: Gate | None
    learning: Learning | None
    trigger: Trigger
    task: str
    seeds: dict
    trigger_tags: TriggerTags
    gate_tags: GateTags
    stream_tags: StreamTags
    cache: Cache | None


def check_run(stream, model, trigger, *, gate=None, cost=None, seed: int = 0,
              protocol=None, cache=None, learning=None, every: int | None = None,
              **protocol_params) -> CheckedRun:
    """Check every value of a run as :class:`~sim.engine.Replay` takes them, or raise.

    The parameters are :class:`~sim.engine.Replay`'s, plus ``every``: the hindsight
    oracle's spacing of candidate retrain steps (:func:`sim.oracle.hindsight`; None: no
    oracle). Nothing is trained; the stream's first step is read (see the module doc).

    Raises
    ------
    ValueError
        The first value refused, naming its parameter, the rule and the value.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim.scripted import AtSteps
    >>> from sim.streams import SEA
    >>> run = check_run(SEA(n_samples=10_000), LogisticRegression(), AtSteps([3]))
    >>> run.task, run.trigger_tags.n_holdout, run.gate_tags.live
    ('classification', 0, False)
    >>> check_run(SEA(n_samples=10_000), LogisticRegression(), AtSteps([3]), every=0)
    Traceback (most recent call last):
    ...
    sim.checks.ParamError: The 'every' parameter of hindsight must be an int >= 1. Got 0 instead.
    """
    check("replay", "seed", seed, Interval("int", 0))
    protocol = (clone(protocol) if protocol is not None else Protocol())
    protocol = protocol.set_params(**protocol_params).check()
    cost = (clone(cost) if cost is not None else Cost()).check()
    gate = clone(gate).check() if gate is not None else None
    learning = clone(learning).check() if learning is not None else None
    if learning is not None and learning.updates:
        learning.check_model(model)
    seeds = child_seeds(seed)
    trigger = clone(trigger)
    trigger.reset(seed=seeds["trigger"])
    step_size = protocol.step_size
    n_samples = stream.get_params().get("n_samples")
    if is_int(n_samples):  # a stream of known length: the windows must fit in it
        trigger.check_stream(protocol.check_stream(n_samples), step_size)
    task = check(stream, "task", stream.task, Options(TASKS))
    gate_tags = gate.__retrain_tags__() if gate is not None else GateTags()
    if task not in gate_tags.tasks:
        raise ValueError(_task_refused(gate, gate_tags, task))
    trigger.check_model(model, task)
    stream.check_model(model)
    if hasattr(model, "_parameter_constraints"):  # scikit-learn's own parameter check
        clone(model)._validate_params()
    if every is not None:
        check("hindsight", "every", every, Interval("int", 1))
    checked_cache = as_cache(cache)
    next(iter(stream.batches(seeds["stream"], step_size)), None)
    return CheckedRun(protocol, cost, gate, learning, trigger, task, seeds,
                      trigger.__retrain_tags__(), gate_tags, stream.__retrain_tags__(),
                      checked_cache)


def _task_refused(gate: Gate, tags: GateTags, task: str) -> str:
    """Say why ``gate`` cannot judge a ``task`` stream."""
    if tags.live:
        return (f"The gate {type(gate).__name__} judges live accuracy: it needs a "
                f"classification stream; this stream's task is {task!r}. Use Holdout on a "
                "regression stream.")
    if tags.needs_training_labels:
        return (f"The gate {gate!r} checks the class counts of the training labels: it "
                f"needs a classification stream; this stream's task is {task!r}.")
    return (f"The gate {gate!r} judges {' or '.join(tags.tasks)} streams; this stream's "
            f"task is {task!r}.")

"""The contract checks of the engine's component families, importable.

What the engine relies on, as one function per family, like River's
``check_estimator`` and Gymnasium's ``check_env``: :func:`check_trigger`,
:func:`check_gate`, :func:`check_stream` and :func:`check_rollout`. Each raises an
:class:`AssertionError` saying which rule the component broke, and returns None when it
keeps them all. The repository's contract tests call them on every member of every family
(``tests/test_strategies.py``, ``tests/test_streams.py``, ``tests/test_rollout.py``); run
them on a component written outside the repository before using it in a sweep.

Examples
--------
A user's trigger passes:

>>> from sim.interfaces import Trigger
>>> from sim.types import Decision
>>> class EveryN(Trigger):
...     def __init__(self, n=10):
...         self.n = n
...     def reset(self, seed=None):
...         self._count = 0
...         return self
...     def update(self, obs):
...         self._count += 1
...         if self._count % self.n:
...             return Decision(False)
...         return Decision(True, f"{self.n} steps")
>>> check_trigger(EveryN())

A trigger that builds its state in ``__init__`` rather than ``reset`` does not (a clone
would carry it from run to run):

>>> class Sticky(EveryN):
...     def __init__(self, n=10):
...         self.n = n
...         self._count = 0
...     def reset(self, seed=None):
...         return self
>>> check_trigger(Sticky())
Traceback (most recent call last):
...
AssertionError: Sticky: a clone must carry no runtime state; it has ['_count']
"""

from __future__ import annotations

import inspect
import pickle
import sys
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from sim.cost import Cost
from sim.engine import replay
from sim.interfaces import Gate, GateTags, Trigger, TriggerTags
from sim.rollout import LIVE_EVENT_FIELDS, Actions, Ledger, LiveGate, Rollout, TrafficStep
from sim.scripted import AtSteps
from sim.streams import SEA
from sim.streams.base import StreamTags
from sim.types import Decision, Drift, Incident, Labels, Trial

__all__ = ["check_gate", "check_rollout", "check_stream", "check_trigger"]


def _require(condition, owner, rule: str) -> None:
    if not condition:
        name = owner if isinstance(owner, str) else type(owner).__name__
        raise AssertionError(f"{name}: {rule}")


def _params_round_trip(obj) -> None:
    params = obj.get_params(deep=False)
    _require(set(params) == set(inspect.signature(type(obj)).parameters), obj,
             "set_params/get_params must round-trip __init__'s parameters (store each "
             f"unchanged as an attribute of its name, and nothing else public); "
             f"get_params gives {sorted(params)}")
    _require(type(obj)(**params).get_params(deep=False).keys() == params.keys(), obj,
             "rebuilding from get_params() must give the same parameters")
    if _importable(type(obj)):
        restored = pickle.loads(pickle.dumps(obj))
        _require(restored.get_params(deep=False).keys() == params.keys(), obj,
                 "must pickle with its parameters")


def _importable(cls: type) -> bool:
    """Whether pickle can find ``cls`` (defined at the top level of an imported module).

    A class defined in a function or a doctest cannot be pickled by anyone; its
    instances' pickling is checked once it moves to a module.
    """
    return getattr(sys.modules.get(cls.__module__), cls.__qualname__, None) is cls


def _bad_values_named(obj, method: Callable) -> None:
    name = type(obj).__name__
    for param, constraint in type(obj)._constraints.items():
        bad = clone(obj).set_params(**{param: constraint.invalid_example()})
        try:
            method(bad)
        except ValueError as ex:
            _require(f"The '{param}' parameter of {name} must" in str(ex), obj,
                     f"a bad {param!r} must raise \"The '{param}' parameter of {name} must "
                     f"...\"; it raised {ex}")
        else:
            raise AssertionError(f"{name}: {param}={constraint.invalid_example()!r} breaks "
                                 "its constraint but was accepted")


def _decisions(trigger, seed: int, gate=None) -> tuple[list, list]:
    stream = SEA(n_samples=15_000, schedule=[{"at": 7_500, "to": 3}])
    result = replay(stream, LogisticRegression(), trigger, gate=gate, seed=seed,
                    step_size=250, label_delay=1 if gate is not None else 0)
    return result.events["step"].tolist(), result.events["reason"].tolist()


def check_trigger(trigger: Trigger) -> None:
    """Check that ``trigger`` keeps the trigger contract the engine relies on.

    Its parameters round-trip (scikit-learn's rules) and pickle (when its class is
    importable: see :func:`_importable`); a clone carries no
    runtime state; :meth:`~sim.interfaces.Trigger.__retrain_tags__` is a
    :class:`~sim.interfaces.TriggerTags` after ``reset``; every parameter in its
    ``_constraints`` is refused with the standard error when bad; on a small stream with
    one drift the same seed gives the same decisions, every retrain has a reason, and a
    run leaves the caller's trigger unchanged (the engine works on a clone).

    Raises
    ------
    AssertionError
        Naming the trigger and the rule it broke.
    """
    _require(isinstance(trigger, Trigger), trigger, "must subclass sim.interfaces.Trigger")
    _params_round_trip(trigger)
    fresh = clone(clone(trigger).reset(seed=0))
    state = [k for k in vars(fresh) if k.endswith("_") or k.startswith("_")]
    _require(not state, trigger, f"a clone must carry no runtime state; it has {state}")
    tags = clone(trigger).reset(seed=0).__retrain_tags__()
    _require(isinstance(tags, TriggerTags), trigger,
             f"__retrain_tags__() must return a TriggerTags; it returned {tags!r}")
    _bad_values_named(trigger, lambda bad: bad.reset(seed=0))
    first = _decisions(trigger, seed=1)
    _require(first == _decisions(clone(trigger), seed=1), trigger,
             "the same seed must give the same decisions")
    _require(all(isinstance(r, str) and r for r in first[1]), trigger,
             f"every retrain needs a reason (a non-empty string); got {first[1]}")
    _decisions(trigger, seed=2)
    _require(_decisions(trigger, seed=2) == _decisions(clone(trigger), seed=2), trigger,
             "a run must leave the caller's trigger unchanged (reset must rebuild the state)")


def check_gate(gate: Gate) -> None:
    """Check that ``gate`` keeps the gate contract (and, if live, the live gate contract).

    An offline gate: it accepts a clearly better challenger with a reason, pickles, its
    :meth:`~sim.interfaces.Gate.__retrain_tags__` is a :class:`~sim.interfaces.GateTags`
    with ``n_val`` >= 0, and every bad parameter is refused with the standard error. A
    :class:`~sim.rollout.LiveGate` also names its :class:`~sim.rollout.Rollout`, decides at
    its last look, never keeps a clearly worse challenger nor refuses a clearly better one
    at the last look, holds out a wrapped offline gate's ``n_val`` and lets it decide
    first, refuses a live gate as its offline gate, and runs a replay whose events and
    timeline say what happened.

    Raises
    ------
    AssertionError
        Naming the gate and the rule it broke.
    """
    _require(isinstance(gate, Gate), gate, "must subclass sim.interfaces.Gate")
    gate = clone(gate).check()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] > 0).astype(int)
    good, bad = LogisticRegression().fit(X, y), LogisticRegression().fit(X, 1 - y)
    tags = gate.__retrain_tags__()
    _require(isinstance(tags, GateTags) and isinstance(tags.n_val, int) and tags.n_val >= 0,
             gate, f"__retrain_tags__() must return a GateTags with n_val >= 0; got {tags!r}")
    counts = dict(zip(*np.unique(y, return_counts=True), strict=True))
    labels = ({"champion_labels": counts, "challenger_labels": counts}
              if tags.needs_training_labels else {})
    verdict = gate.accept(bad, good, X, y, **labels)
    _require(verdict.retrain and verdict.reason, gate,
             "must accept a clearly better challenger, with a reason")
    _require(not _importable(type(gate))
             or pickle.loads(pickle.dumps(gate)).get_params() == gate.get_params(), gate,
             "must pickle with its parameters")
    _bad_values_named(gate, lambda bad: bad.check())
    if isinstance(gate, LiveGate):
        _check_live(gate, good, bad, X, y)


def _check_live(gate: LiveGate, good, bad, X, y) -> None:
    _require(gate.__retrain_tags__().live and issubclass(gate.rollout, Rollout)
             and gate.rollout is not Rollout, gate, "must name its Rollout subclass")
    last = gate.steps
    better = {"n_challenger": 1000, "correct_challenger": 950, "n_champion": 1000,
              "correct_champion": 700, "wins": 260, "losses": 10, "paired": True}
    worse = {"n_challenger": 1000, "correct_challenger": 700, "n_champion": 1000,
             "correct_champion": 950, "wins": 10, "losses": 260, "paired": True}
    empty = {"n_challenger": 0, "correct_challenger": 0, "n_champion": 0,
             "correct_champion": 0, "paired": gate.rollout.paired}
    for evidence in (better, worse, empty):
        _require(gate.judge(Trial(look=last, looks=last, **evidence)) in (True, False), gate,
                 "judge must answer True or False at the trial's last look")
    _require(gate.judge(Trial(look=1, looks=last, **worse)) is False, gate,
             "must stop a clearly worse challenger at its first look")
    _require(gate.judge(Trial(look=1, looks=last, **better)) in (True, None), gate,
             "must not stop a clearly better challenger")
    _require(gate.judge(Trial(look=last, looks=last, **better)) is True, gate,
             "must keep a clearly better challenger at the last look")
    _require(gate.accept(good, bad, X, y).retrain if gate.gate is None else True, gate,
             "without an offline gate every challenger goes to the trial")
    wrapped = clone(gate).set_params(gate=_Holdout()).check()
    _require(wrapped.__retrain_tags__().n_val == 300 and not wrapped.accept(
        good, bad, X, y).retrain, gate,
             "a wrapped offline gate's n_val is held out and its verdict comes first")
    try:
        clone(gate).set_params(gate=clone(gate)).check()
    except ValueError:
        pass
    else:
        raise AssertionError(f"{type(gate).__name__}: a live gate as its offline gate must "
                             "be refused")
    stream = SEA(n_samples=15_000, schedule=[{"at": 7_500, "to": 3}])
    result = replay(stream, LogisticRegression(), AtSteps(list(range(5, 60, 5))), gate=gate,
                    seed=0, step_size=250, label_delay=1)
    events, timeline = result.events, result.timeline
    _require(set(events["kind"]) <= {"retrain", "rollback"} and events["gate_reason"].all(),
             gate, "every event row needs a kind (retrain or rollback) and a gate_reason")
    _require(timeline["challenger_share"].between(0, 1).all(), gate,
             "the challenger's share of a step is in [0, 1]")
    _require(result.summary["n_rollbacks"] == (events["kind"] == "rollback").sum()
             and result.summary["n_retrains"] == (events["kind"] == "retrain").sum(), gate,
             "the summary counts the event rows of each kind")


def check_stream(stream, step_size: int = 400, seed: int = 7) -> None:
    """Check that ``stream`` keeps the stream contract the engine relies on.

    Its parameters round-trip and pickle; its tags are a
    :class:`~sim.streams.base.StreamTags`; a pickled copy gives the same batches for the
    same seed; steps are numbered from 0 and, for a stream that cuts its own steps by
    ``step_size``, its batches' first sample indices are multiples of it; ``X`` has
    ``n_features`` columns, ``delivered`` is None or shaped like ``y``; a stream of
    known length gives ``n_samples`` samples; its drifts are :class:`~sim.types.Drift`
    and its incidents a tuple of :class:`~sim.types.Incident` within the stream.

    Raises
    ------
    AssertionError
        Naming the stream and the rule it broke.

    Examples
    --------
    >>> check_stream(SEA(n_samples=3_000))
    """
    _params_round_trip(stream)
    restored = pickle.loads(pickle.dumps(stream))
    a, b = list(stream.batches(seed, step_size)), list(restored.batches(seed, step_size))
    _require([x.t for x in a] == list(range(len(a))), stream, "steps are numbered 0, 1, ...")
    tags = stream.__retrain_tags__()
    _require(isinstance(tags, StreamTags), stream,
             f"__retrain_tags__() must return a StreamTags; it returned {tags!r}")
    if tags.rechunkable:
        _require([x.index for x in a] == [step_size * i for i in range(len(a))], stream,
                 "a rechunkable stream's step i starts at sample i * step_size")
    n_samples = stream.get_params().get("n_samples")
    total = sum(len(x) for x in a)
    _require(not isinstance(n_samples, int) or total == n_samples, stream,
             f"must give its n_samples={n_samples} samples; it gave {total}")
    _require(len(a) == len(b), stream, "a pickled copy must give the same batches")
    for x, y in zip(a, b, strict=True):
        _require(np.array_equal(x.X, y.X) and np.array_equal(x.y, y.y), stream,
                 "the same seed must give the same samples (a pickled copy too)")
        _require(x.X.shape == (len(x), stream.n_features), stream,
                 f"X must have n_features={stream.n_features} columns; got {x.X.shape}")
        _require(x.delivered is None or (x.delivered.shape == x.y.shape and np.array_equal(
            x.delivered, y.delivered)), stream, "delivered is None or y's shape, reproducibly")
    _require(all(isinstance(d, Drift) for d in stream.drifts), stream,
             "drifts must be sim.types.Drift")
    incidents = stream.incidents
    _require(isinstance(incidents, tuple) and all(
        isinstance(i, Incident) and 0 < i.start < i.end <= total for i in incidents), stream,
        "incidents must be a tuple of sim.types.Incident within the stream")


def check_rollout(rollout: type[Rollout], gate) -> None:
    """Check that a :class:`~sim.rollout.Rollout` subclass keeps the rollout contract.

    ``gate`` holds what the rollout reads of its gate (``steps``, and e.g. a canary's
    ``fraction``). A rollout declares the live event fields and a memory of at least
    ``gate.steps``; serves a whole 400-sample step read-only, each sample from the model
    its ids name; counts no label it was not given; and ends on either verdict, on a new
    retrain (``interrupt``) and at the run's end (``abandon``) with a reason in its
    event row.

    Raises
    ------
    AssertionError
        Naming the rollout and the rule it broke.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from sim.rollout import CanaryRollout
    >>> check_rollout(CanaryRollout, SimpleNamespace(steps=3, fraction=0.3))
    """
    name = rollout.__name__
    _require(set(LIVE_EVENT_FIELDS) <= set(rollout.fields(gate)), name,
             f"fields() must hold the live event fields {LIVE_EVENT_FIELDS}")
    _require(rollout.memory(gate) >= gate.steps, name, "memory() must cover gate.steps")
    trial = _start(rollout, gate)
    _require(isinstance(trial.begin(), Actions), name, "begin() must return Actions")
    champion = _read_only(np.zeros(400, dtype=int))
    served = trial.serve(TrafficStep(10, 1000, champion, 1,
                                     lambda: _read_only(np.ones(400, dtype=int))))
    _require(len(served.y_pred) == 400 and not served.y_pred.flags.writeable, name,
             "serve() must give a read-only prediction for every sample of the step")
    _require(served.cost >= 0 and (served.share is None or 0 <= served.share <= 1), name,
             "a step's cost is >= 0 and its challenger share in [0, 1]")
    ids = served.model_id if served.model_id is not None else np.ones(400, dtype=int)
    _require(served.model_id is None or not ids.flags.writeable, name,
             "the serving model ids must be read-only")
    _require(set(np.unique(ids).tolist()) <= {1, 2} and ((served.y_pred == 1) == (
        ids == 2)).all(), name, "each sample is served by the model its id names")
    if served.share is not None and served.model_id is not None:
        _require(np.isclose(served.share, np.mean(ids == 2)), name,
                 "the share is the challenger's share of the step's samples")
    y = np.random.default_rng(1).integers(0, 2, 400)
    labels = Labels(np.zeros((400, 1)), y, served.y_pred, ids, np.arange(1000, 1400),
                    np.full(400, 10))
    ledger = Ledger(rollout.memory(gate))
    ledger.add(10, labels)
    trial.observe(labels, 10)
    evidence = trial.evidence(10, ledger)
    _require((evidence.look, evidence.looks) == (1, gate.steps), name,
             "the first look is look 1 of gate.steps")
    _require(evidence.n_challenger + (0 if evidence.paired else evidence.n_champion) <= 400
             and 0 <= evidence.correct_challenger <= evidence.n_challenger, name,
             "the evidence counts only the labels given")
    for verdict in (False, True):
        ending = _start(rollout, gate)
        ending.begin()
        while not ending.done:
            actions = ending.resolve(12, verdict, "the gate's reason")
        _require(ending.event["trial_end"] == 12
                 and "the gate's reason" in ending.event["gate_reason"], name,
                 "a verdict's event row says when the trial ended and why")
        back = actions.restore is not None
        _require(ending.event["accepted"] is (verdict or back), name,
                 "the event's accepted is the verdict (a watch's deployment stands)")
        _require(actions.deploy is None or (verdict and actions.at == 13), name,
                 "a deployment on a verdict at t serves from t + 1")
        _require(actions.row is None or {"step", "reason"} <= set(actions.row), name,
                 "an event row has a step and a reason")
    for stop in ("interrupt", "abandon"):
        stopped = _start(rollout, gate)
        stopped.begin()
        getattr(stopped, stop)(*(11,) if stop == "interrupt" else ())
        _require(rollout.kind in stopped.event["gate_reason"]
                 and stopped.unjudged in stopped.event["gate_reason"], name,
                 f"{stop}() must say in gate_reason that the {rollout.kind} was not judged")


def _start(rollout: type[Rollout], gate) -> Rollout:
    event = {"accepted": True, "deploy_step": 10, "gate_reason": ""} | rollout.fields(gate)
    return rollout(gate, SimpleNamespace(id=2), SimpleNamespace(id=1), 10, event,
                   Cost(per_shadow_sample=0.01), np.random.default_rng(0))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class _Holdout(Gate):
    """An offline gate that holds out 300 labels and rejects a challenger no better there."""

    n_val = 300

    def accept(self, champion, challenger, X_val, y_val):
        better = (challenger.predict(X_val) == y_val).mean() > (
            champion.predict(X_val) == y_val).mean()
        return Decision(bool(better), "better" if better else "no better on the holdout")

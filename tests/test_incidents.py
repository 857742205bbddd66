"""Incidents: breaks that are not drifts (sim.streams.Incidents), in the engine and metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from sim import Replay, replay
from sim.scripted import AtSteps
from sim.streams import SEA, Incidents

STEP = 250


def _labels_bug(fraction=1.0, start=10_000, end=15_000, **extra):
    return Incidents(SEA(n_samples=25_000, noise=0.0),
                     events=[{"cause": "labels", "start": start, "end": end,
                              "fraction": fraction, **extra}])


def test_label_corruption_is_delivered_but_not_scored():
    """The engine scores the truth while the history, the trigger and training get the bug.

    Every label of samples [10,000, 15,000) is flipped. Without a retrain the timeline is
    the clean run's to the last bit (the metric sees the truth); the trigger is shown the
    flipped labels; a model retrained on the incident's labels alone learns the inverted
    concept and scores below 0.2 after it is deployed (the clean retrain scores above 0.9).
    """
    clean = SEA(n_samples=25_000, noise=0.0)
    broken = _labels_bug()
    kw = dict(step_size=STEP, train_window=2_000)
    a = replay(clean, LogisticRegression(), AtSteps([]), **kw)
    b = replay(broken, LogisticRegression(), AtSteps([]), **kw)
    assert a.timeline["accuracy"].equals(b.timeline["accuracy"])

    seen, truth = {}, {}
    for stream, record in ((broken, seen), (clean, truth)):
        run = Replay(stream, LogisticRegression(), AtSteps([59]), **kw).reset()
        while not run.done:
            outcome = run.step()
            record[outcome.observation.t] = outcome.observation.labels.y
        if stream is broken:
            timeline = run.result().timeline.set_index("step")
    assert np.all(seen[50] != truth[50])  # step 50: samples [12,500, 12,750), in the bug
    assert np.array_equal(seen[70], truth[70])  # after it: the truth again
    assert timeline.loc[61:70, "accuracy"].mean() < 0.2
    fixed = replay(clean, LogisticRegression(), AtSteps([59]), **kw).timeline.set_index("step")
    assert fixed.loc[61:70, "accuracy"].mean() > 0.9


def test_label_corruption_fraction_and_target_class():
    """A fraction of the delivered labels is wrong, or all of them read one class; the truth
    (``y``) never changes, and the labels wrong do not depend on the step size."""
    stream = _labels_bug(fraction=0.3)
    parts = {}
    for step in (100, 1_000):
        batches = list(stream.batches(seed=3, step_size=step))
        parts[step] = (np.concatenate([b.y for b in batches]),
                       np.concatenate([b.y if b.delivered is None else b.delivered
                                       for b in batches]))
    y, delivered = parts[100]
    assert np.array_equal(parts[1_000][0], y) and np.array_equal(parts[1_000][1], delivered)
    wrong = y != delivered
    assert not wrong[:10_000].any() and not wrong[15_000:].any()
    assert 0.27 < wrong[10_000:15_000].mean() < 0.33
    batches = list(_labels_bug(to=1).batches(seed=0, step_size=5_000))
    assert np.all(batches[2].delivered == 1) and batches[0].delivered is None


def test_oracle_trains_on_the_delivered_labels():
    """The hindsight optimum gets the same (corrupted) labels as the run, not the truth."""
    from sim.oracle import _Data
    from sim.protocol import Protocol

    data = _Data(_labels_bug(), 0, Protocol(step_size=STEP), n_val=0)
    assert np.all(data.delivered[10_000:15_000] != data.y[10_000:15_000])
    assert np.array_equal(data.delivered[:10_000], data.y[:10_000])


def test_incident_errors_name_the_problem():
    sea = SEA(n_samples=10_000)
    cases = [
        ({"cause": "leak", "start": 5, "end": 10}, "'cause' must be one of"),
        ({"cause": "labels", "start": 0, "end": 10}, "'start' must be an int >= 1"),
        ({"cause": "labels", "start": 50, "end": 50}, "'end' must be an int > start"),
        ({"cause": "labels", "start": 50, "end": 20_000}, "must end by the end of the stream"),
        ({"cause": "labels", "start": 5, "end": 10, "fraction": 0}, "'fraction' must be"),
        ({"cause": "labels", "start": 5, "end": 10, "features": [0]}, "unknown key"),
        ({"cause": "unit", "start": 5, "end": 10, "features": [0], "factor": 1},
         "'factor' must differ from 1"),
        ({"cause": "swap", "start": 5, "end": 10, "features": [0]}, "two different"),
        ({"cause": "stuck", "start": 5, "end": 10, "features": [7]}, "column indices"),
        ({"cause": "spike", "start": 5, "end": 10, "segment": {0: [0, 1]}}, "'share'"),
        ({"cause": "missing", "start": 5, "end": 10}, "at least one feature"),
    ]
    for event, message in cases:
        with pytest.raises(ValueError, match=message):
            Incidents(sea, events=[event]).batches(seed=0, step_size=100)
    with pytest.raises(ValueError, match="not one of the stream's classes"):
        Incidents(sea, events=[{"cause": "labels", "start": 5, "end": 10, "to": 7}]).batches(
            seed=0, step_size=100)


def test_missing_values_need_a_model_that_takes_them():
    """A 'missing' incident fails before the run with a model that rejects NaN, naming the
    fix; a pipeline that starts with an imputer, and a tree, run."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    stream = Incidents(SEA(n_samples=10_000), events=[
        {"cause": "missing", "start": 5_000, "end": 6_000, "features": [1]}])
    with pytest.raises(ValueError, match="model=imputed_logistic_regression"):
        Replay(stream, LogisticRegression(), AtSteps([]), step_size=STEP).reset()
    for model in (make_pipeline(SimpleImputer(), LogisticRegression()),
                  DecisionTreeClassifier(max_depth=5)):
        result = replay(stream, model, AtSteps([22]), step_size=STEP)
        assert result.timeline["accuracy"].min() > 0.5


def test_feature_incidents_break_only_their_window():
    """stuck (last value), unit, swap and spike change the features inside [start, end) only."""
    sea = SEA(n_samples=4_000)
    clean = next(iter(sea.batches(seed=1, step_size=4_000)))
    events = [
        {"cause": "stuck", "start": 1_000, "end": 1_500, "features": [0]},
        {"cause": "unit", "start": 2_000, "end": 2_500, "features": [1], "factor": 1000},
        {"cause": "swap", "start": 3_000, "end": 3_200, "features": [0, 2]},
    ]
    broken = next(iter(Incidents(sea, events=events).batches(seed=1, step_size=4_000)))
    X, X0 = broken.X, clean.X
    assert np.all(X[1_000:1_500, 0] == X0[999, 0])
    assert np.allclose(X[2_000:2_500, 1], 1000 * X0[2_000:2_500, 1])
    assert np.array_equal(X[3_000:3_200, [0, 2]], X0[3_000:3_200, [2, 0]])
    outside = np.ones(4_000, bool)
    outside[[*range(1_000, 1_500), *range(2_000, 2_500), *range(3_000, 3_200)]] = False
    assert np.array_equal(X[outside], X0[outside]) and np.array_equal(broken.y, clean.y)
    spike = Incidents(sea, events=[{"cause": "spike", "start": 1_000, "end": 3_000,
                                    "segment": {0: [None, 2.0]}, "share": 0.5}])
    X = np.concatenate([b.X for b in spike.batches(seed=1, step_size=500)])
    assert (X0[1_000:3_000, 0] < 2).mean() < 0.25 < 0.5 < (X[1_000:3_000, 0] < 2).mean()
    assert np.array_equal(X[:1_000], X0[:1_000]) and np.array_equal(X[3_000:], X0[3_000:])

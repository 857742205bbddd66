"""Incidents: breaks that are not drifts (sim.streams.Incidents), in the engine and metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from sim import Replay, replay
from sim.scripted import AtSteps
from sim.streams import SEA, Incidents

STEP = 250
CONF = Path(__file__).parents[1] / "conf"


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


def test_an_injection_refuses_to_wrap_incidents():
    """Injection would drop the delivered labels and the incidents: it names the order."""
    from sim.streams import Injection

    inner = _labels_bug()
    with pytest.raises(ValueError, match=r"Incidents\(Injection"):
        Injection(inner, schedule=[{"kind": "covariate", "at": 20_000, "features": [0],
                                    "shift": 1.0}]).batches(seed=0, step_size=STEP)
    outer = Incidents(Injection(SEA(n_samples=25_000), schedule=[
        {"kind": "covariate", "at": 20_000, "features": [0], "shift": 1.0}]),
        events=inner.events)
    assert len(outer.drifts) == 1 and len(outer.incidents) == 1


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


# ---------------------------------------------------------------------------------------
# scored against the counterfactual: the same run on the stream without its incidents


def _stuck_before_drift():
    """SEA with a concept drift at sample 20,000 (step 40 of 500 samples) and features 0
    and 1 frozen over samples [15,000, 19,500) (steps 30-38), ending a step before it."""
    return Incidents(SEA(n_samples=40_000, schedule=[{"at": 20_000, "to": 2}]),
                     events=[{"cause": "stuck", "start": 15_000, "end": 19_500,
                              "features": [0, 1]}])


def test_the_counterfactual_is_the_same_stream_unbroken():
    stream = _stuck_before_drift()
    whole = stream.counterfactual()
    assert whole.enabled is False and stream.enabled is True and whole.incidents == ()
    a = np.concatenate([b.X for b in whole.batches(seed=3, step_size=500)])
    b = np.concatenate([b.X for b in stream.stream.batches(seed=3, step_size=500)])
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="'enabled' parameter of Incidents must be a bool"):
        list(Incidents(SEA(n_samples=1_000), enabled="no").batches(seed=0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_incident_before_a_drift_is_not_billed_the_drift(seed):
    """A frozen sensor that ends just before a drift, under ``Never``: the drift hits the
    run with the incident and its counterfactual alike, so nothing is lost after the
    incident (measured 0.000 for seeds 0-2; the old score, the same run's 10 steps
    before minus the 10 after, billed the drift to it: 0.028-0.045), and what the frozen
    sensor cost while it lasted is reported (0.255-0.260)."""
    from strategies import Never

    summary = replay(_stuck_before_drift(), LogisticRegression(), Never(), seed=seed).summary
    incident, = summary["incidents"]
    assert (incident["start_step"], incident["window_end"], incident["after_end"]) == (30, 38, 48)
    assert incident["lost_after"] == 0.0
    assert 0.09 <= incident["lost_during"] <= 0.27
    assert summary["accuracy_lost_after_incidents"] == 0.0
    assert summary["accuracy_lost_during_incidents"] == incident["lost_during"]


def test_retrains_on_the_broken_sensor_are_billed_after_it():
    """``Performance`` retrains twice on the frozen sensor; the models it deploys serve on
    after the sensor is fixed: measured loss after the incident 0.179-0.260 (seeds 0-2)."""
    from strategies import Performance

    for seed in (0, 1, 2):
        incident, = replay(_stuck_before_drift(), LogisticRegression(), Performance(),
                           seed=seed).summary["incidents"]
        assert incident["retrains"] >= 1 and incident["lost_after"] > 0.1


# ---------------------------------------------------------------------------------------
# the `incidents` preset (conf/stream/sea_incidents.yaml), over seeds

SEEDS = (0, 1, 2, 3)


def _preset_runs(trigger, gate=None):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    stream = instantiate(OmegaConf.load(CONF / "stream" / "sea_incidents.yaml"))
    return [replay(stream, LogisticRegression(), trigger, gate=gate, seed=s).summary
            for s in SEEDS]


@pytest.mark.slow
def test_an_unprotected_accuracy_trigger_retrains_on_the_label_bug_and_pays_after_it():
    """On the preset (SEA without drift; feature 1 frozen at steps 30-39; 90% of the
    delivered labels written as class 0 at steps 70-79), seeds 0-3, logistic regression,
    losses against the same run on the stream without the incidents.

    Measured: ``Performance`` retrains 2 times during the label bug in every seed, trains
    2-4 models on its labels and deploys them all, and loses 0.474-0.504 accuracy during
    it and 0.057-0.063 in the 10 steps after it (0.171-0.194 during the outage, 0.028-0.058
    after). ``Never`` loses exactly 0 to the label bug, during and after (the truth scores
    the predictions, and nothing trains on the wrong labels), and only during the outage
    (0.237-0.273; 0 after). The summary's ``incident_retrains`` is the sum over the
    incidents.
    """
    from strategies import Never, Performance

    for s in _preset_runs(Performance()):
        labels = next(i for i in s["incidents"] if i["cause"] == "labels")
        assert labels["retrains"] >= 1 and labels["deployed"] >= 1
        assert labels["lost_during"] > 0.3 and labels["lost_after"] > 0.03
        assert s["incident_retrains"] == sum(i["retrains"] for i in s["incidents"])
        assert s["incident_trained"] >= s["incident_retrains"] and s["n_incidents"] == 2
    for s in _preset_runs(Never()):
        labels, = (i for i in s["incidents"] if i["cause"] == "labels")
        stuck, = (i for i in s["incidents"] if i["cause"] == "stuck")
        assert s["incident_retrains"] == 0
        assert labels["lost_during"] == labels["lost_after"] == stuck["lost_after"] == 0.0
        assert stuck["lost_during"] > 0.2


@pytest.mark.slow
def test_a_holdout_gate_does_not_see_a_label_bug():
    """The ``Holdout`` gate (margin 0, the newest 500 labels held out) does not make the
    label bug cheaper: it judges the challenger on the same corrupted delivered labels
    (so it deploys the models trained on them), and once the bug is fixed it holds the
    first clean labels out of the repair's training window, so the repair trains on the
    bug's labels and ties the broken champion. Seeds 0-3, measured: accuracy lost after
    the label bug 0.256-0.318 with the gate against 0.057-0.063 without. The protection
    the issue asks for (a smaller loss with a gate) is not the holdout gate's to give.
    """
    from strategies import Holdout, Performance

    def lost(runs):
        return np.mean([next(i["lost_after"] for i in s["incidents"] if i["cause"] == "labels")
                        for s in runs])

    gated = _preset_runs(Performance(), Holdout())
    assert all(s["incident_deployments"] >= 1 for s in gated)
    assert lost(gated) > lost(_preset_runs(Performance()))


@pytest.mark.slow
def test_a_label_check_gate_keeps_the_label_bug_out_of_the_deployed_models():
    """``LabelCheck`` (chi-square at 0.01 and total variation above 0.1 between the class
    mix of the challenger's training labels and the trusted reference) checks the training
    data, not the models, so it sees the bug the holdout and live gates cannot. Seeds 0-3,
    measured: ``Performance`` still retrains 10 times during the label bug, the gate
    rejects every one (training labels 0.9 class 0 against the reference's 0.36: total
    variation about 0.5) and none is deployed; accuracy lost to the bug -0.004 to 0.004
    during it and -0.004 to 0.001 after, against 0.474-0.504 and 0.057-0.063 without a
    gate; mean accuracy 0.870-0.876 against 0.817-0.827. The rejected retrains still cost
    their training (15 retrains against 8).
    """
    from strategies import LabelCheck, Performance

    def lost(runs):
        return [next(i["lost_after"] for i in s["incidents"] if i["cause"] == "labels")
                for s in runs]

    gated = _preset_runs(Performance(), LabelCheck())
    plain = _preset_runs(Performance())
    for s in gated:
        labels = next(i for i in s["incidents"] if i["cause"] == "labels")
        assert labels["retrains"] >= 1 and labels["deployed"] == 0
        assert abs(labels["lost_during"]) < 0.02
    assert all(g < p - 0.03 for g, p in zip(lost(gated), lost(plain), strict=True))
    assert np.mean([s["mean_accuracy"] for s in gated]) > np.mean(
        [s["mean_accuracy"] for s in plain])


def test_a_run_figure_hatches_the_incidents(tmp_path):
    """RunResult.plot draws an incident as a hatched span with its own legend entry."""
    import matplotlib

    matplotlib.use("Agg")
    from experiments import plots

    result = replay(_labels_bug(), LogisticRegression(), AtSteps([45]), step_size=STEP)
    assert result.summary["incidents"][0]["start_step"] == 40
    fig = plots.run(result)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "incident (broken data, not a drift)" in labels
    hatched = [p for p in fig.axes[0].patches if p.get_hatch() == "///"]
    assert len(hatched) == 1
    assert result.plot(tmp_path / "run.png").exists()


def test_the_report_tables_the_incidents_per_configuration():
    """One column per incident, one row per configuration: its retrains and the loss after."""
    from types import SimpleNamespace

    import pandas as pd

    from experiments import report
    from strategies import Never

    runs = {"a": replay(_labels_bug(), LogisticRegression(), AtSteps([45]), step_size=STEP),
            "b": replay(_labels_bug(), LogisticRegression(), Never(), step_size=STEP)}
    jobs = pd.DataFrame({"job": ["a", "b"], "status": "ok",
                         "config": ["trigger=at_45", "trigger=never"]})
    agg = SimpleNamespace(jobs=jobs, task="classification")
    records = {k: (None, {"summary": r.summary}) for k, r in runs.items()}
    table = report._incident_table(agg, records)
    assert list(table.columns) == ["incident 1: labels at steps 40-59"]
    assert table.loc["trigger=at_45"].iloc[0].startswith(
        "retrains 1.0, trained on it 1.0 (deployed 1.0), lost during +0.")
    assert ", lost after +0." in table.loc["trigger=at_45"].iloc[0]
    assert table.loc["trigger=never"].iloc[0].startswith("retrains 0.0")


# ---------------------------------------------------------------------------------------
# LabelCheck's trusted reference


def test_label_check_does_not_let_a_label_bug_creep_in():
    """Two retrains, each within ``max_shift`` of the one before, move the mix 0.166 in
    all (seed 0 of the label-corruption stream: class 0 went 0.357, 0.430, 0.523): the
    reference is the initial mix with the labels that passed, not the champion's."""
    from strategies import LabelCheck

    gate = LabelCheck().check()
    initial, first, second = {0: 1785, 1: 3215}, {0: 1075, 1: 1425}, {0: 1308, 1: 1192}
    assert gate.accept(None, None, None, None, champion_labels=initial,
                       challenger_labels=first).retrain
    assert gate.reference == {0: 2860, 1: 4640}
    verdict = gate.accept(None, None, None, None, champion_labels=first,
                          challenger_labels=second)
    assert not verdict.retrain and "reference {0: 0.381, 1: 0.619}" in verdict.reason
    assert gate.reference == {0: 2860, 1: 4640}
    assert gate.check().reference is None


@pytest.mark.slow
def test_label_check_on_the_label_corruption_stream_holds_for_every_seed():
    """``Performance`` with ``LabelCheck`` on conf/stream/sea_label_corruption.yaml (the
    protocol of experiment=rollout_validation), seeds 0-4. Measured before: seed 0 0.323
    (a champion trained mostly on flipped labels passed by creeping, and stayed), the
    others 0.826-0.837. Now 0.822, 0.831, 0.874, 0.819, 0.833: every seed within 0.05 of
    the mean of the others (what is left apart is the trigger's: in seeds 0 and 3 a clean
    model deployed as the bug starts sets ``Performance``'s baseline on wrong labels)."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from strategies import LabelCheck, Performance

    stream = instantiate(OmegaConf.load(CONF / "stream" / "sea_label_corruption.yaml"),
                         _convert_="all")
    accuracy = np.array([
        replay(stream, LogisticRegression(), Performance(), gate=LabelCheck(), seed=s,
               label_delay=2, window="sliding", train_window=2500).summary["mean_accuracy"]
        for s in range(5)])
    others = (accuracy.sum() - accuracy) / (len(accuracy) - 1)
    assert np.all(np.abs(accuracy - others) <= 0.05), accuracy
    assert accuracy.min() > 0.8

"""A person in the loop (strategies.Approval): latency, alert budget and alert metrics."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sim import replay
from sim.metrics import fill_alerts
from sim.streams import SEA
from strategies import Approval, DriftAware, ErrorDetector, Performance, Periodic
from strategies.detectors import DDM

SEEDS = (0, 1, 2, 3, 4)
N = 40_000  # 80 steps of 500 samples, 10 of them the initial training segment


def sea(schedule=({"at": N // 2, "to": 3},)):
    return SEA(n_samples=N, schedule=list(schedule), noise=0.1)


def run(trigger, seed=0, stream=None, **kw):
    return replay(stream or sea(), LogisticRegression(), trigger, seed=seed, **kw)


@pytest.mark.parametrize("child", [Performance(), ErrorDetector(DDM()), Periodic(every=7)],
                         ids=["performance", "ddm", "periodic"])
def test_no_latency_and_no_budget_change_nothing(child):
    alone, approved = run(child, seed=3), run(Approval(child, latency=0), seed=3)
    columns = ["step", "reason", "follow_up", "accepted", "train_start", "train_end"]
    pd.testing.assert_frame_equal(alone.events[columns], approved.events[columns])
    assert alone.timeline["accuracy"].equals(approved.timeline["accuracy"])
    # every request that is not a planned refit is an alert acted upon at once
    s = approved.summary
    requests = int((~alone.events["follow_up"]).sum())
    assert s["alerts_raised"] == s["alerts_acted"] == requests
    assert s["alerts_not_acted"] == 0
    assert s["alerts_per_10k"] == pytest.approx(1e4 * requests / alone.summary["n_samples"])


def test_a_planned_refit_stays_after_the_retrain_it_follows():
    # the oracle fires once, at the drift's step (40), and plans a refit 4 steps later;
    # with a person taking 6 steps the refit comes 4 steps after the retrain, not before it
    result = run(Approval(DriftAware(refit_after=4), latency=6))
    events = result.events
    assert events["step"].tolist() == [46, 50]
    assert events["follow_up"].tolist() == [False, True]
    assert "alert of step 40 approved" in events["reason"].iloc[0]
    assert result.summary["alerts_raised"] == 1  # the refit is no alert
    # 6 steps late is past the detection window (label_delay + 5 steps after the drift's
    # end): a miss, and the refit is still no false alarm
    assert result.summary["missed_drifts"] == 1
    assert result.summary["false_retrains"] == 1
    quick = run(Approval(DriftAware(refit_after=4), latency=3), window="since_change")
    assert quick.events["step"].tolist() == [43, 47]
    assert quick.summary["drifts"][0]["detection_delay"] == 3
    assert quick.summary["false_retrains"] == 0
    # the delayed retrain trains from where the oracle said the change began
    assert quick.events["train_start"].iloc[0] == N // 2


def test_approval_latency_adds_its_steps_to_the_detection_delay():
    """Latency d adds exactly d steps to the detection delay.

    SEA, one sudden concept drift (theta 8 -> 9.5) at sample 20,000 (step 40), 10% label
    noise, Performance (drop 0.05, a refit 4 steps after a detection), seeds 0-4. Alone,
    the trigger detects at step 40 in every seed (delay 0, 2 retrains); with latency
    d = 1, 2, 3 the delay is d in every seed, still 2 retrains; the trigger re-alerts
    every step while its retrain waits (d + 1 alerts, d not acted upon). Mean accuracy
    over the seeds: 0.8895 alone, 0.8865 with d = 3 (one step of latency can help: seed 4
    gains 0.002 with d = 1, its quick fix then trains on one more step of the new concept).
    """
    accuracy = {0: [], 3: []}
    for seed in SEEDS:
        alone = run(Performance(), seed=seed).summary
        accuracy[0].append(alone["mean_accuracy"])
        assert alone["detected_drifts"] == 1
        for d in (1, 2, 3):
            s = run(Approval(Performance(), latency=d), seed=seed).summary
            assert s["detected_drifts"] == 1
            assert s["mean_detection_delay"] == alone["mean_detection_delay"] + d, (seed, d)
            assert s["n_retrains"] == alone["n_retrains"]
            assert s["n_follow_ups"] == alone["n_follow_ups"]
            assert s["alerts_raised"] == s["alerts_acted"] + s["alerts_not_acted"]
            assert s["alerts_not_acted"] >= 1  # the re-alerts while the retrain waits
        accuracy[3].append(s["mean_accuracy"])
    assert np.mean(accuracy[3]) < np.mean(accuracy[0]) - 0.002


def test_an_alert_budget_caps_the_retrains_and_counts_the_alerts_not_acted_on():
    """At most ``budget`` alerts acted upon in any ``period`` steps.

    SEA with three sudden drifts (samples 15,000, 30,000 and 45,000 of 60,000; 110 scored
    steps), a sensitive accuracy-drop trigger (drop 0.02 over 250 labels, no refit),
    seeds 0-2. Alone it retrains 10, 17 and 10 times (7, 14 and 7 false alarms); with a
    person acting on one alert per 20 steps it retrains 5, 4 and 6 times while 51, 32
    and 58 alerts are raised (46, 28 and 52 not acted upon, about 6-11 alerts per
    10,000 samples).
    """
    schedule = [{"at": 15_000, "to": 3}, {"at": 30_000, "to": 0}, {"at": 45_000, "to": 2}]
    stream = SEA(n_samples=60_000, schedule=schedule, noise=0.1)
    child = Performance(drop=0.02, window=250, min_labels=250, refit_after=None)
    for seed in (0, 1, 2):
        alone = run(child, seed=seed, stream=stream)
        capped = run(Approval(child, latency=0, budget=1, period=20), seed=seed, stream=stream)
        steps = capped.events["step"].to_numpy()
        assert all(np.sum((steps > s - 20) & (steps <= s)) <= 1 for s in steps)
        s = capped.summary
        assert s["n_retrains"] < alone.summary["n_retrains"]
        assert s["alerts_acted"] == s["n_retrains"]
        assert s["alerts_not_acted"] > s["alerts_acted"]
        assert s["alerts_raised"] == s["alerts_acted"] + s["alerts_not_acted"]
        assert s["alerts_per_10k"] == pytest.approx(1e4 * s["alerts_raised"] / s["n_samples"])


def test_a_budget_over_the_whole_run():
    # alerts at steps 14 and 20 (5 steps after the retrain of step 15), each retrain a
    # step later; then none acted upon
    result = run(Approval(Periodic(every=5), latency=1, budget=2))
    assert result.events["step"].tolist() == [15, 21]
    assert result.summary["alerts_acted"] == 2
    assert result.summary["alerts_not_acted"] == result.summary["alerts_raised"] - 2 > 0


def test_a_run_without_a_person_has_no_alert_keys_and_the_report_fills_them():
    plain = run(Performance())
    assert not {k for k in plain.summary if k.startswith("alerts_")}
    approved = run(Approval(Performance(), latency=2))
    jobs = pd.DataFrame([plain.summary, approved.summary]).drop(columns=["drifts"])
    filled = fill_alerts(jobs)
    requests = plain.summary["n_retrains"] - plain.summary["n_follow_ups"]
    assert filled.loc[0, "alerts_raised"] == filled.loc[0, "alerts_acted"] == requests
    assert filled.loc[0, "alerts_not_acted"] == 0
    assert filled.loc[1, "alerts_raised"] == approved.summary["alerts_raised"]
    # a sweep without a person in the loop gets no alert columns
    assert "alerts_raised" not in fill_alerts(jobs.iloc[:1].dropna(axis=1, how="all"))


@pytest.mark.parametrize("params, match", [
    ({"period": 10}, "'period' parameter of Approval must be None when 'budget' is None"),
    ({"latency": -1}, "'latency' parameter of Approval must be an int >= 0"),
    ({"budget": 0}, "'budget' parameter of Approval must be an int >= 1 or None"),
    ({"latency": 70}, r"'latency' parameter of Approval must be an int in \[0, 69\]"),
])
def test_bad_parameters_are_refused_before_the_run(params, match):
    with pytest.raises(ValueError, match=match):
        run(Approval(Performance(), **params))


def test_a_delayed_retrain_trains_on_the_labels_arrived_when_it_starts():
    # labels 3 steps late, retrains 2 steps after their alert: every retrain trains on
    # labels that had arrived by the step it started, and on more than had at the alert
    step, delay = 500, 3
    result = run(Approval(Performance(refit_after=None), latency=2), label_delay=delay)
    events = result.events
    assert len(events) >= 1
    for t, end in zip(events["step"], events["train_end"], strict=True):
        assert end == (t - delay + 1) * step, (t, end)


def test_the_sensitivity_figure_shows_the_alerts_only_when_some_were_not_acted_on():
    import matplotlib.pyplot as plt

    from experiments import plots

    configs = pd.DataFrame({"trigger.latency": [0, 5]})
    for name, values in {"mean_accuracy": [0.9, 0.88], "n_retrains": [4, 4],
                         "total_cost": [4, 4], "alerts_raised": [2, 8],
                         "alerts_not_acted": [0, 6]}.items():
        configs[f"{name}_mean"], configs[f"{name}_ci95"] = values, np.nan
    with_alerts = plots.sensitivity(configs, "trigger.latency")[0]
    assert [ax.get_ylabel() for ax in with_alerts.axes][-1] == "alerts raised (count)"
    configs["alerts_not_acted_mean"] = 0
    without = plots.sensitivity(configs, "trigger.latency")[0]
    assert "alerts raised (count)" not in [ax.get_ylabel() for ax in without.axes]
    plt.close(with_alerts)
    plt.close(without)


def test_compare_gives_every_trigger_its_alerts_and_a_vote_keeps_its_persons_alerts():
    from sim import compare
    from strategies import AnyOf

    approved = Approval(Performance(), latency=2)
    comparison = compare(sea(), LogisticRegression(), {
        "alone": Performance(), "approved": approved,
        "voted": AnyOf([approved, Periodic(every=20)])}, seed=0, oracle=False)
    table = comparison.summary
    assert table.loc["alone", "alerts_raised"] == table.loc["alone", "alerts_acted"] == 1
    assert table.loc["approved", "alerts_not_acted"] == 2  # the re-alerts while it waits
    # in the vote, the periodic child retrains at steps 29 and 66 with no person (two
    # alerts acted upon at once); the person's statistics, prefixed, count the alerts of
    # steps 40-42, the first acted upon (its retrain at 42, its planned refit at 46)
    assert comparison.runs["voted"].events["step"].tolist() == [29, 42, 46, 66]
    assert table.loc["voted", ["alerts_raised", "alerts_acted", "alerts_not_acted"]].tolist() \
        == [5, 3, 2]


def test_a_rollback_is_no_alert():
    # the rollout preset's stream (some retrains train mostly on wrong labels) under the
    # rollback gate: the rollbacks are rows of the events table, but no retrain request
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    conf = Path(__file__).parents[1] / "conf"
    stream = instantiate(OmegaConf.load(conf / "stream" / "sea_label_corruption.yaml"))
    gate = instantiate(OmegaConf.load(conf / "gate" / "rollback.yaml"))
    result = replay(stream, LogisticRegression(), Approval(Periodic(every=10), latency=1),
                    gate=gate, seed=0, label_delay=2, window="sliding", train_window=2500)
    events = result.events
    assert (events["kind"] == "rollback").any()
    requests = int(((events["kind"] == "retrain") & ~events["follow_up"]).sum())
    assert result.summary["alerts_acted"] == requests

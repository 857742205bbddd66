"""Pins of the scoring defects of issue 12: drift scoring, follow-ups, regret, registry."""

import numpy as np
import pandas as pd
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from sklearn.linear_model import LogisticRegression

from experiments import CONF_DIR, advise, report, store
from sim import Cost, Protocol, compare, oracle, replay
from sim.metrics import METRICS, summarize
from sim.streams import SEA
from sim.types import Drift, Evaluation
from strategies import AnyOf, Cooldown, Performance, Periodic


def _default_stream():
    return instantiate(OmegaConf.load(CONF_DIR / "stream" / "covariate_concept.yaml"),
                       _convert_="all")


def _sea():
    return SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])


def test_anyof_keeps_the_follow_up_flag():
    alone = replay(_sea(), LogisticRegression(), Performance(), seed=0).summary
    wrapped = replay(_sea(), LogisticRegression(), AnyOf([Performance()]), seed=0).summary
    assert alone["n_follow_ups"] == wrapped["n_follow_ups"] == 1
    assert wrapped["false_retrains"] == alone["false_retrains"] == 0
    assert wrapped["precision"] == alone["precision"] == 1.0


def test_cooldown_lets_the_planned_refit_through():
    trigger = Cooldown(AnyOf([Performance(refit_after=4)]), min_gap=5)
    events = replay(_sea(), LogisticRegression(), trigger, seed=0).events
    assert events["follow_up"].tolist() == [False, True]
    assert np.diff(events["step"]).tolist() == [4]


def test_the_shipped_combined_config_delivers_its_refit():
    trigger = instantiate(OmegaConf.load(CONF_DIR / "trigger" / "combined.yaml"),
                          _convert_="all")
    events = replay(_default_stream(), LogisticRegression(), trigger, seed=1).events
    assert events["follow_up"].any()


def test_regret_counts_only_the_retrains_that_served():
    stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    run = replay(stream, LogisticRegression(), Periodic(every=10), seed=1, window="sliding")
    assert run.events["step"].tolist() == [19, 29, 39]  # 39 is the last step: never serves
    assert run.summary["n_retrains"] == 3 and run.summary["n_served"] == 2
    frontier = oracle.hindsight(stream, LogisticRegression(), seed=1, every=5,
                                protocol=Protocol(window="sliding"), extra_steps=run.events)
    r = oracle.regret(run.summary, frontier)
    assert r["optimal_accuracy_same_retrains"] == frontier.best(2).accuracy
    assert r["regret"] >= 0


def test_frontier_evaluates_a_runs_events_as_they_are():
    stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    protocol = Protocol(window="sliding")
    run = replay(stream, LogisticRegression(), Periodic(every=10), seed=1, protocol=protocol)
    frontier = oracle.hindsight(stream, LogisticRegression(), seed=1, every=5,
                                protocol=protocol, extra_steps=run.events)
    for given in (run.events, run.events.step, run.events["step"].tolist()):
        schedule = frontier.evaluate(given)
        assert schedule.steps == (19, 29)
        assert schedule.accuracy == pytest.approx(run.summary["mean_accuracy"], abs=1e-12)


def _real_data_like(alarm: int, follow_up_at: int):
    """A stream whose declared event starts inside step 28 (partial ground truth)."""
    steps = np.arange(10, 60)
    timeline = pd.DataFrame({"step": steps, "sample_index": steps * 48, "n_samples": 48,
                             "n_labels": 48, "accuracy": np.where(steps < 28, 0.8, 0.6)})
    events = pd.DataFrame({"step": [alarm, follow_up_at], "follow_up": [False, True],
                           "model_id": [1, 2], "accepted": True,
                           "deploy_step": [alarm + 1, follow_up_at + 1],
                           "benefit": [0.3, 0.05], "cost_retrain": 1.0, "cost_samples": 0.0,
                           "fit_seconds": 0.0})
    drift = Drift(start=28 * 48 + 20, end=28 * 48 + 20, kind="concept", shape="sudden")
    return summarize(timeline, events, (drift,), evaluation=Evaluation(),
                     cost=Cost(), first_step=10, ground_truth="partial", tolerance=2)


def test_an_alarm_a_step_before_a_declared_start_is_a_detection():
    s = _real_data_like(alarm=27, follow_up_at=31)
    assert s["detected_drifts"] == 1 and s["missed_drifts"] == 0
    assert s["mean_detection_delay"] == -1.0  # the alarm, not the refit at 31
    assert s["drifts"][0]["detected_at"] == 27
    # partial ground truth: false alarms and precision are not judged
    assert s["false_retrains"] is None and s["precision"] is None


def test_a_planned_refit_is_never_a_detection():
    s = _real_data_like(alarm=12, follow_up_at=29)  # only the refit falls near the drift
    assert s["detected_drifts"] == 0 and s["drifts"][0]["detected_at"] is None


def test_a_retrain_long_after_the_drift_is_a_miss():
    s = _real_data_like(alarm=50, follow_up_at=55)
    assert s["detected_drifts"] == 0


def test_false_alarms_are_reported_with_their_benefit():
    stream = _sea()
    s = replay(stream, LogisticRegression(), Periodic(every=7), seed=0).summary
    assert s["false_retrains"] > 0
    assert s["false_alarm_benefit"] is not None
    assert 0 <= s["false_alarms_beneficial"] <= s["false_retrains"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_data_drift_is_not_caught_on_the_default_concept_drift(seed):
    trigger = instantiate(OmegaConf.load(CONF_DIR / "trigger" / "data_drift.yaml"),
                          _convert_="all")
    s = replay(_default_stream(), LogisticRegression(), trigger, seed=seed).summary
    concept = [d for d in s["drifts"] if d["kind"] == "concept"]
    assert len(concept) == 1 and concept[0]["detected_at"] is None


def test_every_summary_key_is_registered():
    s = replay(_sea(), LogisticRegression(), Performance(), seed=0).summary
    known = {m.name for m in METRICS} | {"metric", "ground_truth", "drifts", "incidents"}
    assert set(s) <= known, set(s) - known


def test_compare_returns_events_regret_and_plots(tmp_path):
    result = compare(_sea(), LogisticRegression(),
                     {"periodic": Periodic(every=10), "performance": Performance()}, seed=0)
    assert set(result.events["trigger"]) == {"periodic", "performance"}
    assert (result.regret >= -1e-12).all()
    paths = result.plot(tmp_path / "cmp.png")
    assert all(p.stat().st_size > 10_000 for p in paths)
    assert result.runs["periodic"].plot(tmp_path / "run.png").stat().st_size > 10_000


def test_sim_does_not_import_matplotlib_at_import_time():
    import subprocess
    import sys

    code = "import sys, sim, sim.compare, sim.oracle; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------
# the report and the advisor


def _write_job(directory, *, seed, trigger, value, retrains, task="classification",
               config_id=None, stream=None):
    directory.mkdir(parents=True)
    (directory / ".hydra").mkdir()
    overrides = [f"trigger={trigger}", f"seed={seed}"]
    if stream is not None:
        overrides.insert(1, f"stream={stream}")
        config_id = config_id or f"{trigger}-{stream}"
    (directory / ".hydra" / "overrides.yaml").write_text(
        "".join(f"- {o}\n" for o in overrides))
    name = "mae" if task == "regression" else "accuracy"
    steps = np.arange(2, 30)
    timeline = pd.DataFrame({"step": steps, name: value + 0.01 * np.sin(steps)})
    if task == "regression":
        timeline["rmse"] = timeline["mae"] * 1.3
    store.write_timeline(directory, timeline)
    store.write_events(directory, pd.DataFrame({"step": list(range(5, 5 + retrains)),
                                                "model_id": range(1, 1 + retrains),
                                                "accepted": True}))
    summary = {"metric": name, f"mean_{name}": value, "n_retrains": retrains,
               "total_cost": float(retrains), "n_samples": 14_000, "ground_truth": "complete"}
    if task == "regression":
        summary["rmse"] = value * 1.3
    store.write_summary(directory, {
        "status": "ok", "overrides": overrides, "summary": summary,
        "config": {"trigger": {"_target_": f"strategies.{trigger}"}, "seed": seed},
        "config_id": config_id or trigger, "step_size": 500})


def test_a_regression_sweep_gets_a_report_and_advice(tmp_path):
    for i, (trigger, mae, retrains) in enumerate([("never", 0.30, 0), ("periodic", 0.12, 6),
                                                  ("performance", 0.10, 2)]):
        for seed in (0, 1):
            _write_job(tmp_path / f"{i}{seed}", seed=seed, trigger=trigger,
                       value=mae + 0.001 * seed, retrains=retrains, task="regression")
    agg = report.aggregate(tmp_path)
    text = agg.report.read_text()
    assert "mean absolute error (target units)" in text and "RMSE" in text
    assert (tmp_path / "mae_over_time.png").stat().st_size > 10_000
    assert (tmp_path / "mae_vs_cost.png").stat().st_size > 10_000
    jobs = advise.load_summary(tmp_path)
    assert "metric" not in advise._param_columns(jobs)
    advice = advise.advise(jobs)
    assert advice.metric == "mae" and advice.recommended == "trigger=performance"
    assert advise.main([str(tmp_path), "--output", str(tmp_path / "advice.png")]) is None


def test_the_advisor_refuses_different_seed_sets(tmp_path):
    _write_job(tmp_path / "0", seed=0, trigger="periodic", value=0.9, retrains=5)
    _write_job(tmp_path / "1", seed=1, trigger="periodic", value=0.9, retrains=5)
    _write_job(tmp_path / "2", seed=0, trigger="performance", value=0.91, retrains=2)
    jobs = advise.load_summary(tmp_path)
    with pytest.raises(ValueError, match="different seeds"):
        advise.advise(jobs)
    assert advise.advise(jobs, allow_unequal_seeds=True).recommended is not None


def test_best_per_metric_skips_never_and_says_tied(tmp_path):
    for i, (trigger, acc, retrains) in enumerate([("never", 0.6, 0), ("periodic", 0.90, 6),
                                                  ("performance", 0.90, 6)]):
        for seed in (0, 1, 2):
            _write_job(tmp_path / f"{i}{seed}", seed=seed, trigger=trigger,
                       value=acc + 0.001 * seed, retrains=retrains)
    best = report._best(report.aggregate(tmp_path, figures=False))
    assert "never" not in best.loc["retrains (count)", "best"]
    assert best.loc["accuracy (fraction correct)", "best"].startswith("tied:")


def test_a_sweep_over_streams_ranks_and_draws_each_stream_apart(tmp_path):
    """Accuracy on an easy stream would win every "best" against a hard one: a sweep that
    varies the stream gets one best-per-metric table and one cost figure per stream."""
    for i, (stream, trigger, acc, retrains) in enumerate([
            ("easy", "periodic", 0.95, 6), ("easy", "performance", 0.90, 2),
            ("hard", "periodic", 0.70, 6), ("hard", "performance", 0.75, 2)]):
        for seed in (0, 1, 2):
            _write_job(tmp_path / f"{i}{seed}", seed=seed, trigger=trigger, stream=stream,
                       value=acc + 0.001 * seed, retrains=retrains)
    agg = report.aggregate(tmp_path)
    text = agg.report.read_text()
    assert "### Stream `easy`" in text and "### Stream `hard`" in text
    hard = text[text.index("### Stream `hard`"):text.index("## Figures")]
    assert "| accuracy (fraction correct) | trigger=performance |" in hard
    assert not (tmp_path / "accuracy_vs_cost.png").exists()
    for stream in ("easy", "hard"):
        assert (tmp_path / f"accuracy_vs_cost_{stream}.png").stat().st_size > 10_000
        assert f"Stream `{stream}` only" in text


def test_regression_gets_a_hindsight_frontier_and_regret_over_a_loss_matrix():
    from sklearn.linear_model import LinearRegression

    from sim.streams import Tabular

    rng = np.random.default_rng(0)
    x = rng.normal(size=(12_000, 2))
    y = x @ [1.0, 2.0] + np.where(np.arange(12_000) < 6_000, 0.0, 3.0 * x[:, 1])
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y + rng.normal(0, 0.1, 12_000)})
    stream = Tabular(frame, target="y", task="regression")
    result = compare(stream, LinearRegression(), {"periodic": Periodic(every=5),
                                                   "performance": Performance(drop=0.2)},
                     seed=0, step_size=500, initial_train=2_000, min_train=500,
                     train_window=2_000)
    assert (result.regret >= -1e-9).all()
    summary = result.summary
    assert (summary["optimal_mae_same_retrains"] <= summary["mean_mae"] + 1e-9).all()
    assert "mae" in result.frontier and result.frontier["mae"].is_monotonic_decreasing


def test_a_partial_sweep_says_how_many_jobs_were_planned(tmp_path):
    for i, trigger in enumerate(("periodic", "performance")):
        _write_job(tmp_path / str(i), seed=0, trigger=trigger, value=0.9, retrains=3)
    text = report.aggregate(tmp_path, figures=False, expected=6).report.read_text()
    assert "Partial sweep: 6 jobs planned, 2 finished" in text
    single = report.aggregate(tmp_path, figures=False).report.read_text()
    assert "Partial sweep" not in single and "no confidence interval" in single


def test_the_drift_table_names_each_streams_drift_when_they_differ():
    from types import SimpleNamespace

    def record(kind):
        return {"summary": {"drifts": [{"kind": kind, "shape": "sudden", "start_step": 30,
                                        "detected_at": 30, "detection_delay": 0,
                                        "accuracy_lost": 0.1}]}}

    jobs = pd.DataFrame({"job": ["a", "b"], "status": "ok",
                         "config": ["stream=covariate", "stream=concept"]})
    agg = SimpleNamespace(jobs=jobs, task="classification")
    records = {"a": (None, record("covariate")), "b": (None, record("concept"))}
    table = report._drift_table(agg, records)
    assert list(table.columns) == ["drift 1 (differs by stream)"]
    assert table.loc["stream=concept"].iloc[0].startswith("concept (sudden) at step 30:")
    same = report._drift_table(agg, {"a": records["a"], "b": (None, record("covariate"))})
    assert list(same.columns) == ["drift 1: covariate (sudden) at step 30"]

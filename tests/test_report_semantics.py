"""What the report, the advisor and the figures claim (issue 21, "report semantics").

Each test reproduces one misleading number or figure of a real preset on a small fake
sweep written as jobs write it: the best-per-metric table, intervals of bounded metrics,
the advisor across streams, Optuna trials that average seeds, and what the figures draw.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import advise, report, store
from experiments.stats import bounded, show
from sim.metrics import METRICS


def _job(directory: Path, overrides: list[str], summary: dict, *, seed: int = 0,
         accuracy: float | None = None, steps: int = 30, columns: dict | None = None,
         target: str = "strategies.Periodic") -> None:
    """Write one finished job: overrides, a timeline, events and a summary."""
    directory.mkdir(parents=True)
    (directory / ".hydra").mkdir()
    (directory / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    rng = np.random.default_rng(seed)
    acc = summary.get("mean_accuracy", 0.8) if accuracy is None else accuracy
    timeline = pd.DataFrame({"step": np.arange(steps),
                             "accuracy": np.clip(acc + rng.normal(0, 0.01, steps), 0, 1),
                             **(columns or {})})
    store.write_timeline(directory, timeline)
    store.write_events(directory, pd.DataFrame({"step": [5], "model_id": [1],
                                                "accepted": [True]}))
    store.write_summary(directory, {
        "status": "ok", "overrides": overrides, "error": None, "step_size": 100,
        "config": {"trigger": {"_target_": target}, "seed": seed},
        "summary": {"n_samples": steps * 100, "total_cost": 0.0, "n_retrains": 0,
                    "mean_accuracy": acc, **summary}})


def _sweep(root: Path, rows: list[tuple[list[str], dict]], **kw) -> Path:
    for i, (overrides, summary) in enumerate(rows):
        seed = int(next((o.split("=")[1] for o in overrides if o.startswith("seed=")), 0))
        _job(root / str(i), overrides, summary, seed=seed, **kw)
    return root


# ----------------------------------------------------------------------------------------
# 1. best per metric: a loss against the policy's own broken baseline is not "best"


def test_best_skips_a_policy_whose_loss_is_small_because_its_baseline_is_broken(tmp_path):
    # rollout_validation: always_accept has accuracy 0.674 (the others about 0.85) and
    # "accuracy lost per drift" -0.163, the lowest, since it was broken before the drift
    rows = []
    for policy, acc, lost in (("always_accept", 0.674, -0.163), ("holdout", 0.847, 0.020),
                              ("shadow", 0.854, 0.054)):
        for seed in (0, 1, 2):
            rows.append(([f"gate={policy}", f"seed={seed}"],
                         {"mean_accuracy": acc + 0.002 * seed, "n_retrains": 11,
                          "total_cost": 11.0, "mean_accuracy_lost": lost + 0.002 * seed,
                          "n_drifts": 2}))
    agg = report.aggregate(_sweep(tmp_path / "s", rows), figures=False)
    best = report._best(agg)
    assert "always_accept" not in best.loc["accuracy lost per drift (fraction)", "best"]
    assert best.loc["accuracy lost per drift (fraction)", "best"].startswith("holdout")
    assert "within 0.05 of the best" in agg.report.read_text()


# ----------------------------------------------------------------------------------------
# 2. intervals of bounded quantities stay inside their range


def test_every_table_metric_declares_a_range_and_shares_stay_in_zero_one():
    for m in METRICS:
        low, high = m.range
        assert low < high, m.name
    assert bounded(0.148, 0.639, 0.0, 1.0) == (0.0, 0.787)
    assert show(6.7, 0.0, 18.2, "{:.1f}") == "6.7 [0.0, 18.2]"


def test_intervals_of_shares_and_counts_stay_in_range_in_tables(tmp_path):
    # rollout_validation printed "exposure share 0.148 ± 0.639" and "retrains 6.7 ± 11.5"
    rows = [([f"gate={g}", f"seed={s}"],
             {"exposed_share": share, "n_retrains": n, "total_cost": float(n)})
            for g, shares, counts in (("shadow", (0.0, 0.0, 0.444), (0, 0, 20)),
                                      ("canary", (0.1, 0.1, 0.1), (11, 11, 11)))
            for s, share, n in zip((0, 1, 2), shares, counts, strict=True)]
    agg = report.aggregate(_sweep(tmp_path / "s", rows), figures=False)
    configs = pd.read_csv(agg.sweep_dir / "configs.csv", index_col=0)
    assert configs.loc["shadow", "exposed_share_ci95"] > configs.loc["shadow",
                                                                      "exposed_share_mean"]
    assert configs.loc["shadow", "exposed_share_lo"] == 0.0
    assert 0.0 <= configs.loc["shadow", "exposed_share_hi"] <= 1.0
    assert configs.loc["shadow", "n_retrains_lo"] == 0.0
    text = agg.report.read_text()
    assert "±" not in text
    assert "0.148 [0.000, 0.785]" in text  # the asymmetric interval, as printed
    assert "6.7 [0.0, 35.4]" in text


# ----------------------------------------------------------------------------------------
# 3. the advisor recommends per stream, never a stream


def _streams_summary() -> pd.DataFrame:
    # online_vs_retrain: never/online is best on the easy stream, performance on the other
    rows = []
    for stream, base in (("hyperplane_incremental", 0.91), ("sea_sudden", 0.80)):
        for trigger, gain, cost in (("never", 0.0, 11.0), ("performance", 0.02, 3.0)):
            for seed in (0, 1, 2):
                better = gain if stream == "sea_sudden" else -gain
                rows.append({"job": str(len(rows)), "stream": stream, "trigger": trigger,
                             "seed": seed, "status": "ok", "n_samples": 55_000,
                             "mean_accuracy": base + better + 0.001 * seed,
                             "total_cost": cost, "n_retrains": cost})
    return pd.DataFrame(rows)


def test_advisor_refuses_to_rank_across_streams_and_names_no_stream():
    jobs = _streams_summary()
    with pytest.raises(ValueError, match="'stream' parameter of advise must be one of the "
                                         "streams the sweep ran: 'hyperplane_incremental', "
                                         "'sea_sudden'. Got None instead"):
        advise.advise(jobs)
    assert advise.streams(jobs) == ["hyperplane_incremental", "sea_sudden"]
    one = advise.advise(jobs, stream="hyperplane_incremental")
    two = advise.advise(jobs, stream="sea_sudden")
    assert (one.recommended, two.recommended) == ("trigger=never", "trigger=performance")
    assert "stream" not in one.text().partition("Recommended:")[2].splitlines()[0]
    with pytest.raises(ValueError, match="Got 'stagger' instead"):
        advise.advise(jobs, stream="stagger")


def test_advisor_cli_prints_one_recommendation_per_stream(tmp_path, capsys):
    _streams_summary().to_csv(tmp_path / "summary.csv", index=False)
    advise.main([str(tmp_path), "--no-figure"])
    out = capsys.readouterr().out
    recommended = [line for line in out.splitlines() if line.startswith("Recommended:")]
    assert recommended == ["Recommended: trigger=never", "Recommended: trigger=performance"]
    assert "Stream: hyperplane_incremental." in out and "Stream: sea_sudden." in out


# ----------------------------------------------------------------------------------------
# 4. Optuna trials average seeds: the report and advisor say which


def _optuna_sweep(root: Path) -> Path:
    for i, drop in enumerate((0.13945930846219456, 0.05, 0.2)):
        overrides = [f"trigger.drop={drop}", "trigger=performance", "seed=0"]
        _job(root / str(i), overrides, {"mean_accuracy": 0.92 - drop / 10, "n_retrains": 4,
                                        "total_cost": 4.0 + 10 * drop,
                                        "seeds_averaged": [0, 1, 2]})
    return root


def test_optuna_trials_report_the_seeds_each_trial_averaged(tmp_path):
    agg = report.aggregate(_optuna_sweep(tmp_path / "s"), figures=False)
    text = agg.report.read_text()
    assert "each the mean over seeds 0, 1, 2" in text
    assert "One seed per configuration" not in text
    assert "trigger.drop=0.1395" in text and "0.13945930846219456" not in text
    advice = advise.advise(pd.read_csv(agg.sweep_dir / "summary.csv"))
    answer = advice.text()
    assert "1 seed" not in answer and "run at least 3" not in answer
    assert "mean over 3 seeds averaged in each job" in answer
    assert advice.recommended == "trigger.drop=0.05"
    assert "0.13945930846219456" not in answer


# ----------------------------------------------------------------------------------------
# figures: what they draw (5-9)


def _configs(labels, accuracy, cost, **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"mean_accuracy_mean": accuracy, "mean_accuracy_ci95": 0.01,
                          "total_cost_mean": cost, "total_cost_ci95": 0.5, **columns},
                         index=pd.Index(labels, name="config"))
    return frame


def test_legends_are_inside_the_saved_image_and_swept_values_are_rounded(tmp_path):
    import matplotlib.pyplot as plt

    from experiments import plots

    # optuna_threshold: six trials with the same results share one marker, whose legend
    # entry named all six thresholds with 17 digits and ran off the image
    drops = [0.13945930846219456, 0.18022139476124277, 0.15267712, 0.13849637983423974,
             0.10879542583803166, 0.16324405770133074]
    labels = [f"trigger.drop={d}" for d in drops]
    fig = plots.metric_vs_cost(_configs(labels, 0.9288, 4.0, mean_accuracy_ci95=np.nan,
                                        total_cost_ci95=np.nan))
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("drop=0.1395" in t for t in texts)
    assert not any("0.13945930846219456" in t for t in texts)
    fig.canvas.draw()
    need = fig.get_tightbbox(fig.canvas.get_renderer()).width * plots.DPI
    image = plt.imread(plots.save(fig, tmp_path / "a.png"))
    assert image.shape[1] >= need - 2  # the legend is not cut at the right edge


def test_over_time_ranks_per_stream_and_names_what_it_leaves_out(tmp_path):
    # online_vs_retrain: 18 configurations over 3 streams; "the best 16" across streams
    # dropped never and periodic on STAGGER
    rows = []
    for stream, level in (("hyperplane", 0.9), ("sea", 0.85), ("stagger", 0.6)):
        for trigger in ("never", "periodic", "performance"):
            for learning in ("batch", "online"):
                rows.append(([f"stream={stream}", f"trigger={trigger}",
                              f"learning={learning}", "seed=0"],
                             {"mean_accuracy": level + 0.01 * len(rows) % 0.05}))
    agg = report.aggregate(_sweep(tmp_path / "s", rows, steps=12), figures=True)
    assert agg.drawn == (18, 18)

    from experiments import plots

    series = [plots.Series(f"trigger=t{i}", [pd.DataFrame({"step": [0, 1],
                                                           "accuracy": [0.8, 0.9]})])
              for i in range(2)]
    fig = plots.over_time(series, not_drawn=["trigger=t2", "trigger=t3"])[0]
    note = " ".join(t.get_text() for t in fig.texts)
    assert "Not drawn (2 of 4 configurations" in note and "t2, t3" in note


def test_rollout_cost_figure_shows_exposure():
    from experiments import plots

    gates = ["always_accept", "holdout", "shadow", "canary", "rollback"]
    fig = plots.metric_vs_cost(_configs(
        gates, [0.674, 0.847, 0.854, 0.849, 0.803], [11.0] * 5,
        exposed_share_mean=[0.485, 0.364, 0.148, 0.106, 0.312],
        exposed_share_lo=[0.354, 0.0, 0.0, 0.0, 0.265],
        exposed_share_hi=[0.615, 0.815, 0.787, 0.488, 0.359]))
    assert len(fig.axes) == 2
    assert "exposure" in fig.axes[1].get_xlabel()
    xs = sorted(round(float(c.lines[0].get_xdata()[0]), 3) for c in fig.axes[1].containers)
    assert xs == [0.106, 0.148, 0.312, 0.364, 0.485]  # one marker per gate, apart


def test_approval_figures_draw_alerts_raised_and_acted_upon():
    from experiments import plots

    line = pd.DataFrame({"step": np.arange(6), "accuracy": 0.9,
                         "stat_alert_raised": [0, 1, 1, 1, 0, 0.0],
                         "stat_alert_acted": [0, 0, 0, 1, 0, 0.0]})
    live = plots.live_of(line, pd.DataFrame())
    assert live["alerts"] == [([1, 2, 3], [3])]
    fig = plots.over_time([plots.Series("trigger.latency=2", [line[["step", "accuracy"]]],
                                        [[(4, True)]], **live)])[0]
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "alert raised to the person in the loop" in legend
    assert "alert acted upon (approved)" in legend

    configs = _configs([f"trigger.latency={v}" for v in (0, 2, 5)], [0.887, 0.885, 0.880],
                       [4.0] * 3, **{"trigger.latency": [0, 2, 5], "n_retrains_mean": 4.0,
                                     "n_retrains_ci95": 0.0, "alerts_raised_mean": [2., 5., 8.],
                                     "alerts_raised_ci95": 1.0, "alerts_acted_mean": 2.0,
                                     "alerts_not_acted_mean": [0., 3., 6.]})
    fig = plots.sensitivity(configs, "trigger.latency")[0]
    panel = fig.axes[-1]
    assert [t.get_text() for t in panel.get_legend().get_texts()] == [
        "raised (mean, 95% CI)", "acted upon (mean)"]
    assert any(list(ln.get_ydata()) == [2.0, 2.0, 2.0] for ln in panel.lines)


def test_a_marker_at_cost_zero_is_not_cut_by_the_axis():
    from experiments import plots

    fig = plots.metric_vs_cost(_configs(["never", "performance"], [0.62, 0.93], [0.0, 4.0],
                                        total_cost_ci95=0.0))
    assert fig.axes[0].get_xlim()[0] < 0.0


def test_searched_thresholds_get_an_ordinary_axis_not_one_overlapping_label_each():
    from experiments import plots

    drops = [0.13945930846219456, 0.13849637983423974, 0.18022139476124277, 0.10879542583803166]
    configs = _configs([f"trigger.drop={d}" for d in drops], 0.9288, 4.0,
                       **{"trigger.drop": drops, "n_retrains_mean": 4.0, "n_retrains_ci95": 0.0})
    fig = plots.sensitivity(configs, "trigger.drop")[0]
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert not any(len(t) > 5 for t in labels), labels
    grid = plots.sensitivity(configs.assign(**{"trigger.drop": [0, 2, 5, 10]}), "trigger.drop")
    assert [t.get_text() for t in grid[0].axes[0].get_xticklabels()] == ["0", "2", "5", "10"]

"""The threshold advisor on synthetic sweep summaries."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from experiments import advise as adv  # noqa: E402
from experiments import plots, stats  # noqa: E402

DROPS = (0.01, 0.02, 0.05, 0.1, 0.2)


def _summary(drops=DROPS, seeds=(0, 1, 2, 3, 4), *, peak=0.05, noise=0.002, oracle=True,
             failed=True):
    """A sweep of trigger.drop: accuracy peaks at ``peak``; retrains fall with the drop."""
    rng = np.random.default_rng(0)
    rows = []
    for d in drops:
        for s in seeds:
            acc = 0.90 - 2.0 * (np.log10(d) - np.log10(peak)) ** 2 / 100 + noise * rng.normal()
            acc += 0.003 * s  # a seed effect shared by every configuration (pairing helps)
            retrains = 40 * (0.25 - d) / 0.25 + 2
            rows.append({"job": str(len(rows)), "trigger": "performance", "seed": s,
                         "trigger.drop": d, "mean_accuracy": acc, "n_steps": 120,
                         "n_samples": 60_000, "n_retrains": retrains, "n_accepted": retrains,
                         "total_cost": retrains * 1.0, "status": "ok", "error": None,
                         "config": f"trigger.drop={d}"})
    if oracle:
        for s in seeds:
            rows.append({"job": str(len(rows)), "trigger": "drift_aware", "seed": s,
                         "trigger.drop": np.nan, "mean_accuracy": 0.95, "n_steps": 120,
                         "n_samples": 60_000, "n_retrains": 4, "n_accepted": 4,
                         "total_cost": 4.0, "status": "ok", "error": None, "config": "drift_aware"})
    if failed:
        rows.append({"job": str(len(rows)), "trigger": "performance", "seed": 9,
                     "trigger.drop": 0.05, "mean_accuracy": np.nan, "n_steps": np.nan,
                     "n_samples": np.nan, "n_retrains": np.nan, "n_accepted": np.nan,
                     "total_cost": np.nan, "status": "failed", "error": "boom",
                     "config": "trigger.drop=0.05"})
    return pd.DataFrame(rows)


def test_best_accuracy_without_budget_and_oracle_excluded():
    a = adv.advise(_summary())
    assert a.recommended == "trigger=performance, trigger.drop=0.05"
    assert not a.configs.loc[a.recommended, "drift_aware"]
    assert a.configs.loc["trigger=drift_aware", "drift_aware"]
    assert a.n_failed == 1
    assert a.configs.loc[a.recommended, "n_seeds"] == 5
    assert not a.warnings, a.warnings
    text = a.text()
    assert "Recommended: trigger=performance, trigger.drop=0.05" in text
    assert "knows the true drifts" in text and "1 jobs failed" in text


def test_budget_in_retrains_per_10k():
    jobs = _summary()
    a = adv.advise(jobs, max_retrains=3.0)  # 60,000 samples: at most 18 retrains
    feasible = a.configs[a.configs["feasible"]]
    assert (feasible["retrains_per_10k"] <= 3.0).all()
    assert a.recommended == "trigger=performance, trigger.drop=0.2"
    assert a.configs.loc[a.recommended, "retrains_per_10k"] == pytest.approx(10 / 6)
    assert any("largest value swept" in w and "extend it above 0.2" in w for w in a.warnings)


def test_budget_in_cost_and_infeasible():
    a = adv.advise(_summary(), max_cost=30.0)  # 0.1: 26 retrains; 0.05: 34
    assert a.recommended == "trigger=performance, trigger.drop=0.1"
    none = adv.advise(_summary(), max_cost=0.5)
    assert none.recommended is None
    assert "No configuration meets the budget" in none.text()


def test_cost_weight_trades_accuracy_for_cost():
    free = adv.advise(_summary(), cost_weight=0.0)
    dear = adv.advise(_summary(), cost_weight=0.01)
    assert free.recommended == "trigger=performance, trigger.drop=0.05"
    # at 0.01 accuracy per cost unit per 10k samples, the cheapest wins
    assert dear.recommended == "trigger=performance, trigger.drop=0.2"
    s = dear.configs.loc[dear.recommended]
    assert s["score"] == pytest.approx(s["value"] - 0.01 * s["cost_per_10k"])


def test_paired_test_uses_the_seeds():
    a = adv.advise(_summary(noise=0.0))
    # runner-up differs by a constant over seeds: paired, clearly distinguishable
    assert a.runner_up is not None and a.test["n"] == 5
    assert a.test["distinguishable"] and a.test["p_value"] == 0.0
    # identical configurations: not distinguishable
    jobs = _summary(drops=(0.05,), oracle=False, failed=False)
    twin = jobs.assign(**{"trigger.drop": 0.06, "config": "trigger.drop=0.06"})
    wiggle = np.array([1e-4, -1e-4, 1e-4, -1e-4, 0.0])
    near = jobs.assign(**{"trigger.drop": 0.07, "config": "trigger.drop=0.07",
                          "mean_accuracy": jobs["mean_accuracy"] + wiggle})
    b = adv.advise(pd.concat([jobs, twin, near], ignore_index=True))
    assert b.tied == ["trigger.drop=0.06"]
    assert b.runner_up == "trigger.drop=0.07"
    assert b.test["p_value"] > 0.5 and not b.test["distinguishable"]
    assert "NOT distinguishable" in b.text() and "Exactly the same results" in b.text()


def test_warnings_few_seeds_and_wide_ci():
    a = adv.advise(_summary(seeds=(0, 1)))
    assert any("only 2 seeds" in w for w in a.warnings)
    wide = adv.advise(_summary(noise=0.05))
    assert any("wider than 0.02" in w for w in wide.warnings)


def test_edge_of_the_range():
    a = adv.advise(_summary(peak=0.005))  # the optimum lies below the swept range
    assert a.recommended.endswith("trigger.drop=0.01")
    assert any("smallest value swept" in w and "extend it below 0.01" in w for w in a.warnings)


def test_bad_arguments():
    with pytest.raises(ValueError, match="at most one"):
        adv.advise(_summary(), max_cost=1, cost_weight=1)
    with pytest.raises(ValueError, match="'max_retrains' parameter of advise"):
        adv.advise(_summary(), max_retrains=-1)
    with pytest.raises(ValueError, match="not a retrain-sim sweep summary"):
        adv.advise(pd.DataFrame({"job": ["0"], "seed": [0]}))


def test_main_writes_text_and_figure(tmp_path, capsys):
    _summary().to_csv(tmp_path / "summary.csv", index=False)
    pd.DataFrame({"K": [0, 1, 2, 3], "accuracy": [0.85, 0.93, 0.95, 0.955],
                  "total_cost": [0.0, 1.0, 2.0, 3.0]}).to_csv(tmp_path / "oracle_frontier.csv",
                                                              index=False)
    adv.main([str(tmp_path), "--max-retrains", "5"])
    out = capsys.readouterr().out
    assert "Recommended:" in out and "Runner-up:" in out and "Figure:" in out
    png = tmp_path / "advice.png"
    assert png.exists() and png.stat().st_size > 10_000
    adv.main([str(tmp_path), "--cost-weight", "0.001", "--output", str(tmp_path / "w.png")])
    assert (tmp_path / "w.png").exists()


def test_main_without_summary(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        adv.main([str(tmp_path)])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        adv.main([str(tmp_path / "nope")])


def test_mean_frontier_and_draw():
    import matplotlib.pyplot as plt

    f = stats.mean_frontier([pd.DataFrame({"K": [0, 1], "accuracy": [0.8, 0.9],
                                         "total_cost": [0.0, 1.0]})] * 2)
    fig, ax = plt.subplots()
    plots.draw_frontier(ax, f)
    assert len(ax.lines) == 1
    plt.close(fig)

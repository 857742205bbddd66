"""Threshold search: the objective a job returns, and the Optuna presets end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from experiments import objective

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["stream=sea_sudden", "stream.n_samples=12000", "stream.schedule=[{at: 6000, to: 2}]",
         "protocol.step_size=500", "protocol.initial_train=2000", "protocol.train_window=2000",
         "progress=false"]


def test_the_objective_of_a_record():
    record = {"status": "ok", "summary": {"mean_accuracy": 0.9, "total_cost": 5.0}}
    cfg = OmegaConf.create({"seed": 0, "objective": {"kind": "score", "cost_weight": 0.01}})
    assert objective.value(cfg, record) == pytest.approx(0.85)
    cfg.objective.kind = "pareto"
    assert objective.value(cfg, record) == [0.9, 5.0]
    with pytest.raises(RuntimeError, match="The trial has no objective: bad drop"):
        objective.value(cfg, {"status": "failed", "error": {"message": "bad drop"}})
    cfg.objective.kind = "best"
    with pytest.raises(ValueError, match="'kind' parameter of objective must be one of "
                                         "'score', 'pareto'"):
        objective.value(cfg, record)
    assert objective.seeds(cfg) == [0]
    cfg.objective.seeds = [3, 4]
    assert objective.seeds(cfg) == [3, 4]
    cfg.objective.seeds = [-1]
    with pytest.raises(ValueError, match="'seeds' parameter of objective must be None or a "
                                         "non-empty list of ints >= 0"):
        objective.seeds(cfg)


def test_seeds_are_averaged_metric_by_metric():
    got = objective.average([{"mean_accuracy": 0.8, "detection": None, "kind": "a"},
                             {"mean_accuracy": 0.9, "detection": 3.0, "kind": "a"}], [0, 1])
    assert got == {"mean_accuracy": pytest.approx(0.85), "detection": None, "kind": "a",
                   "seeds_averaged": [0, 1]}


def _run(args: list[str], cwd: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_optuna_presets_search_and_report_like_a_grid(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    from experiments import advise

    score = tmp_path / "score"
    done = _run(["-m", "experiment=optuna_threshold", "hydra.sweeper.n_trials=3",
                 "objective.seeds=[0,1]", f"hydra.sweep.dir={score}", *SMALL], tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(p.read_text()) for p in sorted(score.glob("*/summary.json"))]
    assert len(records) == 3 and all(r["status"] == "ok" for r in records)
    assert all(r["summary"]["seeds_averaged"] == [0, 1] for r in records)
    best = OmegaConf.load(score / "optimization_results.yaml")
    values = [r["summary"]["mean_accuracy"] - 0.002 * r["summary"]["total_cost"]
              for r in records]
    assert best.best_value == pytest.approx(max(values))
    assert "## Search (Optuna)" in (score / "report.md").read_text()
    jobs = advise.load_summary(score)
    advice = advise.advise(jobs, cost_weight=0.002)  # the trials read as configurations
    assert len(advice.configs) == 3 and advice.recommended in advice.configs.index

    pareto = tmp_path / "pareto"
    done = _run(["-m", "experiment=optuna_pareto", "hydra.sweeper.n_trials=3",
                 "objective.seeds=[0]", f"hydra.sweep.dir={pareto}", *SMALL], tmp_path)
    assert done.returncode == 0, done.stderr
    solutions = OmegaConf.load(pareto / "optimization_results.yaml").solutions
    report = (pareto / "report.md").read_text()
    assert "The Pareto set of the search" in report and len(solutions) >= 1
    for s in solutions:
        assert f"| {s['values'][0]:.4f} | {s['values'][1]:g} |" in report

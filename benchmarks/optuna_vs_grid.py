"""Does an Optuna search find, in 30 trials, a threshold as good as a 20-point grid?

The preset ``experiment=optuna_threshold`` searches Performance's ``drop`` on the default
stream, each trial replaying the same seeds and returning mean accuracy - lambda * total
cost. The grid replays 20 evenly spaced ``drop`` values on the same seeds. The claim
checked: the best trial's objective is within the 95% confidence interval (Student t over
the seeds) of the grid's best point. Both run through ``retrain-sim``, one job at a time;
the wall times are printed (under whatever load the machine has: say so when recording).

    python benchmarks/optuna_vs_grid.py [--seeds 5] [--trials 30] [--cost-weight 0.002]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from common import versions
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "experiments.run", *args, "progress=false"],
                          cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"retrain-sim failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--cost-weight", type=float, default=0.002)
    opts = parser.parse_args()
    seeds = list(range(opts.seeds))
    grid = np.round(np.linspace(0.005, 0.25, opts.points), 4)
    print(versions())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        grid_time = run(["-m", "trigger=performance",
                         "trigger.drop=" + ",".join(map(str, grid)),
                         "seed=" + ",".join(map(str, seeds)), "oracle.enabled=false",
                         f"hydra.sweep.dir={tmp / 'grid'}"], ROOT)
        search_time = run(["-m", "experiment=optuna_threshold",
                           f"objective.cost_weight={opts.cost_weight}",
                           f"objective.seeds=[{','.join(map(str, seeds))}]",
                           f"hydra.sweeper.n_trials={opts.trials}",
                           f"hydra.sweep.dir={tmp / 'search'}"], ROOT)
        rows = []
        for path in (tmp / "grid").glob("*/summary.json"):
            record = json.loads(path.read_text())
            s = record["summary"]
            rows.append({"drop": record["config"]["trigger"]["drop"],
                         "seed": record["config"]["seed"],
                         "score": s["mean_accuracy"] - opts.cost_weight * s["total_cost"]})
        table = pd.DataFrame(rows).groupby("drop")["score"].agg(["mean", "std", "count"])
        best_drop = table["mean"].idxmax()
        best = table.loc[best_drop]
        half = stats.t.ppf(0.975, best["count"] - 1) * best["std"] / np.sqrt(best["count"])
        found = yaml.safe_load((tmp / "search" / "optimization_results.yaml").read_text())
        trials = []
        for path in (tmp / "search").glob("*/summary.json"):
            record = json.loads(path.read_text())
            s = record["summary"]
            trials.append((record["job"]["num"], record["config"]["trigger"]["drop"],
                           s["mean_accuracy"] - opts.cost_weight * s["total_cost"]))
        trials.sort()
        best_value = float(found["best_value"])
        first = next((n for n, _, v in trials if v >= best["mean"] - half), None)
        n_inside = sum(v >= best["mean"] - half for _, _, v in trials)
    print(f"stream: default (conf/config.yaml); trigger performance; seeds {seeds}; "
          f"lambda = {opts.cost_weight} per unit of cost")
    print(f"grid: {opts.points} points x {len(seeds)} seeds in {grid_time:.0f} s; best drop "
          f"{best_drop:g}: accuracy - lambda*cost = {best['mean']:.4f} "
          f"(95% CI {best['mean'] - half:.4f} .. {best['mean'] + half:.4f})")
    lower = best["mean"] - half
    print(f"grid spread: worst point {table['mean'].min():.4f} (drop "
          f"{table['mean'].idxmin():g}); {int((table['mean'] >= lower).sum())} of "
          f"{len(table)} points inside the best's CI")
    print(f"optuna: {opts.trials} trials x {len(seeds)} seeds in {search_time:.0f} s; best "
          f"drop {found['best_params']['trigger.drop']:.4f}: {best_value:.4f}; first trial "
          f"inside the grid's CI: #{first}; {n_inside} of {len(trials)} trials inside it")
    inside = best_value >= best["mean"] - half
    print(f"within the grid best's 95% CI (or above it): {'yes' if inside else 'NO'}")
    sys.exit(0 if inside else 1)


if __name__ == "__main__":
    main()

"""Aggregating a large sweep directory: 10,000 job directories (goal: under 30 s).

One real job (a small ``retrain-sim hydra.mode=RUN``) is run once; its files are copied
into ``--configs`` x ``--seeds`` job directories (``trigger=periodic trigger.every=<k>
seed=<s>``, each with its own metrics in ``summary.json`` and its own hindsight frontier,
as a real sweep's jobs each add their own retrains to the oracle's candidates), in a
temporary directory.
Then :func:`experiments.report.aggregate` is timed as the end of a sweep runs it (tables,
``report.md`` and the figures), and without the figures.

    python benchmarks/aggregate.py [--configs 2000] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (one BLAS thread, before numpy)
import pandas as pd

from experiments import report, store

TINY = ["stream.n_samples=6000", "stream.schedule=[{at:2000,to:2},{at:4000,to:3}]",
        "protocol.step_size=250", "protocol.initial_train=500", "protocol.train_window=1000",
        "protocol.benefit_window=4", "progress=false", "trigger=periodic"]


def make_sweep(root: Path, n_configs: int, n_seeds: int) -> Path:
    template = root / "template"
    done = subprocess.run(["retrain-sim", "hydra.mode=RUN", f"hydra.run.dir={template}",
                           *TINY], capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    files = {name: (template / name).read_bytes() for name in (store.TIMELINE, store.EVENTS)}
    frontier = pd.read_csv(template / store.FRONTIER)
    record = json.loads((template / store.SUMMARY).read_text())
    sweep = root / "sweep"
    num = 0
    for every in range(1, n_configs + 1):
        for seed in range(n_seeds):
            job = sweep / str(num)
            (job / ".hydra").mkdir(parents=True)
            overrides = ["trigger=periodic", f"trigger.every={every}", f"seed={seed}"]
            (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n"
                                                                   for o in overrides))
            for name, data in files.items():
                (job / name).write_bytes(data)
            shift = every / 1e5 + seed / 1e3
            store.write_frontier(job, frontier.assign(accuracy=frontier["accuracy"] + shift))
            summary = dict(record["summary"], mean_accuracy=0.8 + every / 1e5 + seed / 1e3,
                           n_retrains=every % 7, total_cost=every % 7)
            (job / store.SUMMARY).write_text(json.dumps(dict(record, overrides=overrides,
                                                             summary=summary)))
            num += 1
    return sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(common.versions())
    root = Path(tempfile.mkdtemp(prefix="retrain-sim-aggregate-"))
    try:
        sweep = make_sweep(root, args.configs, args.seeds)
        n = args.configs * args.seeds
        for figures in (True, False):
            start = time.perf_counter()
            agg = report.aggregate(sweep, figures=figures)
            seconds = time.perf_counter() - start
            assert len(agg.jobs) == n and (agg.jobs["status"] == "ok").all()
            print(f"aggregate {n:,} job directories ({args.configs:,} configurations), "
                  f"figures={figures}: {seconds:.1f} s (goal < 30 s; load "
                  f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

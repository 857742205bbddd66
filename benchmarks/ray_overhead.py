"""Launcher overhead per job of a sweep on a local Ray instance (goal: < 0.2 s per job).

Runs the same sweep of ``--jobs`` small jobs (6,000 samples, the oracle off) twice, into
temporary directories: with ``hydra/launcher=basic`` (one job after the other, in the
launching process: the jobs' own time, composition included) and with
``hydra/launcher=ray_local`` (a private Ray instance, one CPU per task). The overhead
per job is ``(Ray's wall time - basic's wall time / cores) / jobs``: what Ray adds to a
perfectly parallel run, its start-up included. Needs the ray extra.

    python benchmarks/ray_overhead.py [--jobs 1000]
"""

from __future__ import annotations

import argparse
import os

from sweep_scaling import timed

TINY = ["stream.n_samples=6000", "stream.schedule=[{at:2000,to:2},{at:4000,to:3}]",
        "protocol.step_size=250", "protocol.initial_train=500", "protocol.train_window=1000",
        "protocol.benefit_window=4", "progress=false", "oracle.enabled=false",
        "trigger=periodic"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    sweep = ["-m", *TINY, f"seed=range(0,{args.jobs})"]
    basic = timed([*sweep, "hydra/launcher=basic"])
    ray = timed([*sweep, "hydra/launcher=ray_local"])
    print(f"{args.jobs} jobs: basic {basic:.1f} s ({basic / args.jobs:.3f} s per job), Ray "
          f"{ray:.1f} s on {cores} cores: launcher overhead "
          f"{(ray - basic / cores) / args.jobs:.3f} s per job (goal < 0.2 s)")


if __name__ == "__main__":
    main()

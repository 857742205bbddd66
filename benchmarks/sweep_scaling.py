"""The default experiment's wall time, and how a threshold_sweep multirun scales with joblib.

Runs the command line as a user would, each into a fresh temporary directory (removed
afterwards; ``hydra.sweep.dir=...``, ``resume=false``, ``progress=false``), with
``OPENBLAS_NUM_THREADS=1`` as benchmarks/README.md recommends for parallel sweeps:

- ``retrain-sim`` with no arguments (the default comparison: 6 triggers x 3 seeds on
  the default stream, then the sweep report). Goal: < 30 s on 2 cores.
- ``retrain-sim -m experiment=threshold_sweep seed='range(0,14)'`` (7 drops x 14 seeds =
  98 jobs, conf/experiment/threshold_sweep.yaml) with ``hydra.launcher.n_jobs=1`` and
  ``=2``. Goal: 2 workers >= 1.7x faster than 1.

Each is timed ``--repeats`` times (median; the 1- and 2-worker runs interleaved); the
load average is printed with every run, and so are the sweep's three phases, from the
job files' times: start-up (imports, composing and checking every configuration) until
the first job's directory, the jobs until the last ``summary.json``, and the report.

    python benchmarks/sweep_scaling.py [--seeds 14] [--repeats 1] [--skip-default]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def phases(path: str, start: float, end: float) -> tuple[float, float, float]:
    """Seconds of start-up, jobs and report of the sweep in ``path`` (see the docstring)."""
    jobs = [e.path for e in os.scandir(path) if e.is_dir() and e.name.isdigit()]
    first = min(os.stat(os.path.join(j, ".hydra")).st_mtime for j in jobs)
    last = max(os.stat(os.path.join(j, "summary.json")).st_mtime for j in jobs)
    return first - start, last - first, end - last


def timed(args: list[str]) -> float:
    """Wall seconds of ``retrain-sim *args`` into a fresh temporary sweep directory."""
    path = tempfile.mkdtemp(prefix="retrain-sim-scaling-")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as on a user's machine
    command = ["retrain-sim", *args, f"hydra.sweep.dir={path}", "resume=false",
               "progress=false"]
    try:
        start, wall = time.perf_counter(), time.time()  # the files' times are wall clock
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        n_jobs = sum(1 for e in os.scandir(path) if e.is_dir() and e.name.isdigit())
        up, jobs, report = phases(path, wall, wall + seconds)
    finally:
        shutil.rmtree(path, ignore_errors=True)
    print(f"  {' '.join(args) or '(no arguments)'}: {seconds:.1f} s, {n_jobs} jobs; start-up "
          f"{up:.1f} s, jobs {jobs:.1f} s, report {report:.1f} s (load {load()})", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=14)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--skip-default", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {load()}")
    if not args.skip_default:
        default = statistics.median(timed([]) for _ in range(args.repeats))
        print(f"default experiment (retrain-sim): {default:.1f} s (goal < 30 s)\n")
    sweep = ["-m", "experiment=threshold_sweep", f"seed=range(0,{args.seeds})"]
    ones, twos = [], []
    for _ in range(args.repeats):  # interleaved, so that a change of load hits both
        ones.append(timed([*sweep, "hydra.launcher.n_jobs=1"]))
        twos.append(timed([*sweep, "hydra.launcher.n_jobs=2"]))
    one, two = statistics.median(ones), statistics.median(twos)
    print(f"threshold_sweep, {7 * args.seeds} jobs: 1 worker {one:.1f} s, 2 workers "
          f"{two:.1f} s, speed-up {one / two:.2f}x (goal >= 1.7x)")


if __name__ == "__main__":
    main()

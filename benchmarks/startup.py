"""Start-up: ``retrain-sim --help``, and a single run against the imports it cannot avoid.

Measures, as separate processes, interleaved, ``--repeats`` times each (median):

- ``retrain-sim --help``; goal < 1 s, and it imports neither scikit-learn nor SciPy
  (checked with ``python -X importtime``, which lists every module imported);
- ``python -c "import sklearn.linear_model, scipy.stats, pandas, hydra"``: the floor;
- ``retrain-sim hydra.mode=RUN`` (one run of the default configuration: 60,000 samples,
  55,000 of them scored after the initial segment; trigger ``performance``, the
  hindsight oracle on, as a user runs it) into a temporary directory; goal: its wall
  time minus the floor < 1 s;
- the same run in one process after the floor's imports (``in one process``): the time
  from the end of those imports to the end of the run, which leaves out the two
  processes' different start-up and exit noise (the floor alone varies by 0.5 s here).

Python writes each module's bytecode (``__pycache__``) the first time it imports it, as
on a user's machine; a ``PYTHONDONTWRITEBYTECODE`` in the environment (this sandbox sets
it) is removed for the measured commands, and one run before the repeats writes the
bytecode of an editable install's modules (without it each command compiles ~60 of
them again: +0.15-0.3 s).

    python benchmarks/startup.py [--repeats 3]
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

FLOOR = "import sklearn.linear_model, scipy.stats, pandas, hydra"
IN_ONE = f"""import sys, time
{FLOOR}
start = time.perf_counter()
from experiments.run import main
main(sys.argv[1:])
print(time.perf_counter() - start, file=sys.stderr)
"""


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(command: list[str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=ENV)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def help_imports() -> set[str]:
    """The top-level packages ``retrain-sim --help`` imports."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "experiments.cli",
                           "--help"], capture_output=True, text=True, check=True)
    return {line.rsplit("|", 1)[1].strip().split(".")[0]
            for line in done.stderr.splitlines() if line.startswith("import time:")
            and "|" in line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load {load()}; Python {sys.version.split()[0]}")
    imported = help_imports()
    heavy = sorted(imported & {"sklearn", "scipy", "pandas", "hydra", "matplotlib"})
    print(f"retrain-sim --help imports {len(imported)} top-level packages; of sklearn, "
          f"scipy, pandas, hydra, matplotlib: {heavy or 'none'}")
    times: dict[str, list[float]] = {"help": [], "floor": [], "run": [], "in_one": []}
    path = tempfile.mkdtemp(prefix="retrain-sim-startup-")
    try:  # writes the bytecode of the modules a run imports (not timed)
        wall(["retrain-sim", "hydra.mode=RUN", "progress=false", f"hydra.run.dir={path}"],
             cwd=path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
    for _ in range(args.repeats):
        times["help"].append(wall(["retrain-sim", "--help"]))
        times["floor"].append(wall([sys.executable, "-c", FLOOR]))
        path = tempfile.mkdtemp(prefix="retrain-sim-startup-")
        try:
            times["run"].append(wall(["retrain-sim", "hydra.mode=RUN", "progress=false",
                                      f"hydra.run.dir={path}"], cwd=path))
        finally:
            shutil.rmtree(path, ignore_errors=True)
        path = tempfile.mkdtemp(prefix="retrain-sim-startup-")
        try:
            done = subprocess.run([sys.executable, "-c", IN_ONE, "hydra.mode=RUN",
                                   "progress=false", f"hydra.run.dir={path}"], cwd=path,
                                  capture_output=True, text=True, check=True, env=ENV)
            times["in_one"].append(float(done.stderr.strip().splitlines()[-1]))
        finally:
            shutil.rmtree(path, ignore_errors=True)
        print(f"  help {times['help'][-1]:.2f} s, floor {times['floor'][-1]:.2f} s, "
              f"run {times['run'][-1]:.2f} s, in one process {times['in_one'][-1]:.2f} s "
              f"beyond the imports (load {load()})", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"median: --help {med['help']:.2f} s (goal < 1 s); imports alone "
          f"{med['floor']:.2f} s; single run {med['run']:.2f} s, i.e. "
          f"{med['run'] - med['floor']:.2f} s beyond the imports, "
          f"{med['in_one']:.2f} s in one process (goal < 1 s)")


if __name__ == "__main__":
    main()

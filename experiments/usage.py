"""The text of ``retrain-sim --help`` and the command's exit codes, read from ``conf/``.

Below both :mod:`experiments.cli` (which prints :func:`usage`) and :mod:`experiments.run`
(which exits with :data:`EXIT_CODES`), so that neither imports the other's importer;
imports neither Hydra, pandas, scikit-learn nor SciPy.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import fill

from experiments import CONF_DIR, GROUPS

__all__ = ["EXIT_CODES", "quiet_schema_warning", "usage"]

EXIT_CODES = {
    0: "the run, or every job of the sweep, ran; failed jobs are recorded and named",
    1: "fail_fast=true and a job failed; the sweep stopped before all its jobs finished; "
       "no job of the sweep succeeded; or a single run failed",
    2: "a bad configuration or value, caught before any job ran (no results are written); "
       "or the sweep directory holds another sweep",
    130: "interrupted (Ctrl-C)",
    143: "terminated (SIGTERM); like Ctrl-C, the message says what finished",
}
"""The exit status of ``retrain-sim``, by code."""


def _options(group: str, conf_dir: Path) -> list[str]:
    return sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))


def usage(conf_dir: Path = CONF_DIR) -> str:
    """Return the text of ``retrain-sim --help``, read from the configs in ``conf_dir``.

    Examples
    --------
    >>> text = usage()
    >>> text.splitlines()[0]
    'retrain-sim: when should a production model be retrained? Replay drifting data streams'
    >>> "  seed=0,1,2" in text and "Exit status:" in text
    True
    """
    import yaml

    primary = yaml.safe_load((conf_dir / "config.yaml").read_text())
    defaults = {}
    for entry in primary.get("defaults", []):
        if isinstance(entry, dict):
            for key, value in entry.items():
                defaults[str(key).replace("override ", "").strip()] = value
    swept = primary["hydra"]["sweeper"]["params"]
    sweep = "\n".join(f"  {k}={v.replace(' ', '')}" for k, v in swept.items())
    width = max(len(g) for g in (*GROUPS, "experiment", "hydra/launcher"))
    groups = []
    for group in (*GROUPS, "experiment", "hydra/launcher"):
        default = swept.get(group) and "swept" or defaults.get(group)
        names = [f"{o} (default)" if o == default else o for o in _options(group, conf_dir)]
        groups.append(fill(", ".join(names), 88, initial_indent=f"  {group:<{width}}  ",
                           subsequent_indent=" " * (width + 4)))
    keys = [k for k in primary if k not in ("defaults", "hydra")]
    codes = "\n".join(fill(text, 88, initial_indent=f"  {code:<3}  ", subsequent_indent=" " * 7)
                      for code, text in EXIT_CODES.items())
    return f"""\
retrain-sim: when should a production model be retrained? Replay drifting data streams
through retraining triggers (periodic, data-drift tests, accuracy monitors, drift
detectors, combinations, a reference policy that knows the drifts) and report accuracy
over time against the cost of retraining. Every run is a Hydra job; every command line
is a Hydra sweep.

Usage: retrain-sim [-m] [group=option ...] [key=value ...] [--hydra-help | --cfg job]

With no arguments: the default sweep, every combination of
{sweep}
(one job each, in parallel), then the aggregated report: results/multirun/<date>/<time>/
holds report.md, summary.csv, configs.csv and the figures, and one directory per job.
A command-line value replaces the default sweep of its key (trigger=periodic runs
periodic only).

Config groups: pick an option (trigger=ddm), set its parameters (trigger.every=5); each
option is a file {conf_dir}/<group>/<option>.yaml.
{chr(10).join(groups)}
Top-level keys: {', '.join(keys)}.

Sweeps and runs:
  -m, --multirun        sweep comma lists and ranges (retrain-sim sweeps without it too):
                        -m trigger=periodic trigger.every=5,10,20 'seed=range(5)'
  experiment=NAME       a preset sweep, e.g. -m experiment=threshold_sweep
  hydra.mode=RUN        one run, no sweep (results/<date>/<time>/)
  hydra.launcher.n_jobs=N   at most N jobs at once (default: one per core)
  hydra/launcher=slurm|ray_cluster   run the jobs on a cluster (see README)
  resume=auto|true|false  auto (default): skip jobs already done in the sweep directory;
                        true: continue the latest sweep run with the same overrides;
                        false: rerun every job
  fail_fast=true        stop launching jobs after the first failure (exit 1)
  cache=disk|DIR        share fits, predictions and tests between jobs and sweeps on disk
                        (results/.cache or DIR); results are the same
  threads=N             BLAS/OpenMP threads per job (default 1, or RETRAIN_SIM_THREADS;
                        0: the libraries' defaults)
  progress=false        no progress bars
Every value of every job is checked before the first job starts.

Exit status:
{codes}

Companion commands:
  retrain-sim-report DIR   re-aggregate a sweep directory, even a partial one
  retrain-sim-advise DIR   which configuration of a sweep to run in production, under a
                           budget (--max-cost, --max-retrains, --cost-weight)
"""


def quiet_schema_warning() -> None:
    """Silence Hydra's warning that ``conf/hydra/sweeper/basic.yaml`` matches its schema.

    The file takes the place of Hydra's ``basic`` sweeper option on purpose (so that a
    preset can still pick another sweeper); Hydra checks it against the basic sweeper's
    schema, as wanted, and warns in every process that composes a sweep's config.
    """
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*'hydra/sweeper/basic' is validated against")

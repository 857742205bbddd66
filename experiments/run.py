"""The ``retrain-sim`` Hydra app: one job replays one configuration, a sweep many.

``retrain-sim`` with no arguments runs the default comparison (the sweep set in
``conf/config.yaml``) and ends with the aggregated report; ``python -m experiments.run``
is the same. Every job writes ``timeline.parquet``, ``events.csv`` and ``summary.json``
into its Hydra output directory (see :mod:`experiments.store`). A job that raises is
recorded as ``status: failed`` with its error, and the sweep goes on.

Resume: a job whose directory already holds an ``ok`` record of the same resolved config
is skipped (``resume=auto``, the default), so rerunning a sweep into its directory
(``hydra.sweep.dir=...``) runs only what is missing; ``resume=true`` also finds that
directory: the latest sweep under ``results/multirun`` run with the same overrides.
``resume=false`` reruns every job.

Exit status of ``retrain-sim`` (see :data:`EXIT_CODES`): 0 when every job of the sweep
ran (failed jobs are recorded, listed in ``report.md`` and named on stderr), 1 when
``fail_fast=true`` and a job failed, when the sweep stopped before all its jobs finished,
when no job succeeded, or when a single run (``hydra.mode=RUN``) failed; 2 for a bad
configuration caught before any job ran (or a sweep directory holding another sweep);
130 when interrupted (Ctrl-C), 143 when terminated (SIGTERM), both with what finished and
how to resume.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from experiments import CONF_DIR, callbacks, data, errors, objective, store
from experiments.components import build, check_settings
from experiments.hydra_internals import known_mode
from experiments.usage import EXIT_CODES, quiet_schema_warning, usage

__all__ = ["EXIT_CODES", "FAIL_FAST_MARK", "build", "check_settings", "job_record", "main",
           "previous_sweep", "run_job", "simulate"]


FAIL_FAST_MARK = store.FAIL_FAST_MARK

log = logging.getLogger(__name__)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("retrain-sim", "numpy", "pandas", "scikit-learn", "hydra-core"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _step_bar(cfg: DictConfig, components: dict, enabled: bool):
    """Return a tqdm bar over the steps of one replay, or None."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    n_samples = getattr(components["stream"], "n_samples", None)
    step_size = getattr(components["protocol"], "step_size", None)
    total = math.ceil(n_samples / step_size) if n_samples and step_size else None
    return tqdm(total=total, desc="steps", unit="step", leave=False, file=sys.stderr)


def run_job(cfg: DictConfig) -> dict | float | list[float]:
    """Replay one configuration and write its results into the Hydra output directory.

    The Hydra-facing step of a job: it reads the job's directory, mode and overrides from
    Hydra, skips a job whose result is already there (resume) or that ``fail_fast``
    stops, then simulates (:func:`_simulate_seeds`), builds the record
    (:func:`job_record`) and stores it (:func:`_store_files`, :func:`_store_record`). In
    a multirun a failure is recorded and the sweep goes on; in a single run it is
    recorded too, and :func:`main` reports it and exits with status 1.

    Returns
    -------
    dict or float or list of float
        ``{"status": ..., "dir": ...}`` (with ``"skipped": True`` for a job already
        done); with ``objective`` set, the value a search reads
        (:func:`experiments.objective.value`).
    """
    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    with_fail_fast = multirun and bool(cfg.get("fail_fast", False))
    if _resumed(cfg, out, multirun):
        return {"status": "ok", "dir": str(out), "skipped": True}
    sweep_dir = Path(str(hc.sweep.dir)) if multirun else None
    if with_fail_fast and (sweep_dir / FAIL_FAST_MARK).exists():
        log.warning("not run: fail_fast=true and an earlier job of this sweep failed")
        return {"status": "not run", "dir": str(out)}
    store.clear_mark(out)  # from here on the directory is a job in progress
    started = time.perf_counter()
    job = {"num": hc.job.get("num"), "dir": str(out),
           "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    overrides = list(hc.overrides.task)
    runs: list[dict] = []
    try:
        runs = _simulate_seeds(cfg, terminal=not multirun and sys.stderr.isatty(),
                               cache_dir=(sweep_dir or out) / ".oracle_cache")
        record = job_record(cfg, runs, overrides=overrides, job=job)
        record["files"] = _store_files(out, runs[0])  # checked by resume and the report
    except Exception as ex:  # the sweep goes on: record the failure
        record = job_record(cfg, runs, overrides=overrides, job=job, error=ex)
    _store_record(out, record, started)
    if with_fail_fast and record["status"] != "ok":
        store.atomic_write(sweep_dir / FAIL_FAST_MARK,
                           lambda p: p.write_text(f"{out}\n{record['error']['message']}\n"))
    if not multirun:
        _record_single_run(record, out)
    if cfg.get("objective") is not None:  # a search (Optuna) reads the job's return value
        return objective.value(cfg, record)
    return {"status": record["status"], "dir": str(out)}


def _resumed(cfg: DictConfig, out: Path, multirun: bool) -> bool:
    """Skip a job whose result ``out`` already holds (resume); return whether it was.

    A skipped job is logged; a skipped single run records its outcome and prints its
    result, as if it had run. A config that does not resolve is never skipped (the job
    fails when it runs).
    """
    try:
        hash_ = store.job_hash(OmegaConf.to_container(cfg, resolve=True))
    except Exception:  # an interpolation that does not resolve: the job fails when it runs
        return False
    if _resume_mode(cfg.get("resume", "auto")) == "off":
        return False
    done = store.finished(out, hash_)
    if done is None:
        return False
    log.info("skipped: %s already holds the result of this config (resume)", out)
    if not multirun:
        callbacks.record_outcome(single_run=True)
        _print_run(done, out)
    return True


def _simulate_seeds(cfg: DictConfig, terminal: bool, cache_dir: Path) -> list[dict]:
    """Check a job's settings, then replay it once per seed (:func:`experiments.objective.seeds`).

    ``terminal``: whether a progress bar of the steps may be drawn (a single run on a
    terminal); it is, unless the config sets ``progress=false``.
    """
    check_settings(OmegaConf.to_container(cfg, resolve=True))
    show = bool(cfg.get("progress", True)) and terminal
    return [simulate(cfg if s == cfg.seed else _with_seed(cfg, s), show=show,
                     cache_dir=cache_dir) for s in objective.seeds(cfg)]


def job_record(cfg: DictConfig, runs: Sequence[dict] = (), *,
               overrides: Sequence[str] = (), job: dict | None = None,
               error: BaseException | None = None) -> dict:
    """Build a job's record (summary.json but its time and versions) from its config and runs.

    Pure: it reads no file and no Hydra state, so a test calls it with a composed config.

    Parameters
    ----------
    cfg
        The job's config (resolved here).
    runs
        :func:`simulate`'s result for each seed of :func:`experiments.objective.seeds`,
        in that order (at least one unless ``error``).
    overrides
        The job's overrides (Hydra's ``overrides.task``).
    job
        The job's ``num``, ``dir`` and ``started`` (copied into the record).
    error
        What the job raised, if it failed (in the ``except`` that caught it, for its
        traceback).

    Returns
    -------
    dict
        ``status`` (``"ok"`` or ``"failed"``), ``error`` (None, or its ``type``,
        ``message`` naming the config key at fault, ``raw`` message and ``traceback``),
        ``overrides``, ``job``, then what is known: ``config`` (resolved; left out when
        it does not resolve, which was then the failure), ``config_hash``
        (:func:`experiments.store.job_hash`) and ``config_id`` (the same without the
        seed); with ``runs``, the first seed's ``drifts``, ``incidents`` and
        ``step_size``; for a job that ran, ``files`` (None: the store step fills in the
        sha256 of the files it writes) and ``summary`` (each metric's mean over the
        seeds, :func:`experiments.objective.average`).
    """
    try:
        config = OmegaConf.to_container(cfg, resolve=True)
    except Exception:
        if error is None:
            raise
        config = None  # that was the job's failure
    record: dict[str, Any] = {
        "status": "ok" if error is None else "failed",
        "error": None if error is None else {
            "type": type(error).__name__,
            "message": errors.describe_job_error(error, config),
            "raw": str(error),
            "traceback": "".join(traceback.format_exception(error)),
        },
        "overrides": list(overrides),
        "job": dict(job or {}),
    }
    if config is not None:
        record |= {"config": config, "config_hash": store.job_hash(config),
                   "config_id": store.job_hash({k: v for k, v in config.items() if k != "seed"})}
    if runs:
        record |= {key: runs[0][key] for key in ("drifts", "incidents", "step_size")}
    if error is None:
        record |= {"files": None, "summary": objective.average([r["summary"] for r in runs],
                                                               objective.seeds(cfg))}
    return record


def _store_files(out: Path, run: dict) -> dict[str, str]:
    """Write a replay's timeline, events and frontier into ``out``; return their sha256.

    Each file is written atomically (:mod:`experiments.store`).
    """
    written = [store.write_timeline(out, run["timeline"]), store.write_events(out, run["events"])]
    if run["frontier"] is not None:
        written.append(store.write_frontier(out, run["frontier"]))
    return store.digests(written)


def _store_record(out: Path, record: dict, started: float) -> None:
    """Log a job's outcome; write its record, with its time and versions, as summary.json.

    ``summary.json`` is written atomically and last: it marks the job as finished.
    ``started`` is the job's :func:`time.perf_counter` at its start.
    """
    if record["status"] == "ok":
        log.info("ok: %s", {k: record["summary"].get(k) for k in
                            ("mean_accuracy", "n_retrains", "total_cost")})
    else:
        log.error("failed: %s", record["error"]["message"])
    record["job"]["elapsed_seconds"] = round(time.perf_counter() - started, 3)
    record["versions"] = _versions()
    store.write_summary(out, record)


def _record_single_run(record: dict, out: Path) -> None:
    """Record a single run's outcome for :func:`main` (exit 1 if it failed); print a success."""
    if record["status"] != "ok":
        callbacks.record_outcome(message=f"The run failed. {record['error']['message']} "
                                         f"(the run's record: {out / store.SUMMARY})",
                                 n_failed=1, single_run=True)
    else:
        callbacks.record_outcome(single_run=True)
        _print_run(record, out)


def simulate(cfg: DictConfig, show: bool = False, cache_dir: Path | None = None) -> dict:
    """Replay one configuration: the summary, timeline, events and frontier; no storage.

    Parameters
    ----------
    cfg
        A composed config (the groups of :data:`experiments.GROUPS`, ``seed``, ...).
    show
        Draw a progress bar of the steps on stderr.
    cache_dir
        Where the hindsight oracle keeps its accuracy matrix (None: not kept).
    """
    import sim  # imported here so that `retrain-sim --help` stays fast
    from sim import datasets, oracle

    components = build(cfg)
    stream = components["stream"]
    protocol = components["protocol"]
    bar = _step_bar(cfg, components, show)
    try:
        result = sim.replay(
            stream, components["model"], components["trigger"], gate=components["gate"],
            cost=components["cost"], protocol=protocol, seed=cfg.seed,
            cache=cfg.get("cache"), learning=components.get("learning"),
            callback=(lambda t: bar.update(t + 1 - bar.n)) if bar is not None else None,
        )
    finally:
        if bar is not None:
            bar.close()
    summary = dict(result.summary)
    if cfg.get("baselines", False):
        summary |= datasets.baselines(stream, result)
    frontier = None
    # one optimum per stream, seed, model and protocol (cached in cache_dir), plus the
    # run's own retrain windows; a run whose actions it does not cover (online updates,
    # a live gate) gets "not bounded" (NaN regret) instead of a number (README)
    if cfg.get("oracle", {}).get("enabled"):
        unbounded = oracle.not_bounded(components["gate"], components.get("learning"))
        if not getattr(components.get("learning"), "updates", False):
            frontier = oracle.hindsight(
                stream, components["model"], seed=cfg.seed, protocol=protocol,
                cost=components["cost"], gate=components["gate"], every=cfg.oracle.every,
                windows=cfg.oracle.get("windows", "policy"), extra_steps=result.events,
                cache_dir=cache_dir, n_holdout=components["trigger"].n_holdout)
        summary |= oracle.regret(summary, frontier, unbounded)
    return {"summary": summary, "timeline": result.timeline, "events": result.events,
            "frontier": None if frontier is None else frontier.frontier,
            "drifts": [vars(d) | {"features": list(d.features)} for d in stream.drifts],
            "incidents": [vars(i) | {"features": list(i.features)} for i in stream.incidents],
            "step_size": protocol.step_size}


def _with_seed(cfg: DictConfig, seed: int) -> DictConfig:
    copy = cfg.copy()
    copy.seed = seed
    return copy


def _print_run(record: dict, out: Path) -> None:
    s = record["summary"]
    steps = f"{s['n_steps']} scored step" + ("" if s["n_steps"] == 1 else "s")
    parts = [f"mean accuracy {s['mean_accuracy']:.4f} over {steps}", f"{s['n_retrains']} retrains",
             f"cost {s['total_cost']:g}"]
    if s.get("n_drifts"):
        parts.append(f"{s['detected_drifts']}/{s['n_drifts']} drifts caught, "
                     f"{s['false_retrains']} false retrains")
    print(f"{', '.join(parts)}.\nResults in {out}/ (timeline.parquet, events.csv, "
          "summary.json).")


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> dict:
    from sim import threads

    limit = cfg.get("threads")
    threads.export(limit)  # the job's replays default to it (RETRAIN_SIM_THREADS)
    with threads.limit(limit):  # and so do the oracle's fits
        return run_job(cfg)


def _resume_mode(value: Any) -> str:
    """Map the ``resume`` key to ``"off"``, ``"auto"`` or ``"latest"``."""
    text = str(value).strip().lower() if isinstance(value, (bool, str)) else None
    if text == "false":
        return "off"
    if text == "true":
        return "latest"
    if text == "auto":
        return "auto"
    raise ValueError(f"The 'resume' parameter must be one of auto, true, false. Got {value!r} "
                     "instead.")


def _last_value(argv: list[str], key: str) -> str | None:
    value = None
    for arg in errors._overrides(argv):
        k, _, v = arg.partition("=")
        if k.lstrip("+~") == key:
            value = v
    return value


def _task_overrides(overrides: list[str]) -> list[str]:
    """Return the overrides that decide the jobs of a sweep (no hydra.*, no runtime keys)."""
    out = []
    for arg in overrides:
        key = arg.partition("=")[0].lstrip("+~")
        if key.startswith("hydra") or key in store.RUNTIME_KEYS:
            continue
        out.append(arg)
    return out


def previous_sweep(argv: list[str], root: Path | None = None) -> Path | None:
    """Return the latest sweep directory under ``root`` run with the same overrides.

    ``root`` defaults to the fixed part of ``hydra.sweep.dir`` in ``conf/config.yaml``
    (``results/multirun``, relative to the working directory). Overrides of ``hydra.*``
    (e.g. the launcher) and of :data:`experiments.store.RUNTIME_KEYS` do not count.
    """
    if root is None:
        primary = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "config.yaml"),
                                         resolve=False)
        template = str(primary["hydra"]["sweep"]["dir"])
        root = Path(template.split("${")[0] or ".")
    wanted = _task_overrides(errors._overrides(argv))
    found = []
    for path in Path(root).glob("**/multirun.yaml"):
        try:
            saved = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
            task = list(saved["hydra"]["overrides"]["task"])
        except Exception:
            continue
        if _task_overrides([str(t) for t in task]) == wanted:
            found.append(path)
    if not found:
        return None
    return max(found, key=lambda p: p.stat().st_mtime).parent


def _mode(argv: list[str]) -> RunMode | None:
    """Return the run mode the command line sets (``-m``, ``hydra.mode=``), else None."""
    if "-m" in argv or "--multirun" in argv:
        return RunMode.MULTIRUN
    value = _last_value(argv, "hydra.mode")
    return RunMode[value] if value in RunMode.__members__ else None


def _register_plugins() -> None:
    """Register our sweeper and launcher with Hydra.

    Hydra finds plugins by scanning the ``hydra_plugins`` namespace on disk, which does
    not see an editable install's packages; registering them works for every install.
    """
    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()  # its first call imports (again) every plugin module
    from hydra_plugins.retrain_sim import launcher

    for plugin in (launcher.CheckedSweeper, launcher.LocalLauncher):
        plugins.register(plugin)


def _exit_after_sweep(outcome: dict) -> None:
    """Print the failures of a finished sweep; exit 1 only as :data:`EXIT_CODES` says."""
    if not outcome.get("n_jobs"):
        return
    if outcome.get("message"):
        print(outcome["message"], file=sys.stderr)
    missing, failed = outcome.get("n_missing", 0), outcome.get("n_failed", 0)
    if outcome.get("fail_fast") and (failed or missing):
        print("retrain-sim: fail_fast=true and a job failed: exit status 1. Rerun the same "
              "command with resume=true to run the rest.", file=sys.stderr)
        sys.exit(1)
    if missing:
        print(f"retrain-sim: {missing} jobs never finished: exit status 1. Rerun the same "
              "command with resume=true to run them.", file=sys.stderr)
        sys.exit(1)
    if not outcome.get("n_ok"):
        print("retrain-sim: no job succeeded: exit status 1.", file=sys.stderr)
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Run the ``retrain-sim`` app; print a one-paragraph message on a bad configuration.

    Exit status: see :data:`EXIT_CODES` (0: done, failed jobs recorded and named; 1:
    ``fail_fast`` and a job failed, the sweep stopped part-way, no job succeeded, or a
    single run failed; 2: a bad configuration, or a sweep directory holding another sweep;
    130: interrupted by Ctrl-C; 143: by SIGTERM).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--help" in argv or "-h" in argv:
        print(usage(), end="")
        return
    if not (CONF_DIR / "config.yaml").is_file():
        print(f"retrain-sim: its config directory {CONF_DIR} is missing. Install the project "
              "from a clone of the repository with `pip install -e .`.", file=sys.stderr)
        sys.exit(2)
    quiet_schema_warning()
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let Hydra's errors reach us; we explain them
    from experiments import ranks  # here: it imports SciPy, which --help does not need

    problem = (errors.check_overrides(argv) or errors.check_runtime_keys(argv)
               or errors.check_added_keys(argv) or data.check_before_launch(argv)
               or ranks.check_before_launch(argv))
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(2)
    resume = _last_value(argv, "resume")
    if resume is not None and _resume_mode(resume) == "latest" \
            and _last_value(argv, "hydra.sweep.dir") is None:
        found = previous_sweep(argv)
        if found is not None:
            n_done = sum(1 for _ in found.glob(f"*/{store.SUMMARY}"))
            print(f"Resuming the sweep in {found} ({n_done} job records there; the jobs done "
                  "with the same config are skipped).", file=sys.stderr)
            argv.append(f"hydra.sweep.dir={found}")
        else:
            print("resume=true: no earlier sweep with these overrides under "
                  "results/multirun; starting a new one.", file=sys.stderr)
    callbacks.start_outcome()
    sys.argv = [sys.argv[0], *argv]
    _register_plugins()
    on_term = signal.signal(signal.SIGTERM, _terminated)
    try:
        with known_mode(_mode(argv)):
            _app()
    except errors.InvalidSweep as ex:
        print(ex, file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as ex:  # Ctrl-C, or SIGTERM (errors.Terminated)
        print(_interrupted(ex), file=sys.stderr)
        sys.exit(143 if isinstance(ex, errors.Terminated) else 130)
    except Exception as ex:
        if full_error:
            raise
        started = callbacks.outcome().get("sweep_dir")
        if started and not callbacks.outcome().get("n_jobs"):
            # the launcher raised part-way (a worker killed, a cluster lost): keep what ran
            _report_broken_sweep(Path(started), ex)
            sys.exit(1)
        print(errors.explain(ex, argv), file=sys.stderr)
        sys.exit(1 if isinstance(ex, errors.JobFailed) else 2)
    finally:
        signal.signal(signal.SIGTERM, on_term)
        callbacks.stop_progress()
    outcome = callbacks.outcome()
    if outcome.get("single_run"):
        if outcome.get("n_failed"):
            print(outcome["message"], file=sys.stderr)
            sys.exit(1)
        return
    _exit_after_sweep(outcome)


def _terminated(signum: int, frame: Any) -> None:
    """SIGTERM handler: end the run as Ctrl-C does (the jobs stop, the message says why)."""
    raise errors.Terminated


def _interrupted(ex: KeyboardInterrupt) -> str:
    """Say what an interrupted run or sweep left on disk and how to finish it."""
    cause = "Terminated (SIGTERM)" if isinstance(ex, errors.Terminated) else "Interrupted"
    started = callbacks.outcome().get("sweep_dir")
    if not started:
        return f"{cause} before any job started; nothing was written."
    sweep_dir = Path(started)
    n_done = sum(1 for _ in sweep_dir.glob(f"*/{store.SUMMARY}"))
    planned = callbacks.outcome().get("n_planned")
    of = f" of {planned}" if planned else ""
    return (f"{cause}. {n_done}{of} jobs of the sweep in {sweep_dir} finished and are on "
            f"disk; aggregate them with `retrain-sim-report {sweep_dir}`, or finish the "
            "sweep by rerunning the same command with resume=true (the finished jobs are "
            "skipped).")


def _report_broken_sweep(sweep_dir: Path, ex: BaseException) -> None:
    """Aggregate the jobs of a sweep the launcher gave up on, and say how to finish it."""
    from experiments import report

    cause = " ".join(f"{type(ex).__name__}: {ex}".split())
    if len(cause) > 300:
        cause = cause[:300] + "..."
    try:
        agg = report.aggregate(sweep_dir, figures=False)
        c = agg.counts
        done = (f"{c['ok'] + c['failed']} of {len(agg.jobs)} job directories hold a record "
                f"({c['ok']} ok, {c['failed']} failed); summary.csv and report.md are written.")
    except Exception as agg_error:  # pragma: no cover - the message must still go out
        done = f"(aggregation failed too: {agg_error})"
    print(f"The sweep stopped before all its jobs finished: the launcher raised {cause} "
          f"{done} Finish it with the same command plus resume=true (or "
          f"hydra.sweep.dir={sweep_dir}): the jobs done are skipped.", file=sys.stderr)


if __name__ == "__main__":
    # import under the package name so that joblib workers find the task function
    from experiments.run import main as _main

    _main()

"""The ``retrain-sim`` Hydra app: one job replays one configuration, a sweep many.

``retrain-sim`` with no arguments runs the default comparison (the sweep set in
``conf/config.yaml``) and ends with the aggregated report; ``python -m experiments.run``
is the same. Every job writes ``timeline.parquet``, ``events.csv`` and ``summary.json``
into its Hydra output directory (see :mod:`experiments.store`). A job that raises is
recorded as ``status: failed`` with its error, and the sweep goes on.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from experiments import CONF_DIR, GROUPS, callbacks, errors, store

__all__ = ["build", "main", "run_job"]

log = logging.getLogger(__name__)


def build(cfg: DictConfig) -> dict[str, Any]:
    """Instantiate the components of a config: ``{group: object}`` for every group.

    Lists and mappings in the YAML reach the constructors as plain ``list`` and
    ``dict`` (``_convert_="all"``), as scikit-learn's ``clone`` expects.
    """
    return {
        group: instantiate(cfg[group], _convert_="all") if cfg.get(group) is not None else None
        for group in GROUPS
    }


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


def run_job(cfg: DictConfig) -> dict:
    """Replay one configuration and write its results into the Hydra output directory.

    Returns the record written to ``summary.json``. In a multirun a failure is
    recorded and the sweep goes on; in a single run it is recorded too, and
    :func:`main` reports it and exits with status 1.
    """
    import sim  # imported here so that `retrain-sim --help` stays fast

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    started = time.perf_counter()
    record: dict[str, Any] = {
        "status": "failed",
        "error": None,
        "overrides": list(hc.overrides.task),
        "job": {
            "num": hc.job.get("num"),
            "dir": str(out),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    }
    bar = None
    try:
        resolved = OmegaConf.to_container(cfg, resolve=True)
        record["config"] = resolved
        record["config_hash"] = store.config_hash(resolved)
        record["config_id"] = store.config_hash({k: v for k, v in resolved.items() if k != "seed"})
        components = build(cfg)
        stream = components["stream"]
        protocol = components["protocol"]
        record["drifts"] = [vars(d) | {"features": list(d.features)} for d in stream.drifts]
        record["step_size"] = protocol.step_size
        show = bool(cfg.get("progress", True)) and not multirun and sys.stderr.isatty()
        bar = _step_bar(cfg, components, show)
        result = sim.replay(
            stream, components["model"], components["trigger"], gate=components["gate"],
            cost=components["cost"], protocol=protocol, seed=cfg.seed,
            callback=(lambda t: bar.update(t + 1 - bar.n)) if bar is not None else None,
        )
        store.write_timeline(out, result.timeline)
        store.write_events(out, result.events)
        record["status"] = "ok"
        record["summary"] = result.summary
        log.info("ok: %s", {k: result.summary.get(k) for k in
                            ("mean_accuracy", "n_retrains", "total_cost")})
    except Exception as ex:  # the sweep goes on: record the failure
        record["error"] = {
            "type": type(ex).__name__,
            "message": errors.describe_job_error(ex, record.get("config")),
            "raw": str(ex),
            "traceback": traceback.format_exc(),
        }
        log.error("failed: %s", record["error"]["message"])
    finally:
        if bar is not None:
            bar.close()
    record["job"]["elapsed_seconds"] = round(time.perf_counter() - started, 3)
    record["versions"] = _versions()
    store.write_summary(out, record)
    if not multirun:
        if record["status"] != "ok":  # main() reports it and exits 1
            callbacks.record_outcome(message=f"The run failed. {record['error']['message']} "
                                             f"(the run's record: {out / store.SUMMARY})",
                                     n_failed=1)
        else:
            _print_run(record, out)
    return {"status": record["status"], "dir": str(out)}


def _print_run(record: dict, out: Path) -> None:
    s = record["summary"]
    parts = [f"mean accuracy {s['mean_accuracy']:.4f}", f"{s['n_retrains']} retrains",
             f"cost {s['total_cost']:g}"]
    if s.get("n_drifts"):
        parts.append(f"{s['detected_drifts']}/{s['n_drifts']} drifts caught, "
                     f"{s['false_retrains']} false retrains")
    print(f"{', '.join(parts)}.\nResults in {out}/ (timeline.parquet, events.csv, "
          "summary.json).")


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> dict:
    return run_job(cfg)


def main(argv: list[str] | None = None) -> None:
    """Run the ``retrain-sim`` app; print a one-paragraph message on a bad configuration.

    Exits 2 on a configuration error (unknown option, unknown parameter, bad value
    caught while composing), 1 when a run, or any job of a sweep, failed.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not (CONF_DIR / "config.yaml").is_file():
        print(f"retrain-sim: its config directory {CONF_DIR} is missing. Install the project "
              "from a clone of the repository with `pip install -e .`.", file=sys.stderr)
        sys.exit(2)
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let Hydra's errors reach us; we explain them
    problem = errors.check_overrides(argv)
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(2)
    callbacks.reset_outcome()
    sys.argv = [sys.argv[0], *argv]
    try:
        _app()
    except KeyboardInterrupt:
        print("Interrupted. The jobs that finished are on disk; aggregate them with "
              "`retrain-sim-report <sweep dir>`.", file=sys.stderr)
        sys.exit(130)
    except Exception as ex:
        if full_error:
            raise
        print(errors.explain(ex, argv), file=sys.stderr)
        sys.exit(1 if isinstance(ex, errors.JobFailed) else 2)
    finally:
        callbacks.stop_progress()
    outcome = callbacks.outcome()
    if outcome.get("n_failed") or outcome.get("n_missing"):
        print(outcome["message"], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    # import under the package name so that joblib workers find the task function
    from experiments.run import main as _main

    _main()

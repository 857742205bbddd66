"""The Hydra callback that follows a sweep with a progress bar and aggregates it at the end.

``conf/config.yaml`` registers :class:`SweepReport` under ``hydra.callbacks``; Hydra
calls ``on_multirun_start`` and ``on_multirun_end`` in the launching process, whatever
the launcher. The outcome of a run or sweep (counts of jobs, the failures' message) goes
to a JSON file whose path :func:`start_outcome` puts in ``$RETRAIN_SIM_OUTCOME``, for
:func:`experiments.run.main`, which turns failed jobs into a non-zero exit status: an
explicit channel, with no module state shared between the callback and the app.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from experiments import store
from experiments.sweep import count_jobs

__all__ = ["OUTCOME_ENV", "SweepReport", "count_jobs", "outcome", "record_outcome",
           "start_outcome", "stop_progress"]

log = logging.getLogger(__name__)

OUTCOME_ENV = "RETRAIN_SIM_OUTCOME"
"""Environment variable naming the outcome file of the current run or sweep."""

_WATCHERS: dict[str, _Watcher] = {}


def start_outcome() -> Path:
    """Open a fresh, empty outcome file for a run or sweep; its path goes in the environment.

    The file lives in a temporary directory removed when the process exits.
    """
    directory = Path(tempfile.mkdtemp(prefix="retrain-sim-outcome-"))
    atexit.register(shutil.rmtree, directory, True)
    path = directory / "outcome.json"
    os.environ[OUTCOME_ENV] = str(path)
    return path


def record_outcome(**fields: Any) -> None:
    """Add ``fields`` to the outcome file (nothing when no outcome was started)."""
    path = os.environ.get(OUTCOME_ENV)
    if not path:
        return
    merged = store.jsonable(outcome() | fields)
    store.atomic_write(Path(path), lambda p: p.write_text(json.dumps(merged)))


def outcome() -> dict[str, Any]:
    """Return the outcome recorded so far (empty when none was started or recorded)."""
    path = os.environ.get(OUTCOME_ENV)
    try:
        return json.loads(Path(path).read_text()) if path else {}
    except (OSError, ValueError):
        return {}


def stop_progress() -> None:
    """Stop every progress watcher (after a sweep, or when it was aborted)."""
    for key in list(_WATCHERS):
        _WATCHERS.pop(key).stop()


class _Watcher:
    """A thread that counts finished jobs (their summary.json) into a tqdm bar."""

    def __init__(self, sweep_dir: Path, total: int | None):
        from tqdm.auto import tqdm

        self.sweep_dir = sweep_dir
        self.bar = tqdm(total=total, desc="jobs", unit="job", file=sys.stderr, disable=None,
                        delay=1.0)  # after Hydra's launch messages
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _count(self) -> int:
        return sum(1 for _ in self.sweep_dir.glob(f"*/{store.SUMMARY}"))

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            done = self._count()
            if done != self.bar.n:
                self.bar.update(done - self.bar.n)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        done = self._count()
        if done != self.bar.n:
            self.bar.update(done - self.bar.n)
        self.bar.close()


class SweepReport(Callback):
    """Show a jobs progress bar during a multirun and aggregate the sweep at its end.

    Parameters
    ----------
    figures
        Draw the report's figures (PNG) besides the tables.
    """

    def __init__(self, figures: bool = True):
        self.figures = figures

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Note the sweep directory and size, clear a fail-fast mark, start the progress bar.

        The bar shows when ``progress`` is on and stderr is a terminal.
        """
        sweep_dir = Path(config.hydra.sweep.dir)
        planned = count_jobs(config)
        record_outcome(sweep_dir=str(sweep_dir), fail_fast=bool(config.get("fail_fast")),
                       n_planned=planned)
        (sweep_dir / store.FAIL_FAST_MARK).unlink(missing_ok=True)  # a resumed sweep runs again
        if not config.get("progress", True) or not sys.stderr.isatty():
            return
        _WATCHERS[str(sweep_dir)] = _Watcher(sweep_dir, planned)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Aggregate the sweep directory: summary.csv, configs.csv, report.md, figures."""
        from experiments import report

        stop_progress()
        sweep_dir = Path(config.hydra.sweep.dir)
        agg = report.aggregate(sweep_dir, figures=self.figures, expected=count_jobs(config))
        record_outcome(**agg.outcome())
        print(agg.digest())

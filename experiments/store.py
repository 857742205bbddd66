"""What a job writes into its output directory, atomically, and how it is read back.

A job directory holds ``timeline.parquet`` (one row per step), ``events.csv`` (one row
per retrain decision) and ``summary.json``, written last, which marks the job as
finished: its ``status`` is ``"ok"`` or ``"failed"`` (then ``error`` says why). A
directory with Hydra's ``.hydra/`` but no ``summary.json`` is a job that never finished.

Resume: ``summary.json`` holds ``config_hash``, a hash of the job's resolved config
without the keys that only steer the run (:data:`RUNTIME_KEYS`). A job whose directory
already holds an ``ok`` record with the same hash and its files (:func:`finished`) is
done and is skipped when a sweep is rerun; a job that starts for real first removes any
older ``summary.json`` (:func:`clear_mark`), so that a job killed part-way is never read
as finished.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.files import atomic_write

__all__ = [
    "RUNTIME_KEYS",
    "SUMMARY",
    "EVENTS",
    "FAIL_FAST_MARK",
    "TIMELINE",
    "atomic_write",
    "clear_mark",
    "config_hash",
    "finished",
    "job_hash",
    "jsonable",
    "read_summary",
    "write_events",
    "write_summary",
    "write_timeline",
]

SUMMARY = "summary.json"
EVENTS = "events.csv"
TIMELINE = "timeline.parquet"
FRONTIER = "oracle_frontier.csv"

FAIL_FAST_MARK = ".fail_fast"
"""File a failed job leaves in the sweep directory under ``fail_fast=true``: the jobs
that start after it do not run (a resumed sweep runs them)."""

RUNTIME_KEYS = ("progress", "resume", "fail_fast", "cache")
"""Top-level keys that steer how a job runs, not what it computes: left out of its hash
and of the override columns of ``summary.csv``."""


def jsonable(value: Any) -> Any:
    """Turn ``value`` into plain JSON types: numpy scalars to Python, NaN/inf to None.

    Examples
    --------
    >>> jsonable({"a": np.float64("nan"), "b": (np.int64(2), 0.5), "c": np.bool_(True)})
    {'a': None, 'b': [2, 0.5], 'c': True}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def config_hash(config: Any) -> str:
    """Return a short, stable hash of a (resolved) config: equal configs, equal hashes.

    Examples
    --------
    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    True
    """
    text = json.dumps(jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def job_hash(resolved: dict) -> str:
    """Return the hash that identifies a job's result (its config without runtime keys).

    The resolved config is hashed without :data:`RUNTIME_KEYS`.

    Examples
    --------
    >>> job_hash({"seed": 1, "progress": True}) == job_hash({"seed": 1, "resume": "auto"})
    True
    """
    return config_hash({k: v for k, v in resolved.items() if k not in RUNTIME_KEYS})


def finished(directory: Path, hash_: str) -> dict | None:
    """Return the record of a job already done in ``directory`` for the config ``hash_``.

    Done means: ``summary.json`` reads, its ``status`` is ``ok``, its ``config_hash``
    equals ``hash_`` and the timeline and events it goes with exist. Otherwise None
    (the job must run).
    """
    directory = Path(directory)
    record = read_summary(directory)
    if (record is None or record.get("status") != "ok" or record.get("config_hash") != hash_
            or not (directory / TIMELINE).is_file() or not (directory / EVENTS).is_file()):
        return None
    return record


def clear_mark(directory: Path) -> None:
    """Remove a job's ``summary.json`` before the job writes anything anew.

    Until the new record is written, the directory reads as a job that never finished,
    not as the old result beside half-written new files.
    """
    (Path(directory) / SUMMARY).unlink(missing_ok=True)


def write_summary(directory: Path, record: dict) -> Path:
    """Write ``record`` as ``summary.json`` (atomically; the job's completion mark)."""
    text = json.dumps(jsonable(record), indent=2, sort_keys=False)
    return atomic_write(Path(directory) / SUMMARY, lambda p: p.write_text(text + "\n"))


def write_timeline(directory: Path, timeline: pd.DataFrame) -> Path:
    """Write the per-step timeline as ``timeline.parquet`` (atomically)."""
    return atomic_write(Path(directory) / TIMELINE, lambda p: timeline.to_parquet(p, index=False))


def write_events(directory: Path, events: pd.DataFrame) -> Path:
    """Write the retrain events as ``events.csv`` (atomically)."""
    return atomic_write(Path(directory) / EVENTS, lambda p: events.to_csv(p, index=False))


def write_frontier(directory: Path, frontier: pd.DataFrame) -> Path:
    """Write the run's hindsight-optimal frontier as ``oracle_frontier.csv`` (atomically)."""
    return atomic_write(Path(directory) / FRONTIER, lambda p: frontier.to_csv(p, index=False))


def read_summary(directory: Path) -> dict | None:
    """Read a job's ``summary.json``; None when it is missing or unreadable."""
    path = Path(directory) / SUMMARY
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

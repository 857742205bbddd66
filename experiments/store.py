"""What a job writes into its output directory, atomically, and how it is read back.

A job directory holds ``timeline.parquet`` (one row per step), ``events.csv`` (one row
per retrain decision) and ``summary.json``, written last, which marks the job as
finished: its ``status`` is ``"ok"`` or ``"failed"`` (then ``error`` says why). A
directory with Hydra's ``.hydra/`` but no ``summary.json`` is a job that never finished.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SUMMARY",
    "EVENTS",
    "TIMELINE",
    "atomic_write",
    "config_hash",
    "jsonable",
    "read_summary",
    "write_events",
    "write_summary",
    "write_timeline",
]

SUMMARY = "summary.json"
EVENTS = "events.csv"
TIMELINE = "timeline.parquet"


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


def atomic_write(path: Path, write) -> Path:
    """Call ``write(tmp_path)``, then move the file into place with :func:`os.replace`.

    A reader never sees a half-written file: it sees the old one or the new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


def read_summary(directory: Path) -> dict | None:
    """Read a job's ``summary.json``; None when it is missing or unreadable."""
    path = Path(directory) / SUMMARY
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

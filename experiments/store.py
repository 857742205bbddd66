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

Integrity: ``summary.json`` holds ``files``, the sha256 of every file the job wrote
(:func:`digests`); resume and ``retrain-sim-report`` check them (:func:`verify`), so a
truncated or edited file is rerun, and reported as ``corrupt``, never read as a result.
A sweep directory holds one sweep: ``sweep.json`` (:data:`MANIFEST`) lists its jobs'
overrides, and another sweep is refused there (:func:`claim_sweep`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.files import atomic_write

__all__ = [
    "MANIFEST",
    "RUNTIME_KEYS",
    "SUMMARY",
    "EVENTS",
    "FAIL_FAST_MARK",
    "TIMELINE",
    "atomic_write",
    "claim_sweep",
    "clear_mark",
    "config_hash",
    "digests",
    "finished",
    "job_hash",
    "jsonable",
    "read_summary",
    "sweep_jobs",
    "verify",
    "write_events",
    "write_summary",
    "write_timeline",
]

SUMMARY = "summary.json"
EVENTS = "events.csv"
TIMELINE = "timeline.parquet"
FRONTIER = "oracle_frontier.csv"
MANIFEST = "sweep.json"
"""The file naming the jobs of the sweep a sweep directory holds (:func:`claim_sweep`)."""

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
    equals ``hash_`` and the files it goes with are intact (:func:`verify`). Otherwise
    None (the job must run).
    """
    directory = Path(directory)
    record = read_summary(directory)
    if (record is None or record.get("status") != "ok" or record.get("config_hash") != hash_
            or verify(directory, record) is not None):
        return None
    return record


def digests(paths: Sequence[Path]) -> dict[str, str]:
    """Return ``{file name: sha256 hex digest}`` of ``paths``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text("step")
    >>> digests([path])["events.csv"][:12]
    '3e64cc41cf8e'
    """
    out = {}
    for path in paths:
        with open(path, "rb") as f:
            out[Path(path).name] = hashlib.file_digest(f, "sha256").hexdigest()
    return out


def verify(directory: Path, record: dict) -> str | None:
    """Return why the files of a finished job do not match its record, or None.

    ``record["files"]`` holds the sha256 of each file the job wrote (:func:`digests`);
    each must exist with that digest. A record written before digests were kept (no
    ``files``) only needs its timeline and events to exist.

    Examples
    --------
    >>> import tempfile
    >>> job = Path(tempfile.mkdtemp())
    >>> record = {"files": digests([write_events(job, pd.DataFrame({"step": [3]})),
    ...                             write_timeline(job, pd.DataFrame({"step": [3]}))])}
    >>> verify(job, record) is None
    True
    >>> _ = (job / EVENTS).write_text("step")
    >>> print(verify(job, record))
    events.csv does not match the sha256 its job recorded in summary.json (edited or \
truncated after the job finished)
    """
    directory = Path(directory)
    files = record.get("files")
    if not isinstance(files, dict):
        absent = [n for n in (TIMELINE, EVENTS) if not (directory / n).is_file()]
        return f"{' and '.join(absent)} missing" if absent else None
    for name in (TIMELINE, EVENTS):
        if name not in files:
            return f"summary.json holds no sha256 of {name}"
    for name, expected in files.items():
        path = directory / name
        if not path.is_file():
            return f"{name} is missing"
        if digests([path])[name] != expected:
            return (f"{name} does not match the sha256 its job recorded in summary.json "
                    "(edited or truncated after the job finished)")
    return None


def sweep_jobs(jobs: Sequence[Sequence[str]]) -> list[list[str]]:
    """Return the jobs' overrides that decide what they compute (no runtime keys).

    Examples
    --------
    >>> sweep_jobs([["trigger=ddm", "seed=0", "resume=true"], ["+progress=false"]])
    [['trigger=ddm', 'seed=0'], []]
    """
    return [[str(o) for o in job if str(o).partition("=")[0].lstrip("+~") not in RUNTIME_KEYS]
            for job in jobs]


def _recorded_jobs(sweep_dir: Path) -> dict[int, list[str]]:
    """Return ``{job number: overrides}`` of the numbered job directories already there."""
    import yaml

    out = {}
    for job in sweep_dir.iterdir():
        if not (job.name.isdigit() and job.is_dir()):
            continue
        record = read_summary(job)
        overrides = record.get("overrides") if record else None
        if overrides is None and (job / ".hydra" / "overrides.yaml").is_file():
            overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
        if overrides is not None:
            out[int(job.name)] = sweep_jobs([overrides])[0]
    return out


def _other_sweep(sweep_dir: Path, held: dict[int, list[str]], wanted: list[list[str]],
                 n_held: int | None = None) -> str | None:
    """Say how the jobs ``held`` in ``sweep_dir`` differ from ``wanted``; None if they agree.

    ``held`` maps job numbers to overrides; ``n_held`` is the number of jobs of the sweep
    there when known (its manifest), which must then equal ``len(wanted)``.
    """
    differ = next((i for i, o in sorted(held.items()) if i >= len(wanted) or o != wanted[i]),
                  None)
    if differ is None and n_held in (None, len(wanted)):
        return None
    size = f"{n_held} jobs" if n_held is not None else "its jobs"
    if differ is None or differ >= len(wanted):
        what = f"{size}, this command {len(wanted)}"
    else:
        what = (f"{size}; its job {differ} is `{' '.join(held[differ])}`, this command's is "
                f"`{' '.join(wanted[differ])}`")
    return (f"The sweep directory {sweep_dir} holds another sweep ({what}). Nothing was run "
            "or overwritten. Run this sweep into a new directory (another "
            "hydra.sweep.dir=..., or none for a new dated one), or remove it first; to "
            "finish the sweep that is there, rerun its own command with resume=true.")


def claim_sweep(sweep_dir: Path, jobs: Sequence[Sequence[str]]) -> str | None:
    """Claim ``sweep_dir`` for a sweep of ``jobs``; return why it cannot be, or None.

    The first sweep run into a directory writes :data:`MANIFEST` there (the jobs'
    overrides without runtime keys, in order; created exclusively, so of two sweeps
    started together one wins). A later sweep may run there only if its jobs are the
    same (a resume, or a rerun with ``resume=false``). A directory without a manifest
    (left by an older retrain-sim) is checked job directory by job directory.

    Examples
    --------
    >>> import tempfile
    >>> sweep = Path(tempfile.mkdtemp())
    >>> claim_sweep(sweep, [["seed=0"], ["seed=1"]]) is None  # the first sweep
    True
    >>> claim_sweep(sweep, [["seed=0", "resume=true"], ["seed=1"]]) is None  # its resume
    True
    >>> print(claim_sweep(sweep, [["seed=0"], ["seed=2"]]))  # doctest: +ELLIPSIS
    The sweep directory ... holds another sweep (2 jobs; its job 1 is `seed=1`, this \
command's is `seed=2`). Nothing was run or overwritten. ...
    """
    sweep_dir = Path(sweep_dir)
    wanted = sweep_jobs(jobs)
    path = sweep_dir / MANIFEST
    if not path.exists():
        if sweep_dir.is_dir():
            problem = _other_sweep(sweep_dir, _recorded_jobs(sweep_dir), wanted)
            if problem:
                return problem
        text = json.dumps({"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "jobs": wanted}, indent=1)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        tmp = sweep_dir / f".{MANIFEST}.{secrets.token_hex(8)}.tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "w") as f:
            f.write(text + "\n")
        try:
            os.link(tmp, path)  # fails if another sweep created it meanwhile
            return None
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    try:
        held = [[str(o) for o in job] for job in json.loads(path.read_text())["jobs"]]
    except (OSError, ValueError, KeyError, TypeError) as ex:
        return (f"The sweep directory {sweep_dir} holds an unreadable {MANIFEST} ({ex}): it "
                "cannot tell which sweep is there. Nothing was run or overwritten. Run this "
                "sweep into a new directory, or remove that one first.")
    return _other_sweep(sweep_dir, dict(enumerate(held)), wanted, len(held))


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

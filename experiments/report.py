"""Aggregate a sweep directory: summary.csv, configs.csv, report.md and figures.

:func:`aggregate` reads every job directory of a sweep (finished, failed or never
finished) and writes, into the sweep directory:

- ``summary.csv``: one row per job: its overrides as columns, every scalar summary
  metric, then ``status`` (``ok``, ``failed``, ``missing`` for a job that never
  finished, or ``corrupt`` for one whose files do not match the sha256 its
  ``summary.json`` recorded: left out of every number), ``error`` and ``config`` (the
  configuration it belongs to);
- ``configs.csv``: one row per configuration (the jobs that differ only by seed):
  for every metric the mean, the half-width of a t-based 95% confidence interval
  (``_ci95``) and that interval clipped to the values the metric can take (``_lo``,
  ``_hi``: :attr:`sim.metrics.Metric.range`; a share stays in [0, 1], a count at or
  above 0);
- ``report.md``: the tables, the best configuration per metric, drift-by-drift
  handling, the figures and the failures;
- ``accuracy_over_time.png`` (every configuration; ``_2``, ``_3``, ... when they fill
  more than one figure), ``accuracy_vs_cost.png`` (``mae_*`` for a regression sweep)
  and, for every numeric parameter that was swept, ``sensitivity_<parameter>.png``.

``retrain-sim-report DIR`` runs it on any sweep directory, including a partial one.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments import objective, ranks, store
from experiments.stats import bounded, config_label, mean_frontier, overlap, show, without_stream
from sim.metrics import (
    DESCRIPTORS,
    METRICS,
    Metric,
    fill_alerts,
    metric,
    primary,
    retrain_rows,
)

NOT_RUN = ("not run: fail_fast=true stopped the sweep after a job failed (rerun with "
           "resume=true to run it)")
NEVER_FINISHED = "no summary.json: the job never finished (interrupted or still running)"
RERUN = "rerun the sweep's command with resume=true to run it again"
STATUSES = ("ok", "failed", "missing", "corrupt")
"""A job's status in ``summary.csv``: ``corrupt`` when its files do not match the sha256
its ``summary.json`` recorded (:func:`experiments.store.verify`)."""

__all__ = ["Aggregate", "aggregate", "find_jobs", "main", "markdown_table", "planned_jobs"]


def _metrics(task: str) -> list[Metric]:
    """Return the registry's metrics shown in the report's tables for ``task``."""
    return [m for m in METRICS if m.table and m.applies(task)]


def _natural(path: Path) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(path))]


def _is_job(entries: set[str]) -> bool:
    return store.SUMMARY in entries or ".hydra" in entries


def find_jobs(sweep_dir: Path) -> list[Path]:
    """Return the job directories under ``sweep_dir`` (with a summary.json or .hydra/).

    Walks the directory tree without entering a job directory or a hidden one
    (``.submitit/``, ``.hydra/``), so it lists thousands of jobs in a fraction of a second.
    ``sweep_dir`` itself counts only when it holds no job below it (a single run).
    """
    sweep_dir = Path(sweep_dir)
    found: list[Path] = []
    root_is_job = False
    for here, dirs, files in os.walk(sweep_dir):
        entries = set(files) | set(dirs)
        if _is_job(entries):
            if Path(here) != sweep_dir:
                found.append(Path(here))
                dirs[:] = []  # a job holds no jobs
                continue
            root_is_job = True
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    if not found and root_is_job:
        found = [sweep_dir]
    return sorted(found, key=_natural)


def _overrides_of(job: Path, record: dict | None) -> list[str]:
    """Return the job's overrides that name what it computes (runtime keys left out)."""
    if record is not None and record.get("overrides") is not None:
        overrides = [str(o) for o in record["overrides"]]
    else:
        overrides = _hydra_overrides(job / ".hydra" / "overrides.yaml")
    return [o for o in overrides
            if o.partition("=")[0].lstrip("+~") not in store.RUNTIME_KEYS]


def _hydra_overrides(path: Path) -> list[str]:
    """Read Hydra's ``overrides.yaml`` (a YAML list of strings) without OmegaConf."""
    try:
        text = path.read_text()
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("- "):
            value = line[2:].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1].replace("''", "'") if value[0] == "'" else \
                    json.loads(value)
            out.append(value)
    return out


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _numeric(column: pd.Series) -> pd.Series:
    try:
        return pd.to_numeric(column)
    except (ValueError, TypeError):
        return column


def markdown_table(frame: pd.DataFrame, index: bool = True) -> str:
    """Render a DataFrame as a GitHub-flavoured Markdown table (no extra dependency).

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"a": [1]}, index=["x"])))
    | | a |
    |---|---|
    | x | 1 |
    """
    cols = list(frame.columns)
    head = ([""] if index else []) + [str(c) for c in cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for idx, row in frame.iterrows():
        cells = ([str(idx)] if index else []) + ["" if pd.isna(v) else str(v) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


@dataclass
class Aggregate:
    """An aggregated sweep: the tables, and the paths of the files written."""

    sweep_dir: Path
    jobs: pd.DataFrame
    configs: pd.DataFrame
    override_keys: list[str]
    label_keys: list[str]
    drift_aware: set[str] = field(default_factory=set)
    figures: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None
    task: str = "classification"
    planned: int | None = None  # jobs the sweep's command launches (None: unknown)
    ground_truth: set[str] = field(default_factory=set)  # what the streams declare
    drawn: tuple[int, int] | None = None  # configurations drawn over time, of how many
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)  # sensitivity: drawn, all

    @property
    def counts(self) -> dict[str, int]:
        """Number of jobs per status."""
        status = self.jobs["status"] if len(self.jobs) else pd.Series(dtype=object)
        return {s: int((status == s).sum()) for s in STATUSES}

    def outcome(self) -> dict[str, Any]:
        """Return the counts of jobs and, when some failed or never finished, a message."""
        c = self.counts
        out = {"n_jobs": len(self.jobs), "n_ok": c["ok"], "n_failed": c["failed"],
               "n_missing": c["missing"], "n_corrupt": c["corrupt"],
               "sweep_dir": str(self.sweep_dir), "message": ""}
        if c["failed"] or c["missing"] or c["corrupt"]:
            failed = self.jobs[self.jobs["status"].isin(("failed", "corrupt"))]
            errors = failed["error"].dropna().astype(str).unique().tolist()
            corrupt = f", {c['corrupt']} corrupt" if c["corrupt"] else ""
            text = (f"{len(self.jobs) - c['ok']} of {len(self.jobs)} jobs did not succeed "
                    f"({c['failed']} failed, {c['missing']} never finished{corrupt}).")
            if errors:
                text += " " + " ".join(errors[:3])
                if len(errors) > 3:
                    text += f" (and {len(errors) - 3} other errors)"
            text += f" Details: {self.report or self.sweep_dir / 'summary.csv'}."
            out["message"] = text
        return out

    def digest(self) -> str:
        """Return a few lines for the terminal: the key metrics per configuration."""
        c = self.counts
        lines = [f"Sweep {self.sweep_dir}: {len(self.jobs)} jobs, {c['ok']} ok"
                 + (f", {c['failed']} failed" if c["failed"] else "")
                 + (f", {c['missing']} never finished" if c["missing"] else "")
                 + (f", {c['corrupt']} corrupt" if c["corrupt"] else "") + "."]
        head = primary(self.task).name
        if len(self.configs) and f"{head}_mean" in self.configs:
            table = _display_table(self.configs, self.task, (head, "n_retrains", "total_cost"))
            table.index = _readable(list(table.index))
            width = max(len(str(i)) for i in table.index)
            lines.append(f"{'configuration':<{width}}  " + "  ".join(
                f"{c:>22}" for c in table.columns))
            for idx, row in table.iterrows():
                lines.append(f"{idx:<{width}}  " + "  ".join(f"{v:>22}" for v in row))
        if self.report is not None:
            lines.append(f"Report: {self.report}")
        return "\n".join(lines)


def _fmt(configs: pd.DataFrame | pd.Series, name: str, fmt: str):
    """Print metric ``name`` of one configuration (a row) or of each (a frame): mean [lo, hi]."""
    if isinstance(configs, pd.Series):
        return show(configs.get(f"{name}_mean", math.nan), configs.get(f"{name}_lo", math.nan),
                    configs.get(f"{name}_hi", math.nan), fmt)
    return [show(*row, fmt) for row in zip(
        configs[f"{name}_mean"], configs.get(f"{name}_lo", pd.Series(math.nan, configs.index)),
        configs.get(f"{name}_hi", pd.Series(math.nan, configs.index)), strict=True)]


def _display_table(configs: pd.DataFrame, task: str, metrics=None) -> pd.DataFrame:
    metrics = metrics or [m.name for m in _metrics(task)]
    out = pd.DataFrame(index=configs.index)
    if "n_ok" in configs:
        out["runs ok"] = [f"{int(a)}/{int(b)}" for a, b in zip(configs["n_ok"],
                                                              configs["n_jobs"], strict=False)]
    # rows the hindsight optimum does not bound (sim.oracle.not_bounded): no ceiling
    unbounded = (configs["oracle_bounded_mean"] < 1).to_numpy() \
        if "oracle_bounded_mean" in configs else np.zeros(len(configs), dtype=bool)
    for m in metrics:
        ceiling = m in CEILING_METRICS
        if f"{m}_mean" not in configs or (configs[f"{m}_mean"].isna().all()
                                          and not (ceiling and unbounded.any())):
            continue
        shown = _fmt(configs, m, metric(m).fmt)
        out[metric(m).label] = ["not bounded" if ceiling and u else v
                                for v, u in zip(shown, unbounded, strict=True)]
    return out


CEILING_METRICS = ("regret", "optimal_accuracy_same_retrains", "optimal_mae_same_retrains")
"""Metrics measured against the hindsight optimum: "not bounded" where it is no ceiling."""


def _load_job(job: Path, sweep_dir: Path, missing: str = NEVER_FINISHED,
              ) -> tuple[dict, dict | None]:
    record = store.read_summary(job)
    row: dict[str, Any] = {"job": str(job.relative_to(sweep_dir)) if job != sweep_dir else "."}
    for o in _overrides_of(job, record):
        key, _, value = o.partition("=")
        row[key.lstrip("+~")] = value
    if record is None:
        row["status"] = "missing"
        row["error"] = missing
        return row, None
    if record.get("config_id"):
        row["config_id"] = record["config_id"]
    summary = record.get("summary") or {}
    for k, v in summary.items():
        if _is_scalar(v):
            row[k] = v
    if summary.get("seeds_averaged"):  # an Optuna trial: one job, the mean over its seeds
        row["seeds_averaged"] = " ".join(str(s) for s in summary["seeds_averaged"])
    row["status"] = record.get("status", "failed")
    error = record.get("error")
    row["error"] = error.get("message") if isinstance(error, dict) else error
    problem = store.verify(job, record) if row["status"] == "ok" else None
    if problem is not None:  # its numbers may not be those of its files: not a result
        row["status"], row["error"] = "corrupt", f"{problem}; {RERUN}"
    return row, record


def planned_jobs(sweep_dir: Path) -> int | None:
    """Return the number of jobs the sweep's command launches, from its ``multirun.yaml``."""
    try:
        from omegaconf import OmegaConf

        from experiments.sweep import count_jobs

        return count_jobs(OmegaConf.load(Path(sweep_dir) / "multirun.yaml"))
    except Exception:  # no multirun.yaml (a single run, or copied results): unknown
        return None


def aggregate(sweep_dir: Path, figures: bool = True, expected: int | None = None) -> Aggregate:
    """Aggregate the jobs under ``sweep_dir`` and write the tables, report and figures.

    Reads each job's ``summary.json`` (and ``.hydra/overrides.yaml`` when it has none);
    timelines and events only of the configurations drawn in the figures.

    Parameters
    ----------
    sweep_dir
        The sweep directory.
    figures
        Draw the figures.
    expected
        The number of jobs of the sweep just run (job directories ``0`` to
        ``expected - 1``): directories of other numbers, left by an earlier, larger
        sweep in the same directory, are left out. None: every job directory counts.
    """
    sweep_dir = Path(sweep_dir)
    jobs_dirs = find_jobs(sweep_dir)
    if expected is not None and all(j.parent == sweep_dir and j.name.isdigit()
                                    for j in jobs_dirs):
        jobs_dirs = [j for j in jobs_dirs if int(j.name) < expected]
    missing = NOT_RUN if (sweep_dir / store.FAIL_FAST_MARK).exists() else NEVER_FINISHED
    rows, records = [], {}
    override_keys: list[str] = []
    for job in jobs_dirs:
        row, record = _load_job(job, sweep_dir, missing)
        rows.append(row)
        records[row["job"]] = (job, record)
        for o in _overrides_of(job, record):
            key = o.partition("=")[0].lstrip("+~")
            if key not in override_keys:
                override_keys.append(key)
    jobs = pd.DataFrame(rows)
    if not len(jobs):
        jobs = pd.DataFrame(columns=["job", "status", "error"])
    metric_keys = [c for c in jobs.columns if c not in override_keys
                   and c not in ("job", "status", "error", "config_id")]
    ids = ["config_id"] if "config_id" in jobs else []
    jobs = jobs[["job", *override_keys, *metric_keys, "status", "error", *ids]]
    # configurations are named from the overrides as typed (before numeric conversion)
    label_keys = [k for k in override_keys if k != "seed"
                  and jobs[k].astype(str).nunique(dropna=False) > 1]
    constant = {k: str(jobs[k].iloc[0]) for k in override_keys
                if k != "seed" and k not in label_keys and len(jobs)}
    jobs["config"] = [config_label(r, label_keys, constant)
                      for r in jobs[label_keys].to_dict("records")]
    for key in override_keys + metric_keys:
        jobs[key] = _numeric(jobs[key])
    jobs = fill_alerts(jobs)

    drift_aware, ground_truth = set(), set()
    for name, label in zip(jobs["job"], jobs["config"], strict=True):
        record = records[name][1]
        if record and "DriftAware" in str((record.get("config") or {}).get("trigger")):
            drift_aware.add(label)
        if record and (record.get("summary") or {}).get("n_drifts"):
            ground_truth.add(record["summary"].get("ground_truth") or "complete")
    task = "regression" if "metric" in jobs and (jobs["metric"] == "mae").any() \
        else "classification"

    configs = _per_config(jobs, label_keys, metric_keys)
    store.atomic_write(sweep_dir / "summary.csv", lambda p: jobs.to_csv(p, index=False))
    store.atomic_write(sweep_dir / "configs.csv", lambda p: configs.to_csv(p))
    agg = Aggregate(sweep_dir, jobs, configs, override_keys, label_keys, drift_aware,
                    task=task, planned=expected if expected is not None
                    else planned_jobs(sweep_dir), ground_truth=ground_truth)
    if figures and (jobs["status"] == "ok").any():
        agg.figures = _figures(agg, records)
    agg.report = _write_report(agg, records)
    return agg


def _per_config(jobs: pd.DataFrame, label_keys: list[str], metric_keys: list[str]):
    """One row per configuration: job counts, then mean, CI half-width and n per metric.

    Vectorised over configurations (a groupby), as :func:`ci95` computes them one by one.
    """
    numeric = [m for m in metric_keys if m not in DESCRIPTORS and (
        pd.api.types.is_numeric_dtype(jobs[m]) or pd.api.types.is_bool_dtype(jobs[m]))]
    if not len(jobs):
        return pd.DataFrame(columns=["n_jobs", "n_ok"]).rename_axis("config")
    by = jobs.groupby("config", sort=False)
    out = pd.DataFrame(index=pd.Index(list(by.groups), name="config"))
    order = list(dict.fromkeys(jobs["config"]))  # first-seen order, as the jobs ran
    out = out.loc[order]
    for k in label_keys:
        out[k] = by[k].first()
    status = jobs["status"]
    out["n_jobs"] = by.size()
    for value in STATUSES:
        counts = (status == value).groupby(jobs["config"], sort=False).sum()
        out[f"n_{value}"] = counts.astype(int)
    ok = jobs[status == "ok"]
    values = ok[numeric].astype(float) if numeric else pd.DataFrame(index=ok.index)
    grouped = values.groupby(ok["config"], sort=False)
    mean, std, count = grouped.mean(), grouped.std(ddof=1), grouped.count()
    columns = {}
    for m in numeric:
        n = count[m].reindex(out.index).fillna(0).astype(int) if m in count else \
            pd.Series(0, index=out.index)
        mu = mean[m].reindex(out.index) if m in mean else pd.Series(np.nan, index=out.index)
        sd = std[m].reindex(out.index) if m in std else pd.Series(np.nan, index=out.index)
        with np.errstate(invalid="ignore", divide="ignore"):
            tq = stats.t.ppf(0.975, np.maximum(n - 1, 1))
            half = np.where(n >= 2, tq * sd / np.sqrt(np.maximum(n, 1)), np.nan)
        columns[f"{m}_mean"] = mu.astype(float)
        columns[f"{m}_ci95"] = pd.Series(half, index=out.index, dtype=float)
        lo, hi = bounded(mu.to_numpy(dtype=float), half, *_range(m))
        columns[f"{m}_lo"] = pd.Series(lo, index=out.index, dtype=float)
        columns[f"{m}_hi"] = pd.Series(hi, index=out.index, dtype=float)
        columns[f"{m}_n"] = n
    return pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)


def _range(name: str) -> tuple[float, float]:
    """Return the values summary key ``name`` can take (unbounded when unregistered)."""
    try:
        return metric(name).range
    except KeyError:
        return -math.inf, math.inf


MAX_LINES = 30
"""Most lines in the sensitivity figures of one parameter (ten per figure)."""

MAX_DRAWN = 16
"""Most configurations drawn over time per stream (two figures of eight panels): every
configuration of every preset; a sweep of hundreds reads the timelines of its most
accurate only, and the figure itself names the ones left out."""


def _drawn(agg: Aggregate, ok: pd.DataFrame) -> list[str]:
    """Return the configurations drawn over time: all, or the :data:`MAX_DRAWN` best per stream.

    Ranked within each stream (:func:`_streams`): accuracy on different streams is not
    comparable, so a sweep over streams never drops one stream's configurations for
    another's. The drift-aware reference, when there is one, is always drawn.
    """
    col = f"{primary(agg.task).name}_mean"
    if col not in ok:
        return list(ok.index)
    keep: set[str] = set()
    for _, part in _streams(ok):
        labels = list(part.index)
        if len(labels) <= MAX_DRAWN:
            keep |= set(labels)
            continue
        aware = [c for c in labels if c in agg.drift_aware][:1]
        real = part[[c not in agg.drift_aware for c in labels]]
        best = real[col].sort_values(ascending=primary(agg.task).better == "min", kind="stable")
        keep |= set(best.index[:MAX_DRAWN - len(aware)]) | set(aware)
    return [c for c in ok.index if c in keep]


def _series(agg: Aggregate, records: dict, labels: list[str]):
    """One :class:`~experiments.plots.Series` per drawn configuration that finished a job."""
    from experiments.plots import Series, live_of

    name = primary(agg.task).name.removeprefix("mean_")
    out = []
    wanted = set(labels)
    for label, group in agg.jobs.groupby("config", sort=False):
        if label not in wanted:
            continue
        timelines, retrains, drifts, step_size, baseline = [], [], [], 1, []
        live: dict[str, list] = {}
        for job_name in group.loc[group["status"] == "ok", "job"]:
            job, record = records[job_name]
            try:
                line = pd.read_parquet(job / store.TIMELINE)
                events = pd.read_csv(job / store.EVENTS)
            except (OSError, ValueError, KeyError):
                continue
            if name not in line:
                continue
            timelines.append(line[["step", name]])
            for key, value in live_of(line, events).items():
                live.setdefault(key, []).extend(value)
            trained = retrain_rows(events)
            steps, accepted = trained.get("step", []), trained.get("accepted", [])
            retrains.append([(int(s), bool(a)) for s, a in zip(steps, accepted, strict=True)])
            summary = record.get("summary") or {}
            drifts = (summary.get("drifts") or []) + (summary.get("incidents") or []) or drifts
            if summary.get("persistence_accuracy") is not None:
                baseline.append(summary["persistence_accuracy"])
            step_size = record.get("step_size") or step_size
        if not timelines:
            continue
        c = agg.configs.loc[label]
        m = primary(agg.task)
        value = _fmt(c, m.name, m.fmt)
        note = (f"{name} {value}  ·  {c.get('n_retrains_mean', float('nan')):.1f} "
                "retrains per run")
        out.append(Series(label, timelines, retrains, drifts, int(step_size), note,
                          label in agg.drift_aware,
                          float(np.mean(baseline)) if baseline else None, **live))
    return out


def _estimates(agg: Aggregate, records: dict):
    """One :class:`~experiments.plots.Series` per configuration whose runs estimated accuracy.

    Reads only the timelines of runs whose summary scored an estimate (``estimate_mae``,
    see :func:`sim.metrics.estimate_error`): the realised accuracy and the trigger's
    ``stat_*estimated_accuracy`` column, as ``realised`` and ``estimated``.
    """
    from experiments.plots import Series

    out = []
    ok = agg.jobs[agg.jobs["status"] == "ok"]
    scored = [(records[name][1].get("summary") or {}).get("estimate_mae") is not None
              for name in ok["job"]]  # the others are not read
    for label, group in ok.loc[scored].groupby("config", sort=False):
        timelines, retrains, drifts, step_size = [], [], [], 1
        for job_name in group["job"]:
            job, record = records[job_name]
            summary = record.get("summary") or {}
            try:
                line = pd.read_parquet(job / store.TIMELINE)
                events = pd.read_csv(job / store.EVENTS)
            except (OSError, ValueError):
                continue
            column = next((c for c in line.columns if c.startswith("stat_")
                           and c.endswith("estimated_accuracy")), None)
            if column is None or "accuracy" not in line:
                continue
            timelines.append(line[["step", "accuracy", column]].set_axis(
                ["step", "realised", "estimated"], axis=1))
            trained = retrain_rows(events)
            retrains.append([(int(t), bool(a)) for t, a in
                             zip(trained.get("step", []), trained.get("accepted", []),
                                 strict=True)])
            drifts = summary.get("drifts") or drifts
            step_size = record.get("step_size") or step_size
        if timelines:
            out.append(Series(label, timelines, retrains, drifts, int(step_size)))
    return out


def _frontier(agg: Aggregate, records: dict) -> pd.DataFrame | None:
    """Return the hindsight-optimal frontier averaged over seeds, if one setting ran.

    Only when every finished job replays the same stream, model, protocol, gate and
    cost (a sweep over triggers and seeds); per seed, the best metric any job's
    frontier reached at each number of retrains (each job adds its own retrains as
    candidates; the first job's in sweep order on a tie), then the mean over seeds.
    """
    value = "mae" if agg.task == "regression" else "accuracy"
    paths, seed_of, settings = [], [], set()
    for name in agg.jobs.loc[agg.jobs["status"] == "ok", "job"]:
        job, record = records[name]
        config = record.get("config") or {}
        settings.add(json.dumps({k: config.get(k) for k in
                                 ("stream", "model", "protocol", "gate", "cost")},
                                sort_keys=True, default=str))
        paths.append(job / store.FRONTIER)
        seed_of.append(config.get("seed"))
    if len(settings) != 1:
        return None
    frames = _read_frontiers(paths, ["K", value, "total_cost"])
    if not len(frames):
        return None
    # "at most K retrains": a frontier holds its last value beyond its own largest K
    ks = pd.RangeIndex(int(frames["K"].max()) + 1, name="K")
    wide = frames.pivot(index="K", columns="file").reindex(ks).ffill()
    rows, best = np.arange(len(ks)), []
    read = list(wide[value].columns)
    for seed in dict.fromkeys(seed_of[i] for i in read):
        files = [i for i in read if seed_of[i] == seed]
        values = wide[value][files].to_numpy()
        pick = (np.nanargmax if value == "accuracy" else np.nanargmin)(values, axis=1)
        best.append(pd.DataFrame({"K": ks, value: values[rows, pick],
                                  "total_cost": wide["total_cost"][files].to_numpy()[rows, pick]}))
    return mean_frontier(best, value)


def _read_frontiers(paths: list[Path], columns: list[str]) -> pd.DataFrame:
    """Read many jobs' ``oracle_frontier.csv`` in one parse per header.

    Returns ``columns`` of every row of every readable file and ``file``, the file's
    position in ``paths``; a file that is missing or does not parse is left out. One
    ``read_csv`` per file costs milliseconds, most of aggregating 10,000 jobs.
    """
    bodies: dict[bytes, list[tuple[int, bytes]]] = {}
    for i, path in enumerate(paths):
        try:
            header, _, body = path.read_bytes().partition(b"\n")
        except OSError:
            continue
        bodies.setdefault(header, []).append((i, body if body.endswith(b"\n") or not body
                                              else body + b"\n"))
    out = []
    for header, files in bodies.items():
        try:
            frame = pd.read_csv(io.BytesIO(header + b"\n" + b"".join(b for _, b in files)),
                                usecols=columns)
            counts = [b.count(b"\n") for _, b in files]
            if len(frame) != sum(counts):  # a line break inside a field: one at a time
                raise ValueError("rows do not match lines")
            out.append(frame.assign(file=np.repeat([i for i, _ in files], counts)))
        except ValueError:
            for i, body in files:
                try:
                    out.append(pd.read_csv(io.BytesIO(header + b"\n" + body),
                                           usecols=columns).assign(file=i))
                except ValueError:
                    continue
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=[*columns, "file"])


def _averaged(agg: Aggregate) -> str | None:
    """Return the seeds every finished job averaged itself (``"0, 1, 2"``), else None.

    Optuna trials replay ``objective.seeds`` in one job (:mod:`experiments.objective`):
    one value per configuration, yet over several seeds.
    """
    ok = agg.jobs[agg.jobs["status"] == "ok"]
    if "seeds_averaged" not in ok or not len(ok) or ok["seeds_averaged"].isna().any():
        return None
    values = ok["seeds_averaged"].astype(str).unique()
    return ", ".join(values[0].split()) if len(values) == 1 else "; ".join(values)


def _n_seeds(agg: Aggregate) -> int:
    ok = agg.jobs[agg.jobs["status"] == "ok"]
    return int(ok.groupby("config").size().max()) if len(ok) else 0


def _streams(frame: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """Split configurations by stream when the sweep varies it (else one part, None).

    Accuracy and cost on different streams are not comparable: a front or a "best"
    across streams would rank the streams, not the policies.
    """
    if "stream" not in frame or frame["stream"].nunique() < 2:
        return [(None, frame)]
    return [(str(name), part) for name, part in frame.groupby("stream", sort=False)]


def _persistence(ok: pd.DataFrame) -> float | None:
    col = ok.get("persistence_accuracy_mean")
    return float(col.mean()) if col is not None and col.notna().any() else None


def _figures(agg: Aggregate, records: dict) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, whatever the environment's display
    from experiments import plots

    out: dict[str, Path] = {}
    ok = agg.configs[agg.configs["n_ok"] > 0] if "n_ok" in agg.configs else agg.configs
    head = primary(agg.task).name
    drawn = _drawn(agg, ok)
    agg.drawn = (len(drawn), len(ok))
    series = _series(agg, records, drawn)
    if series:
        metric_name = head.removeprefix("mean_")
        shown = {s.label for s in series}
        for i, path in enumerate(plots.over_time(
                series, agg.sweep_dir / f"{metric_name}_over_time.png", task=agg.task,
                not_drawn=[c for c in ok.index if c not in shown])):
            out["over_time" if i == 0 else f"over_time_{i + 1}"] = path
    seeds = _n_seeds(agg)
    if len(ok) and "total_cost_mean" in ok and f"{head}_mean" in ok:
        frontier = _frontier(agg, records)
        if frontier is not None:  # retrain-sim-advise draws it too
            store.write_frontier(agg.sweep_dir, frontier)
        for stream, part in _streams(ok):
            suffix = "" if stream is None else "_" + re.sub(r"[^\w.-]+", "_", stream)
            out[f"vs_cost{suffix}"] = plots.metric_vs_cost(
                part, agg.sweep_dir / f"{head.removeprefix('mean_')}_vs_cost{suffix}.png",
                task=agg.task, drift_aware=agg.drift_aware, frontier=frontier,
                baseline=_persistence(part), n_seeds=seeds, averaged=_averaged(agg),
                stream=stream)
    for param in agg.label_keys:
        col = ok[param] if param in ok else None
        if col is None or not pd.api.types.is_numeric_dtype(col) or col.nunique() < 2:
            continue
        others = [k for k in agg.label_keys if k != param]
        frame = ok.copy()
        by = None
        if others:
            frame["_by"] = [config_label(r, others) for _, r in frame.iterrows()]
            by = "_by"
            col = f"{head}_mean"
            if frame[by].nunique() > MAX_LINES and col in frame:  # the best lines only
                best = frame.groupby(by, sort=False)[col].agg(
                    "max" if primary(agg.task).better == "max" else "min")
                keep = best.sort_values(ascending=primary(agg.task).better == "min",
                                        kind="stable").index[:MAX_LINES]
                agg.lines[param] = (MAX_LINES, int(frame[by].nunique()))
                frame = frame[frame[by].isin(keep)]
        name = re.sub(r"[^\w.-]+", "_", param)
        paths = plots.sensitivity(frame, param, agg.sweep_dir / f"sensitivity_{name}.png",
                                  by=by, task=agg.task, n_seeds=seeds, averaged=_averaged(agg),
                                  by_label=", ".join(others) or None)
        for i, path in enumerate(paths):
            out[f"sensitivity_{param}" + ("" if i == 0 else f"_{i + 1}")] = path
    estimates = _estimates(agg, records)
    if estimates:
        out["estimated_accuracy"] = plots.estimated_vs_realised(
            estimates, agg.sweep_dir / "estimated_accuracy.png")
    return out


def _best(agg: Aggregate, configs: pd.DataFrame | None = None,
          stream: str | None = None) -> pd.DataFrame:
    """Per ranked metric: the best configuration, or the tie when intervals overlap.

    Among ``configs`` (default: all the sweep's; ``stream``: the one stream they ran on,
    left out of their names). A policy that never retrains is left
    out of the metrics it would win trivially (cost, retrains, regret, recovery, fit
    time: :attr:`~sim.metrics.Metric.for_never`). A metric measured against the policy's
    own earlier level (:attr:`~sim.metrics.Metric.relative`: the loss per drift or after
    an incident) is ranked only among the credible configurations (:func:`_credible`):
    a policy whose level was already broken loses little more.
    """
    rows = {}
    configs = agg.configs if configs is None else configs
    configs = configs[configs["n_ok"] > 0] if len(configs) else configs
    never = configs["n_retrains_mean"] == 0 if "n_retrains_mean" in configs else \
        pd.Series(False, index=configs.index)
    credible = _credible(configs, agg.task)
    for m in _metrics(agg.task):
        col = f"{m.name}_mean"
        if m.better is None or col not in configs:
            continue
        pool = configs if m.for_never else configs[~never]
        pool = pool[credible.reindex(pool.index)] if m.relative else pool
        pool = pool[pool[col].notna()]
        if len(pool) < 2:
            continue
        order = pool[col].sort_values(ascending=m.better == "min", kind="stable")
        best = order.index[0]
        half = pool.loc[best, f"{m.name}_ci95"]
        halves = pool[f"{m.name}_ci95"].to_dict()
        tied = [c for c, value in list(order.items())[1:]
                if overlap(order[best], half, value, halves[c])]
        names = [best, *tied]
        named = [_named(agg, c) for c in _readable(names[:4], list(configs.index))]
        if stream is not None:  # one table per stream: its name is the heading
            named = [without_stream(n, stream) for n in named]
        shown = ("; " if any(", " in n for n in named) else ", ").join(named) + (
            f" and {len(names) - 4} more" if len(names) > 4 else "")
        rows[m.label] = {
            "best": ("tied: " + shown) if tied else shown,
            "value (mean [95% CI])": _fmt(pool.loc[best], m.name, m.fmt),
            "goal": "highest" if m.better == "max" else "lowest",
        }
    return pd.DataFrame.from_dict(rows, orient="index")


CREDIBLE = 0.05
"""A configuration is ranked on a relative metric when its main metric is within this of
the best: accuracy at most 0.05 below the best; mean absolute error at most 5% above."""


def _credible(configs: pd.DataFrame, task: str) -> pd.Series:
    """Whether each configuration's main metric is within :data:`CREDIBLE` of the best.

    Examples
    --------
    >>> c = pd.DataFrame({"mean_accuracy_mean": [0.85, 0.82, 0.674]}, index=["a", "b", "c"])
    >>> _credible(c, "classification").tolist()
    [True, True, False]
    """
    m = primary(task)
    col = f"{m.name}_mean"
    if col not in configs or configs[col].isna().all():
        return pd.Series(True, index=configs.index)
    values = configs[col]
    if m.better == "max":
        return values >= values.max() - CREDIBLE
    return values <= values.min() * (1 + CREDIBLE)


def _readable(labels: list[str], among: list[str] | None = None) -> list[str]:
    """Return ``labels`` with swept numbers rounded to 4 significant digits, if still unique.

    An Optuna trial's ``trigger.drop=0.13945930846219456`` reads ``trigger.drop=0.1395``;
    when rounding would give two configurations of ``among`` (default: ``labels``) one
    name, the labels stay as they are (``configs.csv`` always keeps them exact).

    Examples
    --------
    >>> _readable(["trigger.drop=0.13945930846219456", "ddm"])
    ['trigger.drop=0.1395', 'ddm']
    >>> _readable(["x=0.123451", "x=0.123452"])
    ['x=0.123451', 'x=0.123452']
    """
    from experiments.plots import readable

    def rounded(label: str) -> str:
        parts = [p.partition("=") for p in str(label).split(", ")]
        return ", ".join(f"{k}{eq}{readable(v)}" if eq else k for k, eq, v in parts)

    pool = [rounded(c) for c in (among if among is not None else labels)]
    if len(set(pool)) < len(pool):
        return list(labels)
    return [rounded(c) for c in labels]


def _named(agg: Aggregate, label: str) -> str:
    return f"{label} (knows the drifts)" if label in agg.drift_aware else str(label)


def _event_table(agg: Aggregate, records: dict, key: str, noun: str, describe,
                 cell) -> pd.DataFrame | None:
    """One row per configuration, one column per event of the summaries' ``key`` list.

    ``describe(event)`` names an event, ``cell(events)`` writes a configuration's cell
    from its runs' rows of one event. A sweep over several streams whose events differ
    gets the description in each cell.
    """
    cells: dict[str, dict[int, list]] = {}
    described: dict[int, set[str]] = {}
    ok = agg.jobs[agg.jobs["status"] == "ok"]
    for name, label in zip(ok["job"], ok["config"], strict=True):
        events = (records[name][1].get("summary") or {}).get(key) or []
        for i, event in enumerate(events):
            described.setdefault(i, set()).add(describe(event))
            cells.setdefault(label, {}).setdefault(i, []).append(event)
    if not cells:
        return None
    columns = {i: f"{noun} {i + 1}: {next(iter(ds))}" if len(ds) == 1
               else f"{noun} {i + 1} (differs by stream)" for i, ds in described.items()}
    table = pd.DataFrame(index=list(cells), columns=[columns[i] for i in sorted(columns)])
    for label, per in cells.items():
        for i, rows in per.items():
            text = cell(rows)
            if len(described[i]) > 1:
                text = f"{describe(rows[0])}: {text}"
            table.loc[label, columns[i]] = text
    return table


def _drift_table(agg: Aggregate, records: dict) -> pd.DataFrame | None:
    lost_key = "mae_lost" if agg.task == "regression" else "accuracy_lost"

    def cell(ds: list[dict]) -> str:
        delays = [d["detection_delay"] for d in ds if d.get("detected_at") is not None]
        lost = [d[lost_key] for d in ds if d.get(lost_key) is not None]
        text = f"detected {len(delays)}/{len(ds)}"
        if delays:
            text += f", delay {np.mean(delays):.1f}"
        if lost:
            text += f", lost {np.mean(lost):.3f}"
        return text

    return _event_table(agg, records, "drifts", "drift", _describe, cell)


def _incident_table(agg: Aggregate, records: dict) -> pd.DataFrame | None:
    """Per configuration and incident: the retrains it caused, the metric lost during and after."""
    def cell(rows: list[dict]) -> str:
        text = (f"retrains {np.mean([x['retrains'] for x in rows]):.1f}, trained on it "
                f"{np.mean([x['trained'] for x in rows]):.1f} "
                f"(deployed {np.mean([x['deployed'] for x in rows]):.1f})")
        for when in ("during", "after"):
            lost = [x[f"lost_{when}"] for x in rows if x.get(f"lost_{when}") is not None]
            text += f", lost {when} {np.mean(lost):+.3f}" if lost else ""
        return text

    return _event_table(agg, records, "incidents", "incident", _describe_incident, cell)


def _describe_incident(incident: dict) -> str:
    return f"{incident['cause']} at steps {incident['start_step']}-{incident['end_step']}"


def _describe(drift: dict) -> str:
    return f"{drift.get('kind')} ({drift.get('shape')}) at step {drift.get('start_step')}"


def _command(sweep_dir: Path) -> str | None:
    try:
        from omegaconf import OmegaConf

        cfg = OmegaConf.load(sweep_dir / "multirun.yaml")
        task = list(cfg.hydra.overrides.task)
        return "retrain-sim -m " + " ".join(task) if task else "retrain-sim"
    except Exception:
        return None


def _header(agg: Aggregate, records: dict) -> list[str]:
    """Return the report's opening: the sweep, its jobs and the first job's stream and model."""
    c = agg.counts
    lines = [f"# Sweep report: `{agg.sweep_dir.name}`", ""]
    command = _command(agg.sweep_dir)
    lines.append(f"Directory: `{agg.sweep_dir}`  ")
    if command:
        lines.append(f"Command: `{command}`  ")
    corrupt = f", {c['corrupt']} corrupt" if c["corrupt"] else ""
    lines.append(f"Jobs: {len(agg.jobs)} ({c['ok']} ok, {c['failed']} failed, {c['missing']} "
                 f"never finished{corrupt}). Aggregated {datetime.now():%Y-%m-%d %H:%M}.")
    if agg.planned is not None and (agg.planned > c["ok"] + c["failed"]):
        lines += ["", f"**Partial sweep: {agg.planned} jobs planned, {c['ok'] + c['failed']} "
                      f"finished ({c['ok']} ok).** Every number below is over the finished "
                      "jobs only; finish the sweep with the same command plus `resume=true`."]
    first = next((rec for _, rec in records.values() if rec and rec.get("config")), None)
    if first:
        cfg = first["config"]
        stream = (cfg.get("stream") or {}).get("_target_", "?")
        drifts = first.get("drifts") or []
        kinds = ", ".join(f"{d['kind']} ({d['shape']}) at sample {d['start']:,}"
                          for d in drifts) or "none declared"
        broken = "".join(f"; incident ({i['cause']}, not a drift) at samples "
                         f"{i['start']:,}-{i['end']:,}" for i in first.get("incidents") or [])
        lines += ["", f"Stream `{stream}` (of the first job): true drifts: {kinds}{broken}. "
                      f"Model `{(cfg.get('model') or {}).get('_target_', '?')}`."]
    if "partial" in agg.ground_truth:
        lines += ["", "The stream declares its ground truth **partial** (real data with known "
                      "events; other changes may be undeclared): detection delays and missed "
                      "drifts are measured for the declared drifts only, and false alarms and "
                      "precision are not judged (a retrain between declared events may answer "
                      "an undeclared change; its measured benefit is in `events.csv`)."]
    return lines


def _results_section(agg: Aggregate, seeds: int) -> list[str]:
    """Return "Results per configuration": what the numbers are, and the table."""
    averaged = _averaged(agg)
    spread = ("Mean over the seeds that ran [the t-based 95% confidence interval, clipped to "
              "the values the metric can take: a share stays in 0-1, a count or a cost at or "
              "above 0]" if seeds > 1 else
              f"One job per configuration, each the mean over seeds {averaged} (averaged in "
              "the job, as an Optuna trial does): single values, no confidence interval"
              if averaged else "One seed per configuration: single values, no confidence "
              "interval")
    lines = ["", "## Results per configuration", "",
             f"{spread}. A detection is the first retrain that is not a planned refit "
             "within a drift's detection window (see `sim.metrics`); every other retrain "
             "but a planned refit is a false alarm, shown beside the mean benefit those "
             "retrains measured (metric gained over the model they replaced). The regret is "
             "the distance below the hindsight optimum (the oracle: the ceiling) with as "
             "many retrains that served: one optimum per stream, seed, model, protocol and "
             "held-out labels (a gate's n_val), "
             "over a retrain at any step with any training window the triggers can make, "
             "shared by every policy (plus a run's own windows that start inside a step); "
             "\"not bounded\" where a run's actions lie outside it (online updates, a "
             "shadow, canary or rollback gate). `configs.csv` holds every metric; "
             "`summary.csv` one row per job.", ""]
    if agg.drift_aware:
        lines += [f"{', '.join(sorted(agg.drift_aware))} knows where the true drifts are: a "
                  "reference policy, ranked like the others, that no production system can "
                  "run; it is not a ceiling.", ""]
    if len(agg.configs):
        table = _display_table(agg.configs, agg.task)
        table.index = [_named(agg, i) for i in _readable(list(table.index))]
        lines += [markdown_table(table), ""]
    return lines


def _best_section(agg: Aggregate) -> list[str]:
    """Return "Best configuration per metric": one table per stream (none when nothing ranks)."""
    bests = [(stream, _best(agg, part, stream)) for stream, part in _streams(agg.configs)]
    if not any(len(best) for _, best in bests):
        return []
    lines = ["## Best configuration per metric", "",
             "\"tied\" when the 95% confidence intervals overlap (equal values with one "
             "seed). A policy that never retrains is not ranked on what it wins by doing "
             "nothing (cost, retrains, regret, recovery, fit time). The losses measured "
             "against a policy's own earlier level (per drift, after incidents) rank "
             f"only the configurations whose {primary(agg.task).label.split(' (')[0]} "
             + ("is within 0.05 of the best" if primary(agg.task).better == "max" else
                "is within 5% of the best")
             + ": a policy whose level was already broken has little left to lose."
             + (" One table per stream: results on different streams are not "
                "comparable." if len(bests) > 1 else ""), ""]
    for stream, best in bests:
        if len(best):
            lines += ([f"### Stream `{stream}`", ""] if stream is not None else []) + [
                markdown_table(best), ""]
    return lines


def _event_sections(agg: Aggregate, drift_table: pd.DataFrame | None,
                    incident_table: pd.DataFrame | None) -> list[str]:
    """Return "Drift by drift" and "Incident by incident", each when its table exists."""
    lost = "error gained" if agg.task == "regression" else "accuracy lost"
    lines = []
    if drift_table is not None:
        lines += ["## Drift by drift", "",
                  "Per true drift: in how many runs it was detected (a retrain that is not a "
                  "planned refit, from the stream's onset tolerance before its start to "
                  "`label_delay` + 5 steps after its end, and before the next drift), the "
                  f"mean detection delay (steps from its start), and the {lost} (the "
                  "pre-drift level against the mean over the segment up to the next drift).",
                  "", markdown_table(drift_table), ""]
    if incident_table is not None:
        lines += ["## Incident by incident", "",
                  "Per incident (broken data that is not a drift, see "
                  "`sim.streams.Incidents`), mean over the runs: the retrains decided "
                  "during it (up to `label_delay` steps after its last sample), the retrains "
                  "whose training window held its samples (during it or later) and how many "
                  f"of those were deployed, and the {lost} during it and in the "
                  "`benefit_window` steps after it, against the counterfactual: the same "
                  "run replayed on the stream without its incidents (a positive number is "
                  "a loss). Incidents "
                  "leave the drift scores alone: where false alarms are judged (declared "
                  "drifts, complete ground truth), a retrain during an incident that no "
                  "drift explains is one.", "", markdown_table(incident_table), ""]
    return lines


def _what(task: str) -> str:
    """Return what the figures of a ``task`` sweep draw, as a caption names it."""
    return "Mean absolute error" if task == "regression" else "Accuracy"


def _captions(agg: Aggregate, seeds: int, incidents: bool) -> dict[str, str]:
    """Return the caption of each kind of figure (the sensitivity ones excepted)."""
    what = _what(agg.task)
    per_seed = ("one line per seed" if seeds <= 5 else
                f"mean over {seeds} seeds with the min-max band")
    captions = {
        "over_time": f"{what} per step, one panel per configuration ({per_seed}); true "
        "drifts shaded" + ("; incidents hatched" if incidents else "")
        + "; a tick per retrain" + (" (one row per seed)" if seeds > 1 else "")
        + "; long noisy series are smoothed (the window is on the axis).",
        "vs_cost": f"{what} against total cost"
        + (", 95% confidence bars" if seeds > 1 else " (one seed: no intervals)")
        + "; configurations with the same results share a ringed marker; the dashed "
        "line is the Pareto front"
        + ("; the solid line is the hindsight optimum with K retrains (the oracle, the "
           "only ceiling; the regret column is each run's distance below it)."
           if (agg.sweep_dir / store.FRONTIER).exists() else "."),
        "estimated_accuracy": "Accuracy estimated without labels (dashed) and realised "
        "(solid), per configuration whose trigger estimates it; mean over seeds.",
    }
    if agg.drawn and agg.drawn[0] < agg.drawn[1]:
        captions["over_time"] += (
            f" The {agg.drawn[0]} best of {agg.drawn[1]} configurations are drawn (at most "
            f"{MAX_DRAWN} per stream: more would be unreadable), the others are named in "
            "the figure; every configuration is in the tables.")
    return captions


def _caption(agg: Aggregate, name: str, captions: dict[str, str]) -> str:
    """Return the caption of figure ``name`` (``over_time_2``, ``vs_cost_<stream>``, ...)."""
    what = _what(agg.task)
    base = re.sub(r"_\d+$", "", name)
    stream = None
    if base.startswith("vs_cost_"):  # one per stream (see _streams)
        base, stream = "vs_cost", base.removeprefix("vs_cost_")
    caption = captions.get(base, f"{what}, retrains and cost against "
                                 f"{base.removeprefix('sensitivity_')}.")
    if base.startswith("sensitivity_") and base.removeprefix("sensitivity_") in agg.lines:
        shown, total = agg.lines[base.removeprefix("sensitivity_")]
        caption += (f" The {shown} best of {total} lines are drawn; every "
                    "configuration is in the tables.")
    if base.startswith("sensitivity_") and "alerts_not_acted_mean" in agg.configs \
            and (agg.configs["alerts_not_acted_mean"] > 0).any():
        caption += (" The last panel: alerts raised to the person in the loop "
                    "(solid) and acted upon (dotted).")
    if stream is not None:
        return (f"Stream `{stream}` only (results on different streams are not "
                "comparable): " + caption[0].lower() + caption[1:])
    return "Continued: " + caption if base != name else caption


def _figure_section(agg: Aggregate, seeds: int, incidents: bool) -> list[str]:
    """Return "Figures": each figure drawn, with its caption (none when none was drawn)."""
    if not agg.figures:
        return []
    captions = _captions(agg, seeds, incidents)
    lines = ["## Figures", ""]
    for name, path in agg.figures.items():
        lines += [f"![{name}]({path.name})", "", _caption(agg, name, captions), ""]
    return lines


def _failures_section(agg: Aggregate) -> list[str]:
    """Return "Failures": one line per job that is not ok (none when every job is)."""
    problems = agg.jobs[agg.jobs["status"] != "ok"]
    if not len(problems):
        return []
    lines = ["## Failures", ""]
    for _, r in problems.iterrows():
        overrides = " ".join(f"{k}={r[k]}" for k in agg.override_keys if not pd.isna(r[k]))
        lines.append(f"- job `{r['job']}` ({overrides}): **{r['status']}**: {r['error']}")
    return lines + [""]


def _write_report(agg: Aggregate, records: dict) -> Path:
    """Write the sweep's ``report.md``, section by section, and return its path."""
    seeds = _n_seeds(agg)
    incident_table = _incident_table(agg, records)
    lines = [*_header(agg, records), *_results_section(agg, seeds), *_best_section(agg),
             *objective.search_section(agg.sweep_dir),
             *ranks.section(agg.sweep_dir, agg.jobs, records, figures=bool(agg.figures)),
             *_event_sections(agg, _drift_table(agg, records), incident_table),
             *_figure_section(agg, seeds, incident_table is not None),
             *_failures_section(agg)]
    path = agg.sweep_dir / "report.md"
    store.atomic_write(path, lambda p: p.write_text("\n".join(lines)))
    return path


def main(argv: list[str] | None = None) -> None:
    """``retrain-sim-report DIR``: re-aggregate a sweep directory (even a partial one)."""
    parser = argparse.ArgumentParser(
        prog="retrain-sim-report",
        description="Aggregate a retrain-sim sweep directory into summary.csv, configs.csv, "
                    "report.md and figures. Works on partial or interrupted sweeps.")
    parser.add_argument("sweep_dir", type=Path, help="e.g. results/multirun/2025-01-31/12-00-00")
    parser.add_argument("--no-figures", action="store_true", help="write the tables only")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        parser.exit(2, f"retrain-sim-report: '{args.sweep_dir}' is not a directory.\n")
    if not find_jobs(args.sweep_dir):
        parser.exit(2, f"retrain-sim-report: no job directories (with summary.json or "
                       f".hydra/) under '{args.sweep_dir}'.\n")
    agg = aggregate(args.sweep_dir, figures=not args.no_figures)
    print(agg.digest())
    if agg.counts["ok"] == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()

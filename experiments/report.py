"""Aggregate a sweep directory: summary.csv, configs.csv, report.md and figures.

:func:`aggregate` reads every job directory of a sweep (finished, failed or never
finished) and writes, into the sweep directory:

- ``summary.csv``: one row per job: its overrides as columns, every scalar summary
  metric, then ``status`` (``ok``, ``failed`` or ``missing`` for a job that never
  finished), ``error`` and ``config`` (the configuration it belongs to);
- ``configs.csv``: one row per configuration (the jobs that differ only by seed):
  for every metric the mean and the half-width of a t-based 95% confidence interval;
- ``report.md``: the tables, the best configuration per metric, drift-by-drift
  handling, the figures and the failures;
- ``accuracy_over_time.png``, ``accuracy_vs_cost.png`` and, for every numeric
  parameter that was swept, ``sensitivity_<parameter>.png``.

``retrain-sim-report DIR`` runs it on any sweep directory, including a partial one.
"""

from __future__ import annotations

import argparse
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

from experiments import store

NOT_RUN = ("not run: fail_fast=true stopped the sweep after a job failed (rerun with "
           "resume=true to run it)")
NEVER_FINISHED = "no summary.json: the job never finished (interrupted or still running)"

__all__ = ["Aggregate", "aggregate", "ci95", "find_jobs", "main", "markdown_table",
           "pareto_front"]

# metric, heading, better ("max" / "min"; None: a reference, never ranked), format
METRICS = (
    ("mean_accuracy", "accuracy", "max", "{:.3f}"),
    ("n_retrains", "retrains", "min", "{:.1f}"),
    ("total_cost", "cost", "min", "{:.1f}"),
    ("false_retrains", "false retrains", "min", "{:.1f}"),
    ("missed_drifts", "missed drifts", "min", "{:.1f}"),
    ("mean_detection_delay", "detection delay (steps)", "min", "{:.1f}"),
    ("mean_recovery_steps", "recovery (steps)", "min", "{:.1f}"),
    ("mean_accuracy_lost", "accuracy lost per drift", "min", "{:.3f}"),
    ("fit_seconds", "fit CPU (s)", "min", "{:.2f}"),
    ("regret", "regret vs hindsight optimum", "min", "{:.3f}"),
    ("optimal_accuracy_same_retrains", "hindsight optimum, same retrains", None, "{:.3f}"),
    ("persistence_accuracy", "persistence (previous label)", None, "{:.3f}"),
)


def ci95(values) -> tuple[float, float, int]:
    """Mean, half-width of the t-based 95% confidence interval, and count (NaNs dropped).

    The half-width is NaN with fewer than two values.

    Examples
    --------
    >>> mean, half, n = ci95([0.90, 0.92, 0.94])
    >>> round(mean, 3), round(half, 3), n
    (0.92, 0.05, 3)
    """
    v = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").dropna()
    v = v.astype(float)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(v.mean())
    if n == 1:
        return mean, math.nan, 1
    half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return mean, half, n


def pareto_front(cost: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Return the indices of the points no other beats (lower cost, higher accuracy).

    Sorted by cost. A point is dominated when another costs no more and is at least as
    accurate, being strictly better in one of the two.

    Examples
    --------
    >>> pareto_front(np.array([0, 1, 2, 3]), np.array([0.5, 0.9, 0.8, 0.95])).tolist()
    [0, 1, 3]
    """
    cost = np.asarray(cost, dtype=float)
    accuracy = np.asarray(accuracy, dtype=float)
    keep = []
    for i in range(len(cost)):
        if np.isnan(cost[i]) or np.isnan(accuracy[i]):
            continue
        dominated = np.any((cost <= cost[i]) & (accuracy >= accuracy[i])
                           & ((cost < cost[i]) | (accuracy > accuracy[i])))
        if not dominated:
            keep.append(i)
    return np.array(sorted(keep, key=lambda i: (cost[i], -accuracy[i])), dtype=int)


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
    oracle: set[str] = field(default_factory=set)
    figures: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None
    drawn: tuple[int, int] | None = None  # configurations drawn over time, of how many

    @property
    def counts(self) -> dict[str, int]:
        """Number of jobs per status."""
        status = self.jobs["status"] if len(self.jobs) else pd.Series(dtype=object)
        return {s: int((status == s).sum()) for s in ("ok", "failed", "missing")}

    def outcome(self) -> dict[str, Any]:
        """Return the counts of jobs and, when some failed or never finished, a message."""
        c = self.counts
        out = {"n_jobs": len(self.jobs), "n_ok": c["ok"], "n_failed": c["failed"],
               "n_missing": c["missing"], "sweep_dir": str(self.sweep_dir), "message": ""}
        if c["failed"] or c["missing"]:
            failed = self.jobs[self.jobs["status"] == "failed"]
            errors = failed["error"].dropna().astype(str).unique().tolist()
            text = (f"{c['failed'] + c['missing']} of {len(self.jobs)} jobs did not succeed "
                    f"({c['failed']} failed, {c['missing']} never finished).")
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
                 + (f", {c['missing']} never finished" if c["missing"] else "") + "."]
        if len(self.configs) and "mean_accuracy_mean" in self.configs:
            table = _display_table(self.configs, ("mean_accuracy", "n_retrains", "total_cost"))
            width = max(len(str(i)) for i in table.index)
            lines.append(f"{'configuration':<{width}}  " + "  ".join(
                f"{c:>18}" for c in table.columns))
            for idx, row in table.iterrows():
                lines.append(f"{idx:<{width}}  " + "  ".join(f"{v:>18}" for v in row))
        if self.report is not None:
            lines.append(f"Report: {self.report}")
        return "\n".join(lines)


def _label(row: pd.Series, keys: list[str], constant: dict[str, str]) -> str:
    if not keys:
        return " ".join(f"{k}={v}" for k, v in constant.items()) or "all jobs"
    present = [k for k in keys if isinstance(row[k], str)]
    if len(present) == 1 and "." not in present[0]:
        return row[present[0]]
    return ", ".join(f"{k}={row[k]}" for k in present) or "all jobs"


def _fmt(mean: float, half: float, fmt: str) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    text = fmt.format(mean)
    if half is not None and not math.isnan(half):
        text += " ± " + fmt.format(half)
    return text


def _display_table(configs: pd.DataFrame, metrics=None) -> pd.DataFrame:
    metrics = metrics or [m for m, *_ in METRICS]
    spec = {m: (h, f) for m, h, _, f in METRICS}
    out = pd.DataFrame(index=configs.index)
    if "n_ok" in configs:
        out["runs ok"] = [f"{int(a)}/{int(b)}" for a, b in zip(configs["n_ok"],
                                                              configs["n_jobs"], strict=False)]
    for m in metrics:
        if f"{m}_mean" not in configs or configs[f"{m}_mean"].isna().all():
            continue
        heading, fmt = spec.get(m, (m, "{:.3g}"))
        out[heading] = [_fmt(a, b, fmt) for a, b in zip(configs[f"{m}_mean"],
                                                         configs[f"{m}_ci95"], strict=False)]
    return out


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
    summary = record.get("summary") or {}
    for k, v in summary.items():
        if _is_scalar(v):
            row[k] = v
    row["status"] = record.get("status", "failed")
    error = record.get("error")
    row["error"] = error.get("message") if isinstance(error, dict) else error
    return row, record


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
    metric_keys = [c for c in jobs.columns
                   if c not in override_keys and c not in ("job", "status", "error")]
    jobs = jobs[["job", *override_keys, *metric_keys, "status", "error"]]
    # configurations are named from the overrides as typed (before numeric conversion)
    label_keys = [k for k in override_keys if k != "seed"
                  and jobs[k].astype(str).nunique(dropna=False) > 1]
    constant = {k: str(jobs[k].iloc[0]) for k in override_keys
                if k != "seed" and k not in label_keys and len(jobs)}
    jobs["config"] = [_label(r, label_keys, constant) for _, r in jobs.iterrows()]
    for key in override_keys + metric_keys:
        jobs[key] = _numeric(jobs[key])

    oracle = set()
    for _, r in jobs.iterrows():
        record = records[r["job"]][1]
        if record and "AtTrueDrifts" in str((record.get("config") or {}).get("trigger")):
            oracle.add(r["config"])

    configs = _per_config(jobs, label_keys, metric_keys)
    store.atomic_write(sweep_dir / "summary.csv", lambda p: jobs.to_csv(p, index=False))
    store.atomic_write(sweep_dir / "configs.csv", lambda p: configs.to_csv(p))
    agg = Aggregate(sweep_dir, jobs, configs, override_keys, label_keys, oracle)
    if figures and (jobs["status"] == "ok").any():
        agg.figures = _figures(agg, records)
    agg.report = _write_report(agg, records)
    return agg


def _per_config(jobs: pd.DataFrame, label_keys: list[str], metric_keys: list[str]):
    """One row per configuration: job counts, then mean, CI half-width and n per metric.

    Vectorised over configurations (a groupby), as :func:`ci95` computes them one by one.
    """
    numeric = [m for m in metric_keys if pd.api.types.is_numeric_dtype(jobs[m])
               or pd.api.types.is_bool_dtype(jobs[m])]
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
    for name, value in (("n_ok", "ok"), ("n_failed", "failed"), ("n_missing", "missing")):
        out[name] = (status == value).groupby(jobs["config"], sort=False).sum().astype(int)
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
        columns[f"{m}_n"] = n
    return pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)


MAX_PANELS = 12
"""Most configurations drawn in ``accuracy_over_time.png`` (the most accurate; the
oracle too): a sweep of thousands of jobs reads the timelines of these only."""

MAX_LINES = 10
"""Most lines in a sensitivity figure (the groups with the best accuracy)."""


def _drawn(agg: Aggregate, ok: pd.DataFrame) -> list[str]:
    """Return the configurations drawn over time: all, or the :data:`MAX_PANELS` best."""
    labels = list(ok.index)
    if len(labels) <= MAX_PANELS or "mean_accuracy_mean" not in ok:
        return labels
    oracle = [c for c in labels if c in agg.oracle][:1]
    real = ok[[c not in agg.oracle for c in labels]]
    best = real["mean_accuracy_mean"].sort_values(ascending=False, kind="stable")
    keep = set(best.index[:MAX_PANELS - len(oracle)]) | set(oracle)
    return [c for c in labels if c in keep]


def _series(agg: Aggregate, records: dict, labels: list[str] | None = None):
    from experiments.plots import Series

    out = []
    wanted = None if labels is None else set(labels)
    for label, group in agg.jobs.groupby("config", sort=False):
        if wanted is not None and label not in wanted:
            continue
        timelines, retrains, drifts, step_size = [], [], [], 1
        for job_name in group.loc[group["status"] == "ok", "job"]:
            job, record = records[job_name]
            try:
                timelines.append(pd.read_parquet(job / store.TIMELINE,
                                                 columns=["step", "accuracy"]))
                events = pd.read_csv(job / store.EVENTS)
            except (OSError, ValueError, KeyError):
                continue
            trained = events[events["model_id"] >= 0] if len(events) else events
            steps, accepted = trained.get("step", []), trained.get("accepted", [])
            retrains.append([(int(s), bool(a)) for s, a in zip(steps, accepted, strict=True)])
            drifts = (record.get("summary") or {}).get("drifts") or drifts
            step_size = record.get("step_size") or step_size
        if not timelines:
            continue
        c = agg.configs.loc[label]
        accuracy = _fmt(c.get("mean_accuracy_mean"), c.get("mean_accuracy_ci95"), "{:.3f}")
        note = (f"accuracy {accuracy}  ·  {c.get('n_retrains_mean', float('nan')):.1f} "
                "retrains per run")
        out.append(Series(label, timelines, retrains, drifts, int(step_size), note,
                          label in agg.oracle))
    return out


def _frontier(agg: Aggregate, records: dict) -> pd.DataFrame | None:
    """Return the hindsight-optimal frontier averaged over seeds, if one setting ran.

    Only when every finished job replays the same stream, model, protocol, gate and
    cost (a sweep over triggers and seeds); per seed, the best accuracy any job's
    frontier reached at each number of retrains (each job adds its own retrains as
    candidates), then the mean over seeds.
    """
    from experiments.advise import mean_frontier

    per_seed: dict = {}
    settings = set()
    for name in agg.jobs.loc[agg.jobs["status"] == "ok", "job"]:
        job, record = records[name]
        config = record.get("config") or {}
        settings.add(json.dumps({k: config.get(k) for k in
                                 ("stream", "model", "protocol", "gate", "cost")},
                                sort_keys=True, default=str))
        try:
            frame = pd.read_csv(job / store.FRONTIER)
        except (OSError, ValueError):
            continue
        per_seed.setdefault(config.get("seed"), []).append(frame)
    if len(settings) != 1 or not per_seed:
        return None
    # "at most K retrains": a frontier holds its last value beyond its own largest K
    ks = pd.Index(range(max(int(f["K"].max()) for fs in per_seed.values() for f in fs) + 1),
                  name="K")
    best = []
    for frames in per_seed.values():
        both = pd.concat([f.set_index("K")[["accuracy", "total_cost"]].reindex(ks).ffill()
                          .reset_index() for f in frames], ignore_index=True)
        best.append(both.loc[both.groupby("K")["accuracy"].idxmax()])
    return mean_frontier(best)


def _figures(agg: Aggregate, records: dict) -> dict[str, Path]:
    from experiments import plots

    out: dict[str, Path] = {}
    ok = agg.configs[agg.configs["n_ok"] > 0] if "n_ok" in agg.configs else agg.configs
    drawn = _drawn(agg, ok)
    agg.drawn = (len(drawn), len(ok))
    series = _series(agg, records, drawn)
    if series:
        out["accuracy_over_time"] = plots.accuracy_over_time(
            series, agg.sweep_dir / "accuracy_over_time.png")
    if len(ok) and "total_cost_mean" in ok and "mean_accuracy_mean" in ok:
        frontier = _frontier(agg, records)
        if frontier is not None:  # retrain-sim-advise draws it too
            store.write_frontier(agg.sweep_dir, frontier)
        out["accuracy_vs_cost"] = plots.accuracy_vs_cost(
            ok, agg.sweep_dir / "accuracy_vs_cost.png", oracle=agg.oracle, frontier=frontier)
    for param in agg.label_keys:
        col = ok[param] if param in ok else None
        if col is None or not pd.api.types.is_numeric_dtype(col) or col.nunique() < 2:
            continue
        others = [k for k in agg.label_keys if k != param]
        frame = ok.copy()
        by = None
        if others:
            frame["_by"] = [", ".join(f"{k}={r[k]}" for k in others) for _, r in
                            frame.iterrows()] if len(others) > 1 else frame[others[0]]
            by = "_by" if len(others) > 1 else others[0]
            if frame[by].nunique() > MAX_LINES and "mean_accuracy_mean" in frame:
                best = frame.groupby(by, sort=False)["mean_accuracy_mean"].max()
                keep = best.sort_values(ascending=False, kind="stable").index[:MAX_LINES]
                frame = frame[frame[by].isin(keep)]
        name = re.sub(r"[^\w.-]+", "_", param)
        out[f"sensitivity_{param}"] = plots.sensitivity(
            frame, param, agg.sweep_dir / f"sensitivity_{name}.png", by=by)
    if estimated := plots.estimated_accuracy(agg, records,
                                             agg.sweep_dir / "estimated_accuracy.png"):
        out["estimated_accuracy"] = estimated
    return out


def _best(agg: Aggregate) -> pd.DataFrame:
    rows = {}
    configs = agg.configs[agg.configs["n_ok"] > 0] if len(agg.configs) else agg.configs
    real = configs[[c not in agg.oracle for c in configs.index]]
    for metric, heading, better, fmt in METRICS:
        col = f"{metric}_mean"
        if better is None or col not in real or real[col].isna().all() or len(real) < 2:
            continue
        best = real[col].max() if better == "max" else real[col].min()
        winners = real.index[np.isclose(real[col], best, rtol=0, atol=1e-12)].tolist()
        half = real.loc[winners[0], f"{metric}_ci95"]
        rows[heading] = {
            "best": ", ".join(map(str, winners)),
            "value (mean ± 95% CI)": _fmt(best, half, fmt),
            "goal": "highest" if better == "max" else "lowest",
        }
        for o in agg.oracle:
            if o in configs.index and not pd.isna(configs.loc[o, col]):
                rows[heading]["oracle"] = _fmt(configs.loc[o, col],
                                               configs.loc[o, f"{metric}_ci95"], fmt)
    return pd.DataFrame.from_dict(rows, orient="index")


def _drift_table(agg: Aggregate, records: dict) -> pd.DataFrame | None:
    cells: dict[str, dict[str, list]] = {}
    columns: dict[int, str] = {}
    for _, r in agg.jobs[agg.jobs["status"] == "ok"].iterrows():
        record = records[r["job"]][1]
        drifts = (record.get("summary") or {}).get("drifts") or []
        for i, d in enumerate(drifts):
            columns.setdefault(i, f"drift {i + 1}: {d.get('kind')} ({d.get('shape')}) "
                                  f"at step {d.get('start_step')}")
            cell = cells.setdefault(r["config"], {}).setdefault(i, [])
            cell.append(d)
    if not cells:
        return None
    table = pd.DataFrame(index=list(cells), columns=[columns[i] for i in sorted(columns)])
    for label, per in cells.items():
        for i, ds in per.items():
            delays = [d["detection_delay"] for d in ds if d.get("detection_delay") is not None]
            lost = [d["accuracy_lost"] for d in ds if d.get("accuracy_lost") is not None]
            text = f"caught {len(delays)}/{len(ds)}"
            if delays:
                text += f", delay {np.mean(delays):.1f}"
            if lost:
                text += f", lost {np.mean(lost):.3f}"
            table.loc[label, columns[i]] = text
    return table


def _command(sweep_dir: Path) -> str | None:
    try:
        from omegaconf import OmegaConf

        cfg = OmegaConf.load(sweep_dir / "multirun.yaml")
        task = list(cfg.hydra.overrides.task)
        return "retrain-sim -m " + " ".join(task) if task else "retrain-sim"
    except Exception:
        return None


def _write_report(agg: Aggregate, records: dict) -> Path:
    c = agg.counts
    lines = [f"# Sweep report: `{agg.sweep_dir.name}`", ""]
    command = _command(agg.sweep_dir)
    lines.append(f"Directory: `{agg.sweep_dir}`  ")
    if command:
        lines.append(f"Command: `{command}`  ")
    lines.append(f"Jobs: {len(agg.jobs)} ({c['ok']} ok, {c['failed']} failed, {c['missing']} "
                 f"never finished). Aggregated {datetime.now():%Y-%m-%d %H:%M}.")
    first = next((rec for _, rec in records.values() if rec and rec.get("config")), None)
    if first:
        cfg = first["config"]
        stream = (cfg.get("stream") or {}).get("_target_", "?")
        drifts = first.get("drifts") or []
        kinds = ", ".join(f"{d['kind']} ({d['shape']}) at sample {d['start']:,}"
                          for d in drifts) or "none"
        lines += ["", f"Stream `{stream}` (of the first job): true drifts: {kinds}. Model "
                      f"`{(cfg.get('model') or {}).get('_target_', '?')}`."]
    lines += ["", "## Results per configuration", "",
              "Mean over the seeds that ran, ± the half-width of a t-based 95% confidence "
              "interval (none with a single seed). `configs.csv` holds every metric; "
              "`summary.csv` one row per job.", ""]
    if len(agg.configs):
        lines += [markdown_table(_display_table(agg.configs)), ""]
    best = _best(agg) if len(agg.configs) else pd.DataFrame()
    if len(best):
        lines += ["## Best configuration per metric", ""]
        if agg.oracle:
            lines += ["The oracle knows where the true drifts are; it is shown as a ceiling, "
                      "not ranked.", ""]
        lines += [markdown_table(best), ""]
    drift_table = _drift_table(agg, records)
    if drift_table is not None:
        lines += ["## Drift by drift", "",
                  "Per true drift: how many runs retrained within its segment, the mean "
                  "detection delay (steps from its start to the first retrain) and the "
                  "accuracy lost (the pre-drift accuracy minus the segment's mean).", "",
                  markdown_table(drift_table), ""]
    if agg.figures:
        lines += ["## Figures", ""]
        captions = {
            "accuracy_over_time": "Accuracy per step, one panel per configuration: mean over "
            "seeds with the min-max band; true drifts shaded; a tick per retrain (one row "
            "per seed).",
            "accuracy_vs_cost": "Mean accuracy against total cost, 95% confidence bars; the "
            "dashed line is the Pareto front"
            + ("; the solid line is the hindsight optimum with K retrains (the regret "
               "column is each run's distance below it at its own number of retrains)."
               if (agg.sweep_dir / store.FRONTIER).exists() else "."),
            "estimated_accuracy": "Accuracy estimated without labels (dashed) and realised "
            "(solid), per configuration whose trigger estimates it; mean over seeds.",
        }
        if agg.drawn and agg.drawn[0] < agg.drawn[1]:
            captions["accuracy_over_time"] += (
                f" The {agg.drawn[0]} most accurate of {agg.drawn[1]} configurations "
                "(the oracle included); every configuration is in the tables.")
        for name, path in agg.figures.items():
            caption = captions.get(name, f"Accuracy, retrains and cost against "
                                         f"{name.removeprefix('sensitivity_')}.")
            lines += [f"![{name}]({path.name})", "", caption, ""]
    problems = agg.jobs[agg.jobs["status"] != "ok"]
    if len(problems):
        lines += ["## Failures", ""]
        for _, r in problems.iterrows():
            overrides = " ".join(f"{k}={r[k]}" for k in agg.override_keys if not pd.isna(r[k]))
            lines.append(f"- job `{r['job']}` ({overrides}): **{r['status']}**: {r['error']}")
        lines.append("")
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

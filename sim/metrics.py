"""Per-run metrics: accuracy, cost, and how each true drift was handled.

:func:`summarize` turns a replay's timeline and events into the summary dict. Metrics
that need ground truth (false retrains, missed drifts, detection delay, recovery) are
None when the stream has no known drifts (real data), never a made-up number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.types import Drift

__all__ = ["estimate_error", "per_drift", "summarize"]


def summarize(timeline: pd.DataFrame, events: pd.DataFrame, drifts: tuple[Drift, ...], *,
              protocol, cost, first_step: int, task: str = "classification") -> dict:
    """Summarise one replay.

    Parameters
    ----------
    timeline, events
        As built by :func:`sim.replay`.
    drifts
        The stream's true drifts (empty for real data).
    protocol
        The run's :class:`~sim.engine.Protocol`.
    cost
        The run's :class:`~sim.cost.Cost`.
    first_step
        The first scored step (the steps before trained the initial model).
    task
        ``"classification"`` (metric: accuracy) or ``"regression"`` (metric: mean
        absolute error; the keys below named after accuracy are named after ``mae``,
        e.g. ``mean_mae`` and ``mean_mae_lost``, and ``rmse`` is added).

    Returns
    -------
    dict
        ``metric`` (``"accuracy"`` or ``"mae"``), ``mean_accuracy`` (prequential, over
        every scored sample), ``n_steps``,
        ``n_samples``, ``n_retrains`` (models trained), ``n_accepted``, ``n_rejected``,
        ``n_skipped`` (retrain decisions with nothing to train on), ``total_cost``,
        ``cost_retrain``, ``cost_samples``, ``cost_labels``, ``fit_seconds``,
        ``unneeded_retrains`` (benefit below ``min_benefit``), and with ground truth:
        ``n_drifts``, ``false_retrains`` (no true drift since the previous model was
        trained), ``missed_drifts``, ``detected_drifts``, ``precision``, ``recall``,
        ``false_alarms_per_10k`` (false retrains per 10,000 scored samples),
        ``mean_detection_delay``, ``mean_recovery_steps``, ``mean_accuracy_lost`` and
        ``drifts`` (one dict per drift, see :func:`per_drift`); for a trigger that
        estimates the metric without labels, the keys of :func:`estimate_error`.
    """
    metric = "mae" if task == "regression" else "accuracy"
    n = timeline["n_samples"].to_numpy()
    values = timeline[metric].to_numpy()
    trained = events[events["model_id"] >= 0] if len(events) else events
    cost_labels = float(cost.per_label) * float(timeline["n_labels"].sum())
    summary: dict = {
        "metric": metric,
        f"mean_{metric}": float(np.sum(values * n) / np.sum(n)) if len(n) else float("nan"),
    }
    if task == "regression":
        rmse = timeline["rmse"].to_numpy()
        summary["rmse"] = float(np.sqrt(np.sum(rmse**2 * n) / np.sum(n))) if len(n) else None
    summary |= {
        "n_steps": len(timeline),
        "n_samples": int(n.sum()),
        "n_retrains": len(trained),
        "n_accepted": int(trained["accepted"].sum()) if len(trained) else 0,
        "n_rejected": int((~trained["accepted"].astype(bool)).sum()) if len(trained) else 0,
        "n_skipped": len(events) - len(trained),
        "cost_retrain": float(events["cost_retrain"].sum()) if len(events) else 0.0,
        "cost_samples": float(events["cost_samples"].sum()) if len(events) else 0.0,
        "cost_labels": cost_labels,
        "fit_seconds": float(events["fit_seconds"].sum()) if len(events) else 0.0,
    }
    summary["total_cost"] = summary["cost_retrain"] + summary["cost_samples"] + cost_labels
    benefit = trained["benefit"].to_numpy(dtype=float) if len(trained) else np.empty(0)
    summary["unneeded_retrains"] = int(np.sum(benefit[~np.isnan(benefit)] < protocol.min_benefit))
    summary["mean_benefit"] = float(np.nanmean(benefit)) if np.any(~np.isnan(benefit)) else None
    summary |= estimate_error(timeline, metric)

    keys = ("n_drifts", "false_retrains", "missed_drifts", "detected_drifts", "precision",
            "recall", "false_alarms_per_10k", "mean_detection_delay", "mean_recovery_steps",
            f"mean_{metric}_lost")
    follow_up = trained["follow_up"].to_numpy(dtype=bool) if len(trained) else np.empty(0, bool)
    summary["n_follow_ups"] = int(follow_up.sum())
    steps = timeline["step"].to_numpy()
    starts = timeline["sample_index"].to_numpy()
    # the step whose samples hold a drift's start (steps may be time buckets of any size)
    step_of = {d: int(steps[np.searchsorted(starts, d.start, side="right") - 1])
               for d in drifts if len(starts) and d.start >= starts[0]}
    drifts = tuple(d for d in drifts if d in step_of)
    if not drifts:
        summary.update(dict.fromkeys(keys))
        summary["drifts"] = []
        return summary

    retrain_steps = trained["step"].to_numpy() if len(trained) else np.empty(0, dtype=int)
    drift_steps = np.array([step_of[d] for d in drifts])
    # a retrain is false when no true drift started since the previous model was trained;
    # a follow-up (a planned refit) is judged with the detection it follows
    previous = np.concatenate([[first_step - 1], retrain_steps])[: len(retrain_steps)]
    has_drift = np.array([np.any((drift_steps > p) & (drift_steps <= r))
                          for p, r in zip(previous, retrain_steps, strict=True)], dtype=bool)
    false_retrains = int(np.sum(~has_drift & ~follow_up))
    rows = per_drift(steps, values, retrain_steps, drifts, protocol, metric=metric,
                     sample_index=starts)
    detected = sum(r["detection_delay"] is not None for r in rows)
    summary.update(
        n_drifts=len(drifts),
        false_retrains=false_retrains,
        missed_drifts=len(drifts) - detected,
        detected_drifts=detected,
        precision=(float(1 - false_retrains / (~follow_up).sum())
                   if (~follow_up).sum() else None),
        recall=detected / len(drifts),
        false_alarms_per_10k=1e4 * false_retrains / max(int(n.sum()), 1),
        mean_detection_delay=_mean(r["detection_delay"] for r in rows),
        mean_recovery_steps=_mean(r["recovery_steps"] for r in rows),
        drifts=rows,
    )
    summary[f"mean_{metric}_lost"] = _mean(r[f"{metric}_lost"] for r in rows)
    return summary


def per_drift(steps, values, retrain_steps, drifts: tuple[Drift, ...], protocol,
              metric: str = "accuracy", sample_index=None) -> list[dict]:
    """How each true drift was handled.

    For each drift, its segment runs from its start step to the next drift's start (or
    the end of the run). ``values`` is the per-step metric: accuracy (higher is better)
    or, with ``metric="mae"``, the mean absolute error (lower is better; the keys below
    are then named after ``mae`` and "lost" means error gained). ``sample_index`` is the
    first sample of each step (default: ``steps * step_size``); a drift belongs to the
    step whose samples hold its start.

    Returns
    -------
    list of dict
        Per drift: ``start_step``, ``end_step``, ``kind``, ``shape``, ``recurring``,
        ``pre_accuracy`` (mean over the ``recovery_window`` steps before it),
        ``detection_delay`` (steps from its start to the first retrain in its segment;
        None if missed), ``recovery_steps`` (steps from its start until the accuracy
        averaged over the next ``recovery_window`` steps is within
        ``recovery_tolerance`` of ``pre_accuracy``; 0 if it never dropped, None if it
        did not recover within the segment) and ``accuracy_lost`` (``pre_accuracy``
        minus the mean accuracy over the segment).

    Examples
    --------
    >>> from sim.engine import Protocol
    >>> acc = np.array([0.9] * 10 + [0.6] * 3 + [0.9] * 10)
    >>> rows = per_drift(np.arange(23), acc, np.array([12]),
    ...                  (Drift(start=10, end=10, kind="concept", shape="sudden"),),
    ...                  Protocol(step_size=1, recovery_window=2))
    >>> rows[0]["detection_delay"], rows[0]["recovery_steps"]
    (2, 3)
    """
    sign = -1.0 if metric == "mae" else 1.0  # turn the metric into higher-is-better
    accuracy = sign * np.asarray(values, dtype=float)
    w = protocol.recovery_window
    steps = np.asarray(steps)
    if sample_index is None:
        sample_index = steps * protocol.step_size

    def step_of(sample: int) -> int:
        return int(steps[max(np.searchsorted(sample_index, sample, side="right") - 1, 0)])

    starts = [step_of(d.start) for d in drifts]
    stops = starts[1:] + [int(steps[-1]) + 1]
    rows = []
    for d, start, stop in zip(drifts, starts, stops, strict=True):
        before = accuracy[(steps >= start - w) & (steps < start)]
        seg = (steps >= start) & (steps < stop)
        seg_acc = accuracy[seg]
        pre = float(before.mean()) if len(before) else None
        hits = retrain_steps[(retrain_steps >= start) & (retrain_steps < stop)]
        recovery = None
        if pre is not None and len(seg_acc) >= w:
            forward = np.convolve(seg_acc, np.ones(w) / w, mode="valid")
            ok = np.flatnonzero(forward >= pre - protocol.recovery_tolerance)
            recovery = int(ok[0]) if len(ok) else None
        rows.append({
            "start_step": start,
            "end_step": step_of(d.end),
            "kind": d.kind,
            "shape": d.shape,
            "recurring": d.recurring,
            f"pre_{metric}": sign * pre if pre is not None else None,
            "detection_delay": int(hits[0] - start) if len(hits) else None,
            "recovery_steps": recovery,
            f"{metric}_lost": (pre - float(seg_acc.mean())) if pre is not None and len(seg_acc)
            else None,
        })
    return rows


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def estimate_error(timeline: pd.DataFrame, metric: str = "accuracy") -> dict:
    """Score a label-free estimate of the metric against the realised metric, per step.

    A trigger that estimates the deployed model's performance without labels (e.g.
    :class:`~strategies.EstimatedPerformance`) records it as a ``stat_*estimated_<metric>``
    column. Over the steps with an estimate, returns ``estimate_error_mean`` (mean of
    estimated minus realised: > 0 for accuracy is optimism) and ``estimate_mae`` (mean
    absolute error); an empty dict when the timeline holds no estimate.

    Examples
    --------
    >>> line = pd.DataFrame({"accuracy": [0.9, 0.7, 0.8],
    ...                      "stat_estimated_accuracy": [0.92, 0.88, np.nan]})
    >>> {k: round(v, 2) for k, v in estimate_error(line).items()}
    {'estimate_error_mean': 0.1, 'estimate_mae': 0.1}
    """
    columns = [c for c in timeline.columns
               if c.startswith("stat_") and c.endswith(f"estimated_{metric}")]
    if not columns:
        return {}
    error = (timeline[columns[0]] - timeline[metric]).dropna()
    if error.empty:
        return {"estimate_error_mean": None, "estimate_mae": None}
    return {"estimate_error_mean": float(error.mean()), "estimate_mae": float(error.abs().mean())}

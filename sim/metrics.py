"""Per-run metrics, and the one registry of what each metric means.

:data:`METRICS` is the registry: every scalar a run's summary holds, with its label and
unit, which direction is better, the task it belongs to, whether it needs the stream's
ground truth, and whether it means anything for a policy that never retrains. The
report, the advisor, the figures and the drift table read it; adding a metric means
computing it (here, or in :mod:`sim.oracle`) and adding one :class:`Metric`.

:func:`summarize` turns a replay's timeline and events into the summary dict.

How drifts are scored
---------------------
A retrain is a *detection* of a true drift when it is the first retrain that is not a
planned follow-up (``follow_up``: a refit a trigger scheduled after its own detection)
in the drift's detection window: from ``tolerance`` steps before the drift's start step
to ``label_delay + horizon`` steps after its end step (the first labels of the new
concept arrive ``label_delay`` steps late), and never past the next drift's window. The
tolerance is there because an onset is uncertain (a declared event on real data whose
data was already moving a step earlier); a retrain after the window is a miss, never a
late catch (a periodic retrain or a chance alarm 30 steps on detected nothing). Planned
refits are never detections, and never false alarms: they are judged with the detection
they follow. Every other retrain is a *false alarm*, reported beside its measured benefit
(the accuracy it bought over the model it replaced, over
:attr:`~sim.engine.Protocol.benefit_window` steps), since an alarm the ground truth does
not explain may still have paid off.

How incidents are scored
------------------------
An incident (:class:`~sim.types.Incident`, e.g. a stuck sensor or a label bug) is not a
drift: the concept never changed, and once it ends the data is whole again. Its *window*
runs from the step that holds its first sample to ``label_delay`` steps after the step
that holds its last (its labels are still arriving). :func:`incident_scores` counts the
retrains decided in the window (``incident_retrains``), the retrains whose training
window holds samples of the incident, decided in it or later (``incident_trained``: they
trained on broken data), how many of those were deployed (``incident_deployments``), and
measures the accuracy it cost against the *counterfactual*: the same run (the same
policy, seeds and protocol) replayed on the same stream without its incidents
(:meth:`~sim.streams.Incidents.counterfactual`; :class:`~sim.engine.Replay` runs it
whenever the stream declares incidents: one more replay, of the unbroken stream).
``accuracy_lost_during_incidents`` is the counterfactual's accuracy minus the run's over
the incident's window, ``accuracy_lost_after_incidents`` the same over the
``benefit_window`` steps after the window closes, cut at the next incident's first step
(the next incident's damage is its own). Everything the incident changed is in the
difference (models trained on broken data, retrains it caused or delayed, a broken
sensor's wrong predictions) and nothing else: a drift that follows the incident hits
both runs alike, and noise that the two runs share cancels. The drift
scores are left as they are: where false alarms are judged (declared drifts, complete
ground truth), a retrain during an incident that no drift explains stays a false alarm
(a drift detector that fires on a broken sensor fired falsely, and its precision says
so); ``incident_retrains`` says how many retrains an incident caused.

Metrics that need ground truth are None when the stream declares no drifts. A stream
whose ground truth is partial (:attr:`sim.streams.base.Stream.ground_truth_complete`
False: real data with a few known events, where other changes may be undeclared) gets detection
delays and misses of its declared drifts, but no false alarms or precision: a retrain
between declared events may answer an undeclared one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.cost import Cost
from sim.types import Drift, Evaluation, Incident

__all__ = ["EARLY_STEPS", "GROUND_TRUTH", "HORIZON_STEPS", "METRICS", "Metric", "alerts",
           "estimate_error", "exposure", "fill_alerts", "incident_scores", "metric",
           "per_drift", "primary", "retrain_rows", "rollback_steps", "rows_summary",
           "summarize"]

EARLY_STEPS = 2
"""Default tolerance: steps before a drift's start in which a retrain still detects it."""

HORIZON_STEPS = 5
"""Default horizon: steps after a drift's end (and the label delay) in which a retrain
still detects it."""

GROUND_TRUTH = ("complete", "partial")
"""What a stream's declared drifts cover: every change (``"complete"``, synthetic
streams) or some known events only (``"partial"``, real data)."""


@dataclass(frozen=True)
class Metric:
    """One scalar of a run's summary, and how to read it.

    Parameters
    ----------
    name
        The summary key.
    label
        A heading with its unit.
    better
        ``"max"`` or ``"min"``; None for a reference or a count that is not a goal
        (never ranked).
    task
        ``"classification"``, ``"regression"``, or None for both.
    ground_truth
        None: needs no ground truth; ``"partial"``: needs declared drifts;
        ``"complete"``: needs every change declared (false alarms).
    for_never
        Whether the value means anything for a policy that never retrains (its zero
        cost or retrains win trivially; its regret and recovery say nothing).
    fmt
        Format of a value.
    integer
        Whether the value is a count (integer axis ticks).
    table
        Shown in the report's main table.
    relative
        Measured against the run's own earlier level (the loss after a drift or an
        incident): good when that level was already broken, so the report ranks it only
        among configurations whose main metric is credible (``experiments.report``).
    bounds
        The values the metric can take, ``(low, high)`` (``-inf``/``inf`` when open):
        confidence intervals are clipped to it (:attr:`range`). None: ``[0, inf)`` for a
        count, unbounded otherwise.
    """

    name: str
    label: str
    better: str | None = None
    task: str | None = None
    ground_truth: str | None = None
    for_never: bool = True
    fmt: str = "{:.3g}"
    integer: bool = False
    table: bool = False
    relative: bool = False
    bounds: tuple[float, float] | None = None

    @property
    def range(self) -> tuple[float, float]:
        """The values the metric can take: :attr:`bounds`, or what its kind implies.

        Examples
        --------
        >>> metric("exposed_share").range, metric("n_retrains").range
        ((0.0, 1.0), (0.0, inf))
        """
        if self.bounds is not None:
            return self.bounds
        return (0.0, math.inf) if self.integer else (-math.inf, math.inf)

    def applies(self, task: str) -> bool:
        """Whether the metric exists for ``task``."""
        return self.task is None or self.task == task


_C, _R = "classification", "regression"
_SHARE = (0.0, 1.0)  # a fraction of samples, drifts or retrains
_GAIN = (-1.0, 1.0)  # a difference of two fractions
_POS = (0.0, math.inf)  # a cost, a duration, an error

METRICS: tuple[Metric, ...] = (
    Metric("mean_accuracy", "accuracy (fraction correct)", "max", _C, fmt="{:.3f}",
           table=True, bounds=_SHARE),
    Metric("mean_mae", "mean absolute error (target units)", "min", _R, fmt="{:.4g}",
           table=True, bounds=_POS),
    Metric("rmse", "RMSE (target units)", "min", _R, fmt="{:.4g}", table=True, bounds=_POS),
    Metric("n_retrains", "retrains (count)", "min", for_never=False, fmt="{:.1f}",
           integer=True, table=True),
    Metric("total_cost", "cost (nominal units)", "min", for_never=False, fmt="{:.1f}",
           table=True, bounds=_POS),
    Metric("n_follow_ups", "planned refits (count)", None, fmt="{:.1f}", integer=True,
           table=True),
    Metric("false_retrains", "false alarms (count)", "min", ground_truth="complete",
           for_never=False, fmt="{:.1f}", integer=True, table=True),
    Metric("false_alarm_benefit", "benefit of false alarms (metric gained, mean)", None,
           ground_truth="complete", for_never=False, fmt="{:+.3f}", table=True),
    Metric("missed_drifts", "missed drifts (count)", "min", ground_truth="partial",
           fmt="{:.1f}", integer=True, table=True),
    Metric("mean_detection_delay", "detection delay (steps)", "min", ground_truth="partial",
           for_never=False, fmt="{:.1f}", table=True),
    Metric("mean_recovery_steps", "recovery (steps)", "min", ground_truth="partial",
           for_never=False, fmt="{:.1f}", table=True, bounds=_POS, relative=True),
    Metric("mean_accuracy_lost", "accuracy lost per drift (fraction)", "min", _C,
           ground_truth="partial", fmt="{:.3f}", table=True, bounds=_GAIN, relative=True),
    Metric("mean_mae_lost", "error gained per drift (target units)", "min", _R,
           ground_truth="partial", fmt="{:.4g}", table=True, relative=True),
    Metric("incident_retrains", "retrains during incidents (count)", "min", for_never=False,
           fmt="{:.1f}", integer=True, table=True),
    Metric("accuracy_lost_during_incidents", "accuracy lost during incidents (fraction, vs "
           "the run without them)", "min", _C, fmt="{:.3f}", table=True, bounds=_GAIN),
    Metric("accuracy_lost_after_incidents", "accuracy lost after incidents (fraction, vs "
           "the run without them)", "min", _C, fmt="{:.3f}", table=True, bounds=_GAIN,
           relative=True),
    Metric("fit_seconds", "fit CPU (s)", "min", for_never=False, fmt="{:.2f}", table=True,
           bounds=_POS),
    Metric("regret", "regret vs hindsight optimum (metric)", "min", for_never=False,
           fmt="{:.3f}", table=True),
    Metric("optimal_accuracy_same_retrains", "hindsight optimum, same retrains (fraction "
           "correct)", None, _C, fmt="{:.3f}", table=True, bounds=_SHARE),
    Metric("optimal_mae_same_retrains", "hindsight optimum, same retrains (mean absolute "
           "error)", None, _R, fmt="{:.4g}", table=True, bounds=_POS),
    Metric("oracle_bounded", "hindsight optimum bounds the run (bool; False: \"not "
           "bounded\", see sim.oracle.not_bounded)"),
    Metric("oracle_own_windows", "run's retrain windows added to the shared optimum "
           "(count)", integer=True),
    Metric("persistence_accuracy", "persistence, previous label (fraction correct)", None,
           _C, fmt="{:.3f}", table=True, bounds=_SHARE),
    # the rest of the summary: context, not compared in the tables
    Metric("n_steps", "scored steps (count)", integer=True),
    Metric("n_samples", "scored samples (count)", integer=True),
    Metric("n_accepted", "retrains accepted by the gate (count)", integer=True),
    Metric("n_rejected", "retrains rejected by the gate (count)", integer=True),
    Metric("n_skipped", "retrains skipped, nothing to train on (count)", integer=True),
    Metric("n_served", "retrained models that served (count)", integer=True),
    Metric("cost_retrain", "cost of retrains (nominal units)", bounds=_POS),
    Metric("cost_samples", "cost of training samples (nominal units)", bounds=_POS),
    Metric("cost_labels", "cost of labels (nominal units)", bounds=_POS),
    Metric("cost_updates", "cost of online updates (nominal units)", bounds=_POS),
    Metric("n_updated", "samples of online updates (count)", integer=True),
    # live gates (strategies.Shadow, Canary, Rollback) and exposure (Protocol.exposure)
    Metric("cost_shadow", "cost of shadow predictions (nominal units)", bounds=_POS),
    Metric("n_rollbacks", "rollbacks to the previous model (count)", integer=True,
           table=True, fmt="{:.1f}"),
    Metric("exposed_samples", "exposed samples, served by a model worse than its rival "
           "(count)", "min", _C, integer=True),
    Metric("exposed_share", "exposure (share of scored samples served by a worse model)",
           "min", _C, fmt="{:.3f}", table=True, bounds=_SHARE),
    Metric("exposed_accuracy_lost", "accuracy lost by exposed users (fraction, mean)", "min",
           _C, fmt="{:.3f}", bounds=_GAIN),
    Metric("exposed_errors", "extra errors served by worse models (count)", "min", _C,
           fmt="{:.0f}", table=True, bounds=_POS),
    Metric("unneeded_retrains", "retrains with benefit below min_benefit (count)", "min",
           for_never=False, integer=True),
    Metric("mean_benefit", "benefit per retrain (metric gained, mean)", "max",
           for_never=False),
    Metric("n_drifts", "true drifts scored (count)", ground_truth="partial", integer=True),
    Metric("detected_drifts", "drifts detected (count)", "max", ground_truth="partial",
           integer=True),
    Metric("false_alarms_beneficial", "false alarms that paid off (count)",
           ground_truth="complete", for_never=False, integer=True),
    Metric("precision", "precision (detections / non-refit retrains)", "max",
           ground_truth="complete", for_never=False, bounds=_SHARE),
    Metric("recall", "recall (drifts detected / drifts)", "max", ground_truth="partial",
           bounds=_SHARE),
    Metric("false_alarms_per_10k", "false alarms per 10,000 samples", "min",
           ground_truth="complete", for_never=False, bounds=_POS),
    Metric("initial_fit_seconds", "initial fit CPU (s)", bounds=_POS),
    Metric("n_incidents", "incidents scored (count)", integer=True),
    Metric("incident_trained", "retrains trained on an incident's samples (count)", "min",
           for_never=False, integer=True),
    Metric("incident_deployments", "retrains trained on an incident's samples and deployed "
           "(count)", "min", for_never=False, integer=True),
    Metric("mae_gained_during_incidents", "error gained during incidents (target units, vs "
           "the run without them)", "min", _R),
    Metric("mae_gained_after_incidents", "error gained after incidents (target units, vs "
           "the run without them)", "min", _R, relative=True),
    # what a table stream read (rows_summary)
    Metric("rows_read", "rows read from the table (count)", integer=True),
    Metric("rows_replayed", "rows replayed (count)", integer=True),
    Metric("rows_skipped", "rows skipped, with a missing or infinite value (count)",
           integer=True),
    # a label-free estimate of the metric against the realised one (estimate_error)
    Metric("estimate_error_mean", "estimate error, estimated - realised (metric, mean; "
           "> 0: optimistic)", None, fmt="{:+.3f}", table=True),
    Metric("estimate_mae", "estimate error, absolute (metric, mean)", "min", fmt="{:.3f}",
           table=True, bounds=_POS),
    # a person in the loop (alerts): strategies.Approval, see alerts()
    Metric("alerts_raised", "alerts raised (count)", None, fmt="{:.1f}", integer=True,
           table=True),
    Metric("alerts_acted", "alerts acted upon (count)", None, fmt="{:.1f}", integer=True),
    Metric("alerts_not_acted", "alerts not acted upon (count)", None, fmt="{:.1f}",
           integer=True, table=True),
    Metric("alerts_per_10k", "alerts per 10,000 samples (alert fatigue)", "min",
           for_never=False, fmt="{:.2f}", table=True, bounds=_POS),
)

_BY_NAME = {m.name: m for m in METRICS}
#: summary keys that are not metrics (strings describing the run)
DESCRIPTORS = ("metric", "ground_truth", "rows_skipped_because", "seeds_averaged")


def metric(name: str) -> Metric:
    """Return the registered :class:`Metric` called ``name``.

    Examples
    --------
    >>> metric("mean_mae").better, metric("regret").for_never
    ('min', False)
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"Unknown metric {name!r}; registered: "
                       f"{', '.join(sorted(_BY_NAME))}.") from None


def primary(task: str) -> Metric:
    """Return the headline metric of a task: accuracy, or mean absolute error for regression.

    Examples
    --------
    >>> primary("regression").name
    'mean_mae'
    """
    return metric("mean_mae" if task == "regression" else "mean_accuracy")


def summarize(timeline: pd.DataFrame, events: pd.DataFrame, drifts: tuple[Drift, ...], *,
              evaluation: Evaluation, cost: Cost, first_step: int,
              task: str = "classification", label_delay: int = 0,
              ground_truth: str = "complete", tolerance: int = EARLY_STEPS,
              horizon: int = HORIZON_STEPS, incidents: tuple[Incident, ...] = (),
              counterfactual: pd.DataFrame | None = None) -> dict:
    """Summarise one replay.

    Parameters
    ----------
    timeline, events
        As built by :func:`sim.replay`.
    drifts
        The stream's declared true drifts (empty for real data).
    evaluation
        The run's :class:`~sim.types.Evaluation` (``Protocol.evaluation``).
    cost
        The run's :class:`~sim.cost.Cost`.
    first_step
        The first scored step (the steps before trained the initial model).
    task
        ``"classification"`` (metric: accuracy) or ``"regression"`` (metric: mean
        absolute error; the keys below named after accuracy are named after ``mae``,
        e.g. ``mean_mae`` and ``mean_mae_lost``, and ``rmse`` is added).
    ground_truth
        ``"complete"`` (the drifts are every change: false alarms are judged) or
        ``"partial"`` (known events only: false alarms and precision are None).
    tolerance
        Steps before a drift's start in which a retrain still counts as its detection.
    horizon
        Steps after a drift's end, beyond the label delay, in which a retrain still
        counts as its detection.
    incidents
        The stream's declared incidents (see :func:`incident_scores`).
    counterfactual
        The timeline of the same run on the stream without its incidents (None: the
        incidents' losses are None).

    Returns
    -------
    dict
        Every key is a registered :class:`Metric` (see :data:`METRICS`) but ``metric``
        (``"accuracy"`` or ``"mae"``), ``ground_truth``, ``drifts`` (one dict per
        drift, see :func:`per_drift`) and ``incidents`` (one dict per incident, see
        :func:`incident_scores`). For a trigger that estimates the metric without
        labels, the keys of :func:`estimate_error`; with a person in the loop,
        those of :func:`alerts`.

    Examples
    --------
    >>> from sim.cost import Cost
    >>> from sim.types import Evaluation
    >>> timeline = pd.DataFrame({"step": range(10, 40), "sample_index": range(10, 40),
    ...                          "n_samples": 1, "n_labels": 1,
    ...                          "accuracy": [0.9] * 18 + [0.5] * 2 + [0.9] * 10})
    >>> events = pd.DataFrame({"step": [27, 31], "follow_up": [False, True],
    ...                        "model_id": [1, 2], "accepted": True, "deploy_step": [28, 32],
    ...                        "benefit": [0.3, 0.01], "cost_retrain": 1.0,
    ...                        "cost_samples": 0.0, "fit_seconds": 0.0})
    >>> drift = Drift(start=28, end=28, kind="concept", shape="sudden")
    >>> s = summarize(timeline, events, (drift,), evaluation=Evaluation(),
    ...               cost=Cost(), first_step=10)
    >>> s["detected_drifts"], s["mean_detection_delay"], s["false_retrains"]
    (1, -1.0, 0)
    """
    if ground_truth not in GROUND_TRUTH:
        raise ValueError(f"The 'ground_truth' parameter of summarize must be one of "
                         f"{', '.join(GROUND_TRUTH)}. Got {ground_truth!r} instead.")
    name = "mae" if task == "regression" else "accuracy"
    summary = _headline(timeline, name)
    trained = retrain_rows(events)
    summary |= _retrains(timeline, events, trained, evaluation, cost, first_step)
    summary |= estimate_error(timeline, name)
    summary |= alerts(timeline, events)
    summary["ground_truth"] = ground_truth
    window = {"tolerance": tolerance, "horizon": horizon, "label_delay": label_delay}
    summary |= _drift_scores(timeline, trained, drifts, evaluation, name, ground_truth, window)
    summary |= incident_scores(timeline, trained, incidents, evaluation, name, label_delay,
                               counterfactual=counterfactual)
    return summary


def _headline(timeline: pd.DataFrame, name: str) -> dict:
    """Return the run's metric ``name``, its mean over the scored samples (and the RMSE for mae)."""
    n = timeline["n_samples"].to_numpy()
    out: dict = {"metric": name, f"mean_{name}": _weighted_mean(timeline[name], n)}
    if name == "mae":
        out["rmse"] = float(np.sqrt(_weighted_mean(timeline["rmse"] ** 2, n))) if len(n) else None
    return out


def retrain_rows(events: pd.DataFrame) -> pd.DataFrame:
    """Return the events that trained a model: no skipped retrain, no rollback.

    A run with a live gate has a ``kind`` column (``"retrain"`` or ``"rollback"``);
    everywhere retrains are counted (the summary, drift detections, the figures, the
    oracle), a rollback is not one.

    Examples
    --------
    >>> events = pd.DataFrame({"step": [3, 5, 6], "model_id": [1, -1, 0],
    ...                        "kind": ["retrain", "retrain", "rollback"]})
    >>> retrain_rows(events)["step"].tolist(), rollback_steps(events)
    ([3], [6])
    """
    if not len(events):
        return events
    keep = events["model_id"] >= 0
    if "kind" in events:
        keep &= events["kind"] != "rollback"
    return events[keep]


def rollback_steps(events: pd.DataFrame) -> list[int]:
    """Return the steps at which a live gate rolled back to the previous model (or none)."""
    if not len(events) or "kind" not in events:
        return []
    return [int(t) for t in events.loc[events["kind"] == "rollback", "step"]]


def exposure(tallies: dict, n_samples: int) -> dict:
    """Measure a run's exposure: users served by a retrained model worse than its rival.

    ``tallies`` maps each retrained model that served to ``[samples it served, its errors
    on them, its rival's errors on the same samples]``; its rival is the model it
    challenged (a canary's champion, or the model a deployment replaced). A model with
    more errors than its rival is *worse*: all its served samples are exposed, whether it
    served a canary's share or all traffic until replaced, so canaries and full
    deployments compare. Returns ``exposed_samples``, ``exposed_share`` (of the run's
    ``n_samples`` scored samples), ``exposed_errors`` (errors served beyond the rival's)
    and ``exposed_accuracy_lost`` (those errors per exposed sample; 0 without exposure).

    Examples
    --------
    >>> out = exposure({1: [1000, 300, 100], 2: [500, 40, 60]}, n_samples=10_000)
    >>> out["exposed_samples"], out["exposed_share"], out["exposed_accuracy_lost"]
    (1000, 0.1, 0.2)
    """
    worse = [(n, own - rival) for n, own, rival in tallies.values() if own > rival]
    exposed = sum(n for n, _ in worse)
    errors = sum(e for _, e in worse)
    return {
        "exposed_samples": int(exposed),
        "exposed_share": exposed / n_samples if n_samples else 0.0,
        "exposed_errors": int(errors),
        "exposed_accuracy_lost": errors / exposed if exposed else 0.0,
    }


def rows_summary(stream) -> dict:
    """Return the rows a table stream read, replayed and skipped (with why), for the summary.

    Empty for a stream that keeps no count (a synthetic generator); read from the
    stream's ``rows_`` (:attr:`sim.streams.Tabular.rows_`), set when it was replayed.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> table = SimpleNamespace(rows_={"rows_read": 10, "rows_replayed": 8, "rows_skipped": 2,
    ...                                "skipped_because": {"missing value in 'x'": 2}})
    >>> rows_summary(table)["rows_skipped_because"]
    "2 missing value in 'x'"
    >>> rows_summary(object())
    {}
    """
    rows = getattr(stream, "rows_", None)
    if not rows:
        return {}
    because = "; ".join(f"{n} {why}" for why, n in rows["skipped_because"].items())
    return {"rows_read": rows["rows_read"], "rows_replayed": rows["rows_replayed"],
            "rows_skipped": rows["rows_skipped"], "rows_skipped_because": because}


def _weighted_mean(values: pd.Series, n: np.ndarray) -> float:
    return float(np.sum(values.to_numpy() * n) / np.sum(n)) if len(n) else float("nan")


def _column(frame: pd.DataFrame, name: str, dtype) -> np.ndarray:
    return frame[name].to_numpy(dtype=dtype) if len(frame) else np.empty(0, dtype)


def _retrains(timeline, events, trained, evaluation: Evaluation, cost: Cost,
              first_step: int) -> dict:
    """Count, cost and measure the benefit of a run's retrains."""
    accepted = _column(trained, "accepted", bool)
    deploy = (trained["deploy_step"].to_numpy() if len(trained) and "deploy_step" in trained
              else np.full(len(trained), -1))
    last_step = int(timeline["step"].iloc[-1]) if len(timeline) else first_step
    totals = {k: float(events[k].sum()) if len(events) else 0.0
              for k in ("cost_retrain", "cost_samples", "fit_seconds")}
    cost_labels = float(cost.per_label) * float(timeline["n_labels"].sum())
    benefit = _column(trained, "benefit", float)
    online = {}  # online learning (sim.learning.Online): its updates and their cost
    if "n_updated" in timeline:
        n_updated = int(timeline["n_updated"].sum())
        online = {"n_updated": n_updated, "cost_updates": cost.updates(n_updated)}
    live = {}
    if "kind" in events:  # a live gate's run
        live = {"cost_shadow": float(events["cost_shadow"].sum()),
                "n_rollbacks": len(rollback_steps(events))}
    return online | live | {
        "n_steps": len(timeline),
        "n_samples": int(timeline["n_samples"].sum()),
        "n_retrains": len(trained),
        "n_accepted": int(accepted.sum()),
        "n_rejected": int((~accepted).sum()),
        "n_skipped": int((events["model_id"] < 0).sum()) if len(events) else 0,
        # accepted models whose first serving step is within the run
        "n_served": int(np.sum(accepted & (deploy >= 0) & (deploy <= last_step))),
        "cost_retrain": totals["cost_retrain"],
        "cost_samples": totals["cost_samples"],
        "cost_labels": cost_labels,
        "fit_seconds": totals["fit_seconds"],
        "total_cost": (totals["cost_retrain"] + totals["cost_samples"] + cost_labels
                       + online.get("cost_updates", 0.0) + live.get("cost_shadow", 0.0)),
        "unneeded_retrains": int(np.sum(benefit[~np.isnan(benefit)] < evaluation.min_benefit)),
        "mean_benefit": _nanmean(benefit),
        "n_follow_ups": int(_column(trained, "follow_up", bool).sum()),
    }


_FALSE_ALARM_KEYS = ("false_retrains", "false_alarm_benefit", "false_alarms_beneficial",
                     "precision", "false_alarms_per_10k")


def _drift_scores(timeline, trained, drifts, evaluation: Evaluation, name: str,
                  ground_truth: str, window: dict) -> dict:
    """Score detections, misses, delays, recovery and false alarms against the drifts."""
    starts = timeline["sample_index"].to_numpy()
    drifts = tuple(d for d in drifts if len(starts) and d.start >= starts[0])
    if not drifts:
        return dict.fromkeys(("n_drifts", "missed_drifts", "detected_drifts", "recall",
                              "mean_detection_delay", "mean_recovery_steps",
                              f"mean_{name}_lost", *_FALSE_ALARM_KEYS)) | {"drifts": []}
    follow_up = _column(trained, "follow_up", bool)
    retrain_steps = _column(trained, "step", int)
    rows = per_drift(timeline["step"].to_numpy(), timeline[name].to_numpy(), retrain_steps,
                     drifts, evaluation, metric=name, sample_index=starts,
                     follow_up=follow_up, **window)
    detections = {r["detected_at"] for r in rows if r["detected_at"] is not None}
    detected = len(detections)
    scores = {
        "n_drifts": len(drifts),
        "missed_drifts": len(drifts) - detected,
        "detected_drifts": detected,
        "recall": detected / len(drifts),
        "mean_detection_delay": _mean(r["detection_delay"] for r in rows),
        "mean_recovery_steps": _mean(r["recovery_steps"] for r in rows),
        "drifts": rows,
        f"mean_{name}_lost": _mean(r[f"{name}_lost"] for r in rows),
    }
    if ground_truth != "complete":
        return scores | dict.fromkeys(_FALSE_ALARM_KEYS)
    false = ~follow_up & ~np.isin(retrain_steps, list(detections))
    benefit = _column(trained, "benefit", float)[false]
    n_alarms = int((~follow_up).sum())
    return scores | {
        "false_retrains": int(false.sum()),
        "false_alarm_benefit": _nanmean(benefit),
        "false_alarms_beneficial": int(np.sum(benefit >= evaluation.min_benefit)),
        "precision": detected / n_alarms if n_alarms else None,
        "false_alarms_per_10k": 1e4 * int(false.sum()) / max(int(timeline["n_samples"].sum()), 1),
    }


def incident_scores(timeline: pd.DataFrame, trained: pd.DataFrame,
                    incidents: tuple[Incident, ...], evaluation: Evaluation,
                    metric: str = "accuracy", label_delay: int = 0, *,
                    counterfactual: pd.DataFrame | None = None) -> dict:
    """Count the retrains during each incident; measure the metric lost during and after it.

    See the module's *How incidents are scored*. ``trained`` holds the retrains that
    trained a model (events with ``model_id >= 0``, ``step``, ``accepted``,
    ``train_start`` and ``train_end``). ``counterfactual`` is the timeline of the same
    run (same policy, same seeds) on the stream without its incidents
    (:meth:`~sim.streams.Incidents.counterfactual`); the losses are the differences
    between the two timelines, and None without it. With ``metric="mae"`` a loss is the
    error gained (``mae_gained_during_incidents``, ``mae_gained_after_incidents``).

    Returns
    -------
    dict
        ``n_incidents``, ``incident_retrains``, ``incident_trained``,
        ``incident_deployments``, the losses during and after the incidents (means over
        the incidents that have those steps), and ``incidents``: per incident ``cause``,
        ``start_step``, ``end_step`` (the step holding its last sample), ``window_end``
        (its window's last step), ``after_end`` (the last step of its after window),
        ``retrains`` (decided in the window), ``trained`` (on its samples), ``deployed``
        (of those), ``lost_during`` (over its window) and ``lost_after`` (over the steps
        after it): the counterfactual's metric minus the run's, over the samples of
        those steps (for mae the run's minus the counterfactual's). Empty when no
        incident starts within the scored steps (a run without incidents has a summary
        without these keys).

    Examples
    --------
    >>> from sim.types import Evaluation, Incident
    >>> line = pd.DataFrame({"step": range(30), "sample_index": range(0, 3000, 100),
    ...                      "n_samples": 100,
    ...                      "accuracy": [0.9] * 10 + [0.7] * 5 + [0.6] * 10 + [0.9] * 5})
    >>> whole = line.assign(accuracy=[0.9] * 10 + [0.8] * 15 + [0.9] * 5)
    >>> events = pd.DataFrame({"step": [12, 17], "accepted": [True, False],
    ...                        "train_start": [700, 1200], "train_end": [1300, 1800]})
    >>> s = incident_scores(line, events, (Incident(1000, 1500, "labels"),),
    ...                     Evaluation(benefit_window=5), label_delay=1,
    ...                     counterfactual=whole)
    >>> s["incident_retrains"], s["incident_trained"], s["incidents"][0]["window_end"]
    (1, 2, 15)
    >>> round(s["accuracy_lost_during_incidents"], 3), round(s["accuracy_lost_after_incidents"], 3)
    (0.117, 0.2)
    """
    starts = timeline["sample_index"].to_numpy()
    incidents = tuple(i for i in incidents if len(starts) and i.start >= starts[0])
    if not incidents:
        return {}
    rows = _incident_rows(timeline, trained, incidents, label_delay, evaluation.benefit_window,
                          _counterfactual_gap(timeline, counterfactual, metric))
    prefix = "mae_gained" if metric == "mae" else "accuracy_lost"
    return {
        "n_incidents": len(rows),
        "incident_retrains": sum(r["retrains"] for r in rows),
        "incident_trained": sum(r["trained"] for r in rows),
        "incident_deployments": sum(r["deployed"] for r in rows),
        f"{prefix}_during_incidents": _mean(r["lost_during"] for r in rows),
        f"{prefix}_after_incidents": _mean(r["lost_after"] for r in rows),
        "incidents": rows,
    }


def _counterfactual_gap(timeline: pd.DataFrame, counterfactual: pd.DataFrame | None,
                        metric: str) -> np.ndarray | None:
    """Per step, the counterfactual's metric minus the run's, higher is better (None: none)."""
    if counterfactual is None:
        return None
    sign = -1.0 if metric == "mae" else 1.0
    steps = timeline["step"].to_numpy()
    other = counterfactual.set_index("step")[metric].reindex(steps).to_numpy(dtype=float)
    return sign * (other - timeline[metric].to_numpy(dtype=float))


def _incident_rows(timeline: pd.DataFrame, trained: pd.DataFrame,
                   incidents: tuple[Incident, ...], label_delay: int, benefit_window: int,
                   gap: np.ndarray | None) -> list[dict]:
    """Score each incident: its windows, the retrains in or on it, the metric it cost.

    One row per incident, as :func:`incident_scores` returns them; ``gap`` is
    :func:`_counterfactual_gap`'s (None: no loss is measured).
    """
    steps = timeline["step"].to_numpy()
    starts = timeline["sample_index"].to_numpy()
    n = timeline["n_samples"].to_numpy(dtype=float)
    retrain_steps = _column(trained, "step", int)
    accepted = _column(trained, "accepted", bool)
    train_start, train_end = _column(trained, "train_start", int), _column(trained,
                                                                         "train_end", int)
    firsts = [_step_of(steps, starts, inc.start) for inc in incidents]
    nexts = firsts[1:] + [int(steps[-1]) + 1]
    rows = []
    for inc, first, following in zip(incidents, firsts, nexts, strict=True):
        last = _step_of(steps, starts, inc.end - 1)
        close = last + label_delay
        after_end = min(close + benefit_window, following - 1)
        during = (retrain_steps >= first) & (retrain_steps <= close)
        broken = (train_start < inc.end) & (train_end > inc.start)
        rows.append({
            "cause": inc.cause, "start_step": first, "end_step": last, "window_end": close,
            "after_end": after_end, "kind": "incident", "retrains": int(during.sum()),
            "trained": int(broken.sum()), "deployed": int((broken & accepted).sum()),
            "lost_during": _gap(gap, n, (steps >= first) & (steps <= close)),
            "lost_after": _gap(gap, n, (steps > close) & (steps <= after_end)),
        })
    return rows


def _gap(gap: np.ndarray | None, n: np.ndarray, steps: np.ndarray) -> float | None:
    """Return the sample-weighted mean of ``gap`` over ``steps`` (None: no step or gap)."""
    if gap is None or not steps.any():
        return None
    return float(np.sum(gap[steps] * n[steps]) / np.sum(n[steps]))


def per_drift(steps, values, retrain_steps, drifts: tuple[Drift, ...], evaluation: Evaluation,
              metric: str = "accuracy", sample_index=None, follow_up=None,
              tolerance: int = EARLY_STEPS, horizon: int = HORIZON_STEPS,
              label_delay: int = 0) -> list[dict]:
    """How each true drift was handled.

    A drift's detection window runs from ``tolerance`` steps before its start step to
    ``label_delay + horizon`` steps after its end step, never into the next drift's
    window; its detection is the first retrain in it that is not a planned follow-up.
    Its segment, over which the accuracy lost and the recovery are measured, runs from
    its start step to the next drift's start. ``values`` is the per-step metric:
    accuracy (higher is better) or, with ``metric="mae"``, the mean absolute error
    (lower is better; the keys below are then named after ``mae`` and "lost" means
    error gained). ``sample_index`` is the first sample of each step (default:
    ``steps``); a drift belongs to the step whose samples hold its start.
    ``follow_up`` flags the planned refits among ``retrain_steps`` (default: none).

    Returns
    -------
    list of dict
        Per drift: ``start_step``, ``end_step``, ``kind``, ``shape``, ``recurring``,
        ``pre_accuracy`` (mean over the ``recovery_window`` steps before it),
        ``detected_at`` (step of its detection; None if missed), ``detection_delay``
        (``detected_at`` minus the start step: negative within the tolerance before
        it), ``recovery_steps`` (steps from its start until the accuracy averaged over
        the next ``recovery_window`` steps is within ``recovery_tolerance`` of
        ``pre_accuracy``; 0 if it never dropped, None if it did not recover within the
        segment) and ``accuracy_lost`` (``pre_accuracy`` minus the mean accuracy over
        the segment).

    Examples
    --------
    >>> from sim.types import Evaluation
    >>> acc = np.array([0.9] * 10 + [0.6] * 3 + [0.9] * 10)
    >>> rows = per_drift(np.arange(23), acc, np.array([12]),
    ...                  (Drift(start=10, end=10, kind="concept", shape="sudden"),),
    ...                  Evaluation(recovery_window=2))
    >>> rows[0]["detection_delay"], rows[0]["recovery_steps"]
    (2, 3)
    """
    sign = -1.0 if metric == "mae" else 1.0  # turn the metric into higher-is-better
    accuracy = sign * np.asarray(values, dtype=float)
    w = evaluation.recovery_window
    steps = np.asarray(steps)
    retrain_steps = np.asarray(retrain_steps)
    alarms = retrain_steps if follow_up is None else retrain_steps[~np.asarray(follow_up, bool)]
    sample_index = steps if sample_index is None else sample_index
    starts = [_step_of(steps, sample_index, d.start) for d in drifts]
    stops = starts[1:] + [int(steps[-1]) + 1]
    ends = [_step_of(steps, sample_index, d.end) for d in drifts]
    opens = [s - tolerance for s in starts]
    closes = [min(e + label_delay + horizon + 1, nxt)
              for e, nxt in zip(ends, opens[1:] + [int(steps[-1]) + 1], strict=True)]
    rows = []
    for d, start, end, stop, lo, hi in zip(drifts, starts, ends, stops, opens, closes,
                                           strict=True):
        before = accuracy[(steps >= start - w) & (steps < start)]
        seg = (steps >= start) & (steps < stop)
        seg_acc = accuracy[seg]
        pre = float(before.mean()) if len(before) else None
        hits = alarms[(alarms >= lo) & (alarms < hi)]
        recovery = _recovery(seg_acc, pre, evaluation)
        rows.append({
            "start_step": start,
            "end_step": end,
            "kind": d.kind,
            "shape": d.shape,
            "recurring": d.recurring,
            f"pre_{metric}": sign * pre if pre is not None else None,
            "detected_at": int(hits[0]) if len(hits) else None,
            "detection_delay": int(hits[0] - start) if len(hits) else None,
            "recovery_steps": recovery,
            f"{metric}_lost": (pre - float(seg_acc.mean())) if pre is not None and len(seg_acc)
            else None,
        })
    return rows


def _step_of(steps: np.ndarray, sample_index, sample: int) -> int:
    """Return the step whose samples hold ``sample`` (``sample_index``: each step's first)."""
    return int(steps[max(np.searchsorted(sample_index, sample, side="right") - 1, 0)])


def _recovery(seg_acc: np.ndarray, pre: float | None, evaluation: Evaluation) -> int | None:
    """Count the steps until the metric, averaged over ``recovery_window``, is near ``pre``."""
    w = evaluation.recovery_window
    if pre is None or len(seg_acc) < w:
        return None
    forward = np.convolve(seg_acc, np.ones(w) / w, mode="valid")
    ok = np.flatnonzero(forward >= pre - evaluation.recovery_tolerance)
    return int(ok[0]) if len(ok) else None


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


ALERT_STATS = ("alert_raised", "alert_acted", "alert_retrain")
"""The per-step statistics (0 or 1) in which :class:`~strategies.Approval` records an
alert raised, an alert acted upon, and the start of an approved alert's retrain."""


def alerts(timeline: pd.DataFrame, events: pd.DataFrame) -> dict:
    """Count the alerts of a run with a person in the loop, and those acted upon.

    Every retrain request that is not a planned refit is an alert. A trigger wrapped in
    :class:`~strategies.Approval` records, every step, whether an alert was raised
    (``stat_alert_raised``), acted upon (``stat_alert_acted``) and whether an approved
    alert's retrain started (``stat_alert_retrain``); a combinator that prefixes its
    children's statistics gives ``stat_<child>_alert_raised`` and so on, and every such
    column counts (one person per :class:`~strategies.Approval`). A request that passes
    through no :class:`~strategies.Approval` (e.g. another child of the same vote) is an
    alert acted upon at once.

    Returns ``alerts_raised``, ``alerts_acted``, ``alerts_not_acted`` and
    ``alerts_per_10k`` (alerts raised per 10,000 scored samples: alert fatigue); an empty
    dict when no person is in the loop. Such a run retrains at every request, so its
    alerts are its requests, all acted upon: ``n_retrains + n_skipped - n_follow_ups`` of
    its summary (:func:`fill_alerts` gives it these values beside runs with a person in
    the loop; the summary does not, so that it keeps the keys it always had).

    Examples
    --------
    >>> line = pd.DataFrame({"step": [10, 11, 12, 13], "n_samples": [500] * 4,
    ...                      "stat_alert_raised": [0., 1., 1., 0.],
    ...                      "stat_alert_acted": [0., 1., 0., 0.],
    ...                      "stat_alert_retrain": [0., 0., 0., 1.]})
    >>> events = pd.DataFrame({"step": [13], "follow_up": [False]})
    >>> alerts(line, events)
    {'alerts_raised': 2, 'alerts_acted': 1, 'alerts_not_acted': 1, 'alerts_per_10k': 10.0}
    """
    counts = {}
    for stat in ALERT_STATS:
        columns = [c for c in timeline.columns
                   if c == f"stat_{stat}" or (c.startswith("stat_") and c.endswith(f"_{stat}"))]
        if not columns:
            return {}
        counts[stat] = timeline[columns].fillna(0.0).to_numpy().sum(axis=1)
    approved = timeline["step"].to_numpy()[counts["alert_retrain"] > 0]
    if len(events) and "kind" in events:  # a live gate's rollback is no retrain request
        events = events[events["kind"] != "rollback"]
    requests = _column(events, "step", int)[~_column(events, "follow_up", bool)]
    direct = int((~np.isin(requests, approved)).sum())  # requests no person saw
    raised = int(counts["alert_raised"].sum()) + direct
    acted = int(counts["alert_acted"].sum()) + direct
    return {"alerts_raised": raised, "alerts_acted": acted, "alerts_not_acted": raised - acted,
            "alerts_per_10k": 1e4 * raised / max(int(timeline["n_samples"].sum()), 1)}


def fill_alerts(jobs: pd.DataFrame) -> pd.DataFrame:
    """Give the runs without a person in the loop their alert counts, beside runs with one.

    ``jobs`` holds one summary per row (a sweep's jobs, or :func:`sim.compare`'s
    table). A summary holds alert counts only when a person was in the loop
    (:func:`alerts`); where some rows have them, every other row gets its own: each
    retrain request that was not a planned refit is an alert acted upon at once
    (``n_retrains + n_skipped - n_follow_ups``; a planned refit skipped for want of
    labels counts there, as the summary does not tell it apart), none left unacted. A
    table without a person in the loop is returned unchanged (no alert columns).

    Examples
    --------
    >>> jobs = pd.DataFrame({"n_retrains": [4, 3], "n_skipped": [0, 0], "n_follow_ups": [1, 0],
    ...                      "n_samples": [10_000, 10_000], "alerts_raised": [None, 9],
    ...                      "alerts_acted": [None, 3], "alerts_not_acted": [None, 6],
    ...                      "alerts_per_10k": [None, 9.0]})
    >>> fill_alerts(jobs)[["alerts_raised", "alerts_not_acted", "alerts_per_10k"]].values.tolist()
    [[3.0, 0.0, 3.0], [9.0, 6.0, 9.0]]
    """
    if "alerts_raised" not in jobs or "n_retrains" not in jobs:
        return jobs
    jobs = jobs.copy()
    gap = jobs["alerts_raised"].isna() & jobs["n_retrains"].notna()
    requests = (jobs["n_retrains"] + jobs.get("n_skipped", 0) - jobs["n_follow_ups"])[gap]
    jobs.loc[gap, "alerts_raised"] = requests
    jobs.loc[gap, "alerts_acted"] = requests
    jobs.loc[gap, "alerts_not_acted"] = 0
    jobs.loc[gap, "alerts_per_10k"] = 1e4 * requests / jobs.loc[gap, "n_samples"].clip(lower=1)
    return jobs


def _nanmean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else None

"""The figures of a replay and of a comparison, below the app: matplotlib imported on use.

:meth:`sim.types.RunResult.plot` and :meth:`sim.compare.Comparison.plot` draw with the
display objects of this module (scikit-learn's pattern, as ``ConfusionMatrixDisplay``):
a display holds what a figure shows, built from a result (``from_run``,
``from_comparison``) or from the sweep's tables, and its ``plot`` draws it. The sweep
report (:mod:`experiments.report`, through :mod:`experiments.plots`) draws the same
figures with the same functions:

- :class:`TimelineDisplay` (:func:`over_time`): the metric per step, one panel per
  configuration (split over several figures rather than dropping any), true drifts
  shaded, incidents (breaks that are not drifts, :class:`~sim.streams.Incidents`)
  hatched, every retrain marked; individual seeds drawn when there are at most
  :data:`MAX_SEED_LINES`, else the mean and the min-max band; noisy series smoothed,
  with the window stated.
- :class:`CostDisplay` (:func:`metric_vs_cost`): one point per configuration with 95%
  confidence bars, coincident points merged into one marker with a combined label, the
  Pareto front and the hindsight-optimal frontier (the oracle: the only ceiling).

Colours: one per trigger family (:func:`family`), shades of it for the swept values.
Each drawing function returns the figure; with ``path`` it saves it, closes it and
returns the path. matplotlib is imported by the first drawing (:func:`pyplot`), so
``import sim`` does not load it; the backend is the caller's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.metrics import metric as registered
from sim.metrics import retrain_rows, rollback_steps

__all__ = ["MAX_PANELS", "MAX_SEED_LINES", "CostDisplay", "Series", "TimelineDisplay",
           "compact", "comparison", "draw_frontier", "family", "live_of", "metric_vs_cost",
           "over_time", "palette", "pareto_front", "pyplot", "readable", "run", "save",
           "seed_note", "smoothing_window", "without_stream"]

DRIFT_COLORS = {"concept": "#d62728", "covariate": "#1f77b4", "prior": "#2ca02c"}
INCIDENT_COLOR = "#8c564b"
"""An incident's hatch (brown, ``//``): a break of the data, not a drift."""
DPI = 110
MAX_PANELS = 8
"""Panels per over-time figure; more configurations go to further figures."""
MAX_SEED_LINES = 5
"""Up to this many seeds, each is drawn; beyond, the mean and the min-max band."""
ROW_HEIGHT = 0.07
"""Height of a seed's row of ticks at a panel's foot (fraction of the panel): what is drawn
on the row (retrains, trials, rollbacks, alerts) stays within it."""
MAX_NAMED = 30
"""Most markers named in :func:`metric_vs_cost`; beyond, only the front and the
references are named and the rest are drawn as one grey cloud."""
FRONTIER_LABEL = "hindsight optimum with K retrains (oracle frontier: the ceiling)"


@dataclass
class Series:
    """The runs of one configuration, for :func:`over_time`.

    Parameters
    ----------
    label
        The configuration's name.
    timelines
        One DataFrame per seed with columns ``step`` and the metric (``accuracy``, or
        ``mae`` for regression).
    retrains
        Per seed, the steps of the models trained and whether each was accepted.
    drifts
        The stream's true drifts as the run's summary gives them: dicts with
        ``start_step``, ``end_step`` and ``kind``; and its incidents (``kind``
        ``"incident"``, with ``window_end``), drawn hatched.
    step_size
        Samples per step.
    note
        Text shown in the panel (e.g. the mean accuracy).
    drift_aware
        Whether the configuration knows the true drifts (a reference, not a policy).
    baseline
        A reference level drawn across the panel (persistence accuracy), or None.
    trials
        Per seed, for a run with a live gate: its timeline's ``step``,
        ``challenger_id`` and ``challenger_share`` (empty otherwise); the steps of
        its shadow and canary trials are drawn as bars on the seed's row of ticks.
    rollbacks
        Per seed, the steps at which a live gate rolled back to the previous model.
    alerts
        Per seed, for a run with a person in the loop (:class:`strategies.Approval`):
        the steps at which an alert was raised and those at which one was acted upon,
        drawn on the seed's row of ticks.
    """

    label: str
    timelines: list[pd.DataFrame]
    retrains: list[list[tuple[int, bool]]] = field(default_factory=list)
    drifts: list[dict] = field(default_factory=list)
    step_size: int = 1
    note: str = ""
    drift_aware: bool = False
    baseline: float | None = None
    trials: list[pd.DataFrame] = field(default_factory=list)
    rollbacks: list[list[int]] = field(default_factory=list)
    alerts: list[tuple[list[int], list[int]]] = field(default_factory=list)


def pyplot():
    """Return ``matplotlib.pyplot``, imported on first use; ImportError saying how to get it.

    Examples
    --------
    >>> pyplot().__name__
    'matplotlib.pyplot'
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as ex:
        raise ImportError("Drawing a figure needs matplotlib, which is not installed: "
                          "pip install matplotlib (or pip install retrain-sim, which "
                          "requires it).") from ex
    return plt


def save(fig, path) -> Path:
    """Save ``fig`` to ``path`` (PNG) and close it, legends and labels inside the image."""
    plt = pyplot()
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)
    return Path(path)


#: per trigger family: its colour alone, or a sequential colour map for its swept values
_FAMILY_MAPS = ("Blues", "Oranges", "Greens", "Reds", "Purples", "Greys", "YlOrBr", "PuRd",
                "BuGn", "RdPu")


def palette(labels: list[str]) -> dict[str, tuple]:
    """One colour per trigger family; shades of it (light to dark) for its swept values.

    Examples
    --------
    >>> c = palette(["trigger=a, x=1", "trigger=a, x=2", "trigger=b, x=1"])
    >>> c["trigger=a, x=1"] != c["trigger=a, x=2"], len(set(c.values()))
    (True, 3)
    """
    plt = pyplot()
    from matplotlib.colors import to_rgb

    families = list(dict.fromkeys(family(label) for label in labels))
    tab = plt.get_cmap("tab10" if len(families) <= 10 else "tab20")
    out = {}
    for i, fam in enumerate(families):
        members = [label for label in labels if family(label) == fam]
        if len(members) == 1:
            out[members[0]] = tuple(to_rgb(tab(i % tab.N)))
            continue
        # a family's few settings in shades of its colour; many (a search's trials) over
        # a perceptually uniform map whose neighbours stay apart
        many = len(members) > len(_FAMILY_MAPS) // 2
        cmap = plt.get_cmap("viridis" if many else _FAMILY_MAPS[i % len(_FAMILY_MAPS)])
        levels = np.linspace(0.0, 0.92, len(members)) if many else \
            np.linspace(0.4, 0.95, len(members))
        for label, level in zip(members, levels, strict=True):
            out[label] = tuple(to_rgb(cmap(level)))
    return out


def compact(label: str) -> str:
    """Shorten a configuration label for a legend: ``trigger=`` dropped, dotted keys cut.

    Examples
    --------
    >>> compact("trigger=periodic, protocol.label_delay=5")
    'periodic, label_delay=5'
    >>> compact("trigger.drop=0.13945930846219456")
    'drop=0.1395'
    """
    parts = []
    for part in str(label).split(", "):
        key, eq, value = part.partition("=")
        parts.append(value if eq and key == "trigger" else
                     f"{key.rsplit('.', 1)[-1]}{eq}{readable(value)}" if eq else part)
    return ", ".join(parts)


def _merged_label(names: list[str]) -> str:
    """One label for configurations with the same results: their names, values joined.

    Examples
    --------
    >>> _merged_label(["trigger.drop=0.05", "trigger.drop=0.08"])
    'trigger.drop=0.05 = 0.08'
    >>> _merged_label(["performance", "drift_aware"])
    'performance = drift_aware'
    """
    prefix = names[0].rpartition("=")[0]
    if prefix and all(n.rpartition("=")[0] == prefix for n in names):
        return f"{prefix}=" + " = ".join(n.rpartition("=")[2] for n in names)
    return " = ".join(names)


def seed_note(n_seeds: int | None, averaged: str | None = None) -> str:
    """Say what a marker and its bar are: over seeds, one seed, or seeds averaged in a job.

    Examples
    --------
    >>> seed_note(3), seed_note(1)
    ('mean and 95% CI over seeds', 'a single seed: no confidence interval')
    >>> seed_note(1, "0, 1, 2")
    'each point the mean over seeds 0, 1, 2 in one job: no confidence interval'
    """
    if (n_seeds or 2) > 1:
        return "mean and 95% CI over seeds"
    if averaged:
        return f"each point the mean over seeds {averaged} in one job: no confidence interval"
    return "a single seed: no confidence interval"


def _metric_name(task: str) -> str:
    return "mae" if task == "regression" else "accuracy"


def _shade_drifts(ax, drifts: list[dict]) -> set[str]:
    kinds = set()
    for d in drifts:
        if d["kind"] == "incident":  # its steps, from its first to its last sample's
            ax.axvspan(d["start_step"], d["end_step"] + 1, facecolor="none", hatch="///",
                       edgecolor=INCIDENT_COLOR, alpha=0.45, lw=0, zorder=0)
            kinds.add("incident")
            continue
        x0 = d["start_step"]
        x1 = max(d["end_step"], x0 + 1)
        color = DRIFT_COLORS.get(d["kind"], "#7f7f7f")
        ax.axvspan(x0, x1, color=color, alpha=0.18, lw=0, zorder=0)
        ax.axvline(x0, color=color, lw=1.0, ls="--", alpha=0.8, zorder=1)
        kinds.add(d["kind"])
    return kinds


def _region_handles(kinds: set[str]) -> list:
    """Legend entries of the shaded drifts and the hatched incidents."""
    pyplot()
    from matplotlib.patches import Patch

    handles = [Patch(color=DRIFT_COLORS.get(k, "#7f7f7f"), alpha=0.35, label=f"true {k} drift")
               for k in sorted(kinds - {"incident"})]
    if "incident" in kinds:
        handles.append(Patch(facecolor="none", edgecolor=INCIDENT_COLOR, hatch="///",
                             alpha=0.6, label="incident (broken data, not a drift)"))
    return handles


def smoothing_window(values: np.ndarray) -> int:
    """Return the steps of a centred moving average making a noisy per-step series readable.

    1 (no smoothing) for a short series, or one whose step-to-step changes are small
    against its range (10th to 90th percentile); else about a hundredth of its length, at
    least 3 steps, odd.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> smoothing_window(np.full(120, 0.9)), smoothing_window(rng.uniform(0.4, 1, 900))
    (1, 9)
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    spread = np.percentile(v, 90) - np.percentile(v, 10) if len(v) else 0.0
    if len(v) < 150 or np.median(np.abs(np.diff(v))) < 0.15 * spread or spread == 0:
        return 1
    w = max(3, len(v) // 100)
    return w + 1 - w % 2


def over_time(series: list[Series], path=None, *, task: str = "classification",
              smooth: int | None = None, title: str | None = None,
              not_drawn: list[str] | None = None) -> list:
    """Draw the metric per step, one panel per configuration.

    Every series is drawn: beyond :data:`MAX_PANELS` panels the series go to further
    figures (``path`` gets ``_2``, ``_3``, ... before its suffix). ``smooth`` is the
    moving-average window in steps (None: :func:`smoothing_window` of the data).
    ``not_drawn``: the configurations the caller left out, named under the first figure.
    Returns the figures, or with ``path`` the paths written.
    """
    name = _metric_name(task)
    if smooth is None:
        pooled = [t[name].to_numpy() for s in series for t in s.timelines[:1]]
        smooth = max((smoothing_window(v) for v in pooled), default=1)
    chunks = [series[i:i + MAX_PANELS] for i in range(0, len(series), MAX_PANELS)] or [[]]
    colors = palette([s.label for s in series])
    out = []
    for k, chunk in enumerate(chunks):
        part = "" if len(chunks) == 1 else f" (figure {k + 1} of {len(chunks)})"
        fig = _over_time(chunk, colors, name, smooth, (title or "") + part, series)
        if k == 0 and not_drawn:
            shown = ", ".join(compact(c) for c in not_drawn[:12])
            more = f" and {len(not_drawn) - 12} more" if len(not_drawn) > 12 else ""
            fig.text(0.01, 0.0, f"Not drawn ({len(not_drawn)} of "
                     f"{len(not_drawn) + len(series)} configurations, the least accurate of "
                     f"their stream; all are in the report's tables): {shown}{more}.",
                     ha="left", va="top", fontsize=8, wrap=True)
        if path is None:
            out.append(fig)
        else:
            p = Path(path)
            target = p if k == 0 else p.with_name(f"{p.stem}_{k + 1}{p.suffix}")
            out.append(save(fig, target))
    return out


def _over_time(series, colors, name, smooth, title, everything):
    """Draw one figure of :func:`over_time`: a panel per series, the axes and the legend.

    ``everything`` is every series of the call, over all its figures: the figures share
    their metric's range, their rows of ticks and their seed count.
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    n = max(len(series), 1)
    step_size = series[0].step_size if series else 1
    fig, axes = plt.subplots(n, 1, figsize=(10, 1.7 * n + 1.6), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    axes = axes[:, 0]
    kinds: set[str] = set()
    live: set[str] = set()
    for ax, s in zip(axes, series, strict=False):
        kinds |= _shade_drifts(ax, s.drifts)
        _draw_metric(ax, s, colors[s.label], name, smooth)
        live |= _draw_ticks(ax, s)
        ax.set_title(compact(s.label) + ("  (knows the drifts: a reference)"
                                         if s.drift_aware else ""),
                     loc="left", fontsize=9.5, fontweight="bold", pad=3)
        ax.set_title(s.note, loc="right", fontsize=8.5, pad=3)
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(labelsize=8)
    _metric_axis(axes[0], everything, name)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.supxlabel(f"step (1 step = {step_size:,} samples)", fontsize=10)
    what = registered(f"mean_{name}").label.replace("(", "per step (", 1)
    if smooth > 1:
        what += f", moving average over {smooth} steps"
    fig.supylabel(what, fontsize=10)
    seeds = max((len(s.timelines) for s in everything), default=0)
    handles = _timeline_handles(series, seeds, live) + _region_handles(kinds)
    heading = f"{registered(f'mean_{name}').label.split(' (')[0].capitalize()} over time" \
              + (title or "")
    fig.legend(handles=handles, loc="outside upper center", ncol=min(len(handles), 3),
               fontsize=8.5, frameon=False, title=heading, title_fontproperties={"size": 12})
    return fig


def _draw_metric(ax, s: Series, color, name: str, smooth: int) -> None:
    """Draw a series' metric: each seed's line, or the mean and min-max band; its baseline."""
    wide = pd.concat([t.set_index("step")[name] for t in s.timelines], axis=1).sort_index()
    if smooth > 1:
        wide = wide.rolling(smooth, center=True, min_periods=1).mean()
    x = wide.index.to_numpy()
    if len(s.timelines) <= MAX_SEED_LINES:
        for col in wide.columns.unique():
            ax.plot(x, wide.loc[:, col].to_numpy(), color=color, lw=1.1, alpha=0.85, zorder=3)
    else:
        ax.fill_between(x, wide.min(axis=1), wide.max(axis=1), color=color, alpha=0.25,
                        lw=0, zorder=2)
        ax.plot(x, wide.mean(axis=1), color=color, lw=1.4, zorder=3)
    if s.baseline is not None and not math.isnan(s.baseline):
        ax.axhline(s.baseline, color="0.3", lw=1.0, ls=":", zorder=2)


def _draw_ticks(ax, s: Series) -> set[str]:
    """Draw the rows of ticks at a panel's foot; return what live gates and alerts drew.

    A row per seed (all seeds in one beyond :data:`MAX_SEED_LINES`) of its retrains and,
    per seed, its trials, rollbacks and alerts.
    """
    from matplotlib.transforms import blended_transform_factory

    trans = blended_transform_factory(ax.transData, ax.transAxes)
    rows = s.retrains if len(s.retrains) <= MAX_SEED_LINES else [
        [r for seed in s.retrains for r in seed]]
    live: set[str] = set()
    for i, seed in enumerate(rows):
        y = 0.04 + ROW_HEIGHT * i
        if len(rows) == len(s.retrains):
            live |= _draw_trials(ax, s, i, y, trans)
            if i < len(s.alerts):
                live |= _draw_alerts(ax, s.alerts[i], y, trans)
        ok = [t for t, a in seed if a]
        rejected = [t for t, a in seed if not a]
        ax.plot(ok, [y] * len(ok), ls="none", marker="|", ms=7, mew=1.4, color="black",
                transform=trans, zorder=4)
        ax.plot(rejected, [y] * len(rejected), ls="none", marker="x", ms=4, mew=1.0,
                color="#7f7f7f", transform=trans, zorder=4)
    return live


def _metric_axis(ax, everything: list[Series], name: str) -> None:
    """Set the shared metric axis: every series' range, with room below for the ticks."""
    values = [t[name].to_numpy(dtype=float) for s in everything for t in s.timelines]
    lo = min((np.nanmin(v) for v in values if len(v)), default=0.0)
    hi = max((np.nanmax(v) for v in values if len(v)), default=1.0)
    span = max(hi - lo, 0.05)
    n_rows = max((min(len(s.retrains), MAX_SEED_LINES) for s in everything), default=1) or 1
    rug = ROW_HEIGHT * n_rows + 0.04  # fraction of the axes kept for the retrain ticks
    room = span * rug / (1 - rug - 0.05)
    if name == "mae":  # lower is better
        bottom = max(0.0, lo - room)
        ax.set_ylim(bottom - room if bottom == 0 else bottom, hi + span * 0.05)
    else:
        ax.set_ylim(lo - room, min(1.0, hi) + span * 0.05)
        ticks = [t for t in np.linspace(0, 1, 11) if max(lo, 0) - 0.05 <= t <= min(1, hi) + 0.05]
        ax.set_yticks(ticks[::2] if len(ticks) > 6 else ticks)


def _timeline_handles(series: list[Series], seeds: int, live: set[str]) -> list:
    """Legend entries of what the panels draw: seeds, retrains, live gates, alerts, baseline."""
    pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if seeds <= MAX_SEED_LINES:
        handles = [Line2D([], [], color="0.2", lw=1.1,
                          label="one line per seed" if seeds > 1 else "the run (1 seed)")]
    else:
        handles = [Line2D([], [], color="0.2", lw=1.4, label=f"mean over {seeds} seeds"),
                   Patch(color="0.2", alpha=0.25, label="min-max over seeds")]
    handles.append(Line2D([], [], ls="none", marker="|", ms=7, mew=1.4, color="black",
                          label="retrain deployed" + (" (one row per seed)" if seeds > 1
                                                      else "")))
    if any(not a for s in series for seed in s.retrains for _, a in seed):
        handles.append(Line2D([], [], ls="none", marker="x", ms=4, color="#7f7f7f",
                              label="retrain rejected by the gate"))
    for what in ("shadow", "canary"):
        if what in live:
            handles.append(Patch(color=TRIAL_COLORS[what], alpha=0.8, label=TRIAL_LABELS[what]))
    if "rollback" in live:
        handles.append(Line2D([], [], ls="none", marker="v", ms=6, color=TRIAL_COLORS["rollback"],
                              label="rollback to the previous model"))
    if "alert" in live:
        handles += [Line2D([], [], ls="none", marker="o", ms=5, mfc="none", mew=1.1,
                           color=ALERT_COLOR, label="alert raised to the person in the loop"),
                    Line2D([], [], ls="none", marker="o", ms=5, color=ALERT_COLOR,
                           label="alert acted upon (approved)")]
    if any(s.baseline is not None for s in series):
        handles.append(Line2D([], [], color="0.3", lw=1.0, ls=":",
                              label="persistence (predict the previous label), mean"))
    return handles


ALERT_COLOR = "#e6550d"
"""The colour of the alerts to a person in the loop on the rows of ticks."""


def _draw_alerts(ax, alerts: tuple[list[int], list[int]], y: float, trans) -> set[str]:
    """Draw one seed's alerts above its row of ticks: hollow raised, filled acted upon."""
    raised, acted = alerts
    ax.plot(raised, [y + 0.035] * len(raised), ls="none", marker="o", ms=4, mfc="none",
            mew=1.0, color=ALERT_COLOR, transform=trans, zorder=5)
    ax.plot(acted, [y + 0.035] * len(acted), ls="none", marker="o", ms=4, color=ALERT_COLOR,
            transform=trans, zorder=5)
    return {"alert"} if raised or acted else set()


#: the timeline columns of a run with a live gate that the figures draw
LIVE_COLUMNS = ("step", "challenger_id", "challenger_share")
TRIAL_COLORS = {"shadow": "#9ecae1", "canary": "#fdae6b", "rollback": "#d62728"}
TRIAL_LABELS = {"shadow": "shadow trial (challenger predicts, serves no one)",
                "canary": "canary (challenger serves part of the traffic)\nbar height: "
                          "its share, square-root scale; the row's height = 100%"}


def _canary_half_height(share):
    """Half the height of a canary's bar for its traffic share, in fractions of the panel.

    A square-root scale, so that the staged canary's 1%, 10% and 50% stand apart, inside
    its seed's row (:data:`ROW_HEIGHT`): from a thin bar near 0% to 86% of the row at
    100%, a gap left to the neighbouring rows.

    Examples
    --------
    >>> [float(round(_canary_half_height(s) / ROW_HEIGHT, 2)) for s in (0, 0.01, 0.5, 1)]
    [0.06, 0.1, 0.32, 0.43]
    """
    return ROW_HEIGHT * (0.06 + 0.37 * np.sqrt(share))


def _draw_trials(ax, s: Series, i: int, y: float, trans) -> set[str]:
    """Draw seed ``i``'s shadow and canary trials as bars and its rollbacks as markers."""
    drawn = set()
    if i < len(s.trials) and len(s.trials[i]):
        line = s.trials[i].sort_values("step")
        x = line["step"].to_numpy()
        on = line["challenger_id"].to_numpy() >= 0
        share = line["challenger_share"].to_numpy(dtype=float)
        for what, where, height in (("shadow", on & (share == 0), np.full(len(x), 0.025)),
                                    ("canary", on & (share > 0), _canary_half_height(share))):
            if where.any():
                ax.fill_between(x, y - height, y + height, where=where, step="mid",
                                color=TRIAL_COLORS[what], alpha=0.8, lw=0, transform=trans,
                                zorder=3.5)
                drawn.add(what)
    if i < len(s.rollbacks) and s.rollbacks[i]:
        ax.plot(s.rollbacks[i], [y + 0.02] * len(s.rollbacks[i]), ls="none", marker="v", ms=6,
                color=TRIAL_COLORS["rollback"], transform=trans, zorder=5)
        drawn.add("rollback")
    return drawn


def _merge(x: np.ndarray, y: np.ndarray, labels: list[str]) -> list[list[int]]:
    """Group the points that would sit on each other (within 0.6% of each axis' span)."""
    xs = np.nanmax(x) - np.nanmin(x) if len(x) else 0.0
    ys = np.nanmax(y) - np.nanmin(y) if len(y) else 0.0
    tol_x, tol_y = 0.006 * (xs or 1.0), 0.006 * (ys or 1.0)
    groups: list[list[int]] = []
    for i in range(len(labels)):
        for g in groups:
            j = g[0]
            if abs(x[i] - x[j]) <= tol_x and abs(y[i] - y[j]) <= tol_y:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def metric_vs_cost(configs: pd.DataFrame, path=None, *, task: str = "classification",
                   drift_aware=frozenset(), frontier: pd.DataFrame | None = None,
                   baseline: float | None = None, n_seeds: int | None = None,
                   averaged: str | None = None,
                   cost_label: str = "total cost per run (nominal units: retrains, labels, "
                                     "online updates)", stream: str | None = None):
    """Draw the metric against total cost, one marker per configuration, and the front.

    ``configs`` is indexed by configuration with columns ``mean_<metric>_mean``,
    ``mean_<metric>_ci95``, ``total_cost_mean`` and ``total_cost_ci95``. Configurations
    with the same results share one marker, labelled with all their names. ``frontier``
    (columns ``K``, the metric, ``total_cost``) is the hindsight optimum (the oracle),
    drawn up to the costliest configuration. ``baseline``: persistence accuracy.
    ``stream``: the one stream these configurations ran on, when a sweep varies it (the
    title names it and the labels leave it out).
    """
    name = _metric_name(task)
    if stream is not None:
        configs = configs.rename(index=lambda label: without_stream(str(label), stream))
        drift_aware = {without_stream(str(label), stream) for label in drift_aware}
    labels = list(configs.index)
    colors = palette(labels)
    x, y, xerr, yerr = _points(configs, name)
    groups = _merge(x, y, labels)
    many = len(groups) > 14
    plt = pyplot()
    exposure = "exposed_share_mean" in configs and configs["exposed_share_mean"].notna().any()
    if exposure:  # live gates: what the cost cannot show, who was served a worse model
        fig, (ax, ax_exposed) = plt.subplots(2, 1, figsize=(10.5 if many else 9.5, 9.6),
                                             height_ratios=(1.3, 1))
    else:
        fig, ax = plt.subplots(figsize=(10.5 if many else 9.5, 5.6))
    real = np.array([label not in drift_aware for label in labels])
    front = pareto_front(np.where(real, x, np.nan), np.where(real, y, np.nan),
                         registered(f"mean_{name}").better)
    if len(front) > 1:
        ax.step(x[front], y[front], where="post", color="0.35", ls="--", lw=1.2, zorder=1,
                label="Pareto front (nothing cheaper is better)")
    _draw_markers(ax, groups, (x, y, xerr, yerr), labels, colors, drift_aware,
                  set(front.tolist()))
    if frontier is not None and len(frontier):
        reach = np.nanmax(x + xerr[1]) if len(x) else 0.0
        shown = frontier[frontier["total_cost"] <= max(reach, 0) * 1.05]
        draw_frontier(ax, shown if len(shown) > 1 else frontier.head(2), value=name)
    if baseline is not None and not math.isnan(baseline):
        ax.axhline(baseline, color="0.3", ls=":", lw=1.1,
                   label=f"persistence (previous label): {baseline:.3f}")
    _cost_margin(ax, np.nanmin(x - xerr[0]))
    _dress_cost_axes(ax, name, cost_label, "" if stream is None else f" on the stream {stream}",
                     seed_note(n_seeds, averaged), many)
    if exposure:
        _exposure_panel(ax_exposed, configs, labels, colors, drift_aware, y, yerr,
                        ax.get_ylabel(), ax.get_ylim())
    fig.tight_layout()
    return save(fig, path) if path is not None else fig


def _points(configs: pd.DataFrame, name: str) -> tuple[np.ndarray, ...]:
    """Return the markers' cost and metric and their error bars, clipped to possible values.

    The bars (rows: below, above) stop at cost 0 and, for accuracy, at 0 and 1.
    """
    x = configs["total_cost_mean"].to_numpy(dtype=float)
    y = configs[f"mean_{name}_mean"].to_numpy(dtype=float)
    xci = np.nan_to_num(configs["total_cost_ci95"].to_numpy(dtype=float))
    yci = np.nan_to_num(configs[f"mean_{name}_ci95"].to_numpy(dtype=float))
    top = 1.0 if name == "accuracy" else np.inf
    xerr = np.array([np.minimum(xci, np.maximum(x, 0)), xci])
    yerr = np.array([np.minimum(yci, np.maximum(y, 0)), np.minimum(yci, np.maximum(top - y, 0))])
    return x, y, xerr, yerr


def _draw_markers(ax, groups, points, labels, colors, drift_aware, on_front: set[int]) -> None:
    """Draw a marker with its 95% bars per group of configurations with the same results.

    A group of several is ringed and named by all its members. Beyond :data:`MAX_NAMED`
    groups, only those on the front and the references are named; the others are drawn
    as one grey cloud.
    """
    x, y, xerr, yerr = points
    if len(groups) > MAX_NAMED:
        named = [any(j in on_front or labels[j] in drift_aware for j in g) for g in groups]
        rest = [g[0] for g, keep in zip(groups, named, strict=True) if not keep]
        ax.errorbar(x[rest], y[rest], xerr=xerr[:, rest], yerr=yerr[:, rest], fmt="o", ms=4,
                    color="0.6", capsize=0, lw=0.6, alpha=0.7, zorder=2,
                    label=f"{len(rest)} other configurations (named in the report's tables)")
        groups = [g for g, keep in zip(groups, named, strict=True) if keep]
    for g in groups:
        i = g[0]
        names = [compact(labels[j]) + (" (knows the drifts)" if labels[j] in drift_aware else "")
                 for j in g]
        text = _merged_label(names)
        if any(j in on_front for j in g):
            text += " - on the front"
        ax.errorbar(x[i], y[i], xerr=xerr[:, i:i + 1], yerr=yerr[:, i:i + 1],
                    fmt="D" if labels[i] in drift_aware else "o", ms=8 if len(g) > 1 else 6.5,
                    color=colors[labels[i]], capsize=3, lw=1.1,
                    mec="black" if len(g) > 1 or i in on_front else colors[labels[i]],
                    mew=1.6 if len(g) > 1 else 1.0, zorder=3, label=text)


def _dress_cost_axes(ax, name: str, cost_label: str, on: str, seeds: str, many: bool) -> None:
    """Label the cost panel, bound its metric axis, and title and legend it.

    ``on`` names the stream in the title (or is empty); ``seeds`` says what a marker is.
    """
    ax.set_xlabel(cost_label)
    ax.set_ylabel(registered(f"mean_{name}").label.replace("(", "(prequential, ", 1))
    if name == "accuracy":
        lo_y, hi_y = ax.get_ylim()
        ax.set_ylim(max(lo_y, 0.0), min(hi_y, 1.0))
    else:
        ax.set_ylim(bottom=max(ax.get_ylim()[0], 0.0))
    ax.set_title(f"{name.upper() if name == 'mae' else 'Accuracy'} against retraining cost"
                 f"{on} ({seeds})\na ringed marker holds "
                 "configurations with the same results", fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5 if many else 8, loc="center left", bbox_to_anchor=(1.01, 0.5),
              frameon=False)


def _exposure_panel(ax, configs, labels, colors, drift_aware, y, yerr, ylabel, ylim) -> None:
    """Draw the metric against the share of samples served by a worse model (exposure)."""
    share = configs["exposed_share_mean"].to_numpy(dtype=float)
    if "exposed_share_lo" in configs:
        err = np.array([share - configs["exposed_share_lo"].to_numpy(dtype=float),
                        configs["exposed_share_hi"].to_numpy(dtype=float) - share])
    else:
        half = np.nan_to_num(configs["exposed_share_ci95"].to_numpy(dtype=float))
        err = np.array([np.minimum(half, share), np.minimum(half, 1 - share)])
    err = np.nan_to_num(np.maximum(err, 0.0))
    for i, label in enumerate(labels):
        if np.isnan(share[i]):
            continue
        ax.errorbar(share[i], y[i], xerr=err[:, i:i + 1], yerr=yerr[:, i:i + 1],
                    fmt="D" if label in drift_aware else "o", ms=6.5, color=colors[label],
                    capsize=3, lw=1.1, zorder=3)
        ax.annotate(compact(label), (share[i], y[i]), xytext=(6, 5), textcoords="offset points",
                    fontsize=7.5, color="0.2")
    missing = [compact(lab) for lab, v in zip(labels, share, strict=True) if np.isnan(v)]
    ax.set_xlabel("exposure: share of scored samples served by a model worse than its rival "
                  "(fraction, lower is better)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(*ylim)
    ax.set_xlim(-0.03, min(1.0, max(np.nanmax(share + err[1]), 0.05) * 1.1) + 0.03)
    ax.set_title("Accuracy against exposure (same markers and colours as above)"
                 + (f"; no exposure measured: {', '.join(missing)}" if missing else ""),
                 fontsize=10, loc="left")
    ax.grid(alpha=0.3)


def _cost_margin(ax, lowest: float) -> None:
    """Start a cost axis just left of 0, so that a marker at cost 0 shows whole."""
    lo, hi = ax.get_xlim()
    pad = 0.03 * (hi - min(lo, 0.0)) or 0.05
    ax.set_xlim(left=min(lowest, 0.0) - pad if np.isfinite(lowest) else lo)


def draw_frontier(ax, frontier: pd.DataFrame, *, x: str = "total_cost", scale: float = 1.0,
                  max_points: int | None = None, label: str | None = None,
                  value: str = "accuracy"):
    """Draw the hindsight-optimal frontier (the oracle: the ceiling) on ``ax``.

    Parameters
    ----------
    ax
        A matplotlib Axes.
    frontier
        ``Frontier.frontier`` or :func:`experiments.stats.mean_frontier`: columns ``K``,
        ``value`` and ``x``.
    x
        The cost column (``total_cost``: comparable with a run's ``total_cost``).
    scale
        Multiplies the cost (e.g. ``1e4 / n_samples`` for cost per 10,000 samples).
    max_points
        Draw only ``K`` up to this.
    label
        Legend entry.
    value
        The metric column.
    """
    f = frontier.sort_values("K")
    if max_points is not None:
        f = f[f["K"] <= max_points]
    return ax.plot(f[x] * scale, f[value], color="black", lw=1.4, ls="-", marker=".",
                   ms=5, zorder=2, drawstyle="steps-post", label=label or FRONTIER_LABEL)


def pareto_front(cost: np.ndarray, value: np.ndarray, better: str = "max") -> np.ndarray:
    """Return the indices of the points no other beats (lower cost, better value).

    Sorted by cost. A point is dominated when another costs no more and is at least as
    good, being strictly better in one of the two. ``better="min"`` for a loss (mean
    absolute error). NaN points take no part.

    Examples
    --------
    >>> pareto_front(np.array([0, 1, 2, 3]), np.array([0.5, 0.9, 0.8, 0.95])).tolist()
    [0, 1, 3]
    >>> pareto_front(np.array([0, 1, 2]), np.array([3.0, 2.0, 2.5]), better="min").tolist()
    [0, 1]
    """
    cost = np.asarray(cost, dtype=float)
    value = np.asarray(value, dtype=float) * (1.0 if better == "max" else -1.0)
    keep = []
    for i in range(len(cost)):
        if np.isnan(cost[i]) or np.isnan(value[i]):
            continue
        dominated = np.any((cost <= cost[i]) & (value >= value[i])
                           & ((cost < cost[i]) | (value > value[i])))
        if not dominated:
            keep.append(i)
    return np.array(sorted(keep, key=lambda i: (cost[i], -value[i])), dtype=int)


def family(label: str) -> str:
    """Return the trigger family of a configuration label, for its colour.

    The value of its ``trigger`` key when it has one; otherwise the label with the
    numeric values dropped, so that the settings of one swept knob share a family.

    Examples
    --------
    >>> family("trigger=performance, trigger.drop=0.05"), family("ddm")
    ('performance', 'ddm')
    >>> family("trigger.drop=0.05") == family("trigger.drop=0.2")
    True
    """
    parts = [p.partition("=") for p in str(label).split(", ")]
    for key, eq, value in parts:
        if eq and key == "trigger":
            return value
    kept = [key if eq and _numeric(value) else f"{key}{eq}{value}" for key, eq, value in parts]
    return ", ".join(kept)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def readable(value: str) -> str:
    """Round a swept number to 4 significant digits for a figure or a table name.

    Text, integers and short numbers are left as they are.

    Examples
    --------
    >>> readable("0.13945930846219456"), readable("10"), readable("ddm")
    ('0.1395', '10', 'ddm')
    """
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() or len(value) <= 6 else f"{number:.4g}"


def without_stream(label: str, stream: str) -> str:
    """Return a configuration's label without its ``stream=...`` part.

    Examples
    --------
    >>> without_stream("trigger=never, stream=sea_sudden, learning=batch", "sea_sudden")
    'trigger=never, learning=batch'
    """
    parts = [p for p in label.split(", ") if p != f"stream={stream}"]
    return ", ".join(parts) or label


def live_of(timeline: pd.DataFrame, events: pd.DataFrame) -> dict:
    """Return the :class:`Series` fields ``trials``, ``rollbacks`` and ``alerts`` of one run.

    Examples
    --------
    >>> line = pd.DataFrame({"step": [1, 2, 3], "stat_alert_raised": [0.0, 1.0, 1.0],
    ...                      "stat_alert_acted": [0.0, 0.0, 1.0]})
    >>> live_of(line, pd.DataFrame())
    {'alerts': [([2, 3], [3])]}
    """
    out: dict = {}
    if "challenger_share" in timeline:
        out = {"trials": [timeline[list(LIVE_COLUMNS)]], "rollbacks": [rollback_steps(events)]}
    raised = [c for c in timeline.columns if c.startswith("stat_") and c.endswith("alert_raised")]
    if raised:  # one person per Approval: every such column counts (sim.metrics.alerts)
        acted = [c.removesuffix("raised") + "acted" for c in raised]
        steps = timeline["step"].to_numpy()
        out["alerts"] = [(
            steps[timeline[raised].fillna(0).sum(axis=1).to_numpy() > 0].tolist(),
            steps[timeline[[c for c in acted if c in timeline]].fillna(0).sum(axis=1)
                  .to_numpy() > 0].tolist())]
    return out


def _drifts_of(summary: dict) -> list[dict]:
    return list(summary.get("drifts") or []) + list(summary.get("incidents") or [])


def _series(label: str, result, task: str, **extra) -> Series:
    """Return the :class:`Series` of one replay (one seed): its metric, retrains, drifts."""
    name = _metric_name(task)
    trained = retrain_rows(result.events)
    s = result.summary
    return Series(label, [result.timeline[["step", name]]],
                  [[(int(t), bool(a)) for t, a in zip(trained.get("step", []),
                                                      trained.get("accepted", []),
                                                      strict=True)]],
                  _drifts_of(s), int(result.config.get("protocol", {}).get("step_size", 1)),
                  f"{name} {s.get(f'mean_{name}', float('nan')):.3f}  ·  "
                  f"{s.get('n_retrains', 0)} retrains",
                  **extra, **live_of(result.timeline, result.events))


@dataclass
class TimelineDisplay:
    """The metric over time of configurations, one panel each (see :func:`over_time`).

    Parameters
    ----------
    series
        One :class:`Series` per configuration.
    task
        ``"classification"`` (accuracy) or ``"regression"`` (mean absolute error).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.scripted import AtSteps
    >>> from sim.streams import SEA
    >>> result = replay(SEA(n_samples=10_000), LogisticRegression(), AtSteps([14]))
    >>> display = TimelineDisplay.from_run(result, label="SEA")
    >>> [s.label for s in display.series], display.series[0].retrains
    (['SEA'], [[(14, True)]])
    >>> figures = display.plot()
    >>> figures[0].axes[0].get_title(loc="left")
    'SEA'
    >>> pyplot().close("all")
    """

    series: list[Series]
    task: str = "classification"

    @classmethod
    def from_run(cls, result, label: str = "run") -> TimelineDisplay:
        """Build the display of one :class:`~sim.types.RunResult`, with its persistence level."""
        task = "regression" if result.summary.get("metric") == "mae" else "classification"
        return cls([_series(label, result, task,
                            baseline=result.summary.get("persistence_accuracy"))], task)

    @classmethod
    def from_comparison(cls, comp) -> TimelineDisplay:
        """Build the display of a :class:`~sim.compare.Comparison`: one panel per trigger."""
        return cls([_series(label, result, comp.task,
                            drift_aware="DriftAware" in str(result.config.get("trigger")))
                    for label, result in comp.runs.items()], comp.task)

    def plot(self, path=None, *, smooth: int | None = None, title: str | None = None) -> list:
        """Draw the panels: :func:`over_time`'s figures, or with ``path`` their paths."""
        return over_time(self.series, path, task=self.task, smooth=smooth, title=title)


@dataclass
class CostDisplay:
    """The metric against total cost, one marker per configuration (:func:`metric_vs_cost`).

    Parameters
    ----------
    configs
        Indexed by configuration, with columns ``mean_<metric>_mean``,
        ``mean_<metric>_ci95``, ``total_cost_mean`` and ``total_cost_ci95``.
    task
        ``"classification"`` or ``"regression"``.
    drift_aware
        The configurations that know the true drifts (references, not policies).
    frontier
        The hindsight-optimal frontier (``K``, the metric, ``total_cost``), or None.
    baseline
        Persistence accuracy, drawn across, or None.
    n_seeds
        The seeds behind each marker (1: no confidence interval).
    """

    configs: pd.DataFrame
    task: str = "classification"
    drift_aware: frozenset = frozenset()
    frontier: pd.DataFrame | None = None
    baseline: float | None = None
    n_seeds: int | None = None

    @classmethod
    def from_comparison(cls, comp) -> CostDisplay:
        """Build the display of a :class:`~sim.compare.Comparison`: a marker per trigger."""
        name = _metric_name(comp.task)
        table = comp.summary
        configs = pd.DataFrame({
            f"mean_{name}_mean": table[f"mean_{name}"], f"mean_{name}_ci95": np.nan,
            "total_cost_mean": table["total_cost"], "total_cost_ci95": np.nan},
            index=table.index)
        aware = frozenset(label for label, result in comp.runs.items()
                          if "DriftAware" in str(result.config.get("trigger")))
        baseline = (table["persistence_accuracy"].mean() if "persistence_accuracy" in table
                    else None)
        return cls(configs, comp.task, aware, comp.frontier, baseline, n_seeds=1)

    def plot(self, path=None):
        """Draw the figure (:func:`metric_vs_cost`), or with ``path`` save it there."""
        return metric_vs_cost(self.configs, path, task=self.task, drift_aware=self.drift_aware,
                              frontier=self.frontier, baseline=self.baseline,
                              n_seeds=self.n_seeds)


def run(result, path=None, *, label: str = "run", smooth: int | None = None):
    """Draw one replay (:meth:`sim.types.RunResult.plot`): the metric over time."""
    return TimelineDisplay.from_run(result, label).plot(path, smooth=smooth)[0]


def comparison(comp, path=None, *, smooth: int | None = None, kind: str = "all") -> list:
    """Draw :meth:`sim.compare.Comparison.plot`: over time, and against cost.

    With ``path`` (e.g. ``"compare.png"``), writes ``<stem>_over_time.png`` (and
    ``_2``, ... when there are many triggers) and ``<stem>_vs_cost.png``. ``kind``:
    ``"all"``, ``"over_time"`` or ``"vs_cost"``.
    """
    if kind not in ("all", "over_time", "vs_cost"):
        raise ValueError(f"The 'kind' parameter of Comparison.plot must be one of all, "
                         f"over_time, vs_cost. Got {kind!r} instead.")
    p = None if path is None else Path(path)
    out = []
    if kind in ("all", "over_time"):
        out += TimelineDisplay.from_comparison(comp).plot(
            None if p is None else p.with_name(f"{p.stem}_over_time{p.suffix}"), smooth=smooth)
    if kind in ("all", "vs_cost"):
        out.append(CostDisplay.from_comparison(comp).plot(
            None if p is None else p.with_name(f"{p.stem}_vs_cost{p.suffix}")))
    return out

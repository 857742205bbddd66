"""Every figure of retrain-sim (matplotlib): the sweep report, the advisor and the Python API.

- :func:`over_time`: the metric per step, one panel per configuration, and
  :func:`metric_vs_cost`: the metric against cost (both defined in :mod:`sim.display`,
  below the app, and re-exported here).
- :func:`sensitivity`: the metric and the retrains against a swept numeric parameter.
- :func:`advice`: the advisor's figure.
- :func:`critical_difference`: a benchmark's mean ranks with the Nemenyi critical
  difference (:mod:`experiments.ranks`).
- :func:`replicates`: each configuration's objective over resampled futures (the
  advisor's robust view, :func:`experiments.advise.robust`).
- :func:`estimated_vs_realised`: a label-free estimate of accuracy against the realised
  accuracy, one panel per configuration that estimates it.
- :func:`run` and :func:`comparison`: the figures of :meth:`sim.types.RunResult.plot`
  and :meth:`sim.compare.Comparison.plot` (from :mod:`sim.display`).

Colours: one per trigger family (:func:`sim.display.family`), shades of it for
the swept values. Each function returns the figure; with ``path`` it saves it, closes it
and returns the path. The backend is the caller's (inline in a notebook); the command-line
tools select the non-interactive ``Agg`` backend before drawing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from sim.display import (
    ALERT_COLOR,
    DPI,
    DRIFT_COLORS,
    FRONTIER_LABEL,
    INCIDENT_COLOR,
    LIVE_COLUMNS,
    MAX_NAMED,
    MAX_PANELS,
    MAX_SEED_LINES,
    TRIAL_COLORS,
    TRIAL_LABELS,
    Series,
    _cost_margin,
    _merge,
    _metric_name,
    _region_handles,
    _shade_drifts,
    compact,
    comparison,
    draw_frontier,
    live_of,
    metric_vs_cost,
    over_time,
    palette,
    readable,
    run,
    save,
    seed_note,
    smoothing_window,
)
from sim.metrics import metric as registered

__all__ = ["ALERT_COLOR", "DPI", "DRIFT_COLORS", "FRONTIER_LABEL", "INCIDENT_COLOR",
           "LIVE_COLUMNS", "MAX_NAMED", "MAX_PANELS", "MAX_SEED_LINES", "TRIAL_COLORS",
           "TRIAL_LABELS", "Series", "advice", "compact", "comparison",
           "critical_difference", "draw_frontier", "estimated_vs_realised", "live_of",
           "metric_vs_cost", "over_time", "palette", "replicates", "run", "save",
           "sensitivity", "smoothing_window"]


def sensitivity(configs: pd.DataFrame, param: str, path=None, *, by: str | None = None,
                task: str = "classification", n_seeds: int | None = None,
                by_label: str | None = None, averaged: str | None = None) -> list:
    """Draw the metric and the retrains (and cost, unless it is the retrains) against ``param``.

    When a person in the loop left alerts unacted (``alerts_not_acted``, see
    :func:`sim.metrics.alerts`), a panel of the alerts raised and acted upon is added.

    ``configs`` has one row per configuration, a numeric column ``param``, optionally a
    column ``by`` (one line per value; colours by trigger family, shades for the rest)
    and ``<metric>_mean`` / ``<metric>_ci95`` columns (``by_label``: the legend's title).
    Lines that coincide stay visible: each has its own line style and marker. More than
    ten lines go to further figures, so every line is drawn. Returns the figures, or the
    paths written.
    """
    panels = _sensitivity_panels(configs, _metric_name(task))
    groups = [(None, configs)] if by is None else list(configs.groupby(by, sort=False))
    colors = palette([str(g) for g, _ in groups])
    values = configs[param].to_numpy(dtype=float)
    log = bool(np.all(values > 0) and values.max() / values.min() >= 20)
    chunks = [groups[i:i + 10] for i in range(0, len(groups), 10)]
    out = []
    for k, chunk in enumerate(chunks):
        fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 4.3))
        for ax, metric in zip(axes, panels, strict=True):
            _sensitivity_lines(ax, chunk, param, metric, colors, values, log)
            _sensitivity_axes(ax, param, metric, values, log)
        if by is not None:
            axes[0].legend(fontsize=8, frameon=False, title=by_label or by, title_fontsize=8)
        part = "" if len(chunks) == 1 else f", figure {k + 1} of {len(chunks)}"
        fig.suptitle(f"Sensitivity to {param} ({seed_note(n_seeds, averaged)}{part})",
                     fontsize=11)
        fig.tight_layout()
        if path is None:
            out.append(fig)
        else:
            p = Path(path)
            out.append(save(fig, p if k == 0 else p.with_name(f"{p.stem}_{k + 1}{p.suffix}")))
    return out


def _sensitivity_panels(configs: pd.DataFrame, name: str) -> list[str]:
    """Return the metrics of the sensitivity panels: the cost only when it is not the retrains."""
    panels = [f"mean_{name}", "n_retrains"]
    if "total_cost_mean" in configs and "n_retrains_mean" in configs:
        ratio = configs["total_cost_mean"] / configs["n_retrains_mean"].replace(0, np.nan)
        if not (ratio.dropna().nunique() <= 1 and
                (configs["total_cost_mean"][configs["n_retrains_mean"] == 0] == 0).all()):
            panels.append("total_cost")
    if "alerts_not_acted_mean" in configs and (configs["alerts_not_acted_mean"] > 0).any():
        panels.append("alerts_raised")  # a person in the loop left alerts unacted
    return panels


def _sensitivity_lines(ax, chunk: list, param: str, metric: str, colors: dict,
                       values: np.ndarray, log: bool) -> None:
    """Draw one line per group of ``chunk``: the mean of ``metric`` and its 95% CI."""
    styles = [dict(ls=ls, marker=m) for ls, m in zip(("-", "--", "-.", ":", "-"),
                                                     ("o", "s", "^", "D", "v"), strict=True)]
    for n, (gname, group) in enumerate(chunk):
        g = group.sort_values(param)
        if f"{metric}_mean" not in g:
            continue
        mean = g[f"{metric}_mean"].to_numpy(dtype=float)
        ci = np.nan_to_num(g[f"{metric}_ci95"].to_numpy(dtype=float))
        upper = np.minimum(ci, 1 - mean) if metric == "mean_accuracy" else ci
        # lines dodged sideways a little, so that equal values stay visible
        shift = (n - (len(chunk) - 1) / 2) * 0.012
        xs = g[param].to_numpy(dtype=float)
        xs = xs * 10 ** (shift * np.log10(values.max() / values.min())) if log else \
            xs + shift * (values.max() - values.min())
        color = colors[str(gname)] if gname is not None else "tab:blue"
        ax.errorbar(xs, mean, yerr=np.array([np.minimum(ci, np.maximum(mean, 0)),
                                              np.maximum(upper, 0)]),
                    ms=5, capsize=3, lw=1.4, **styles[n % len(styles)], color=color,
                    label=None if gname is None else compact(gname))
        if metric == "alerts_raised" and "alerts_acted_mean" in g:
            ax.plot(xs, g["alerts_acted_mean"].to_numpy(dtype=float), color=color,
                    ls=":", marker="x", ms=7, lw=1.4)


def _sensitivity_axes(ax, param: str, metric: str, values: np.ndarray, log: bool) -> None:
    """Label, bound and tick a sensitivity panel (a tick per swept value when they fit)."""
    spec = registered(metric)
    ax.set_xlabel(f"{param} (swept value)")
    ax.set_ylabel(spec.label)
    if metric == "alerts_raised":  # the axis keeps the registry's label
        ax.legend(handles=[
            Line2D([], [], color="0.3", marker="o", label="raised (mean, 95% CI)"),
            Line2D([], [], color="0.3", ls=":", marker="x", ms=7,
                   label="acted upon (mean)")], fontsize=8, frameon=False)
    if spec.integer:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=max(ax.get_ylim()[0], 0.0))
    if metric == "mean_accuracy":
        ax.set_ylim(top=min(ax.get_ylim()[1], 1.0))
    if log:
        ax.set_xscale("log")
    ticks = np.unique(values)
    if len(ticks) <= 10 and _apart(np.log10(ticks) if log else ticks):
        ax.set_xticks(ticks, [readable(f"{v:g}") for v in ticks], fontsize=8)
        ax.minorticks_off()
    ax.grid(alpha=0.3)


def _apart(ticks: np.ndarray) -> bool:
    """Whether swept values are far enough apart for a label each (a grid, not a search).

    Examples
    --------
    >>> _apart(np.array([0, 2, 5, 10])), _apart(np.array([0.1385, 0.1395, 0.18]))
    (True, False)
    """
    span = ticks.max() - ticks.min() if len(ticks) > 1 else 0.0
    return bool(span == 0 or np.diff(ticks).min() >= 0.06 * span)


def advice(adv, path=None, *, frontier: pd.DataFrame | None = None,
           n_samples: float | None = None):
    """Draw the advisor's figure: the metric against cost, the front, budget and answer.

    Every configuration is named beside its marker (configurations with the same
    results share one note); the recommendation and the runner-up are marked around
    their points and named in the legend.
    """
    c = adv.configs
    name = adv.metric
    xcol, xci, xlabel = _advice_x(adv.mode)
    fig, ax = plt.subplots(figsize=(10, 5.8))
    x = c[xcol].to_numpy(dtype=float)
    y = c["value"].to_numpy(dtype=float)
    ci = np.nan_to_num(c["value_ci"].to_numpy(dtype=float))
    top = 1.0 if name == "accuracy" else np.inf
    yerr = np.array([np.minimum(ci, np.maximum(y, 0)), np.minimum(ci, np.maximum(top - y, 0))])
    xerr = None
    if xci:
        xc = np.nan_to_num(c[xci].to_numpy(dtype=float))
        xerr = np.array([np.minimum(xc, np.maximum(x, 0)), xc])  # cost is never negative
    _advice_points(ax, c, x, y, xerr, yerr)
    if adv.mode in ("max_cost", "max_retrains"):
        ax.axvline(adv.limit, color="tab:red", lw=1.2, ls=":")
        lo, hi = ax.get_xlim()
        ax.axvspan(adv.limit, max(hi, adv.limit * 1.05), color="tab:red", alpha=0.06,
                   lw=0, label=f"over the budget (> {adv.limit:g})")
        ax.set_xlim(lo, max(hi, adv.limit * 1.05))
    _advice_answer(ax, adv, xcol, x)
    if frontier is not None and len(frontier) and name in frontier:
        fx = "K" if xcol == "retrains_per_10k" else "total_cost"
        scale = 1e4 / n_samples if xcol != "cost" and n_samples else 1.0
        shown = frontier[frontier[fx] * scale <= max(np.nanmax(x), 1e-9) * 1.2]
        draw_frontier(ax, shown, x=fx, scale=scale, value=name)
    _cost_margin(ax, np.nanmin(x - (xerr[0] if xerr is not None else 0)))
    hi_y = float(np.nanmax(y + yerr[1]))
    lo_y = float(np.nanmin(y - yerr[0]))
    pad = max(0.01 * (1 if name == "accuracy" else hi_y), 0.05 * (hi_y - lo_y))
    ax.set_ylim(max(0.0, lo_y - pad), min(top, hi_y + pad))
    if len(c) <= 40:
        _advice_notes(fig, ax, x, y, list(c.index))
    ax.set_xlabel(xlabel)
    better = registered(f"mean_{name}").better
    ax.set_ylabel(registered(f"mean_{name}").label + (" - higher is better" if better == "max"
                                                      else " - lower is better"))
    seeds = int(c["n_seeds"].max()) if len(c) else 0
    text = (f"each point one job, the mean over {seeds} seeds: no CI" if c["averaged"].any()
            else f"95% CIs over {seeds} seeds" if seeds > 1 else "a single seed: no CI")
    on = "" if adv.stream is None else f" on the stream {adv.stream}"
    ax.set_title(f"Which configuration to run{on}: {name} against cost ({text})",
                 fontsize=10.5)
    if xcol == "retrains_per_10k":
        ax.xaxis.set_major_locator(MaxNLocator(integer=False))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return save(fig, path) if path is not None else fig


def _advice_x(mode: str) -> tuple[str, str | None, str]:
    """Return the advisor's x axis for a budget mode: its column, CI column and label."""
    if mode == "max_retrains":
        return ("retrains_per_10k", "retrains_per_10k_ci",
                "retrains per 10,000 samples (count, mean over seeds)")
    if mode == "cost_weight":
        return ("cost_per_10k", None,
                "retraining cost per 10,000 samples (nominal units, mean over seeds)")
    return "cost", "cost_ci", "total cost per run (nominal units, mean over seeds)"


def _advice_points(ax, c: pd.DataFrame, x: np.ndarray, y: np.ndarray, xerr, yerr) -> None:
    """Draw the configurations (feasible, over the budget, drift-aware) and the Pareto front."""
    feasible = c["feasible"].to_numpy(dtype=bool)
    aware = c["drift_aware"].to_numpy(dtype=bool)
    for mask, style, label in (
            (feasible, dict(color="tab:blue", fmt="o"), "configuration (mean, 95% CI)"),
            (~feasible & ~aware, dict(color="0.65", fmt="o"), "over the budget"),
            (aware, dict(color="tab:purple", fmt="D"),
             "knows the true drifts (reference, not a policy)")):
        if mask.any():
            ax.errorbar(x[mask], y[mask], yerr=yerr[:, mask],
                        xerr=None if xerr is None else xerr[:, mask], capsize=3, ms=6, lw=1,
                        label=label, zorder=3, **style)
    front = c["on_front"].to_numpy(dtype=bool)
    if front.any():
        order = np.argsort(x[front])
        ax.plot(x[front][order], y[front][order], color="tab:blue", ls="--", lw=1.1,
                drawstyle="steps-post", zorder=2,
                label="Pareto front (nothing cheaper is better)")


def _advice_answer(ax, adv, xcol: str, x: np.ndarray) -> None:
    """Ring the recommendation and the runner-up (and draw the line of equal score)."""
    c = adv.configs
    if adv.recommended is not None:
        r = c.loc[adv.recommended]
        ax.plot(r[xcol], r["value"], marker="o", ms=17, mfc="none", mec="gold", mew=3,
                zorder=5, ls="none", label=f"recommended: {compact(adv.recommended)}")
        if adv.mode == "cost_weight":
            xs = np.linspace(0, np.nanmax(x) * 1.05 + 1e-9, 50)
            ax.plot(xs, r["score"] + adv.limit * xs, color="goldenrod", lw=1, ls="-.",
                    label=f"equal score (accuracy - {adv.limit:g} x cost per 10k)")
    if adv.runner_up is not None:
        u = c.loc[adv.runner_up]
        ax.plot(u[xcol], u["value"], marker="o", ms=13, mfc="none", mec="darkorange",
                mew=2, zorder=4, ls="none", label=f"runner-up: {compact(adv.runner_up)}")


def _advice_notes(fig, ax, x: np.ndarray, y: np.ndarray, labels: list[str]) -> None:
    """Name every point: one note per position, notes of nearby points stacked, with a leader."""
    placed: list[np.ndarray] = []
    px = fig.dpi / 72  # display pixels per point
    for g in _merge(x, y, labels):
        note = " / ".join(_short(labels[j]) for j in g)
        at = ax.transData.transform((x[g[0]], y[g[0]]))
        dy = -14.0
        while any(abs(at[0] + 14 * px - q[0]) < 130 and abs(at[1] + dy * px - q[1]) < 12 * px
                  for q in placed):
            dy -= 12.0
        placed.append(np.array([at[0] + 14 * px, at[1] + dy * px]))
        ax.annotate(note, (x[g[0]], y[g[0]]), xytext=(14, dy),
                    textcoords="offset points", fontsize=7.5, color="0.15", va="top",
                    arrowprops=dict(arrowstyle="-", color="0.6", lw=0.6),
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))


def critical_difference(test, path=None, *, title: str = "Mean rank"):
    """Draw a critical-difference diagram (Demšar 2006) of a :class:`~experiments.ranks.RankTest`.

    scikit-posthocs draws the mean ranks on one axis (1, the best, on the left) and joins
    with a bar the policies its Nemenyi p-values cannot tell apart at the test's level;
    the title gives the Friedman p-value and the critical difference. The policies are
    handed to it as their places in the ranking and named afterwards: it stacks bars that
    start at the same rank in the order of a Python set, which for names (strings) changes
    with every interpreter's hash seed and for ints does not, so the same ranks give the
    same figure.

    Examples
    --------
    >>> from experiments.ranks import rank_test
    >>> values = pd.DataFrame({"a": [3, 3, 3, 2.0], "b": [2, 2, 1, 3.0], "c": [1, 1, 2, 1.0]})
    >>> fig = critical_difference(rank_test(values))
    >>> fig.axes[0].get_xlabel()
    'mean rank (1 = best)'
    """
    import scikit_posthocs as sp

    k = len(test.mean_ranks)
    names = [compact(n) for n in test.mean_ranks.index]
    order = list(test.mean_ranks.index)
    fig, ax = plt.subplots(figsize=(9, 2.2 + 0.22 * k))
    drawn = sp.critical_difference_diagram(
        pd.Series(test.mean_ranks.to_numpy(), index=range(k)),
        pd.DataFrame(test.pairwise.loc[order, order].to_numpy(), index=range(k),
                     columns=range(k)),
        alpha=test.alpha, ax=ax, label_fmt_left="{label}|{rank:.2f}",
        label_fmt_right="{label}|{rank:.2f}")
    for text in drawn["labels"]:
        place, rank = text.get_text().split("|")
        left = text.get_horizontalalignment() == "right"
        name = names[int(place)]
        text.set_text(f"{name} ({rank})" if left else f"({rank}) {name}")
    ax.set_xlabel("mean rank (1 = best)")
    ax.set_title(f"{title}\nFriedman p = {test.p_value:.2g}, Nemenyi CD = "
                 f"{test.critical_difference:.2f} at {test.alpha:g}, {test.n_blocks} blocks",
                 fontsize=10, pad=14)
    fig.tight_layout()
    return save(fig, path) if path is not None else fig


def replicates(values: pd.DataFrame, path=None, *, recommended: str | None = None,
               what: str = "objective"):
    """Draw each configuration's objective over resampled futures: a box and the points.

    Parameters
    ----------
    values
        One row per replicate, one column per configuration.
    recommended
        The configuration to highlight.
    what
        The objective's name for the axis.

    Examples
    --------
    >>> values = pd.DataFrame({"trigger.drop=0.05": [0.80, 0.82, 0.79],
    ...                        "trigger.drop=0.1": [0.81, 0.78, 0.80]})
    >>> fig = replicates(values, recommended="trigger.drop=0.05")
    >>> fig.axes[0].get_ylabel()
    'objective per resampled future'
    """
    order = values.mean().sort_values(ascending=False).index
    labels = [compact(c) for c in order]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 + 0.9 * len(order)), 4.5))
    positions = np.arange(len(order))
    ax.boxplot([values[c].dropna().to_numpy() for c in order], positions=positions,
               widths=0.6, showfliers=False, medianprops={"color": "black"})
    rng = np.random.default_rng(0)  # jitter only, so that equal points stay visible
    for pos, c in zip(positions, order, strict=True):
        v = values[c].dropna().to_numpy()
        color = "tab:red" if c == recommended else "tab:blue"
        ax.scatter(pos + rng.uniform(-0.15, 0.15, len(v)), v, s=14, color=color, alpha=0.7,
                   zorder=3)
    ax.set_xticks(positions, [f"{lab}\n(recommended)" if c == recommended else lab
                              for lab, c in zip(labels, order, strict=True)],
                  rotation=30, ha="right")
    ax.set_ylabel("\n".join(textwrap.wrap(f"{what} per resampled future", 36)))
    ax.set_xlabel("configuration")
    ax.set_title(f"{values.shape[0]} resampled futures: a point each, the box the quartiles",
                 fontsize=10)
    fig.tight_layout()
    return save(fig, path) if path is not None else fig


def estimated_vs_realised(series: list[Series], path=None):
    """Draw a label-free estimate of accuracy and the realised accuracy, per configuration.

    For the configurations whose trigger estimates accuracy without labels (e.g.
    ``EstimatedPerformance``): each :class:`Series` holds, per seed, a timeline with the
    columns ``step``, ``realised`` (the accuracy the engine scored on labels the trigger
    never saw) and ``estimated``. One panel per configuration: the mean over seeds of
    both, each with a min-max band; true drifts shaded, each seed's retrains ticked; the
    panel's title gives the estimate's mean and mean absolute error per step.

    Examples
    --------
    >>> line = pd.DataFrame({"step": [1, 2, 3], "realised": [0.9, 0.7, 0.8],
    ...                      "estimated": [0.92, 0.88, 0.85]})
    >>> fig = estimated_vs_realised([Series("estimated_performance", [line], [[(2, True)]])])
    >>> fig.axes[0].get_title(loc="right")
    'estimated - realised per step: mean +0.083, mean absolute 0.083'
    """
    n = len(series)
    fig, axes = plt.subplots(n, 1, figsize=(10, 1.9 * n + 1.4), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    styles = {"realised": dict(color="black", lw=1.3, ls="-"),
              "estimated": dict(color="#ff7f0e", lw=1.6, ls="--")}
    kinds: set[str] = set()
    for ax, s in zip(axes[:, 0], series, strict=True):
        kinds |= _shade_drifts(ax, s.drifts)
        lines = [t.set_index("step") for t in s.timelines]
        for which, style in styles.items():
            wide = pd.concat([line[which] for line in lines], axis=1).sort_index()
            ax.fill_between(wide.index, wide.min(axis=1), wide.max(axis=1),
                            color=style["color"], alpha=0.15, lw=0, zorder=2)
            ax.plot(wide.index, wide.mean(axis=1), zorder=3, **style)
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        for i, retrains in enumerate(s.retrains[:5]):
            steps = [t for t, _ in retrains]
            ax.plot(steps, [0.04 + 0.07 * i] * len(steps), ls="none", marker="|", ms=7,
                    mew=1.4, color="0.3", transform=trans, zorder=4)
        error = pd.concat([line["estimated"] - line["realised"] for line in lines]).dropna()
        ax.set_title(s.label, loc="left", fontsize=9.5, fontweight="bold", pad=3)
        ax.set_title(f"estimated - realised per step: mean {error.mean():+.3f}, "
                     f"mean absolute {error.abs().mean():.3f}", loc="right", fontsize=8.5,
                     pad=3)
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(labelsize=8)
    fig.supxlabel(f"step (1 step = {series[0].step_size:,} samples)", fontsize=10)
    fig.supylabel("accuracy per step (fraction correct)", fontsize=10)
    seeds_n = max(len(s.timelines) for s in series)
    handles = [Line2D([], [], label=f"realised accuracy (mean over {seeds_n} seeds)",
                      **styles["realised"]),
               Line2D([], [], label="estimated accuracy, from calibrated confidence (no labels)",
                      **styles["estimated"]),
               Patch(color="0.5", alpha=0.3, label="min-max over seeds"),
               Line2D([], [], ls="none", marker="|", ms=7, mew=1.4, color="0.3",
                      label="retrain (one row per seed)")]
    handles += _region_handles(kinds)
    fig.legend(handles=handles, loc="outside upper center", ncol=3, fontsize=8.5,
               frameon=False, title="Estimated and realised accuracy over time",
               title_fontproperties={"size": 12})
    return save(fig, path) if path is not None else fig


def _short(label: str) -> str:
    parts = [readable(p.split("=", 1)[1]) if "=" in p else p for p in label.split(", ")]
    return ", ".join(parts) if len(parts) <= 2 else compact(label)



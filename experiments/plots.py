"""The figures of a sweep report (matplotlib, written as PNG files).

- :func:`accuracy_over_time`: one panel per configuration, the mean accuracy over
  seeds with a min-max band, true drifts shaded, every seed's retrains marked.
- :func:`accuracy_vs_cost`: one point per configuration with 95% confidence bars,
  and the Pareto front.
- :func:`sensitivity`: accuracy, retrains and cost against a swept numeric parameter.
- :func:`estimated_accuracy`: a label-free estimate of accuracy and the realised accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from experiments.report import pareto_front  # noqa: E402

__all__ = ["Series", "accuracy_over_time", "accuracy_vs_cost", "colors",
           "estimated_accuracy", "sensitivity"]

DRIFT_COLORS = {"concept": "#d62728", "covariate": "#1f77b4", "prior": "#2ca02c"}
DPI = 110


@dataclass
class Series:
    """The runs of one configuration, for :func:`accuracy_over_time`.

    Parameters
    ----------
    label
        The configuration's name.
    timelines
        One DataFrame per seed with columns ``step`` and ``accuracy``.
    retrains
        Per seed, the steps of the models trained and whether each was accepted.
    drifts
        The stream's true drifts as the run's summary gives them: dicts with
        ``start_step``, ``end_step`` (the steps holding the drift's first and last
        sample, as the engine maps them, whatever the steps' sizes) and ``kind``.
    step_size
        Samples per step.
    note
        Text shown in the panel (e.g. the mean accuracy).
    oracle
        Whether the configuration knows the true drifts.
    """

    label: str
    timelines: list[pd.DataFrame]
    retrains: list[list[tuple[int, bool]]] = field(default_factory=list)
    drifts: list[dict] = field(default_factory=list)
    step_size: int = 1
    note: str = ""
    oracle: bool = False


def colors(n: int) -> list:
    """``n`` distinguishable colours (tab10, then tab20)."""
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def _shade_drifts(ax, drifts: list[dict]) -> set[str]:
    kinds = set()
    for d in drifts:
        x0 = d["start_step"]
        x1 = max(d["end_step"], x0 + 1)
        color = DRIFT_COLORS.get(d["kind"], "#7f7f7f")
        ax.axvspan(x0, x1, color=color, alpha=0.18, lw=0, zorder=0)
        ax.axvline(x0, color=color, lw=1.0, ls="--", alpha=0.8, zorder=1)
        kinds.add(d["kind"])
    return kinds


def accuracy_over_time(series: list[Series], path: Path) -> Path:
    """Draw accuracy over time, one panel per configuration; save to ``path``."""
    n = len(series)
    palette = colors(n)
    step_size = series[0].step_size if series else 1
    fig, axes = plt.subplots(n, 1, figsize=(10, 1.7 * n + 1.4), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    axes = axes[:, 0]
    lows, highs = [], []
    stats = []
    for s in series:
        if not s.timelines:
            stats.append(None)
            continue
        wide = pd.concat([t.set_index("step")["accuracy"] for t in s.timelines], axis=1)
        wide = wide.sort_index()
        stats.append((wide.index.to_numpy(), wide.mean(axis=1).to_numpy(),
                      wide.min(axis=1).to_numpy(), wide.max(axis=1).to_numpy()))
        lows.append(np.nanmin(wide.to_numpy()))
        highs.append(np.nanmax(wide.to_numpy()))
    lo = min(lows) if lows else 0.0
    hi = max(highs) if highs else 1.0
    span = max(hi - lo, 0.05)
    n_rows = max((min(len(s.retrains), 5) for s in series), default=1) or 1
    rug = 0.07 * n_rows + 0.04  # fraction of the axes kept under the data for the ticks
    bottom = lo - span * rug / (1 - rug - 0.05)
    top = min(1.0, hi) + span * 0.05
    kinds: set[str] = set()
    for ax, s, st, color in zip(axes, series, stats, palette, strict=False):
        kinds |= _shade_drifts(ax, s.drifts)
        if st is not None:
            x, mean, mn, mx = st
            ax.fill_between(x, mn, mx, color=color, alpha=0.25, lw=0, zorder=2)
            ax.plot(x, mean, color=color, lw=1.4, zorder=3)
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        rows = s.retrains if len(s.retrains) <= 5 else [
            [r for seed in s.retrains for r in seed]]
        for i, seed in enumerate(rows):
            y = 0.04 + 0.07 * i
            ok = [t for t, a in seed if a]
            rejected = [t for t, a in seed if not a]
            ax.plot(ok, [y] * len(ok), ls="none", marker="|", ms=7, mew=1.4, color="black",
                    transform=trans, zorder=4)
            ax.plot(rejected, [y] * len(rejected), ls="none", marker="x", ms=4, mew=1.0,
                    color="#7f7f7f", transform=trans, zorder=4)
        title = s.label + ("  (knows the true drifts)" if s.oracle else "")
        ax.set_title(title, loc="left", fontsize=9.5, fontweight="bold", pad=3)
        ax.set_title(s.note, loc="right", fontsize=8.5, pad=3)
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0].set_ylim(bottom, top)
    ticks = [t for t in np.linspace(0, 1, 11) if max(lo, 0) - 0.05 <= t <= top]
    axes[0].set_yticks(ticks[::2] if len(ticks) > 6 else ticks)
    fig.supxlabel(f"step (1 step = {step_size:,} samples)", fontsize=10)
    fig.supylabel("accuracy per step (fraction correct)", fontsize=10)
    seeds = max((len(s.timelines) for s in series), default=0)
    handles = [Line2D([], [], color="0.2", lw=1.4, label=f"mean over seeds (n={seeds})"),
               Patch(color="0.2", alpha=0.25, label="min-max over seeds"),
               Line2D([], [], ls="none", marker="|", ms=7, mew=1.4, color="black",
                      label="retrain deployed (one row per seed)")]
    if any(not a for s in series for seed in s.retrains for _, a in seed):
        handles.append(Line2D([], [], ls="none", marker="x", ms=4, color="#7f7f7f",
                              label="retrain rejected by the gate"))
    for kind in sorted(kinds):
        handles.append(Patch(color=DRIFT_COLORS.get(kind, "#7f7f7f"), alpha=0.35,
                             label=f"true {kind} drift"))
    fig.legend(handles=handles, loc="outside upper center", ncol=min(len(handles), 3),
               fontsize=8.5, frameon=False, title="Accuracy over time per strategy",
               title_fontproperties={"size": 12})
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Path(path)


def accuracy_vs_cost(configs: pd.DataFrame, path: Path, *, oracle: set[str] = frozenset(),
                     cost_label: str = "total retraining cost (nominal units)",
                     max_labels: int = 20, frontier: pd.DataFrame | None = None) -> Path:
    """Mean accuracy against total cost, one point per configuration, Pareto front drawn.

    ``configs`` is indexed by configuration with columns ``mean_accuracy_mean``,
    ``mean_accuracy_ci95``, ``total_cost_mean`` and ``total_cost_ci95``. Beyond
    ``max_labels`` configurations, only those on the front (and the oracle) are named;
    the others are drawn as one grey cloud. ``frontier`` (columns ``K``, ``accuracy``,
    ``total_cost``), when given, is the hindsight-optimal accuracy for each number of
    retrains, drawn as a line up to the costliest configuration.
    """
    fig, ax = plt.subplots(figsize=(9, 5.2))
    palette = colors(len(configs))
    x = configs["total_cost_mean"].to_numpy(dtype=float)
    y = configs["mean_accuracy_mean"].to_numpy(dtype=float)
    xci = np.nan_to_num(configs["total_cost_ci95"].to_numpy(dtype=float))
    yci = np.nan_to_num(configs["mean_accuracy_ci95"].to_numpy(dtype=float))
    # bars clipped to what is possible: cost >= 0, accuracy in [0, 1]
    xerr = np.array([np.minimum(xci, np.maximum(x, 0)), xci])
    yerr = np.array([np.minimum(yci, np.maximum(y, 0)), np.minimum(yci, np.maximum(1 - y, 0))])
    labels = list(configs.index)
    real = np.array([label not in oracle for label in labels])
    front = pareto_front(np.where(real, x, np.nan), np.where(real, y, np.nan))
    if len(front):
        fx, fy = x[front], y[front]
        ax.step(fx, fy, where="post", color="0.35", ls="--", lw=1.2, zorder=1,
                label="Pareto front (no strategy is cheaper and more accurate)")
    on_front_set = set(front.tolist())
    many = len(labels) > max_labels
    if many:  # one grey cloud; only the front and the oracle get a colour and a label
        rest = [i for i in range(len(labels)) if i not in on_front_set and real[i]]
        ax.errorbar(x[rest], y[rest], xerr=xerr[:, rest], yerr=yerr[:, rest], fmt="o", ms=4,
                    color="0.6", capsize=0, lw=0.6, alpha=0.7, zorder=2,
                    label=f"{len(rest)} other configurations")
        shown = [i for i in range(len(labels)) if i in on_front_set or not real[i]]
        shown = shown[:max_labels]
        palette = colors(len(shown))
    else:
        shown = list(range(len(labels)))
    for k, i in enumerate(shown):
        label = labels[i]
        color = palette[k] if many else palette[i]
        is_oracle = label in oracle
        on_front = i in on_front_set
        ax.errorbar(x[i], y[i], xerr=xerr[:, i:i + 1], yerr=yerr[:, i:i + 1],
                    fmt="*" if is_oracle else "o", ms=14 if is_oracle else 7, color=color,
                    capsize=3, lw=1.2, mec="black" if on_front or is_oracle else color,
                    zorder=4 if is_oracle else 3,
                    label=label + (" (knows the true drifts)" if is_oracle else "")
                    + (" - on the front" if on_front else ""))
    if frontier is not None and len(frontier):
        from experiments.advise import draw_frontier

        reach = np.nanmax(x + xci) if len(x) else 0.0
        shown = frontier[frontier["total_cost"] <= max(reach, 0) * 1.05]
        draw_frontier(ax, shown if len(shown) > 1 else frontier.head(2))
    ax.set_xlabel(cost_label)
    ax.set_ylabel("mean accuracy (prequential, fraction correct)")
    ax.set_title("Accuracy against retraining cost\n(mean and 95% CI over seeds, bars clipped "
                 "to the possible range)", fontsize=10.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Path(path)


PANELS = (
    ("mean_accuracy", "mean accuracy (fraction correct)"),
    ("n_retrains", "retrains per run (count)"),
    ("total_cost", "total cost (nominal units)"),
)


def sensitivity(configs: pd.DataFrame, param: str, path: Path, *, by: str | None = None) -> Path:
    """Accuracy, retrains and cost against the swept numeric ``param``.

    ``configs`` has one row per configuration, a numeric column ``param``, optionally a
    column ``by`` (one line per value) and ``<metric>_mean`` / ``<metric>_ci95`` columns.
    """
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    groups = [(None, configs)] if by is None else list(configs.groupby(by, sort=False))
    palette = colors(len(groups))
    values = configs[param].to_numpy(dtype=float)
    log = bool(np.all(values > 0) and values.max() / values.min() >= 20)
    for ax, (metric, ylabel) in zip(axes, PANELS, strict=False):
        for (name, group), color in zip(groups, palette, strict=False):
            g = group.sort_values(param)
            if f"{metric}_mean" not in g:
                continue
            mean = g[f"{metric}_mean"].to_numpy(dtype=float)
            ci = np.nan_to_num(g[f"{metric}_ci95"].to_numpy(dtype=float))
            upper = np.minimum(ci, 1 - mean) if metric == "mean_accuracy" else ci
            ax.errorbar(g[param], mean, yerr=np.array([np.minimum(ci, np.maximum(mean, 0)),
                                                      np.maximum(upper, 0)]),
                        marker="o", ms=5, capsize=3, color=color, lw=1.4,
                        label=None if name is None else f"{by}={name}")
        ax.set_xlabel(f"{param} (swept value)")
        ax.set_ylabel(ylabel)
        if log:
            ax.set_xscale("log")
        ticks = np.unique(values)
        if len(ticks) <= 10:
            ax.set_xticks(ticks, [f"{v:g}" for v in ticks], fontsize=8)
            ax.minorticks_off()
        ax.grid(alpha=0.3)
    if by is not None:
        axes[0].legend(fontsize=8, frameon=False)
    fig.suptitle(f"Sensitivity to {param} (mean and 95% CI over seeds)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Path(path)


def estimated_accuracy(agg, records: dict, path: Path) -> Path | None:
    """Draw estimated and realised accuracy on one axis per configuration that estimates it.

    For the runs of a sweep whose trigger estimates accuracy without labels (a
    ``stat_*estimated_accuracy`` timeline column, e.g. ``EstimatedPerformance``): one
    panel per configuration with the realised accuracy (scored by the engine on labels
    the trigger never saw) and the estimate, each the mean over seeds with a min-max
    band; true drifts shaded, retrains ticked. Returns None when no run has an estimate.
    """
    from experiments import store

    panels = []
    for label, group in agg.jobs.groupby("config", sort=False):
        seeds, retrains, drifts, step_size = [], [], [], 1
        for name in group.loc[group["status"] == "ok", "job"]:
            job, record = records[name]
            if "estimate_mae" not in (record.get("summary") or {}):  # no estimate: not read
                continue
            try:
                line = pd.read_parquet(job / store.TIMELINE)
                events = pd.read_csv(job / store.EVENTS)
            except (OSError, ValueError):
                continue
            column = next((c for c in line.columns if c.startswith("stat_")
                           and c.endswith("estimated_accuracy")), None)
            if column is None or "accuracy" not in line:
                continue
            seeds.append(line.set_index("step")[["accuracy", column]].set_axis(
                ["realised", "estimated"], axis=1))
            trained = events[events["model_id"] >= 0] if len(events) else events
            retrains.append(trained["step"].tolist() if len(trained) else [])
            drifts = (record.get("summary") or {}).get("drifts") or drifts
            step_size = record.get("step_size") or step_size
        if seeds:
            panels.append((label, seeds, retrains, drifts, int(step_size)))
    if not panels:
        return None
    n = len(panels)
    fig, axes = plt.subplots(n, 1, figsize=(10, 1.9 * n + 1.4), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    styles = {"realised": dict(color="black", lw=1.3, ls="-"),
              "estimated": dict(color="#ff7f0e", lw=1.6, ls="--")}
    kinds: set[str] = set()
    for ax, (label, seeds, retrains, drifts, _) in zip(axes[:, 0], panels, strict=True):
        kinds |= _shade_drifts(ax, drifts)
        for which, style in styles.items():
            wide = pd.concat([s[which] for s in seeds], axis=1).sort_index()
            ax.fill_between(wide.index, wide.min(axis=1), wide.max(axis=1),
                            color=style["color"], alpha=0.15, lw=0, zorder=2)
            ax.plot(wide.index, wide.mean(axis=1), zorder=3, **style)
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        for i, steps in enumerate(retrains[:5]):
            ax.plot(steps, [0.04 + 0.07 * i] * len(steps), ls="none", marker="|", ms=7,
                    mew=1.4, color="0.3", transform=trans, zorder=4)
        error = pd.concat([s["estimated"] - s["realised"] for s in seeds]).dropna()
        ax.set_title(label, loc="left", fontsize=9.5, fontweight="bold", pad=3)
        ax.set_title(f"estimated - realised per step: mean {error.mean():+.3f}, "
                     f"mean absolute {error.abs().mean():.3f}", loc="right", fontsize=8.5,
                     pad=3)
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(labelsize=8)
    fig.supxlabel(f"step (1 step = {panels[0][4]:,} samples)", fontsize=10)
    fig.supylabel("accuracy per step (fraction correct)", fontsize=10)
    seeds_n = max(len(p[1]) for p in panels)
    handles = [Line2D([], [], label=f"realised accuracy (mean over {seeds_n} seeds)",
                      **styles["realised"]),
               Line2D([], [], label="estimated accuracy, from calibrated confidence (no labels)",
                      **styles["estimated"]),
               Patch(color="0.5", alpha=0.3, label="min-max over seeds"),
               Line2D([], [], ls="none", marker="|", ms=7, mew=1.4, color="0.3",
                      label="retrain (one row per seed)")]
    handles += [Patch(color=DRIFT_COLORS.get(k, "#7f7f7f"), alpha=0.35, label=f"true {k} drift")
                for k in sorted(kinds)]
    fig.legend(handles=handles, loc="outside upper center", ncol=3, fontsize=8.5,
               frameon=False, title="Estimated and realised accuracy over time",
               title_fontproperties={"size": 12})
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return Path(path)

"""``retrain-sim-advise DIR``: which configuration of a sweep to run in production.

Reads the sweep's ``summary.csv`` (one row per job, written by
``retrain-sim-report`` / the end-of-sweep callback; aggregated on the fly when it is
missing), groups the jobs into configurations (every override but ``seed``), and
recommends, among the configurations that can run in production (not the oracle that
knows the true drifts) and meet the budget, the one on the accuracy-vs-cost Pareto
front with the best mean accuracy:

``--max-cost C``
    mean total cost per run (nominal units, the ``total_cost`` of the summary) <= C;
``--max-retrains R``
    mean retrains per 10,000 scored samples <= R;
``--cost-weight L``
    no budget; maximise mean accuracy - L x (total cost per 10,000 scored samples).
    L is in accuracy (fraction correct) per nominal cost unit per 10,000 samples: with
    one unit per retrain, L = 0.001 says a retrain every 10,000 samples must buy 0.1
    points of accuracy (the unit of :meth:`sim.oracle.Frontier.best_for_cost_weight`).

With none of them the most accurate configuration is recommended. The answer gives its
95% confidence interval over seeds, the runner-up, and whether the two are
distinguishable (paired t-test over the seeds both ran); it warns when the recommended
value of a swept numeric parameter is the smallest or largest swept (the sweep did not
bracket the optimum), when there are fewer than 3 seeds, and when the interval is wider
than ``--max-ci``. A figure (``advice.png`` in DIR) shows accuracy against cost, the
front, the budget and the recommendation; with ``oracle_frontier.csv`` in DIR it also
draws the hindsight-optimal frontier (:mod:`sim.oracle`).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from experiments.report import ci95, pareto_front

__all__ = ["Advice", "advise", "draw_frontier", "load_summary", "main", "mean_frontier",
           "plot_advice"]

# every scalar the summary of a run may hold (sim.metrics.summarize, sim.oracle.regret)
METRICS = {
    "mean_accuracy", "n_steps", "n_samples", "n_retrains", "n_accepted", "n_rejected",
    "n_skipped", "cost_retrain", "cost_samples", "cost_labels", "fit_seconds", "total_cost",
    "unneeded_retrains", "mean_benefit", "n_drifts", "false_retrains", "missed_drifts",
    "detected_drifts", "precision", "recall", "false_alarms_per_10k", "mean_detection_delay",
    "mean_recovery_steps", "mean_accuracy_lost", "initial_fit_seconds",
    "optimal_accuracy_same_retrains", "regret",
}
BOOKKEEPING = {"job", "status", "error", "config", "seed"}
ORACLE_VALUES = ("oracle", "AtTrueDrifts")
PER = 10_000


def load_summary(sweep_dir) -> pd.DataFrame:
    """Read ``summary.csv`` of a sweep; aggregate the job directories when it is missing.

    Raises FileNotFoundError with a message saying what to do when there is neither.
    """
    sweep_dir = Path(sweep_dir)
    path = sweep_dir / "summary.csv"
    if not path.exists():
        try:
            from experiments.report import aggregate, find_jobs
        except ImportError:  # pragma: no cover - the report module ships with the package
            aggregate = find_jobs = None
        if find_jobs is None or not find_jobs(sweep_dir):
            raise FileNotFoundError(
                f"No summary.csv in '{sweep_dir}' and no job directories to aggregate: give "
                "the directory of a finished sweep (results/multirun/<date>/<time>).")
        aggregate(sweep_dir, figures=False)
    return pd.read_csv(path)


def _param_columns(jobs: pd.DataFrame) -> list[str]:
    cols = list(jobs.columns)
    if "job" in cols and "mean_accuracy" in cols and cols.index("job") < cols.index(
            "mean_accuracy"):
        between = cols[cols.index("job") + 1:cols.index("mean_accuracy")]
        return [c for c in between if c not in BOOKKEEPING]
    return [c for c in cols if c not in METRICS and c not in BOOKKEEPING]


def _fmt_value(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass
class Advice:
    """The recommendation and everything behind it.

    Attributes
    ----------
    configs
        One row per configuration (indexed by its label): the swept parameters,
        ``n_seeds``, ``accuracy`` and ``accuracy_ci`` (half-width of the 95% CI),
        ``cost`` (total per run), ``cost_per_10k``, ``retrains_per_10k``, ``score``
        (the objective), ``oracle``, ``feasible``, ``on_front``.
    recommended, runner_up
        Labels (None when nothing qualifies).
    mode
        ``"max_cost"``, ``"max_retrains"``, ``"cost_weight"`` or ``"accuracy"``.
    limit
        The budget or cost weight.
    test
        The paired comparison: ``n`` (common seeds), ``difference`` (of the objective),
        ``p_value`` and ``distinguishable``.
    tied
        Configurations with exactly the recommendation's results on every seed.
    warnings
        Human-readable warnings.
    """

    configs: pd.DataFrame
    recommended: str | None
    runner_up: str | None
    mode: str
    limit: float | None
    params: list[str]
    test: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    n_failed: int = 0
    tied: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Return the short answer, a few lines of plain text."""
        c = self.configs
        limit = f"{self.limit:g}" if self.limit is not None else ""
        goal = {
            "max_cost": f"mean total cost per run <= {limit} (nominal units)",
            "max_retrains": f"at most {limit} retrains per 10,000 samples",
            "cost_weight": f"maximise accuracy - {limit} x cost per 10,000 samples",
            "accuracy": "the highest mean accuracy (no budget given)",
        }[self.mode]
        lines = [f"Goal: {goal}."]
        if self.recommended is None:
            cheapest = c[~c["oracle"]].sort_values("cost").head(1)
            lines.append("No configuration meets the budget.")
            if len(cheapest):
                r = cheapest.iloc[0]
                lines.append(f"The cheapest is {cheapest.index[0]}: {self._describe(r)}.")
            return "\n".join(lines + [f"Warning: {w}" for w in self.warnings])
        r = c.loc[self.recommended]
        lines += [f"Recommended: {self.recommended}", f"  {self._describe(r)}"]
        if self.tied:
            lines.append(f"  Exactly the same results on every seed: {', '.join(self.tied)} "
                         "(the setting makes no difference there).")
        if self.runner_up is not None:
            u = c.loc[self.runner_up]
            lines += [f"Runner-up: {self.runner_up}", f"  {self._describe(u)}"]
            t = self.test
            what = "score" if self.mode == "cost_weight" else "accuracy"
            if t.get("n", 0) >= 2 and t.get("p_value") is not None:
                verdict = ("distinguishable" if t["distinguishable"]
                           else "NOT distinguishable at the 5% level")
                lines.append(f"  {what} difference {t['difference']:+.4f} (paired t-test over "
                             f"{t['n']} seeds, p = {t['p_value']:.3g}): {verdict}.")
                if not t["distinguishable"] and u["cost"] < r["cost"]:
                    lines.append(f"  The runner-up is cheaper ({u['cost']:.3g} vs "
                                 f"{r['cost']:.3g} per run) and as good as far as these seeds "
                                 "tell: prefer it, or run more seeds.")
            else:
                lines.append(f"  {what} difference {t.get('difference', float('nan')):+.4f}; "
                             "too few common seeds for a paired test.")
        oracle = c[c["oracle"]]
        if len(oracle):
            o = oracle.iloc[0]
            lines.append(f"Reference (knows the true drifts, not a policy): {oracle.index[0]}: "
                         f"accuracy {o['accuracy']:.4f}.")
        if self.n_failed:
            lines.append(f"{self.n_failed} jobs failed or never finished; they are left out.")
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    @staticmethod
    def _describe(r: pd.Series) -> str:
        ci = "" if math.isnan(r["accuracy_ci"]) else f" ± {r['accuracy_ci']:.4f}"
        seeds = int(r["n_seeds"])
        return (f"mean accuracy {r['accuracy']:.4f}{ci} (95% CI, {seeds} seed"
                f"{'s' if seeds != 1 else ''}), {r['retrains_per_10k']:.2f} retrains per "
                f"10,000 samples, cost {r['cost']:.3g} per run ({r['cost_per_10k']:.3g} per "
                "10,000 samples)")


def advise(jobs: pd.DataFrame, *, max_cost: float | None = None,
           max_retrains: float | None = None, cost_weight: float | None = None,
           params: list[str] | None = None, max_ci: float = 0.02) -> Advice:
    """Recommend a configuration from the rows of a sweep's ``summary.csv``.

    Parameters
    ----------
    jobs
        One row per job: override columns (``trigger``, ``trigger.drop``, ``seed``,
        ...), ``mean_accuracy``, ``total_cost``, ``n_retrains``, ``n_samples`` and
        ``status``.
    max_cost, max_retrains, cost_weight
        At most one: the budget (mean total cost per run; mean retrains per 10,000
        samples) or the cost weight (accuracy per cost unit per 10,000 samples).
    params
        The columns that define a configuration; None: the override columns (those
        between ``job`` and the metrics), ``seed`` excluded.
    max_ci
        Warn when the recommended configuration's 95% CI half-width (accuracy) exceeds
        this.

    Returns
    -------
    Advice

    Examples
    --------
    >>> rows = [{"job": f"{i}", "trigger.drop": d, "seed": s,
    ...          "mean_accuracy": 0.90 - 0.2 * d + 0.001 * s, "total_cost": 100 * (0.3 - d),
    ...          "n_retrains": 100 * (0.3 - d), "n_samples": 60_000, "status": "ok"}
    ...         for i, (d, s) in enumerate((d, s) for d in (0.05, 0.1, 0.2) for s in range(3))]
    >>> advice = advise(pd.DataFrame(rows), max_retrains=3.5)
    >>> advice.recommended, advice.runner_up
    ('trigger.drop=0.1', 'trigger.drop=0.2')
    """
    given = [v for v in (max_cost, max_retrains, cost_weight) if v is not None]
    if len(given) > 1:
        raise ValueError("Give at most one of 'max_cost', 'max_retrains' and 'cost_weight'. "
                         f"Got max_cost={max_cost!r}, max_retrains={max_retrains!r}, "
                         f"cost_weight={cost_weight!r} instead.")
    for name, value in (("max_cost", max_cost), ("max_retrains", max_retrains),
                        ("cost_weight", cost_weight), ("max_ci", max_ci)):
        if value is not None and not (isinstance(value, (int, float)) and value >= 0):
            raise ValueError(f"The '{name}' parameter of advise must be a number >= 0. "
                             f"Got {value!r} instead.")
    missing = [c for c in ("mean_accuracy", "total_cost", "n_retrains", "n_samples")
               if c not in jobs]
    if missing:
        raise ValueError(f"The summary has no column {', '.join(map(repr, missing))}: it is "
                         "not a retrain-sim sweep summary.")
    mode, limit = "accuracy", None
    if max_cost is not None:
        mode, limit = "max_cost", float(max_cost)
    elif max_retrains is not None:
        mode, limit = "max_retrains", float(max_retrains)
    elif cost_weight is not None:
        mode, limit = "cost_weight", float(cost_weight)

    params = list(params) if params is not None else _param_columns(jobs)
    status = jobs["status"] if "status" in jobs else pd.Series("ok", index=jobs.index)
    n_failed = int((status != "ok").sum())
    ok = jobs[status == "ok"].copy()
    varying = [p for p in params if ok[p].astype(str).nunique(dropna=False) > 1] if len(ok) \
        else []
    key_cols = varying or params
    ok["_label"] = [", ".join(f"{k}={_fmt_value(r[k])}" for k in key_cols if not pd.isna(r[k]))
                    or "all jobs" for _, r in ok.iterrows()]
    if "seed" not in ok:
        ok["seed"] = np.arange(len(ok))
    n = ok["n_samples"].astype(float).where(ok["n_samples"] > 0)
    ok["_cost10k"] = PER * ok["total_cost"].astype(float) / n
    ok["_ret10k"] = PER * ok["n_retrains"].astype(float) / n
    ok["_score"] = ok["mean_accuracy"].astype(float) - (limit or 0.0) * ok["_cost10k"] if \
        mode == "cost_weight" else ok["mean_accuracy"].astype(float)

    rows = []
    for label, g in ok.groupby("_label", sort=False):
        is_oracle = any(str(g[p].iloc[0]) in ORACLE_VALUES or "AtTrueDrifts" in str(g[p].iloc[0])
                        for p in params)
        row = {"config": label, **{p: g[p].iloc[0] for p in params}, "n_seeds": len(g),
               "accuracy": float(g["mean_accuracy"].mean()),
               "accuracy_ci": ci95(g["mean_accuracy"])[1],
               "cost": float(g["total_cost"].mean()), "cost_ci": ci95(g["total_cost"])[1],
               "cost_per_10k": float(g["_cost10k"].mean()),
               "retrains_per_10k": float(g["_ret10k"].mean()),
               "retrains_per_10k_ci": ci95(g["_ret10k"])[1],
               "score": float(g["_score"].mean()), "oracle": is_oracle}
        rows.append(row)
    columns = ["config", *params, "n_seeds", "accuracy", "accuracy_ci", "cost", "cost_ci",
               "cost_per_10k", "retrains_per_10k", "retrains_per_10k_ci", "score", "oracle"]
    configs = pd.DataFrame(rows, columns=columns).set_index("config")
    configs["oracle"] = configs["oracle"].astype(bool)
    if mode == "max_cost":
        feasible = configs["cost"] <= limit
    elif mode == "max_retrains":
        feasible = configs["retrains_per_10k"] <= limit
    else:
        feasible = pd.Series(True, index=configs.index)
    configs["feasible"] = feasible & ~configs["oracle"]
    eligible = configs["feasible"].to_numpy(dtype=bool)
    # ineligible points are left out (NaN): they neither sit on the front nor dominate it
    on_front = np.zeros(len(configs), dtype=bool)
    on_front[pareto_front(np.where(eligible, configs["cost"].to_numpy(dtype=float), np.nan),
                          configs["accuracy"].to_numpy(dtype=float))] = True
    configs["on_front"] = on_front
    advice = Advice(configs, None, None, mode, limit, params, n_failed=n_failed)
    if not eligible.any():
        if not len(configs):
            advice.warnings.append("No job finished successfully.")
        return advice
    # the objective: accuracy (budget modes) or score; ties go to the cheaper
    order = configs[configs["feasible"]].sort_values(["score", "cost"],
                                                     ascending=[False, True])
    front = order[order["on_front"]]
    best = front.index[0] if mode != "cost_weight" else order.index[0]
    advice.recommended = best
    rest = order.drop(index=best)
    # configurations with exactly the recommendation's results on every seed are ties,
    # listed apart; the runner-up is the best of the others
    mine = ok[ok["_label"] == best].groupby("seed")["_score"].mean()
    for label in rest.index:
        theirs = ok[ok["_label"] == label].groupby("seed")["_score"].mean()
        if theirs.index.equals(mine.index) and np.array_equal(theirs.to_numpy(),
                                                               mine.to_numpy()):
            advice.tied.append(label)
    rest = rest.drop(index=advice.tied)
    advice.runner_up = rest.index[0] if len(rest) else None
    if advice.runner_up is not None:
        advice.test = _paired(ok, best, advice.runner_up)
    advice.warnings += _warnings(configs, best, varying, ok, max_ci)
    return advice


def _paired(ok: pd.DataFrame, a: str, b: str) -> dict:
    sa = ok[ok["_label"] == a].groupby("seed")["_score"].mean()
    sb = ok[ok["_label"] == b].groupby("seed")["_score"].mean()
    common = sa.index.intersection(sb.index)
    diff = float(sa.mean() - sb.mean())
    out = {"n": len(common), "difference": diff, "p_value": None, "distinguishable": False}
    if len(common) < 2:
        return out
    x, y = sa.loc[common].to_numpy(), sb.loc[common].to_numpy()
    d = x - y
    out["difference"] = float(d.mean())
    if np.allclose(d, d[0], rtol=0, atol=1e-15):  # no spread: the t statistic is undefined
        out["p_value"] = 1.0 if abs(d[0]) <= 1e-15 else 0.0
    else:
        out["p_value"] = float(stats.ttest_rel(x, y).pvalue)
    out["distinguishable"] = out["p_value"] < 0.05
    return out


def _warnings(configs: pd.DataFrame, best: str, varying: list[str], ok: pd.DataFrame,
              max_ci: float) -> list[str]:
    out = []
    r = configs.loc[best]
    real = configs[~configs["oracle"]]
    for p in varying:
        values = pd.to_numeric(real[p], errors="coerce")
        if values.isna().all() or pd.isna(pd.to_numeric(r[p], errors="coerce")):
            continue
        # the values swept alongside the recommended setting of the other parameters
        same = real
        for q in varying:
            if q != p:
                same = same[same[q].astype(str) == str(r[q])]
        swept = pd.to_numeric(same[p], errors="coerce").dropna().unique()
        if len(swept) < 2:
            continue
        v = float(r[p])
        if v == swept.min() or v == swept.max():
            side = "smallest" if v == swept.min() else "largest"
            beyond = "below" if side == "smallest" else "above"
            out.append(f"{p}={_fmt_value(r[p])} is the {side} value swept "
                       f"({', '.join(_fmt_value(x) for x in sorted(swept))}): the sweep did not "
                       f"bracket the optimum; extend it {beyond} {_fmt_value(r[p])}.")
    n = int(r["n_seeds"])
    if n < 3:
        out.append(f"only {n} seed{'s' if n != 1 else ''} for the recommendation: the "
                   "confidence interval means little; run at least 3 (better 5+).")
    elif math.isnan(r["accuracy_ci"]) or r["accuracy_ci"] > max_ci:
        out.append(f"the 95% confidence interval (± {r['accuracy_ci']:.4f}) is wider than "
                   f"{max_ci:g}: run more seeds before trusting the ranking.")
    return out


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------


def mean_frontier(frames) -> pd.DataFrame:
    """Average per-seed oracle frontiers by ``K`` (the columns of ``Frontier.frontier``).

    Examples
    --------
    >>> a = pd.DataFrame({"K": [0, 1], "accuracy": [0.8, 0.9], "total_cost": [0.0, 1.0]})
    >>> b = pd.DataFrame({"K": [0, 1], "accuracy": [0.7, 0.9], "total_cost": [0.0, 3.0]})
    >>> mean_frontier([a, b]).round(3).to_dict("list")
    {'K': [0, 1], 'accuracy': [0.75, 0.9], 'total_cost': [0.0, 2.0], 'n_seeds': [2, 2]}
    """
    frames = [f[["K", "accuracy", "total_cost"]] for f in frames]
    both = pd.concat(frames, ignore_index=True)
    out = both.groupby("K", as_index=False).agg(accuracy=("accuracy", "mean"),
                                                total_cost=("total_cost", "mean"),
                                                n_seeds=("accuracy", "size"))
    return out


def draw_frontier(ax, frontier: pd.DataFrame, *, x: str = "total_cost", scale: float = 1.0,
                  max_points: int | None = None, label: str | None = None):
    """Draw the hindsight-optimal accuracy-vs-cost frontier on a matplotlib ``ax``.

    Parameters
    ----------
    ax
        A matplotlib Axes.
    frontier
        ``Frontier.frontier`` or :func:`mean_frontier`: columns ``K``, ``accuracy`` and
        ``x``.
    x
        The cost column (``total_cost``: comparable with a run's ``total_cost``).
    scale
        Multiplies the cost (e.g. ``1e4 / n_samples`` for cost per 10,000 samples).
    max_points
        Draw only ``K`` up to this.
    label
        Legend entry.
    """
    f = frontier.sort_values("K")
    if max_points is not None:
        f = f[f["K"] <= max_points]
    line = ax.plot(f[x] * scale, f["accuracy"], color="black", lw=1.4, ls="-", marker=".",
                   ms=5, zorder=2, drawstyle="steps-post",
                   label=label or "hindsight optimum with K retrains (oracle frontier)")
    return line


def plot_advice(advice: Advice, path, *, frontier: pd.DataFrame | None = None,
                n_samples: float | None = None) -> Path:
    """Accuracy against cost, the Pareto front, the budget and the recommendation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = advice.configs
    if advice.mode == "max_retrains":
        xcol, xci, xlabel = ("retrains_per_10k", "retrains_per_10k_ci",
                             "retrains per 10,000 samples (count, mean over seeds)")
    elif advice.mode == "cost_weight":
        xcol, xci, xlabel = ("cost_per_10k", None,
                             "retraining cost per 10,000 samples (nominal units, mean over "
                             "seeds)")
    else:
        xcol, xci, xlabel = "cost", "cost_ci", "total cost per run (nominal units, mean over seeds)"
    fig, ax = plt.subplots(figsize=(9.5, 5.6))
    x = c[xcol].to_numpy(dtype=float)
    y = c["accuracy"].to_numpy(dtype=float)
    ci = np.nan_to_num(c["accuracy_ci"].to_numpy(dtype=float))
    # bars clipped to what is possible: accuracy in [0, 1]
    yerr = np.array([np.minimum(ci, np.maximum(y, 0)), np.minimum(ci, np.maximum(1 - y, 0))])
    xerr = np.nan_to_num(c[xci].to_numpy(dtype=float)) if xci else None
    feasible = c["feasible"].to_numpy(dtype=bool)
    oracle = c["oracle"].to_numpy(dtype=bool)
    for mask, style, label in (
            (feasible, dict(color="tab:blue", fmt="o"), "configuration (mean, 95% CI)"),
            (~feasible & ~oracle, dict(color="0.65", fmt="o"), "over the budget"),
            (oracle, dict(color="tab:purple", fmt="D"),
             "knows the true drifts (reference, not a policy)")):
        if mask.any():
            ax.errorbar(x[mask], y[mask], yerr=yerr[:, mask],
                        xerr=None if xerr is None else xerr[mask], capsize=3, ms=6, lw=1,
                        label=label, zorder=3, **style)
    front = c["on_front"].to_numpy(dtype=bool)
    if front.any():
        order = np.argsort(x[front])
        ax.plot(x[front][order], y[front][order], color="tab:blue", ls="--", lw=1.1,
                drawstyle="steps-post", zorder=2,
                label="Pareto front (nothing cheaper is more accurate)")
    if len(c) <= 30:  # one note per position: configurations with equal results share it
        notes: dict[tuple[float, float], list[str]] = {}
        named = {advice.recommended, advice.runner_up}  # they are named in the legend
        for label, xi, yi in zip(c.index, x, y, strict=True):
            if label not in named:
                notes.setdefault((round(xi, 9), round(yi, 9)), []).append(_short(label))
        for (xi, yi), labels in notes.items():
            ax.annotate(" / ".join(labels), (xi, yi), xytext=(6, -12),
                        textcoords="offset points", fontsize=7.5, color="0.25")
    if advice.mode in ("max_cost", "max_retrains"):
        ax.axvline(advice.limit, color="tab:red", lw=1.2, ls=":")
        lo, hi = ax.get_xlim()
        ax.axvspan(advice.limit, max(hi, advice.limit * 1.05), color="tab:red", alpha=0.06,
                   lw=0, label=f"over the budget (> {advice.limit:g})")
        ax.set_xlim(min(lo, 0), max(hi, advice.limit * 1.05))
    if advice.recommended is not None:
        r = c.loc[advice.recommended]
        ax.plot(r[xcol], r["accuracy"], marker="*", ms=22, color="gold", mec="black",
                zorder=5, ls="none", label=f"recommended: {advice.recommended}")
        if advice.mode == "cost_weight":
            xs = np.linspace(0, np.nanmax(x) * 1.05 + 1e-9, 50)
            ax.plot(xs, r["score"] + advice.limit * xs, color="goldenrod", lw=1, ls="-.",
                    label=f"equal score (accuracy - {advice.limit:g} x cost per 10k)")
    if advice.runner_up is not None:
        u = c.loc[advice.runner_up]
        ax.plot(u[xcol], u["accuracy"], marker="o", ms=15, mfc="none", mec="darkorange",
                mew=2, zorder=4, ls="none", label=f"runner-up: {advice.runner_up}")
    if frontier is not None and len(frontier):
        # the frontier's K retrains are its x when the budget is in retrains per 10k
        fx = "K" if xcol == "retrains_per_10k" else "total_cost"
        scale = PER / n_samples if xcol != "cost" and n_samples else 1.0
        shown = frontier[frontier[fx] * scale <= max(np.nanmax(x), 1e-9) * 1.2]
        draw_frontier(ax, shown, x=fx, scale=scale)
    top = float(np.nanmax(y + yerr[1]))
    bottom = float(np.nanmin(y - yerr[0]))
    pad = max(0.01, 0.05 * (top - bottom))
    ax.set_ylim(max(0.0, bottom - pad), min(1.0, top + pad))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean accuracy (prequential, fraction correct)")
    ax.set_title("Which configuration to run: accuracy against cost\n(95% confidence "
                 "intervals over seeds)", fontsize=10.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def _short(label: str) -> str:
    parts = [p.split("=", 1)[1] if "=" in p else p for p in label.split(", ")]
    return ", ".join(parts) if len(parts) <= 2 else label


def main(argv: list[str] | None = None) -> None:
    """``retrain-sim-advise DIR``: print the recommendation and write ``advice.png``."""
    parser = argparse.ArgumentParser(
        prog="retrain-sim-advise",
        description="Recommend the configuration of a retrain-sim sweep to run in production: "
                    "the most accurate on the accuracy-vs-cost Pareto front, under a budget "
                    "or for a cost weight, with its confidence interval over seeds and a "
                    "paired comparison with the runner-up.")
    parser.add_argument("sweep_dir", type=Path, help="the sweep directory (with summary.csv)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--max-cost", type=float, metavar="C",
                        help="mean total cost per run, in the nominal units of total_cost")
    budget.add_argument("--max-retrains", type=float, metavar="R",
                        help="mean retrains per 10,000 samples")
    budget.add_argument("--cost-weight", type=float, metavar="L",
                        help="maximise accuracy - L x cost per 10,000 samples (L: accuracy, "
                             "as a fraction, per cost unit per 10,000 samples)")
    parser.add_argument("--max-ci", type=float, default=0.02,
                        help="warn when the 95%% CI half-width of the accuracy exceeds this "
                             "(default 0.02)")
    parser.add_argument("--output", type=Path, default=None,
                        help="figure path (default DIR/advice.png)")
    parser.add_argument("--no-figure", action="store_true", help="print the answer only")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        parser.exit(2, f"retrain-sim-advise: '{args.sweep_dir}' is not a directory.\n")
    try:
        jobs = load_summary(args.sweep_dir)
        advice = advise(jobs, max_cost=args.max_cost, max_retrains=args.max_retrains,
                        cost_weight=args.cost_weight, max_ci=args.max_ci)
    except (FileNotFoundError, ValueError) as ex:
        parser.exit(2, f"retrain-sim-advise: {ex}\n")
    print(advice.text())
    if not args.no_figure and len(advice.configs):
        frontier = None
        path = args.sweep_dir / "oracle_frontier.csv"
        if path.exists():
            frontier = pd.read_csv(path)
        out = plot_advice(advice, args.output or args.sweep_dir / "advice.png",
                          frontier=frontier, n_samples=float(jobs["n_samples"].mean()))
        print(f"Figure: {out}")
    if advice.recommended is None:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""``retrain-sim-advise DIR``: which configuration of a sweep to run in production.

Reads the sweep's ``summary.csv`` (one row per job, written by
``retrain-sim-report`` / the end-of-sweep callback; aggregated on the fly when it is
missing), groups the jobs into configurations (every override but ``seed``), and
recommends, among the configurations that can run in production (not ``drift_aware``,
which knows the true drifts) and meet the budget, the one on the metric-vs-cost Pareto
front with the best mean metric (accuracy; mean absolute error for a regression sweep).
Configurations are the jobs with the same ``config_id`` (every setting but the seed),
named by the parameters that vary; they must have run the same seeds
(``--allow-unequal-seeds`` to compare them anyway):

``--max-cost C``
    mean total cost per run (nominal units, the ``total_cost`` of the summary) <= C;
``--max-retrains R``
    mean retrains per 10,000 scored samples <= R;
``--cost-weight L``
    no budget; maximise mean accuracy - L x (total cost per 10,000 scored samples).
    L is in accuracy (fraction correct) per nominal cost unit per 10,000 samples: with
    one unit per retrain, L = 0.001 says a retrain every 10,000 samples must buy 0.1
    points of accuracy (the unit of :meth:`sim.oracle.Frontier.best_for_cost_weight`).

With none of them the most accurate configuration is recommended. A sweep over several
streams gets one recommendation per stream (``--stream NAME`` for one): accuracy on
different streams is not comparable, and a stream is not a setting one can choose. The
answer gives its 95% confidence interval over seeds, the runner-up, and whether the two are
distinguishable (paired t-test over the seeds both ran); it warns when the recommended
value of a swept numeric parameter is the smallest or largest swept (the sweep did not
bracket the optimum), when there are fewer than 3 seeds, and when the interval is wider
than ``--max-ci``. A figure (``advice.png`` in DIR) shows the metric against cost, the
front, the budget and the recommendation; with ``oracle_frontier.csv`` in DIR it also
draws the hindsight-optimal frontier (:mod:`sim.oracle`).

Robust choice (``experiment=robust_table``, or ``--robust``): when the seeds are
resampled futures of one table (:class:`sim.streams.BlockBootstrap`), :func:`robust`
adds, per configuration, its probability of being the best (the fraction of futures
where its objective is the highest, ties split) and its worst-case 10% objective (CVaR:
the mean of its worst tenth of futures), recommends the best in expectation unless a
configuration within ``--delta`` of its expected objective has a CVaR more than
``--delta`` higher (then that one: a little expectation traded for a safer worst case),
and draws every configuration's distribution over the futures (``robust.png``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from experiments.stats import ci95, pareto_front
from sim.metrics import DESCRIPTORS, METRICS

__all__ = ["Advice", "Robust", "advise", "load_summary", "main", "robust", "streams"]

#: every column of summary.csv that is not a swept parameter
NOT_PARAMS = {m.name for m in METRICS} | set(DESCRIPTORS) | {
    "job", "status", "error", "config", "config_id", "seed"}
DRIFT_AWARE = ("drift_aware", "DriftAware")
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


def _stream_keys(jobs: pd.DataFrame) -> list[str]:
    """Return the columns that choose the stream (``stream`` and its parameters) and vary."""
    return [c for c in jobs.columns if (c == "stream" or c.startswith("stream."))
            and jobs[c].astype(str).nunique(dropna=False) > 1]


def _stream_names(jobs: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Name each job's stream: its ``stream`` value, or ``key=value`` pairs of several keys."""
    if keys == ["stream"]:
        return jobs["stream"].astype(str)
    return pd.Series([", ".join(f"{k}={_fmt_value(v)}" for k, v in zip(keys, r, strict=True))
                      for r in jobs[keys].itertuples(index=False)], index=jobs.index)


def streams(jobs: pd.DataFrame) -> list[str]:
    """Return the streams a sweep ran (one name per stream), or ``[]`` when it ran one.

    Examples
    --------
    >>> streams(pd.DataFrame({"stream": ["sea", "stagger", "sea"], "seed": [0, 0, 1]}))
    ['sea', 'stagger']
    >>> streams(pd.DataFrame({"stream": ["sea", "sea"]}))
    []
    """
    keys = _stream_keys(jobs)
    return list(dict.fromkeys(_stream_names(jobs, keys))) if keys else []


def _param_columns(jobs: pd.DataFrame) -> list[str]:
    """Return the override columns: every column the registry does not know as a metric."""
    return [c for c in jobs.columns if c not in NOT_PARAMS]


def _fmt_value(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


@dataclass
class Advice:
    """The recommendation and everything behind it.

    Attributes
    ----------
    configs
        One row per configuration (indexed by its label): the swept parameters,
        ``n_seeds`` (the seeds behind its value), ``averaged`` (its jobs averaged their
        seeds themselves, as Optuna trials do: one value, no interval), ``value`` and
        ``value_ci`` (the metric's mean and 95% CI half-width), ``cost`` (total per
        run), ``cost_per_10k``, ``retrains_per_10k``, ``score`` (the objective, higher
        is better), ``drift_aware``, ``feasible``, ``on_front``.
    recommended, runner_up
        Labels (None when nothing qualifies).
    mode
        ``"max_cost"``, ``"max_retrains"``, ``"cost_weight"`` or ``"best"``.
    limit
        The budget or cost weight.
    metric
        ``"accuracy"`` or ``"mae"`` (a regression sweep).
    test
        The paired comparison: ``n`` (common seeds), ``difference`` (of the objective),
        ``p_value`` and ``distinguishable``.
    tied
        Configurations with exactly the recommendation's results on every seed.
    scores
        The objective (``score``) per seed (rows) and configuration (columns).
    warnings
        Human-readable warnings.
    """

    configs: pd.DataFrame
    recommended: str | None
    runner_up: str | None
    mode: str
    limit: float | None
    params: list[str]
    metric: str = "accuracy"
    test: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    n_failed: int = 0
    tied: list[str] = field(default_factory=list)
    scores: pd.DataFrame | None = None
    stream: str | None = None

    @property
    def _what(self) -> str:
        return "mean absolute error" if self.metric == "mae" else "mean accuracy"

    def text(self) -> str:
        """Return the short answer, a few lines of plain text."""
        c = self.configs
        limit = f"{self.limit:g}" if self.limit is not None else ""
        goal = {
            "max_cost": f"mean total cost per run <= {limit} (nominal units)",
            "max_retrains": f"at most {limit} retrains per 10,000 samples",
            "cost_weight": f"maximise accuracy - {limit} x cost per 10,000 samples",
            "best": f"the best {self._what} (no budget given)",
        }[self.mode]
        lines = ([f"Stream: {self.stream}."] if self.stream is not None else []) + [
            f"Goal: {goal}."]
        if self.recommended is None:
            cheapest = c[~c["drift_aware"]].sort_values("cost").head(1)
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
            what = "score" if self.mode == "cost_weight" else self.metric
            if t.get("n", 0) >= 2 and t.get("p_value") is not None:
                verdict = ("distinguishable" if t["distinguishable"]
                           else "NOT distinguishable at the 5% level")
                diff = (f"{what} difference {t['difference']:+.4f}" if self.metric != "mae"
                        or self.mode == "cost_weight" else
                        f"mean absolute error lower by {t['difference']:.4f}")
                lines.append(f"  {diff} (paired t-test over {t['n']} seeds, "
                             f"p = {t['p_value']:.3g}): {verdict}.")
                if not t["distinguishable"] and u["cost"] < r["cost"]:
                    lines.append(f"  The runner-up is cheaper ({u['cost']:.3g} vs "
                                 f"{r['cost']:.3g} per run) and as good as far as these seeds "
                                 "tell: prefer it, or run more seeds.")
            else:
                lines.append(f"  {what} difference {t.get('difference', float('nan')):+.4f}; "
                             "too few common seeds for a paired test.")
        aware = c[c["drift_aware"]]
        if len(aware):
            o = aware.iloc[0]
            lines.append(f"Reference (knows the true drifts, not a policy): {aware.index[0]}: "
                         f"{self._what} {o['value']:.4f}.")
        if self.n_failed:
            lines.append(f"{self.n_failed} jobs failed or never finished; they are left out.")
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _describe(self, r: pd.Series) -> str:
        seeds = int(r["n_seeds"])
        if r["averaged"]:
            spread = (f"mean over {seeds} seeds averaged in each job; no interval between "
                      "seeds")
        else:
            spread = f"95% CI, {seeds} seed{'s' if seeds != 1 else ''}"
        ci = "" if math.isnan(r["value_ci"]) else f" ± {r['value_ci']:.4f}"
        return (f"{self._what} {r['value']:.4f}{ci} ({spread}), "
                f"{r['retrains_per_10k']:.2f} retrains per "
                f"10,000 samples, cost {r['cost']:.3g} per run ({r['cost_per_10k']:.3g} per "
                "10,000 samples)")


def advise(jobs: pd.DataFrame, *, max_cost: float | None = None,
           max_retrains: float | None = None, cost_weight: float | None = None,
           params: list[str] | None = None, max_ci: float = 0.02,
           allow_unequal_seeds: bool = False, stream: str | None = None) -> Advice:
    """Recommend a configuration from the rows of a sweep's ``summary.csv``.

    Parameters
    ----------
    jobs
        One row per job: override columns (``trigger``, ``trigger.drop``, ``seed``,
        ...), ``mean_accuracy`` (or ``mean_mae``), ``total_cost``, ``n_retrains``,
        ``n_samples``, ``status`` and, when the run wrote it, ``config_id``.
    max_cost, max_retrains, cost_weight
        At most one: the budget (mean total cost per run; mean retrains per 10,000
        samples) or the cost weight (metric per cost unit per 10,000 samples).
    params
        The columns that name a configuration; None: every column that is not a
        registered metric (:data:`sim.metrics.METRICS`), ``seed`` excluded.
    max_ci
        Warn when the recommended configuration's 95% CI half-width exceeds this.
    allow_unequal_seeds
        Compare configurations that ran different seeds (refused by default: their
        means are not comparable).
    stream
        The stream to advise on (a name of :func:`streams`), required when the sweep ran
        several: one recommendation per stream, never one across them.

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
    mode, limit = _goal(max_cost, max_retrains, cost_weight, max_ci)
    metric = _metric(jobs)
    jobs = _of_stream(jobs, stream)
    params = list(params) if params is not None else _param_columns(jobs)
    status = jobs["status"] if "status" in jobs else pd.Series("ok", index=jobs.index)
    ok = jobs[status == "ok"].copy()
    varying = [p for p in params if ok[p].astype(str).nunique(dropna=False) > 1] if len(ok) \
        else []
    ok["_label"] = _labels(ok, varying or [p for p in params
                                           if p != "stream" and not p.startswith("stream.")])
    group = _grouping(ok)
    if "seed" not in ok:
        ok["seed"] = np.arange(len(ok))
    _check_seeds(ok, group, allow_unequal_seeds)
    sign = 1.0 if metric == "accuracy" else -1.0  # the score is higher-is-better
    ok = _scored(ok, f"mean_{metric}", sign, limit if mode == "cost_weight" else None)
    configs = _configs(ok, group, params, f"mean_{metric}")
    # every job named as its configuration (the first of its jobs' labels)
    ok["_label"] = ok[group].map(ok.groupby(group, sort=False)["_label"].first())
    configs["feasible"] = _within(configs, mode, limit) & ~configs["drift_aware"]
    configs["on_front"] = _on_front(configs, sign)
    advice = Advice(configs, None, None, mode, limit, params, metric=metric,
                    n_failed=int((status != "ok").sum()),
                    scores=ok.pivot_table(index="seed", columns="_label", values="_score"),
                    stream=stream)
    if not configs["feasible"].any():
        if not len(configs):
            advice.warnings.append("No job finished successfully.")
        return advice
    _recommend(advice, ok, varying, max_ci)
    return advice


def _goal(max_cost, max_retrains, cost_weight, max_ci) -> tuple[str, float | None]:
    """Check the budget arguments of :func:`advise`; return its mode and limit."""
    given = [v for v in (max_cost, max_retrains, cost_weight) if v is not None]
    if len(given) > 1:
        raise ValueError("Give at most one of 'max_cost', 'max_retrains' and 'cost_weight'. "
                         f"Got max_cost={max_cost!r}, max_retrains={max_retrains!r}, "
                         f"cost_weight={cost_weight!r} instead.")
    for name, value in (("max_cost", max_cost), ("max_retrains", max_retrains),
                        ("cost_weight", cost_weight), ("max_ci", max_ci)):
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)
                                      and value >= 0):
            raise ValueError(f"The '{name}' parameter of advise must be a finite number >= 0. "
                             f"Got {value!r} instead.")
    for mode, value in (("max_cost", max_cost), ("max_retrains", max_retrains),
                        ("cost_weight", cost_weight)):
        if value is not None:
            return mode, float(value)
    return "best", None


def _metric(jobs: pd.DataFrame) -> str:
    """Return the sweep's metric, ``"accuracy"`` or ``"mae"``; check the summary's columns."""
    metric = "mae" if "mean_mae" in jobs and "mean_accuracy" not in jobs else "accuracy"
    missing = [c for c in (f"mean_{metric}", "total_cost", "n_retrains", "n_samples")
               if c not in jobs]
    if missing:
        raise ValueError(f"The summary has no column {', '.join(map(repr, missing))}: it is "
                         "not a retrain-sim sweep summary (it needs mean_accuracy or "
                         "mean_mae, total_cost, n_retrains and n_samples).")
    return metric


def _of_stream(jobs: pd.DataFrame, stream: str | None) -> pd.DataFrame:
    """Return the jobs of ``stream``, one the sweep ran (None when it ran one stream)."""
    ran = streams(jobs)
    if stream is None and not ran:
        return jobs
    if stream not in ran:
        raise ValueError(
            ("The 'stream' parameter of advise must be one of the streams the sweep ran: "
             f"{', '.join(map(repr, ran))}. Got {stream!r} instead." if ran else
             f"The 'stream' parameter of advise must be None: the sweep ran one stream. "
             f"Got {stream!r} instead.")
            + (" Results on different streams are not comparable: retrain-sim-advise "
               "without --stream prints one recommendation per stream." if ran else ""))
    return jobs[_stream_names(jobs, _stream_keys(jobs)) == stream]


def _labels(ok: pd.DataFrame, keys: list[str]) -> list[str]:
    """Name each job's configuration by its ``key=value`` pairs (``"all jobs"`` without)."""
    return [", ".join(f"{k}={_fmt_value(r[k])}" for k in keys if not pd.isna(r[k]))
            or "all jobs" for _, r in ok.iterrows()]


def _grouping(ok: pd.DataFrame) -> str:
    """Return the column whose values are the configurations: ``config_id``, else ``_label``."""
    if "config_id" not in ok or not ok["config_id"].notna().all():
        return "_label"
    if ok["config_id"].nunique() == len(ok) > ok["_label"].nunique():
        # the seed is interpolated into the config (stream.replicate=${seed}, a resampled
        # future per seed), so every job has its own config_id: the labels group them
        return "_label"
    return "config_id"


def _check_seeds(ok: pd.DataFrame, group: str, allow_unequal_seeds: bool) -> None:
    """Refuse configurations that ran different seeds, unless ``allow_unequal_seeds``."""
    seed_sets = ok.groupby(group, sort=False)["seed"].apply(lambda s: tuple(sorted(s)))
    if seed_sets.nunique() > 1 and not allow_unequal_seeds:
        names = ok.groupby(group, sort=False)["_label"].first()
        shown = "; ".join(f"{names[g]}: {list(s)}" for g, s in seed_sets.items())
        raise ValueError(
            "The configurations ran different seeds, so their means are not comparable "
            f"({shown[:400]}). Finish the sweep (resume=true), or pass "
            "allow_unequal_seeds=True (--allow-unequal-seeds).")


def _scored(ok: pd.DataFrame, head: str, sign: float, cost_weight: float | None) -> pd.DataFrame:
    """Return the jobs with their cost and retrains per 10,000 samples and objective ``_score``."""
    n = ok["n_samples"].astype(float).where(ok["n_samples"] > 0)
    cost10k = PER * ok["total_cost"].astype(float) / n
    score = sign * ok[head].astype(float)
    return ok.assign(_cost10k=cost10k, _ret10k=PER * ok["n_retrains"].astype(float) / n,
                     _score=score if cost_weight is None else score - cost_weight * cost10k)


def _configs(ok: pd.DataFrame, group: str, params: list[str], head: str) -> pd.DataFrame:
    """Return one row per configuration: its parameters, metric, cost and retrains over seeds."""
    rows = []
    for _, g in ok.groupby(group, sort=False):
        aware = any(any(v in str(g[p].iloc[0]) for v in DRIFT_AWARE) for p in params)
        averaged = _averaged(g)
        rows.append({
            "config": g["_label"].iloc[0], **{p: g[p].iloc[0] for p in params},
            "n_seeds": len(averaged) if averaged else len(g), "averaged": bool(averaged),
            "value": float(g[head].mean()), "value_ci": ci95(g[head])[1],
            "cost": float(g["total_cost"].mean()), "cost_ci": ci95(g["total_cost"])[1],
            "cost_per_10k": float(g["_cost10k"].mean()),
            "retrains_per_10k": float(g["_ret10k"].mean()),
            "retrains_per_10k_ci": ci95(g["_ret10k"])[1],
            "score": float(g["_score"].mean()), "drift_aware": aware})
    columns = ["config", *params, "n_seeds", "averaged", "value", "value_ci", "cost", "cost_ci",
               "cost_per_10k", "retrains_per_10k", "retrains_per_10k_ci", "score", "drift_aware"]
    configs = pd.DataFrame(rows, columns=columns).set_index("config")
    configs["drift_aware"] = configs["drift_aware"].astype(bool)
    return configs


def _within(configs: pd.DataFrame, mode: str, limit: float | None) -> pd.Series:
    """Whether each configuration meets the budget (every one without a budget)."""
    if mode == "max_cost":
        return configs["cost"] <= limit
    if mode == "max_retrains":
        return configs["retrains_per_10k"] <= limit
    return pd.Series(True, index=configs.index)


def _on_front(configs: pd.DataFrame, sign: float) -> np.ndarray:
    """Whether each configuration is on the metric-vs-cost Pareto front of the feasible ones."""
    eligible = configs["feasible"].to_numpy(dtype=bool)
    # ineligible points are left out (NaN): they neither sit on the front nor dominate it
    on_front = np.zeros(len(configs), dtype=bool)
    on_front[pareto_front(np.where(eligible, configs["cost"].to_numpy(dtype=float), np.nan),
                          sign * configs["value"].to_numpy(dtype=float))] = True
    return on_front


def _recommend(advice: Advice, ok: pd.DataFrame, varying: list[str], max_ci: float) -> None:
    """Fill in the advice's recommendation, its ties, the runner-up, the test and warnings."""
    configs = advice.configs
    # the objective: the metric (budget modes) or score; ties go to the cheaper
    order = configs[configs["feasible"]].sort_values(["score", "cost"],
                                                     ascending=[False, True])
    front = order[order["on_front"]]
    best = front.index[0] if advice.mode != "cost_weight" else order.index[0]
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
    advice.warnings += _warnings(configs, best, varying, max_ci)


def _averaged(jobs: pd.DataFrame) -> list[int]:
    """Return the seeds one job of a configuration averaged (an Optuna trial), else ``[]``.

    Examples
    --------
    >>> _averaged(pd.DataFrame({"seed": [0], "seeds_averaged": ["0 1 2"]}))
    [0, 1, 2]
    >>> _averaged(pd.DataFrame({"seed": [0, 1]}))
    []
    """
    if "seeds_averaged" not in jobs or len(jobs) != 1 or pd.isna(jobs["seeds_averaged"].iloc[0]):
        return []
    return [int(s) for s in str(jobs["seeds_averaged"].iloc[0]).split()]


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


def _warnings(configs: pd.DataFrame, best: str, varying: list[str],
              max_ci: float) -> list[str]:
    out = []
    r = configs.loc[best]
    real = configs[~configs["drift_aware"]]
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
    if r["averaged"]:
        out.append(f"each configuration is one job that averaged {n} seeds (an Optuna trial): "
                   "no interval between seeds, so how far the ranking holds is unknown; rerun "
                   "the recommended and the runner-up settings over seeds (seed=0,1,2,...) "
                   "for intervals.")
    elif n < 3:
        out.append(f"only {n} seed{'s' if n != 1 else ''} for the recommendation: the "
                   "confidence interval means little; run at least 3 (better 5+).")
    elif math.isnan(r["value_ci"]) or r["value_ci"] > max_ci:
        out.append(f"the 95% confidence interval (± {r['value_ci']:.4f}) is wider than "
                   f"{max_ci:g}: run more seeds before trusting the ranking.")
    return out


@dataclass
class Robust:
    """How each configuration fares over resampled futures (:func:`robust`).

    Attributes
    ----------
    table
        One row per configuration, best expected objective first: ``mean``,
        ``p_best`` (the fraction of futures where it is the best, ties split),
        ``cvar`` (the mean of its worst ``tail`` of futures) and ``n`` (futures).
    recommended
        The configuration recommended, and ``expected_best``, the one with the best
        mean (they differ when the rule traded expectation for the worst case).
    delta, tail
        The rule's margin and the tail of the CVaR.
    what
        The objective's name.
    """

    table: pd.DataFrame
    recommended: str
    expected_best: str
    delta: float
    tail: float
    what: str

    def text(self) -> str:
        """Return the per-configuration table and the recommendation, in plain text."""
        n = int(self.table["n"].max())
        lines = [f"Over {n} resampled futures ({self.what}; CVaR: the mean of the worst "
                 f"{self.tail:.0%}, {max(1, math.ceil(self.tail * n))} of {n}):"]
        width = max(len(c) for c in self.table.index)
        for label, r in self.table.iterrows():
            lines.append(f"  {label:<{width}}  P(best) {r['p_best']:.2f}  mean "
                         f"{r['mean']:.4f}  CVaR {r['cvar']:.4f}")
        if self.recommended == self.expected_best:
            lines.append(f"Robust choice: {self.recommended} (the best in expectation; no "
                         f"configuration within {self.delta:g} of it has a worst case more "
                         f"than {self.delta:g} better).")
        else:
            b, r = self.table.loc[self.expected_best], self.table.loc[self.recommended]
            lines.append(f"Robust choice: {self.recommended}: its expected {self.what} is "
                         f"{b['mean'] - r['mean']:.4f} below the best in expectation "
                         f"({self.expected_best}), within {self.delta:g}, and its worst case "
                         f"{r['cvar'] - b['cvar']:.4f} better, more than {self.delta:g}.")
        return "\n".join(lines)


def robust(advice: Advice, delta: float = 0.01, tail: float = 0.1) -> Robust:
    """Rank an advice's configurations over resampled futures: P(best), mean and CVaR.

    Each seed of the sweep is one future (``experiment=robust_table``). Only the
    configurations that can run in production and meet the advice's budget count.

    Parameters
    ----------
    advice
        The advice on the sweep (:func:`advise`), whose ``score`` is the objective.
    delta
        The rule's margin, >= 0: the best in expectation is recommended unless a
        configuration whose mean is at most ``delta`` lower has a CVaR more than
        ``delta`` higher; then the one of those with the highest CVaR.
    tail
        The share of the worst futures the CVaR averages, in (0, 1] (at least one).

    Returns
    -------
    Robust

    Examples
    --------
    ``b`` is better on average but fails badly on one future in five:

    >>> rows = [{"trigger": t, "seed": s, "mean_accuracy": a, "total_cost": 1.0,
    ...          "n_retrains": 1, "n_samples": 10_000, "status": "ok"}
    ...         for s in range(10)
    ...         for t, a in (("a", 0.80), ("b", 0.70 if s % 5 == 0 else 0.84))]
    >>> r = robust(advise(pd.DataFrame(rows)), delta=0.05)
    >>> r.table[["p_best", "mean", "cvar"]].round(3)
               p_best   mean  cvar
    config
    trigger=b     0.8  0.812   0.7
    trigger=a     0.2  0.800   0.8
    >>> r.recommended, r.expected_best
    ('trigger=a', 'trigger=b')
    """
    for name, value, ok in (("delta", delta, isinstance(delta, (int, float)) and delta >= 0),
                            ("tail", tail, isinstance(tail, (int, float)) and 0 < tail <= 1)):
        if not ok or isinstance(value, bool):
            rule = "a number >= 0" if name == "delta" else "a number in (0, 1]"
            raise ValueError(f"The '{name}' parameter of robust must be {rule}. Got "
                             f"{value!r} instead.")
    eligible = advice.configs.index[advice.configs["feasible"]]
    if advice.scores is None or not len(eligible):
        raise ValueError("No configuration can be recommended (none is feasible): there is "
                         "nothing to rank over the futures.")
    scores = advice.scores[list(eligible)].dropna()
    if len(scores) < 2:
        raise ValueError(f"The sweep has {len(scores)} future(s) that every configuration "
                         "ran: a robust choice needs at least 2 (seed=range(20)).")
    values = scores.to_numpy(dtype=float)
    best = np.isclose(values, values.max(axis=1, keepdims=True), rtol=0, atol=1e-12)
    k = max(1, math.ceil(tail * len(values)))
    table = pd.DataFrame({
        "mean": values.mean(axis=0),
        "p_best": (best / best.sum(axis=1, keepdims=True)).mean(axis=0),
        "cvar": np.sort(values, axis=0)[:k].mean(axis=0),
        "n": len(values)}, index=scores.columns).sort_values("mean", ascending=False,
                                                             kind="stable")
    table.index.name = "config"
    top = table.index[0]
    near = table[table["mean"] >= table.loc[top, "mean"] - delta]
    safest = near["cvar"].idxmax()
    pick = safest if near.loc[safest, "cvar"] > table.loc[top, "cvar"] + delta else top
    what = (f"accuracy - {advice.limit:g} x cost per 10,000 samples"
            if advice.mode == "cost_weight" else
            "-(mean absolute error)" if advice.metric == "mae" else "accuracy")
    return Robust(table, pick, top, float(delta), float(tail), what)


def _resampled(sweep_dir: Path) -> bool:
    """Whether the sweep's jobs replay resampled futures (a BlockBootstrap stream)."""
    from experiments.report import find_jobs

    for job in find_jobs(sweep_dir):
        try:
            record = json.loads((job / "summary.json").read_text())
        except (OSError, ValueError):
            continue
        stream = (record.get("config") or {}).get("stream") or {}
        return stream.get("_target_") == "sim.streams.BlockBootstrap"
    return False


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
    parser.add_argument("--allow-unequal-seeds", action="store_true",
                        help="compare configurations that ran different seeds (refused by "
                             "default: their means are not comparable)")
    parser.add_argument("--robust", action="store_true",
                        help="rank the configurations over the seeds as resampled futures "
                             "(automatic for experiment=robust_table): P(best), CVaR")
    parser.add_argument("--delta", type=float, default=0.01,
                        help="robust choice: trade at most DELTA of expected objective for a "
                             "worst-10%% objective more than DELTA better (default 0.01)")
    parser.add_argument("--stream", default=None, metavar="NAME",
                        help="advise on one stream of a sweep over several (default: one "
                             "recommendation per stream)")
    parser.add_argument("--output", type=Path, default=None,
                        help="figure path (default DIR/advice.png; advice_<stream>.png per "
                             "stream of a sweep over several)")
    parser.add_argument("--no-figure", action="store_true", help="print the answer only")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        parser.exit(2, f"retrain-sim-advise: '{args.sweep_dir}' is not a directory.\n")
    try:
        jobs = load_summary(args.sweep_dir)
        chosen = [args.stream] if args.stream is not None else streams(jobs) or [None]
        answers = [advise(jobs, max_cost=args.max_cost, max_retrains=args.max_retrains,
                          cost_weight=args.cost_weight, max_ci=args.max_ci,
                          allow_unequal_seeds=args.allow_unequal_seeds, stream=s)
                   for s in chosen]
        resampled = args.robust or _resampled(args.sweep_dir)
        robusts = [robust(a, delta=args.delta) if resampled else None for a in answers]
    except (FileNotFoundError, ValueError) as ex:
        parser.exit(2, f"retrain-sim-advise: {ex}\n")
    several = len(answers) > 1
    if several:
        print(f"The sweep ran {len(answers)} streams: one recommendation per stream (results "
              "on different streams are not comparable).")
    for advice, rob in zip(answers, robusts, strict=True):
        print(("\n" if several else "") + advice.text())
        if rob is not None:
            print(rob.text())
        if not args.no_figure and len(advice.configs):
            print(f"Figure: {_figure(advice, args, jobs, several)}")
            if rob is not None:
                print(f"Figure: {_robust_figure(advice, rob, args, several)}")
    if any(a.recommended is None for a in answers):
        sys.exit(1)


def _figure(advice: Advice, args, jobs: pd.DataFrame, several: bool) -> Path:
    """Draw ``advice.png`` (``advice_<stream>.png`` for one of several streams)."""
    import re

    import matplotlib

    matplotlib.use("Agg")  # a file only, whatever the environment's display
    from experiments import plots

    frontier = None
    path = args.sweep_dir / "oracle_frontier.csv"
    if path.exists() and not several:  # the optimum of the sweep's one stream
        frontier = pd.read_csv(path)
    safe = re.sub(r"[^\w.-]+", "_", str(advice.stream))
    name = f"advice_{safe}.png" if several else "advice.png"
    out = args.output or args.sweep_dir / name
    if several and args.output is not None:
        out = args.output.with_name(f"{args.output.stem}_{name.removeprefix('advice_')}")
    return plots.advice(advice, out, frontier=frontier, n_samples=float(jobs["n_samples"].mean()))


def _robust_figure(advice: Advice, rob, args, several: bool) -> Path:
    """Draw ``robust.png`` (``robust_<stream>.png`` for one of several streams)."""
    import re

    from experiments import plots

    safe = re.sub(r"[^\w.-]+", "_", str(advice.stream))
    name = f"robust_{safe}.png" if several else "robust.png"
    return plots.replicates(advice.scores[list(rob.table.index)], args.sweep_dir / name,
                            recommended=rob.recommended, what=rob.what)


if __name__ == "__main__":
    main()

"""Rank statistics of a benchmark sweep: which policies are better across streams and seeds.

A benchmark (``experiment=benchmark``) runs every policy on every stream and seed; each
(stream, seed) pair is a *block*. Per block the policies are ranked (1 is best, ties get
their mean rank) on two declared objectives:

``objective``
    ``mean_accuracy - cost_weight x total cost per 10,000 scored samples`` (higher is
    better; ``cost_weight`` is lambda, in the unit of ``retrain-sim-advise --cost-weight``
    and of :meth:`sim.oracle.Frontier.best_for_cost_weight`). Its distance below the
    hindsight optimum of the same objective (the best schedule any job of the block's
    oracle frontier reaches, :mod:`sim.oracle`) is reported as ``gap_to_optimum``;
    within a block the optimum is one number, so ranking that gap would repeat this
    ranking.
``regret``
    the run's ``regret``: the hindsight optimum with as many retrains minus its accuracy
    (lower is better): how well it *timed* its retrains. A policy that never retrains
    has no regret by definition; as in the report's tables
    (:attr:`sim.metrics.Metric.for_never`) it is left out of this ranking.

Across blocks, :func:`rank_test` runs the Friedman test (``scipy.stats.friedmanchisquare``)
and the Nemenyi post-hoc test (``scikit_posthocs.posthoc_nemenyi_friedman``) with
Demšar's (JMLR 2006) critical difference, ``q_alpha sqrt(k (k + 1) / (6 N))`` with
``q_alpha`` from ``scipy.stats.studentized_range``: two policies whose mean ranks differ
by more than it are different at level ``alpha``. :func:`section` writes ``ranks.csv``
and ``critical_difference.png`` into the sweep directory and returns the report's
"Rank statistics" section. It runs only when the jobs' config has a ``ranks`` key
(``experiment=benchmark`` sets it: ``cost_weight`` and ``alpha``).

The post-hoc test needs scikit-posthocs, in the ``ranks`` extra
(``pip install 'retrain-sim[ranks]'``); :func:`check_before_launch` refuses a benchmark
sweep without it before any job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from experiments import store
from experiments.stats import without_stream

__all__ = ["OBJECTIVES", "RankTest", "blocks", "check_before_launch", "rank_test", "require",
           "section"]

OBJECTIVES = {"objective": "max", "regret": "min"}
"""The ranked objectives and which direction is better."""

PER = 10_000
FIGURE = "critical_difference.png"
TABLE = "ranks.csv"


def require() -> None:
    """Raise ImportError naming the extra when scikit-posthocs is not installed."""
    try:
        import scikit_posthocs  # noqa: F401
    except ImportError as ex:
        raise ImportError(
            "The rank statistics of experiment=benchmark (the Nemenyi post-hoc test and the "
            "critical-difference diagram) need scikit-posthocs, which is not installed: "
            "pip install 'retrain-sim[ranks]'.") from ex


def _ranked(name: str, conf_dir: Path, seen: frozenset = frozenset()) -> bool:
    """Whether the preset ``name`` (or one it builds on) declares a ``ranks`` key."""
    from omegaconf import OmegaConf

    path = conf_dir / "experiment" / f"{name}.yaml"
    if name in seen or not path.is_file():
        return False
    preset = OmegaConf.load(path)
    parents = [d for d in preset.get("defaults") or [] if isinstance(d, str)]
    return "ranks" in preset or any(_ranked(p, conf_dir, seen | {name}) for p in parents)


def check_before_launch(argv: list[str], conf_dir: Path | None = None) -> str | None:
    """Return a message when the command runs a benchmark preset without the ranks extra.

    A benchmark preset is one that declares ``ranks`` (``experiment=benchmark``,
    ``benchmark_elec2``); its report needs scikit-posthocs, so the sweep is refused before
    any job rather than after all of them. None when there is nothing to refuse.

    Examples
    --------
    >>> check_before_launch(["-m", "trigger=never"]) is None
    True
    """
    from experiments import CONF_DIR, errors

    conf_dir = CONF_DIR if conf_dir is None else Path(conf_dir)
    names = []
    for arg in errors._overrides(argv):
        parsed = errors._parse(arg)
        if parsed is not None and parsed.key_or_group.lstrip("+~") == "experiment":
            names += errors._values(parsed)
    if not any(_ranked(name, conf_dir) for name in names):
        return None
    try:
        require()
    except ImportError as ex:
        return f"retrain-sim: {ex} No job was launched."
    return None


@dataclass
class RankTest:
    """The ranks of ``k`` policies over ``n_blocks`` blocks, and the tests on them.

    Attributes
    ----------
    ranks
        Per block (rows) and policy (columns): its rank, 1 the best, ties averaged.
    mean_ranks
        Per policy, its mean rank, best first.
    statistic, p_value
        The Friedman chi-square statistic and its p-value (None with fewer than 3
        policies or 2 blocks: the test needs them).
    critical_difference
        Nemenyi's critical difference of the mean ranks at ``alpha``.
    pairwise
        The Nemenyi p-values, a policy x policy DataFrame.
    alpha
        The level of both tests.
    """

    ranks: pd.DataFrame
    mean_ranks: pd.Series
    statistic: float | None
    p_value: float | None
    critical_difference: float | None
    pairwise: pd.DataFrame | None
    alpha: float

    @property
    def n_blocks(self) -> int:
        """Return the number of blocks ranked."""
        return len(self.ranks)

    def groups(self) -> list[list[str]]:
        """Return the maximal groups of policies the Nemenyi test cannot tell apart.

        Each group is a run of policies in mean-rank order whose mean ranks differ by at
        most the critical difference; a group inside another is left out.
        """
        if self.critical_difference is None:
            return []
        names, values = list(self.mean_ranks.index), self.mean_ranks.to_numpy()
        out: list[list[str]] = []
        for i in range(len(names)):
            j = int(np.searchsorted(values, values[i] + self.critical_difference,
                                    side="right"))
            if j - i > 1 and not (out and names.index(out[-1][-1]) >= j - 1):
                out.append(names[i:j])
        return out


def rank_test(values: pd.DataFrame, better: str = "max", alpha: float = 0.05) -> RankTest:
    """Rank the policies per block and test the ranks across blocks.

    Parameters
    ----------
    values
        One row per block, one column per policy: the objective. Every cell must be
        a number (a block missing a policy cannot be ranked: drop it first).
    better
        ``"max"`` (higher is better) or ``"min"``.
    alpha
        The level of the Friedman and Nemenyi tests, in (0, 1).

    Returns
    -------
    RankTest

    Examples
    --------
    Three policies on four blocks; ``a`` always best, ``c`` always worst:

    >>> values = pd.DataFrame({"a": [0.9, 0.8, 0.7, 0.95], "b": [0.8, 0.7, 0.6, 0.9],
    ...                        "c": [0.7, 0.6, 0.5, 0.85]})
    >>> test = rank_test(values)
    >>> test.mean_ranks.to_dict()
    {'a': 1.0, 'b': 2.0, 'c': 3.0}
    >>> round(test.statistic, 3), round(test.p_value, 4), round(test.critical_difference, 3)
    (8.0, 0.0183, 1.657)
    """
    if better not in ("max", "min"):
        raise ValueError(f"The 'better' parameter of rank_test must be 'max' or 'min'. Got "
                         f"{better!r} instead.")
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise ValueError(f"The 'alpha' parameter of rank_test must be a float in (0, 1). Got "
                         f"{alpha!r} instead.")
    numeric = values.apply(pd.to_numeric, errors="coerce")
    if values.shape[1] < 2 or not len(values) or numeric.isna().any().any():
        raise ValueError("The 'values' parameter of rank_test must be a table of numbers "
                         "with at least one block (row) and two policies (columns). Got "
                         f"{values.shape[0]} x {values.shape[1]}, "
                         f"{int(numeric.isna().sum().sum())} cells missing instead.")
    ranks = numeric.rank(axis=1, ascending=better == "min", method="average")
    mean_ranks = ranks.mean().sort_values(kind="stable")
    n, k = numeric.shape
    if k < 3 or n < 2:
        return RankTest(ranks, mean_ranks, None, None, None, None, alpha)
    statistic, p_value = stats.friedmanchisquare(*(numeric[c].to_numpy() for c in numeric))
    import scikit_posthocs as sp

    # the post-hoc test ranks each block itself (smallest first): give it the ranks
    pairwise = sp.posthoc_nemenyi_friedman(ranks.to_numpy())
    pairwise.index = pairwise.columns = list(numeric.columns)
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    cd = float(q * np.sqrt(k * (k + 1) / (6 * n)))
    return RankTest(ranks, mean_ranks, float(statistic), float(p_value), cd, pairwise, alpha)


def blocks(jobs: pd.DataFrame, cost_weight: float,
           optimum: pd.Series | None = None) -> pd.DataFrame:
    """Return one row per finished job: its block, policy and the ranked objectives.

    Parameters
    ----------
    jobs
        One row per job (a sweep's ``summary.csv``): ``config`` (its label),
        ``seed``, ``mean_accuracy``, ``total_cost``, ``n_samples``, ``n_retrains``,
        ``regret``, ``status`` and, when the sweep varies it, ``stream``.
    cost_weight
        lambda: accuracy per cost unit per 10,000 scored samples, >= 0.
    optimum
        Per job (indexed like ``jobs``): the best objective of its oracle frontier;
        None: no ``gap_to_optimum``.

    Returns
    -------
    DataFrame
        ``block`` (``stream/seed``), ``policy`` (the label without the stream),
        ``objective``, ``regret``, ``n_retrains`` and ``gap_to_optimum`` (the block's
        best optimum minus the objective; NaN without ``optimum``).

    Examples
    --------
    >>> jobs = pd.DataFrame({"config": ["trigger=a, stream=s", "trigger=b, stream=s"],
    ...                      "stream": ["s", "s"], "seed": [0, 0], "status": ["ok", "ok"],
    ...                      "mean_accuracy": [0.9, 0.8], "total_cost": [6.0, 0.0],
    ...                      "n_samples": [60_000, 60_000], "n_retrains": [6, 0],
    ...                      "regret": [0.01, 0.0]})
    >>> blocks(jobs, 0.05)[["block", "policy", "objective"]]
      block     policy  objective
    0   s/0  trigger=a       0.85
    1   s/0  trigger=b       0.80
    """
    if not (isinstance(cost_weight, (int, float)) and not isinstance(cost_weight, bool)
            and cost_weight >= 0):
        raise ValueError("The 'cost_weight' parameter of blocks must be a number >= 0. Got "
                         f"{cost_weight!r} instead.")
    missing = [c for c in ("config", "seed", "mean_accuracy", "total_cost", "n_samples",
                           "n_retrains", "status") if c not in jobs]
    if missing:
        raise ValueError(f"The 'jobs' parameter of blocks must be a classification sweep's "
                         f"summary: it has no column {', '.join(map(repr, missing))}.")
    ok = jobs[jobs["status"] == "ok"]
    stream = ok["stream"].astype(str) if "stream" in ok else pd.Series("", index=ok.index)
    n = ok["n_samples"].astype(float)
    out = pd.DataFrame({
        "block": stream + "/" + ok["seed"].astype(int).astype(str),
        "policy": [without_stream(c, s) for c, s in zip(ok["config"], stream, strict=True)],
        "objective": ok["mean_accuracy"].astype(float)
        - cost_weight * PER * ok["total_cost"].astype(float) / n,
        "regret": ok["regret"].astype(float) if "regret" in ok else np.nan,
        "n_retrains": ok["n_retrains"].astype(float),
    })
    if optimum is None:
        out["gap_to_optimum"] = np.nan
    else:
        best = optimum.reindex(ok.index).groupby(out["block"]).transform("max")
        out["gap_to_optimum"] = best - out["objective"]
    return out.reset_index(drop=True)


def _optimum(frontier: Path, cost_weight: float, n_samples: float) -> float:
    """Return the best objective of a job's oracle frontier (NaN when there is none)."""
    try:
        f = pd.read_csv(frontier, usecols=["accuracy", "total_cost"])
    except (OSError, ValueError):
        return np.nan
    return float((f["accuracy"] - cost_weight * PER * f["total_cost"] / n_samples).max())


def _spec(records: dict) -> dict | None:
    """Return the ``ranks`` section of the first finished job's config (None: not a benchmark)."""
    for _, record in records.values():
        if record and record.get("status") == "ok":
            spec = (record.get("config") or {}).get("ranks")
            return None if spec is None else dict(spec)
    return None


def _cost_weights(records: dict) -> set[float]:
    """Return the distinct ``cost_weight`` of the jobs' triggers (the cost-aware ones)."""
    found = set()
    for _, record in records.values():
        trigger = ((record or {}).get("config") or {}).get("trigger") or {}
        if "cost_weight" in trigger:
            found.add(float(trigger["cost_weight"]))
    return found


def _optima(jobs: pd.DataFrame, records: dict, cost_weight: float) -> pd.Series:
    """Per job (indexed like ``jobs``): the best objective of its oracle frontier, or NaN."""
    dirs = {name: job for name, (job, _) in records.items()}
    return pd.Series([
        _optimum(dirs[name] / store.FRONTIER, cost_weight, float(n)) if name in dirs
        else np.nan for name, n in zip(jobs["job"], jobs["n_samples"], strict=True)],
        index=jobs.index)


def _tests(long: pd.DataFrame, alpha: float) -> dict[str, tuple[RankTest, int]]:
    """Per objective of :data:`OBJECTIVES` that can be ranked: its test, and blocks left out.

    A test ranks the blocks where every policy finished (the others are left out); the
    regret leaves out the policies that never retrain. An objective with fewer than two
    policies or no complete block is absent.
    """
    tests = {}
    for name, better in OBJECTIVES.items():
        wide = long.pivot_table(index="block", columns="policy", values=name,
                                aggfunc="first", dropna=False)
        if name == "regret":  # the policies that never retrain win it by doing nothing
            retrains = long.groupby("policy")["n_retrains"].mean()
            wide = wide[[p for p in wide.columns if retrains.get(p, 0) > 0]]
        complete = wide.dropna()
        if complete.shape[1] >= 2 and len(complete):
            tests[name] = (rank_test(complete, better, alpha), len(wide) - len(complete))
    return tests


def _table(long: pd.DataFrame, tests: dict[str, tuple[RankTest, int]]) -> pd.DataFrame:
    """Return ``ranks.csv``: per policy its mean ranks and blocks, then its mean values.

    Sorted by the mean rank on the first objective tested.
    """
    table = pd.DataFrame(index=sorted(long["policy"].unique()))
    table.index.name = "policy"
    for name, (test, _) in tests.items():
        table[f"mean_rank_{name}"] = test.mean_ranks
        # a count: an integer column, empty (not NaN, not 4.0) for a policy left out of it
        table[f"n_blocks_{name}"] = pd.Series(test.n_blocks, index=test.mean_ranks.index,
                                              dtype="Int64")
    means = long.groupby("policy")[["objective", "regret", "gap_to_optimum",
                                    "n_retrains"]].mean()
    return table.join(means.add_prefix("mean_")).sort_values(
        f"mean_rank_{next(iter(tests))}", kind="stable")


def _method(records: dict, cost_weight: float, alpha: float) -> list[str]:
    """Return what is ranked and tested, and a warning when the triggers aimed elsewhere."""
    lines = [
        f"Each stream and seed is a block; per block the policies are ranked (1 best, ties "
        f"averaged) on the objective **accuracy - {cost_weight:g} x cost per 10,000 samples** "
        "(lambda = `ranks.cost_weight`) and, separately, on the **regret** (the hindsight "
        "optimum with as many retrains minus the accuracy: the timing of the retrains; the "
        "policies that never retrain are left out of it, as they have none by definition). "
        "Across blocks the Friedman test asks whether any policy ranks differently from the "
        "others; the Nemenyi post-hoc test (scikit-posthocs) whether two do: their mean "
        f"ranks differ by more than the critical difference (CD) at level {alpha:g} "
        "(Demšar, JMLR 2006). `ranks.csv` holds one row per policy: mean ranks, blocks, "
        "mean objective, regret, gap to the hindsight optimum of the objective, retrains.",
        ""]
    weights = _cost_weights(records) - {cost_weight}
    if weights:
        lines += [f"**Warning:** the cost-aware triggers ran with cost_weight "
                  f"{', '.join(f'{w:g}' for w in sorted(weights))}, not the ranking's lambda "
                  f"{cost_weight:g}: they aimed at another objective than the one ranked.", ""]
    return lines


def _verdict(name: str, test: RankTest, dropped: int, alpha: float) -> list[str]:
    """Return the subsection of one ranked objective: the tests and what they conclude."""
    k = len(test.mean_ranks)
    lines = [f"### Ranked on the {name}", ""]
    if test.p_value is None:
        return lines + [f"{k} policies over {test.n_blocks} blocks: too few for the Friedman "
                        "test (it needs 3 policies and 2 blocks).", ""]
    verdict = ("the policies do not all rank alike" if test.p_value < alpha else
               "no evidence that the policies rank differently")
    groups = test.groups()
    return lines + [
        f"{k} policies over {test.n_blocks} blocks"
        + (f" ({dropped} blocks left out: a policy did not finish there)" if dropped
           else "") + f". Friedman chi-square = {test.statistic:.2f}, "
        f"p = {test.p_value:.3g}: {verdict} (at {alpha:g}). Nemenyi critical difference "
        f"CD = {test.critical_difference:.2f} ranks: policies whose mean ranks differ by "
        "less are not distinguishable on these blocks"
        + (f"; e.g. the best, {test.mean_ranks.index[0]}, cannot be told apart from "
           f"{len(groups[0]) - 1} others." if groups and groups[0][0]
           == test.mean_ranks.index[0] else "."), ""]


def _diagram(test: RankTest, sweep_dir: Path, cost_weight: float, alpha: float) -> list[str]:
    """Draw ``critical_difference.png`` of ``test``; return its lines in the report."""
    from experiments import plots

    path = plots.critical_difference(test, sweep_dir / FIGURE,
                                     title=f"Mean rank on accuracy - {cost_weight:g} x "
                                           "cost per 10,000 samples")
    return [f"![critical difference]({path.name})", "",
            "Mean rank per policy on the objective (1 best, left); a bar joins "
            "policies the Nemenyi test cannot tell apart at level "
            f"{alpha:g} (their mean ranks differ by less than the critical "
            "difference, in the title).", ""]


def section(sweep_dir: Path, jobs: pd.DataFrame, records: dict,
            figures: bool = True) -> list[str]:
    """Write ``ranks.csv`` and ``critical_difference.png``; return the report's section.

    Parameters
    ----------
    sweep_dir
        The sweep directory.
    jobs
        The aggregated jobs (:attr:`experiments.report.Aggregate.jobs`).
    records
        Per job name: ``(job directory, its summary.json record)``.
    figures
        Draw the critical-difference diagram.

    Returns
    -------
    list of str
        Markdown lines; empty when the jobs' config has no ``ranks`` key.
    """
    spec = _spec(records)
    if spec is None:
        return []
    lines = ["## Rank statistics", ""]
    try:
        require()
    except ImportError as ex:  # a report re-aggregated where the extra is missing
        return lines + [f"Not computed: {ex}", ""]
    if "mean_accuracy" not in jobs:
        return lines + ["Not computed: the ranks use accuracy, and this sweep has none "
                        "(a regression sweep).", ""]
    cost_weight = float(spec.get("cost_weight", 0.0))
    alpha = float(spec.get("alpha", 0.05))
    long = blocks(jobs, cost_weight, _optima(jobs, records, cost_weight))
    tests = _tests(long, alpha)
    if not tests:
        return lines + ["Not computed: no block (stream and seed) where every policy "
                        "finished.", ""]
    table = _table(long, tests)
    store.atomic_write(sweep_dir / TABLE, lambda p: table.to_csv(p))
    lines += _method(records, cost_weight, alpha)
    for name, (test, dropped) in tests.items():
        lines += _verdict(name, test, dropped, alpha)
    first = tests[next(iter(tests))][0]
    if figures and first.pairwise is not None:
        lines += _diagram(first, sweep_dir, cost_weight, alpha)
    return lines

"""Statistics shared by the report, the advisor and the figures (above :mod:`sim` only).

- :func:`ci95`: mean and t-based 95% confidence half-width over seeds.
- :func:`bounded`: that interval clipped to the values a metric can take, and
  :func:`show` to print it (``0.148 [0.000, 0.787]``).
- :func:`pareto_front`: the configurations nothing beats on cost and the metric.
- :func:`mean_frontier`: per-seed hindsight frontiers averaged by number of retrains.
- :func:`config_label` and :func:`family`: the name of a configuration, and its trigger
  family (one colour per family in the figures).

:func:`pareto_front`, :func:`family`, :func:`readable` and :func:`without_stream` are
defined in :mod:`sim.display` (the figures of :meth:`sim.compare.Comparison.plot` need
them, below the app) and re-exported here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.display import family, pareto_front, readable, without_stream

__all__ = ["bounded", "ci95", "config_label", "family", "mean_frontier", "overlap",
           "pareto_front", "readable", "show", "without_stream"]


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


def bounded(mean, half, low: float = -math.inf, high: float = math.inf):
    """Return the interval ``mean -/+ half`` clipped to ``[low, high]``, as ``(lo, hi)``.

    The t-interval of three seeds is wide; for a bounded metric (a share, a count, a
    cost) its symmetric half-width leaves the range ("0.148 +/- 0.639" for a share):
    clipped, the interval is asymmetric and holds only values the metric can take.
    Vectorised over configurations; a NaN half-width (one seed) gives NaN bounds.

    Examples
    --------
    >>> bounded(0.148, 0.639, 0.0, 1.0)
    (0.0, 0.787)
    >>> lo, hi = bounded(np.array([6.7, 2.0]), np.array([11.5, np.nan]), 0.0)
    >>> lo.tolist(), hi.tolist()
    ([0.0, nan], [18.2, nan])
    """
    lo = np.clip(np.asarray(mean, dtype=float) - half, low, high)
    hi = np.clip(np.asarray(mean, dtype=float) + half, low, high)
    if np.ndim(lo) == 0:
        return float(lo), float(hi)
    return lo, hi


def show(mean: float, lo: float, hi: float, fmt: str = "{:.3g}") -> str:
    """Print a mean and its interval: ``0.148 [0.000, 0.787]``; the mean alone without one.

    Examples
    --------
    >>> show(0.148, 0.0, 0.787, "{:.3f}"), show(0.9, float("nan"), float("nan"), "{:.3f}")
    ('0.148 [0.000, 0.787]', '0.900')
    >>> show(float("nan"), 0.0, 1.0)
    'n/a'
    """
    if mean is None or math.isnan(mean):
        return "n/a"
    text = fmt.format(mean)
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return text
    plain = fmt.replace("+", "")
    return f"{text} [{plain.format(lo)}, {plain.format(hi)}]"


def overlap(mean_a: float, half_a: float, mean_b: float, half_b: float) -> bool:
    """Whether two values with 95% half-widths are tied: equal, or intervals overlapping.

    A missing half-width (one seed) counts as 0: only equal values are then tied.

    Examples
    --------
    >>> overlap(0.90, 0.02, 0.93, 0.02), overlap(0.90, 0.01, 0.93, 0.01)
    (True, False)
    """
    ha = 0.0 if half_a is None or math.isnan(half_a) else half_a
    hb = 0.0 if half_b is None or math.isnan(half_b) else half_b
    return bool(abs(mean_a - mean_b) <= ha + hb + 1e-12)


def mean_frontier(frames, value: str = "accuracy") -> pd.DataFrame:
    """Average per-seed hindsight frontiers by ``K`` (the columns of ``Frontier.frontier``).

    Examples
    --------
    >>> a = pd.DataFrame({"K": [0, 1], "accuracy": [0.8, 0.9], "total_cost": [0.0, 1.0]})
    >>> b = pd.DataFrame({"K": [0, 1], "accuracy": [0.7, 0.9], "total_cost": [0.0, 3.0]})
    >>> mean_frontier([a, b]).round(3).to_dict("list")
    {'K': [0, 1], 'accuracy': [0.75, 0.9], 'total_cost': [0.0, 2.0], 'n_seeds': [2, 2]}
    """
    both = pd.concat([f[["K", value, "total_cost"]] for f in frames], ignore_index=True)
    return both.groupby("K", as_index=False).agg(**{value: (value, "mean")},
                                                 total_cost=("total_cost", "mean"),
                                                 n_seeds=(value, "size"))


def config_label(row, keys: list[str], constant: dict[str, str] | None = None) -> str:
    """Name a configuration from the override values that vary between configurations.

    A single varying top-level key names it by its value (``performance``); several
    give ``key=value`` pairs.

    Examples
    --------
    >>> config_label({"trigger": "ddm"}, ["trigger"])
    'ddm'
    >>> config_label({"trigger": "performance", "trigger.drop": "0.05"},
    ...              ["trigger", "trigger.drop"])
    'trigger=performance, trigger.drop=0.05'
    """
    if not keys:
        return " ".join(f"{k}={v}" for k, v in (constant or {}).items()) or "all jobs"
    present = [k for k in keys if isinstance(row[k], str)]
    if len(present) == 1 and "." not in present[0]:
        return row[present[0]]
    return ", ".join(f"{k}={row[k]}" for k in present) or "all jobs"

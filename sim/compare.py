"""Several triggers on the same stream, seed and labels: :func:`compare`.

The Python counterpart of a sweep over triggers: one replay per trigger, a summary row
each, the retrain events of all, the regret of each against the hindsight optimum (the
oracle, built with that run's own retrains as candidates so it is a ceiling for it), and
:meth:`Comparison.plot`, which draws the figures of a sweep report.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from sim.cache import as_cache
from sim.engine import replay
from sim.metrics import fill_alerts
from sim.protocol import Protocol
from sim.types import RunResult

__all__ = ["Comparison", "compare"]


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Attributes
    ----------
    summary
        One row per trigger (indexed by name): the scalar summary metrics,
        ``accuracy_gap`` (accuracy below the best trigger's; ``mae_gap`` for
        regression) and, when the oracle ran, ``regret`` and
        ``optimal_accuracy_same_retrains``.
    runs
        ``{name: RunResult}``.
    frontier
        The hindsight-optimal frontier (``K``, ``accuracy`` or ``mae``, ``total_cost``):
        at each number of retrains, the best any trigger's oracle reached; None without
        oracle.
    task
        ``"classification"`` or ``"regression"``.
    """

    summary: pd.DataFrame
    runs: dict[str, RunResult]
    frontier: pd.DataFrame | None
    task: str = "classification"

    @property
    def events(self) -> pd.DataFrame:
        """Every trigger's retrain events, with a ``trigger`` column first."""
        frames = [r.events.assign(trigger=name) for name, r in self.runs.items()]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return out[["trigger", *[c for c in out.columns if c != "trigger"]]]

    @property
    def regret(self) -> pd.Series | None:
        """Each trigger's regret against the hindsight optimum with as many retrains."""
        return self.summary["regret"] if "regret" in self.summary else None

    def plot(self, path=None, **kwargs) -> list:
        """Draw the report's figures: the metric over time per trigger, and against cost.

        See :func:`sim.display.comparison` (:class:`~sim.display.TimelineDisplay` and
        :class:`~sim.display.CostDisplay`; matplotlib is imported on first use).
        """
        from sim import display

        return display.comparison(self, path, **kwargs)


def compare(stream, model, triggers: Mapping[str, object], *, seed: int = 0, cache=None,
            oracle: bool = True, every: int = 10, **kwargs) -> Comparison:
    """Replay the same stream and seed through several triggers.

    Parameters
    ----------
    stream, model
        As for :func:`~sim.engine.replay`.
    triggers
        ``{name: trigger}``.
    seed
        Seed shared by every replay, so every trigger sees the same samples and labels.
    cache
        As for :func:`~sim.engine.replay`; one cache is shared by all the replays
        (``"memory"``: a new in-memory cache for this call). The results are the same
        with or without it.
    oracle
        Compute each run's regret against the hindsight optimum (for regression over
        a loss matrix): the candidate grid every ``every`` steps is trained once, and
        each run's own retrains are added to it.
    every
        The oracle's grid spacing, in steps.
    **kwargs
        Passed to :func:`~sim.engine.replay` (``gate``, ``cost``, ``protocol`` or
        protocol parameters).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim.streams import SEA
    >>> from sim.scripted import AtSteps
    >>> stream = SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}])
    >>> result = compare(stream, LogisticRegression(),
    ...                  {"never": AtSteps([]), "scheduled": AtSteps([24, 29, 34])}, seed=1)
    >>> result.summary["n_retrains"].to_dict()
    {'never': 0, 'scheduled': 3}
    >>> bool((result.regret >= 0).all())
    True
    """
    cache = as_cache(cache)
    runs = {name: replay(stream, model, trigger, seed=seed, cache=cache, **kwargs)
            for name, trigger in triggers.items()}
    rows = {name: {k: v for k, v in r.summary.items() if np.isscalar(v) or v is None}
            for name, r in runs.items()}
    table = fill_alerts(pd.DataFrame.from_dict(rows, orient="index"))
    task = getattr(stream, "task", "classification")
    frontier = None
    if oracle and runs:
        frontier = _regret(stream, model, seed, runs, table, every, kwargs)
    if "mean_accuracy" in table:
        table["accuracy_gap"] = table["mean_accuracy"].max() - table["mean_accuracy"]
    else:
        table["mae_gap"] = table["mean_mae"] - table["mean_mae"].min()
    return Comparison(table, runs, frontier, task)


def _regret(stream, model, seed, runs, table, every, kwargs) -> pd.DataFrame:
    from sim import oracle

    protocol = kwargs.get("protocol")
    params = {k: v for k, v in kwargs.items() if k in Protocol().get_params()}
    protocol = (clone(protocol).set_params(**params) if protocol is not None and params
                else protocol if protocol is not None else Protocol(**params))
    frames = []
    with tempfile.TemporaryDirectory() as grid_cache:  # the grid is trained once
        for name, result in runs.items():
            frontier = oracle.hindsight(stream, model, seed=seed, protocol=protocol,
                                        cost=kwargs.get("cost"), gate=kwargs.get("gate"),
                                        every=every, extra_steps=result.events,
                                        cache_dir=grid_cache)
            for key, value in oracle.regret(result.summary, frontier).items():
                table.loc[name, key] = value
            frames.append(frontier.frontier)
    # per K the best any run's oracle reached; "at most K retrains" never gets worse with K
    both = pd.concat(frames, ignore_index=True)  # "accuracy": the score, higher is better
    best = both.loc[both.groupby("K")["accuracy"].idxmax()].reset_index(drop=True)
    keep = best["accuracy"].to_numpy() >= np.maximum.accumulate(best["accuracy"].to_numpy())
    columns = ["K", "mae" if "mae" in best else "accuracy", "total_cost"]
    return best.loc[keep, columns].reset_index(drop=True)

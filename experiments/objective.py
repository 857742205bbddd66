"""What a threshold search optimises: the ``objective`` key of a config.

A sweeper that searches (the Hydra Optuna sweeper, ``conf/hydra/sweeper/``) reads the
value the job returns. With ``objective`` set, a job replays every seed of
``objective.seeds`` (the same seeds for every trial, so trials differ only by their
thresholds), records the mean of each metric over them, and returns:

``kind: score``
    ``mean_accuracy - cost_weight * total_cost`` (one number, to maximise);
``kind: pareto``
    ``[mean_accuracy, total_cost]`` (to maximise and minimise: the Pareto set).

A failed job raises (the sweeper records a failed trial; its record says why).
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from omegaconf import DictConfig

__all__ = ["KINDS", "average", "seeds", "value"]

KINDS = ("score", "pareto")


def seeds(cfg: DictConfig) -> list[int]:
    """Return the seeds a job replays: ``objective.seeds``, or the run's ``seed``."""
    from sim.checks import is_int, param_error  # lazy: `retrain-sim --help` stays fast

    spec = cfg.get("objective")
    if spec is None or spec.get("seeds") is None:
        return [cfg.seed]
    values = list(spec.seeds)
    if not values or not all(is_int(s) and s >= 0 for s in values):
        raise param_error("objective", "seeds", "None or a non-empty list of ints >= 0",
                          values)
    return values


def average(summaries: list[dict], seeds: list[int]) -> dict[str, Any]:
    """One summary: each numeric metric's mean over the seeds (None if a seed has none).

    Examples
    --------
    >>> average([{"mean_accuracy": 0.8, "n_retrains": 2, "drifts": []},
    ...          {"mean_accuracy": 0.9, "n_retrains": 3, "drifts": []}], [0, 1])
    {'mean_accuracy': 0.85, 'n_retrains': 2.5, 'drifts': [], 'seeds_averaged': [0, 1]}
    """
    if len(summaries) == 1:
        return summaries[0]
    out: dict[str, Any] = {}
    for key, first in summaries[0].items():
        values = [s.get(key) for s in summaries]
        if isinstance(first, Real) and not isinstance(first, bool):
            numbers = [v for v in values if isinstance(v, Real)]
            out[key] = (round(sum(numbers) / len(numbers), 12) if len(numbers) == len(values)
                        else None)
        else:
            out[key] = first
    out["seeds_averaged"] = list(seeds)
    return out


def value(cfg: DictConfig, record: dict) -> float | list[float]:
    """Return the job's objective, read from its record; raise when the job failed."""
    from sim.checks import Interval, Options, check

    spec = cfg.objective
    kind = check("objective", "kind", spec.get("kind", "score"), Options(KINDS))
    summary = record.get("summary") or {}
    accuracy = summary.get("mean_accuracy")
    cost = summary.get("total_cost")
    if record.get("status") != "ok" or accuracy is None or cost is None:
        error = (record.get("error") or {}).get("message", "no accuracy or cost")
        raise RuntimeError(f"The trial has no objective: {error}")
    if kind == "pareto":
        return [float(accuracy), float(cost)]
    weight = check("objective", "cost_weight", spec.get("cost_weight", 0.0),
                   Interval("float", 0))
    return float(accuracy) - float(weight) * float(cost)


def search_section(sweep_dir) -> list[str]:
    """Markdown lines for a report: the search's best trial or Pareto set (none for a grid).

    Read from ``optimization_results.yaml``, which the Optuna sweeper writes into the
    sweep directory before the report is aggregated.
    """
    from pathlib import Path

    from omegaconf import OmegaConf

    path = Path(sweep_dir) / "optimization_results.yaml"
    if not path.is_file():
        return []
    found = OmegaConf.to_container(OmegaConf.load(path))

    def params(p: dict) -> str:
        return ", ".join(f"`{k}={v:.4g}`" if isinstance(v, float) else f"`{k}={v}`"
                         for k, v in p.items())

    lines = ["## Search (Optuna)", ""]
    if "solutions" in found:
        lines += [f"The Pareto set of the search: {len(found['solutions'])} trials no other "
                  "beats on both mean accuracy and total cost (means over the trial's seeds).",
                  "", "| parameters | mean accuracy | total cost |", "|---|---|---|"]
        for s in sorted(found["solutions"], key=lambda s: s["values"][1]):
            accuracy, cost = s["values"]
            lines.append(f"| {params(s['params'])} | {accuracy:.4f} | {cost:g} |")
    else:
        lines.append(f"Best trial: {params(found['best_params'])}, objective "
                     f"{found['best_value']:.4f} (mean accuracy - cost_weight x total cost, "
                     "over the trial's seeds).")
    return [*lines, ""]

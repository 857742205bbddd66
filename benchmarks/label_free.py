"""Calibration tables of the label-free triggers (pasted into docs/detectors.md).

1. How far the estimated accuracy (``EstimatedPerformance``) is from the realised
   accuracy, per step, on a stationary stream and under drifts, for isotonic and
   sigmoid calibration (the estimate only: no retrains).
2. How often each label-free trigger fires on drift-free streams: on each run's first
   check (independent between runs: binomial) and per step over whole runs (checks of
   one run share a holdout, so they are correlated: the interval is over runs).

Run: ``python benchmarks/label_free.py`` (a few minutes on 2 cores). Every number is a
pure function of the seeds below.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import versions  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from sim import replay  # noqa: E402
from sim.streams import Gaussian  # noqa: E402
from strategies import EstimatedPerformance, PredictionDrift, Uncertainty  # noqa: E402
from strategies.detectors import ChiSquare  # noqa: E402

N_SAMPLES = 45_000  # 80 scored steps of 500 samples after the 5,000 initial ones
SEEDS = range(10)
N_FIRST = 200  # runs whose first check counts (table 2)
N_RUNS = 20  # whole runs (table 2)

SCENARIOS = {
    "stationary": None,
    "covariate: inputs crowd the boundary (harmful, seen)": {"scale": (1.0, 0.3)},
    "covariate: away from the boundary (harmless)": {"mean": (-3.0, 0.75)},
    "covariate: onto the bent boundary (harmful, unseen)": {"mean": (4.5, -0.75)},
    "concept: boundary rotated 45 degrees": {"angle": 45.0},
}


def stream(shift, n_samples: int = N_SAMPLES) -> Gaussian:
    """The preset's Gaussian stream (softness 0.4), with ``shift`` from sample 15,000."""
    if shift is None:
        return Gaussian(n_samples=n_samples, noise=0.0, softness=0.4)
    return Gaussian(n_samples=n_samples, concepts=[{}, shift], noise=0.0, softness=0.4,
                    schedule=[{"at": 15_000, "to": 1}])


def estimate_errors(shift, calibration: str, model) -> tuple[np.ndarray, np.ndarray]:
    """Per step of every seed: estimated minus realised accuracy, and the sampling floor."""
    monitor = EstimatedPerformance(drop=0.99, calibration=calibration, refit_labels=None)
    errors, floors = [], []
    for seed in SEEDS:
        line = replay(stream(shift), model, monitor, seed=seed).timeline
        errors.append(line["stat_estimated_accuracy"] - line["accuracy"])
        acc = line["accuracy"].to_numpy()
        floors.append(np.sqrt(2 / np.pi * acc * (1 - acc) / line["n_samples"].to_numpy()))
    return np.concatenate(errors), np.concatenate(floors)


def estimate_table() -> str:
    rows = ["| stream (drift at step 30) | model | calibration | MAE per step, all steps "
            "| MAE after the drift | mean error after the drift | sampling floor |",
            "|---|---|---|---|---|---|---|"]
    models = {"logistic regression": LogisticRegression(),
              "random forest": RandomForestClassifier(n_estimators=30, max_depth=10)}
    after = np.tile(np.arange(10, 10 + (N_SAMPLES - 5000) // 500) >= 30, len(SEEDS))
    for name, shift in SCENARIOS.items():
        for model_name, model in models.items():
            if model_name == "random forest" and shift is not None:
                continue
            for calibration in ("isotonic", "sigmoid"):
                error, floor = estimate_errors(shift, calibration, model)
                later = after if shift is not None else np.ones_like(after)
                rows.append(
                    f"| {name} | {model_name} | {calibration} | {np.abs(error).mean():.3f} "
                    f"| {np.abs(error[later]).mean():.3f} | {error[later].mean():+.3f} "
                    f"| {floor.mean():.3f} |")
    return "\n".join(rows)


def _binomial(hits: int, n: int) -> str:
    low, high = stats.binomtest(hits, n).proportion_ci(0.95)
    return f"{hits / n:.3f} [{low:.3f}, {high:.3f}]"


def _over_runs(rates: np.ndarray) -> str:
    half = stats.t.ppf(0.975, len(rates) - 1) * rates.std(ddof=1) / np.sqrt(len(rates))
    return f"{rates.mean():.3f} ± {half:.3f}"


def false_alarm_table() -> str:
    triggers = {
        "PredictionDrift, KS on scores": (PredictionDrift(alpha=0.05, refit_labels=None), 0.05),
        "PredictionDrift, KS on scores ": (PredictionDrift(alpha=0.01, refit_labels=None), 0.01),
        "PredictionDrift, chi-square on classes": (
            PredictionDrift(outputs="classes", test=ChiSquare(), alpha=0.05,
                            refit_labels=None), 0.05),
        "Uncertainty, low-margin share": (Uncertainty(alpha=0.05, refit_labels=None), 0.05),
        "Uncertainty, low-margin share ": (Uncertainty(alpha=0.01, refit_labels=None), 0.01),
        "Uncertainty, mean entropy": (Uncertainty(measure="entropy", alpha=0.05,
                                                  refit_labels=None), 0.05),
        "EstimatedPerformance, drop 0.05": (EstimatedPerformance(refit_labels=None), None),
        "EstimatedPerformance, drop 0.03": (EstimatedPerformance(drop=0.03,
                                                                 refit_labels=None), None),
    }
    rows = [f"| trigger | level | first check ({N_FIRST} runs; 95% CI) | binomial 99% range "
            f"| per step ({N_RUNS} runs x 80 steps; 95% CI over runs) |",
            "|---|---|---|---|---|"]
    for name, (trigger, level) in triggers.items():
        first = sum(bool(replay(stream(None, 5_500), LogisticRegression(), trigger,
                                seed=seed).timeline["retrain"].iloc[0])
                    for seed in range(N_FIRST))
        rates = np.array([replay(stream(None), LogisticRegression(), trigger,
                                 seed=seed).timeline["retrain"].mean()
                          for seed in range(1000, 1000 + N_RUNS)])
        if level is None:
            band, level_text = "n/a", "none"
        else:
            low, high = stats.binom.ppf([0.005, 0.995], N_FIRST, level) / N_FIRST
            band = f"[{low:.3f}, {high:.3f}]" + ("" if low <= first / N_FIRST <= high
                                                   else " **outside**")
            level_text = f"{level}"
        rows.append(f"| {name.strip()} | {level_text} | {_binomial(first, N_FIRST)} | {band} "
                    f"| {_over_runs(rates)} |")
    return "\n".join(rows)


def main() -> None:
    print(versions())
    print("\n## Estimated accuracy against realised accuracy, per step "
          f"({len(SEEDS)} seeds, 500 samples a step)\n")
    print(estimate_table())
    print("\n## False alarms on drift-free streams\n")
    print(false_alarm_table())


if __name__ == "__main__":
    main()

"""False alarms of the data-drift trigger on drift-free streams, by window policy.

``DataDrift(alpha=0.05)`` (KS, Bonferroni over the features) on a drift-free stream, 10
seeds of 60,000 samples (110 steps of 500 scored): every check that fires is a false
alarm, and each retrains. Prints, per stream and window policy, the share of checks
that fire, overall, under the first model (its reference: the 5,000 initial samples)
and under the models that follow an alarm. Goal: within binomial tolerance of 0.05
(tests/test_detectors_calibration.py asserts it for the Gaussian stream).

    python benchmarks/false_alarms.py
"""

from __future__ import annotations

import common  # noqa: F401  (one BLAS thread, before numpy)
import numpy as np
from scipy import stats
from sklearn.linear_model import LogisticRegression

from sim import replay
from sim.streams import SEA, Gaussian
from strategies import DataDrift

WINDOWS = ("since_change", "since_retrain", "sliding", "expanding")


def rates(make_stream, window: str, seeds=range(10)) -> tuple[int, int, int, int]:
    """(alarms, checks) under the first model, then under the later ones."""
    first = later = first_alarms = later_alarms = 0
    for seed in seeds:
        t = replay(make_stream(), LogisticRegression(), DataDrift(alpha=0.05), seed=seed,
                   window=window).timeline
        checked = t[t["stat_n_drifted"].notna()]
        is_first = checked["model_id"] == 0
        first += int(is_first.sum())
        later += int((~is_first).sum())
        first_alarms += int(checked.loc[is_first, "retrain"].sum())
        later_alarms += int(checked.loc[~is_first, "retrain"].sum())
    return first_alarms, first, later_alarms, later


def main() -> None:
    print(common.versions())
    print("| stream | window | checks | fired | rate | 99.9% binomial range | first model | "
          "later models |")
    print("|---|---|---|---|---|---|---|---|")
    for name, make in (("Gaussian", lambda: Gaussian(n_samples=60_000, schedule=[])),
                       ("SEA", lambda: SEA(n_samples=60_000, schedule=[]))):
        for window in WINDOWS:
            fa, f, la, lt = rates(make, window)
            n, k = f + lt, fa + la
            lo, hi = stats.binom.ppf([0.0005, 0.9995], n, 0.05) / n
            print(f"| {name} | {window} | {n} | {k} | {k / n:.3f} | {lo:.3f}-{hi:.3f} | "
                  f"{fa / max(f, 1):.3f} of {f} | {la / max(lt, 1):.3f} of {lt} |",
                  flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

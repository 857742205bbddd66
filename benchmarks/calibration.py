"""Calibration, power and delay tables of the detectors (pasted into docs/detectors.md).

Run: ``python benchmarks/calibration.py`` (about two minutes on 2 cores). Every number
is a pure function of the seeds below.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from strategies.detectors import (  # noqa: E402
    ADWIN,
    CUSUM,
    DDM,
    EDDM,
    HDDMA,
    KS,
    KSWIN,
    MMD,
    PSI,
    ChiSquare,
    DomainClassifier,
    JensenShannon,
    PageHinkley,
    Wasserstein,
    adjust_p_values,
)

N_REF, N_CUR, N_FEATURES = 1000, 200, 5
N_NULL = 1000


def _null_sample(test, rng):
    if isinstance(test, ChiSquare):
        probs = [0.4, 0.3, 0.2, 0.1]
        return (rng.choice(4, size=(N_REF, N_FEATURES), p=probs),
                rng.choice(4, size=(N_CUR, N_FEATURES), p=probs))
    return rng.normal(size=(N_REF, N_FEATURES)), rng.normal(size=(N_CUR, N_FEATURES))


def _rate(hits: int, total: int) -> str:
    half = 1.96 * np.sqrt(max(hits, 0.5) / total * (1 - hits / total) / total)
    return f"{hits / total:.3f} ± {half:.3f}"


def calibration_table(n_checks: int = N_NULL) -> str:
    """False-positive rate per check of each p-value test under no drift."""
    rows = ["| test | checks | per feature, alpha 0.05 | per feature, alpha 0.01 "
            "| per check (Bonferroni), alpha 0.05 | per check (Bonferroni), alpha 0.01 |",
            "|---|---|---|---|---|---|"]
    for test in (KS(), ChiSquare(), MMD(n_permutations=200, seed=0)):
        raw, adjusted = [], []
        for seed in range(n_checks):
            rng = np.random.default_rng(seed)
            reference, current = _null_sample(test, rng)
            p = test.fit(reference).test(current).p_value
            raw.append(p)
            adjusted.append(adjust_p_values(p, "bonferroni").min())
        raw, adjusted = np.concatenate(raw), np.array(adjusted)
        cells = [_rate(int(np.sum(raw < a)), raw.size) for a in (0.05, 0.01)]
        cells += [_rate(int(np.sum(adjusted < a)), adjusted.size) for a in (0.05, 0.01)]
        name = type(test).__name__ + (" (multivariate)" if test.multivariate else "")
        rows.append(f"| {name} | {n_checks} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def threshold_table(n_checks: int = N_NULL) -> str:
    """Null exceedance rate and 99th percentile of the statistic of threshold tests."""
    rows = ["| test | default threshold | checks | share of features above it | "
            "99th percentile under no drift |", "|---|---|---|---|---|"]
    for test, checks in ((PSI(), n_checks), (Wasserstein(), n_checks),
                         (JensenShannon(), n_checks), (DomainClassifier(seed=0), 100)):
        values = []
        for seed in range(checks):
            reference, current = _null_sample(test, np.random.default_rng(seed))
            values.append(test.fit(reference).test(current).statistic)
        values = np.concatenate(values)
        above = int(np.sum(values > test.default_threshold))
        rows.append(f"| {type(test).__name__} | {test.default_threshold} | {checks} | "
                    f"{_rate(above, values.size)} | {np.quantile(values, 0.99):.4f} |")
    return "\n".join(rows)


def multiple_looks_table(n_streams: int = 200, n_steps: int = 50) -> str:
    """Share of drift-free streams with at least one KS alarm when every step is checked."""
    rows = ["| checks per stream | alpha per check | streams with >= 1 false alarm |",
            "|---|---|---|"]
    for alpha in (0.05, 0.01, 0.05 / n_steps):
        fired = 0
        for seed in range(n_streams):
            rng = np.random.default_rng(10_000 + seed)
            test = KS().fit(rng.normal(size=(N_REF, N_FEATURES)))
            for _ in range(n_steps):
                p = adjust_p_values(test.test(rng.normal(size=(N_CUR, N_FEATURES))).p_value,
                                    "bonferroni")
                if p.min() < alpha:
                    fired += 1
                    break
        rows.append(f"| {n_steps} | {alpha:.4g} | {_rate(fired, n_streams)} |")
    return "\n".join(rows)


def power_table(n_checks: int = 1000) -> str:
    """KS + Bonferroni: a 0.5 SD mean shift in 1 of 10 features, reference 5,000, current 500."""
    hits = {0.05: 0, 0.01: 0}
    for seed in range(n_checks):
        rng = np.random.default_rng(20_000 + seed)
        current = rng.normal(size=(500, 10))
        current[:, 3] += 0.5
        p = adjust_p_values(KS().score(rng.normal(size=(5000, 10)), current).p_value,
                            "bonferroni")
        for alpha in hits:
            hits[alpha] += bool(p.min() < alpha)
    rows = ["| test | shift | reference / current | alpha | detection probability |",
            "|---|---|---|---|---|"]
    for alpha, h in hits.items():
        rows.append(f"| KS + Bonferroni (10 features) | 0.5 SD in 1 of 10 | 5,000 / 500 | "
                    f"{alpha} | {_rate(h, n_checks)} |")
    return "\n".join(rows)


ERROR_DETECTORS = (DDM(), EDDM(), HDDMA(), PageHinkley(), CUSUM(), ADWIN(), KSWIN(seed=0))


def delay_table(n_seeds: int = 100, n: int = 2000, change: int = 1000) -> str:
    """Error rate 0.2 -> 0.5 at sample 1,000 of 2,000, default parameters."""
    rows = ["| detector | detected (share of streams) | mean delay (samples) | "
            "median delay | false alarms before the change (mean per stream) | "
            "streams with a false alarm |", "|---|---|---|---|---|---|"]
    for detector in ERROR_DETECTORS:
        delays, false_alarms = [], []
        for seed in range(n_seeds):
            rng = np.random.default_rng(seed)
            errors = np.concatenate([rng.random(change) < 0.2,
                                     rng.random(n - change) < 0.5]).astype(float)
            found = np.array(detector.reset().update(errors).drift_indices)
            false_alarms.append(int(np.sum(found < change)))
            after = found[found >= change]
            if after.size:
                delays.append(int(after[0]) - change)
        fa = np.array(false_alarms)
        mean_delay = f"{np.mean(delays):.0f}" if delays else "-"
        median_delay = f"{np.median(delays):.0f}" if delays else "-"
        rows.append(f"| {type(detector).__name__} | {len(delays) / n_seeds:.2f} | {mean_delay} | "
                    f"{median_delay} | {fa.mean():.2f} | {np.mean(fa > 0):.2f} |")
    return "\n".join(rows)


def main() -> None:
    start = time.perf_counter()
    sections = [
        ("Calibration of the p-value tests (reference 1,000, current 200, 5 features; "
         "seeds 0-999)", calibration_table()),
        ("Threshold tests under no drift (same sizes)", threshold_table()),
        ("Multiple looks: KS + Bonferroni checked at every step of a drift-free stream",
         multiple_looks_table()),
        ("Power", power_table()),
        ("Error detectors: error rate 0.2 -> 0.5 at sample 1,000 of 2,000, 100 seeds",
         delay_table()),
    ]
    for title, table in sections:
        print(f"### {title}\n\n{table}\n")
    print(f"(computed in {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()

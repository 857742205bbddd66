"""Throughput of the detectors (figures recorded in benchmarks/README.md).

- Two-sample tests: checks per second at reference 5,000, current 500, 10 features (the
  reference fitted once, as per deployed model; ``test`` timed).
- Error detectors: updates per second on a 1,000,000-sample 0/1 error stream (error rate
  alternating 0.2 / 0.5 every 100,000 samples), fed in steps of 1,000 samples as a
  trigger does, next to River 0.26 fed sample by sample where River has the detector.
  KSWIN runs a KS test per sample, so it is timed on the first 100,000 samples.

Run: ``python benchmarks/detectors.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import platform
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
)


def _best_rate(work, repeats: int, rounds: int = 3) -> float:
    """Calls per second of ``work`` (best of ``rounds`` rounds of ``repeats`` calls)."""
    best = np.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            work()
        best = min(best, time.perf_counter() - start)
    return repeats / best


def two_sample_table() -> str:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(5000, 10))
    current = rng.normal(size=(500, 10))
    codes_ref = rng.integers(0, 8, size=(5000, 10))
    codes_cur = rng.integers(0, 8, size=(500, 10))
    rows = ["| test | fit (ms) | checks per second |", "|---|---|---|"]
    cases = [(KS(), 50), (PSI(), 200), (ChiSquare(), 200), (Wasserstein(), 50),
             (JensenShannon(), 200), (MMD(seed=0), 3), (DomainClassifier(seed=0), 1)]
    for test, repeats in cases:
        ref, cur = (codes_ref, codes_cur) if isinstance(test, ChiSquare) else (reference, current)
        start = time.perf_counter()
        test.fit(ref)
        fit_ms = (time.perf_counter() - start) * 1e3
        rate = _best_rate(lambda t=test, c=cur: t.test(c), repeats)
        rows.append(f"| {test!r} | {fit_ms:.1f} | {rate:,.1f} |")
    return "\n".join(rows)


def _error_stream(n: int = 1_000_000) -> np.ndarray:
    rng = np.random.default_rng(0)
    rates = np.where((np.arange(n) // 100_000) % 2 == 0, 0.2, 0.5)
    return (rng.random(n) < rates).astype(float)


def _river(name):
    from river import drift

    return {
        "DDM": drift.binary.DDM, "EDDM": drift.binary.EDDM, "HDDMA": drift.binary.HDDMA,
        "PageHinkley": drift.PageHinkley, "ADWIN": drift.ADWIN,
        "KSWIN": lambda: drift.KSWIN(seed=0),
    }.get(name)


def streaming_table() -> str:
    stream = _error_stream()
    rows = ["| detector | samples | ours: updates per second | detections | "
            "River 0.26: updates per second | River detections |", "|---|---|---|---|---|---|"]
    for detector in (DDM(), EDDM(), HDDMA(), PageHinkley(), CUSUM(), ADWIN(), KSWIN(seed=0)):
        name = type(detector).__name__
        values = stream[:100_000] if name == "KSWIN" else stream
        detector.reset()
        detections = 0
        start = time.perf_counter()
        for step in range(0, values.size, 1000):
            detections += len(detector.update(values[step : step + 1000]).drift_indices)
        ours = values.size / (time.perf_counter() - start)
        make = _river(name)
        if make is None:
            river_cells = "(not in River) | -"
        else:
            river_detector, river_detections = make(), 0
            as_list = values.tolist()
            start = time.perf_counter()
            for x in as_list:
                river_detector.update(x)
                river_detections += river_detector.drift_detected
            river_rate = values.size / (time.perf_counter() - start)
            river_cells = f"{river_rate:,.0f} | {river_detections}"
        rows.append(f"| {name} | {values.size:,} | {ours:,.0f} | {detections} | {river_cells} |")
    return "\n".join(rows)


def main() -> None:
    import numpy
    import scipy
    import sklearn

    try:
        import river

        river_version = river.__version__
    except ImportError:  # pragma: no cover
        river_version = "not installed"
    print(f"Python {platform.python_version()}, numpy {numpy.__version__}, scipy "
          f"{scipy.__version__}, scikit-learn {sklearn.__version__}, river {river_version}; "
          f"{platform.machine()}, {platform.system()}\n")
    print("### Two-sample tests: reference 5,000, current 500, 10 features\n")
    print(two_sample_table() + "\n")
    print("### Error detectors: 1,000,000-sample error stream, steps of 1,000\n")
    print(streaming_table())


if __name__ == "__main__":
    main()

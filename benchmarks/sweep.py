"""A 20-threshold DataDrift sweep with and without the caches of sim.cache.

On one SEA stream with a sudden drift (200,000 samples, logistic regression, step 500),
the KS ``alpha`` of ``DataDrift`` takes 20 values. Timed (median of 3):

- one run (``alpha=0.05``, no cache);
- the sweep as 20 independent replays (no cache);
- the sweep as one ``compare(..., cache="memory")``;
- the sweep as 20 separate replays sharing an on-disk cache (each with its own
  ``DiskCache`` object, as separate jobs would): a cold pass on an empty directory, then
  a warm pass (a re-run of the sweep).

The results with and without the cache are checked to be identical. Goal: the sweep in
one process costs <= 3x one run.

Besides fits and predictions, the cache shares ``DataDrift``'s two-sample tests: runs at
different alphas deploy the same model (so test against the same reference) until
their decisions diverge, and a test's result does not depend on alpha (see
``sim.cache.ReferenceMemo``). What no cache can share is the *distinct* work of the
grid: every distinct model must be fitted once and every test against a distinct
reference made once, and every run's own stepping (each run decides, records and,
after an alarm, tests against a reference of its own trigger, which is not shared). The
script prints the counts next to one run's and times the parts: the seconds inside the
model's ``fit``, inside the KS test's ``fit``/``test`` (and how many tests ran), and the
rest, in one run and in the cold cached sweep.

    python benchmarks/sweep.py [--n-samples 200000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from contextlib import contextmanager

import numpy as np
from common import median_time, sea, versions  # first: limits BLAS threads
from sklearn.linear_model import LogisticRegression

from sim import compare, replay
from sim.cache import DiskCache, MemoryCache
from strategies import DataDrift
from strategies.detectors import KS

ALPHAS = [float(a) for a in np.geomspace(1e-4, 0.2, 20)]


@contextmanager
def timed_work():
    """Count the seconds in the model's fit and the KS test, and the tests made."""
    spent = {"fit": 0.0, "test": 0.0, "n_tests": 0}
    originals = [(LogisticRegression, "fit", "fit"), (KS, "fit", "test"), (KS, "test", "test")]

    def wrap(method, kind):
        def timed(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                spent[kind] += time.perf_counter() - start
                spent["n_tests"] += method.__name__ == "test"
        return timed

    saved = [(cls, name, getattr(cls, name)) for cls, name, _ in originals]
    for (cls, name, kind), (_, _, method) in zip(originals, saved, strict=True):
        setattr(cls, name, wrap(method, kind))
    try:
        yield spent
    finally:
        for cls, name, method in saved:
            setattr(cls, name, method)


def parts(stream, model, triggers) -> None:
    """Print one run's and the cold cached sweep's seconds in fits, KS tests and the rest."""
    with timed_work() as single:
        start = time.perf_counter()
        replay(stream, model, DataDrift(alpha=0.05), seed=0)
        one_wall = time.perf_counter() - start
    with timed_work() as grid:
        start = time.perf_counter()
        compare(stream, model, triggers, seed=0, cache=MemoryCache(), oracle=False)
        grid_wall = time.perf_counter() - start
    rest = {name: wall - spent["fit"] - spent["test"]
            for name, wall, spent in (("one", one_wall, single), ("grid", grid_wall, grid))}
    print(f"\nseconds (one timed pass each): one run {one_wall:.2f} = fits "
          f"{single['fit']:.2f} + KS tests {single['test']:.2f} ({single['n_tests']} made) "
          f"+ the rest {rest['one']:.2f}; the cold cached sweep {grid_wall:.2f} "
          f"({grid_wall / one_wall:.1f}x) = fits {grid['fit']:.2f} "
          f"({grid['fit'] / single['fit']:.1f}x) + KS tests {grid['test']:.2f} "
          f"({grid['n_tests']} made, {grid['test'] / single['test']:.1f}x) + the rest "
          f"{rest['grid']:.2f} ({rest['grid'] / rest['one']:.1f}x: the 20 runs' own "
          "stepping, deciding and recording; predictions and the stream are shared)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    args = parser.parse_args()
    print(versions())
    stream, model = sea(args.n_samples), LogisticRegression()
    triggers = {f"alpha={a:.2g}": DataDrift(alpha=a) for a in ALPHAS}
    print(f"SEA {args.n_samples:,} samples, sudden drift at half; DataDrift(alpha) for 20 "
          f"alphas from {ALPHAS[0]:g} to {ALPHAS[-1]:g}; median of 3\n")

    one, one_result = median_time(lambda: replay(stream, model, DataDrift(alpha=0.05),
                                                 seed=0))
    plain, table = median_time(
        lambda: compare(stream, model, triggers, seed=0, oracle=False).summary)
    caches = []

    def cached():
        caches.append(MemoryCache())
        return compare(stream, model, triggers, seed=0, cache=caches[-1], oracle=False).summary

    memory, table_cached = median_time(cached)
    fit_cols = [c for c in table.columns if "seconds" in c]
    same = table.drop(columns=fit_cols).equals(table_cached.drop(columns=fit_cols))
    stats = caches[-1].stats
    print("| sweep of 20 | seconds | x one run |")
    print("|---|---|---|")
    print(f"| one run (alpha=0.05, no cache) | {one:.2f} | 1.0 |")
    print(f"| 20 independent runs, no cache | {plain:.2f} | {plain / one:.1f} |")
    print(f"| compare(cache='memory') | {memory:.2f} | {memory / one:.1f} |")

    def disk_pass(path):
        results = []
        for trigger in triggers.values():
            results.append(replay(stream, model, trigger, seed=0, cache=DiskCache(path)))
        return results

    cold, warm = [], []
    for _ in range(3):
        path = tempfile.mkdtemp(prefix="retrain-sim-cache-")
        try:
            c, _ = median_time(lambda p=path: disk_pass(p), repeats=1)
            w, results = median_time(lambda p=path: disk_pass(p), repeats=1)
            cold.append(c)
            warm.append(w)
        finally:
            shutil.rmtree(path)
    cold_s, warm_s = float(np.median(cold)), float(np.median(warm))
    print(f"| 20 replays, shared disk cache, cold | {cold_s:.2f} | {cold_s / one:.1f} |")
    print(f"| 20 replays, shared disk cache, warm (re-run) | {warm_s:.2f} | "
          f"{warm_s / one:.1f} |")
    retrains = table["n_retrains"]
    steps = len(one_result.timeline)
    print(f"\nretrains per run: {retrains.min()}-{retrains.max()} (total {retrains.sum()}; "
          f"one run at alpha=0.05: {one_result.summary['n_retrains']}); memory cache: "
          f"{stats['fit_hits']} fit hits, {stats['fit_misses']} misses, "
          f"{stats['prediction_hits']} prediction hits, {stats['prediction_misses']} misses, "
          f"{stats['result_hits']} test hits, {stats['result_misses']} misses")
    fits_one = one_result.summary["n_retrains"] + 1
    print(f"distinct work of the grid: {stats['fit_misses']} fits and "
          f"{stats['result_misses']} KS tests, against {fits_one} and {steps} in one run "
          f"({stats['fit_misses'] / fits_one:.1f}x and {stats['result_misses'] / steps:.1f}x)")
    print(f"results identical with and without the cache: {same}")
    parts(stream, model, triggers)


if __name__ == "__main__":
    main()

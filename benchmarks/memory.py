"""Peak memory of a long replay: the engine keeps O(step + training window) in memory.

Runs one replay of an n-sample SEA stream (default 10,000,000) with a sudden drift and
prints the peak resident set size of the process and the throughput.

    python benchmarks/memory.py [--n-samples 10000000] [--trigger periodic|performance|ks]
"""

import argparse
import resource
import time

from common import versions  # first: limits BLAS threads, like every other benchmark
from sklearn.linear_model import LogisticRegression

from sim import replay
from sim.streams import SEA
from strategies import DataDrift, Performance, Periodic

TRIGGERS = {
    "periodic": lambda: Periodic(every=200),
    "performance": lambda: Performance(),
    "ks": lambda: DataDrift(alpha=0.01),
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000_000)
    parser.add_argument("--trigger", choices=sorted(TRIGGERS), default="periodic")
    parser.add_argument("--train-window", type=int, default=5000)
    args = parser.parse_args()
    before = peak_rss_mb()
    stream = SEA(n_samples=args.n_samples, schedule=[{"at": args.n_samples // 2, "to": 3}])
    start = time.perf_counter()
    result = replay(stream, LogisticRegression(), TRIGGERS[args.trigger](), seed=0,
                    train_window=args.train_window)
    seconds = time.perf_counter() - start
    print(versions())
    print(f"samples: {args.n_samples:,}  trigger: {args.trigger}  "
          f"train_window: {args.train_window:,}  steps: {result.summary['n_steps']:,}  "
          f"retrains: {result.summary['n_retrains']}")
    print(f"time: {seconds:.1f} s  ({args.n_samples / seconds:,.0f} samples/s)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB  (after imports: {before:.0f} MB)")


if __name__ == "__main__":
    main()

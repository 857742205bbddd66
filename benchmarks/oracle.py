"""Time the hindsight oracle on a 1,000,000-sample stream with about 100 candidates.

    python benchmarks/oracle.py            # sliding window (the scale goal: under a minute)
    python benchmarks/oracle.py --all      # also expanding and since_retrain

Prints the time of each stage: generating the stream and the label masks, training and
scoring the candidates (the accuracy matrix), the frontier for every K, and the optimum
for a few cost weights (which reuse the matrix).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from sim import Cost, Protocol
from sim.oracle import Frontier, accuracy_matrix
from sim.streams import SEA

N_SAMPLES = 1_000_000
STEP_SIZE = 1_000
EVERY = 10  # 1000 steps / 10 = 99 grid candidates + the initial model


def run(window: str) -> dict:
    stream = SEA(n_samples=N_SAMPLES, schedule=[{"at": 250_000, "to": 1},
                                                {"at": 500_000, "to": 2},
                                                {"at": 750_000, "to": 3}])
    protocol = Protocol(step_size=STEP_SIZE, initial_train=5_000, label_delay=2,
                        label_rate=0.5, window=window, train_window=5_000, min_train=1_000)
    t0 = time.perf_counter()
    matrix = accuracy_matrix(stream, LogisticRegression(), seed=0, protocol=protocol,
                             every=EVERY)
    t1 = time.perf_counter()
    frontier = Frontier(matrix, cost=Cost(per_retrain=1.0, per_sample=1e-4))
    t2 = time.perf_counter()
    for lam in (0.0, 1e-4, 1e-3, 1e-2):
        frontier.best_for_cost_weight(lam)
    t3 = time.perf_counter()
    table = frontier.frontier
    return {
        "window": window, "candidates": matrix.n_candidates, "models": len(matrix.correct),
        "steps": matrix.n_steps, "matrix_s": t1 - t0, "frontier_s": t2 - t1,
        "weights_s": t3 - t2, "total_s": t3 - t0, "K": int(table["K"].max()),
        "acc0": table["accuracy"].iloc[0], "acc_best": table["accuracy"].iloc[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also expanding and since_retrain")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
          f"{sklearn.__version__}, {os.cpu_count()} cores")
    print(f"SEA, {N_SAMPLES:,} samples, steps of {STEP_SIZE:,}, a candidate every {EVERY} "
          "steps, LogisticRegression, label_delay=2, label_rate=0.5, train_window=5000")
    print("| window | candidates | models trained | matrix (s) | frontier K=0..max (s) | "
          "4 cost weights (s) | total (s) |")
    print("|---|---|---|---|---|---|---|")
    windows = ["sliding", "expanding", "since_retrain"] if args.all else ["sliding"]
    for window in windows:
        r = run(window)
        print(f"| {r['window']} | {r['candidates']} | {r['models']} | {r['matrix_s']:.1f} | "
              f"{r['frontier_s']:.2f} (K up to {r['K']}) | {r['weights_s']:.2f} | "
              f"{r['total_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()

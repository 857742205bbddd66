"""Time per sample of a replay at 200,000 and at 2,000,000 samples (goal: within 20%).

SEA with a sudden drift halfway, LogisticRegression, step 500, train_window 5,000;
median of 3 per size.

    python benchmarks/linearity.py
"""

from __future__ import annotations

from common import median_time, sea, versions  # first: limits BLAS threads
from sklearn.linear_model import LogisticRegression

from sim import replay
from strategies import DataDrift, Never, Performance, Periodic

TRIGGERS = {"never": Never, "periodic every 40": lambda: Periodic(every=40),
            "ks": DataDrift, "performance": Performance}


def main() -> None:
    print(versions() + "\n")
    print("| trigger | us/sample at 200,000 | us/sample at 2,000,000 | ratio |")
    print("|---|---|---|---|")
    for name, make in TRIGGERS.items():
        per = []
        for n in (200_000, 2_000_000):
            seconds, _ = median_time(lambda n=n, make=make: replay(
                sea(n), LogisticRegression(), make(), seed=0, step_size=500,
                train_window=5000))
            per.append(seconds / n * 1e6)
        print(f"| {name} | {per[0]:.3f} | {per[1]:.3f} | {per[1] / per[0]:.2f} |", flush=True)


if __name__ == "__main__":
    main()

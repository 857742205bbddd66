"""Time per sample of a replay at 200,000 and at 2,000,000 samples (goal: within 20%).

SEA with a sudden drift halfway, LogisticRegression, step 500, train_window 5,000;
median of 3 per size (``--repeats``). Also the fixed cost of a run: a replay of the
shortest stream (the 5,000-sample initial segment and one scored step) and, inside it,
the initial fit alone (the same seeded model on the same 5,000 samples). The last
column is the ratio with the initial fit taken out of both sizes: what remains of the
gap once the one cost every run must pay, whatever its length, is removed.

    python benchmarks/linearity.py [--repeats 3]
"""

from __future__ import annotations

import argparse

from common import median_time, sea, versions  # first: limits BLAS threads
from sklearn.linear_model import LogisticRegression

from sim import replay
from sim.protocol import child_seeds, seeded_clone
from strategies import DataDrift, Never, Performance, Periodic

TRIGGERS = {"never": Never, "periodic every 40": lambda: Periodic(every=40),
            "ks": DataDrift, "performance": Performance}
SIZES = (200_000, 2_000_000)
INITIAL = 5000


def initial_fit_seconds(repeats: int) -> float:
    """Median seconds of the run's initial fit (seeded LR on the first 5,000 samples)."""
    batch = next(sea(SIZES[0]).batches(child_seeds(0)["stream"], INITIAL))
    model = seeded_clone(LogisticRegression(), child_seeds(0)["model"])
    seconds, _ = median_time(lambda: seeded_clone(model, 0).fit(batch.X, batch.y),
                             repeats=max(repeats, 5))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(versions() + "\n")
    fit = initial_fit_seconds(args.repeats)
    print(f"initial fit alone: {fit * 1e3:.1f} ms\n")
    print("| trigger | fixed: run on 5,500 samples (ms) | us/sample at 200,000 | "
          "us/sample at 2,000,000 | ratio | ratio without the initial fit |")
    print("|---|---|---|---|---|---|")
    for name, make in TRIGGERS.items():
        def run(n, make=make):
            return replay(sea(n), LogisticRegression(), make(), seed=0, step_size=500,
                          train_window=5000, initial_train=INITIAL)

        fixed, _ = median_time(lambda: run(INITIAL + 500), repeats=max(args.repeats, 5))
        seconds = [median_time(lambda n=n: run(n), repeats=args.repeats)[0] for n in SIZES]
        per = [s / n * 1e6 for s, n in zip(seconds, SIZES, strict=True)]
        net = [(s - fit) / n * 1e6 for s, n in zip(seconds, SIZES, strict=True)]
        print(f"| {name} | {fixed * 1e3:.1f} | {per[0]:.3f} | {per[1]:.3f} | "
              f"{per[1] / per[0]:.2f} | {net[1] / net[0]:.2f} |", flush=True)


if __name__ == "__main__":
    main()

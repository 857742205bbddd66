"""Our replay against its floor: the parts of the job no implementation can avoid.

For each trigger, one replay of a SEA stream with a sudden drift (logistic regression,
step 500, train_window 5,000) is timed (median of 3), then, in the same process, the
raw parts it cannot avoid, each done the cheapest way we know:

- generate: read the whole stream in 65,536-sample blocks;
- predict: one ``predict`` call per deployment segment (each sample predicted once, by
  the model the run deployed there);
- fits: refit the models the run trained, on the same windows (initial fit included);
- statistic: the trigger's statistic for every step: KS ``test`` per step (``fit`` per
  deployed model), the rolling accuracy of the last 500 labels for Performance
  (vectorised, all steps at once), ADWIN ``update`` per step on the error stream;
  nothing for Never and Periodic.

Each part is the median of 3. It prints our time over the sum (goal: <= 1.5).

    python benchmarks/floor.py [--n-samples 2000000] [--triggers never,periodic,ks,...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import median_time, sea, versions  # first: limits BLAS threads
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from sim import replay
from sim.protocol import child_seeds, seeded_clone
from strategies import DataDrift, ErrorDetector, Never, Performance, Periodic
from strategies.detectors import ADWIN, KS

TRIGGERS = {
    "never": Never,
    "periodic": lambda: Periodic(every=40),
    "ks": DataDrift,
    "performance": Performance,
    "adwin": lambda: ErrorDetector(ADWIN()),
}
STEP, WINDOW, SEED = 500, 5000, 0


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def floor_parts(stream, result, name: str, model) -> dict[str, float]:
    """Seconds of each unavoidable part of the run ``result`` made."""
    seeds = child_seeds(SEED)
    parts = {}
    blocks = []
    parts["generate"] = _timed(lambda: blocks.extend(stream.batches(seeds["stream"], 1 << 16)))
    X = np.concatenate([b.X for b in blocks])
    y = np.concatenate([b.y for b in blocks])
    n = len(y)

    # the models the run trained, refit on the same windows
    events = result.events[result.events["model_id"] >= 0]
    first_step = int(result.timeline["step"].iloc[0])
    windows = {0: (0, first_step * STEP)}
    windows |= {int(e.model_id): (int(e.train_start), int(e.train_end))
                for e in events.itertuples()}
    models = {}

    def fit_all():
        for i, (a, b) in windows.items():
            models[i] = seeded_clone(clone(model), seeds["model"]).fit(X[a:b], y[a:b])

    parts["fits"] = _timed(fit_all)

    # each scored sample predicted once, by the model deployed at it
    ids = result.timeline["model_id"].to_numpy()
    steps = result.timeline["step"].to_numpy()
    cuts = np.flatnonzero(np.diff(ids)) + 1
    segments = [(int(ids[a]), int(steps[a]) * STEP, min((int(steps[b - 1]) + 1) * STEP, n))
                for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(ids)], strict=True)]
    pred = np.empty(n, dtype=y.dtype)

    def predict_all():
        for i, a, b in segments:
            pred[a:b] = models[i].predict(X[a:b])

    parts["predict"] = _timed(predict_all)
    errors = (pred != y).astype(float)

    if name == "ks":
        def statistic():
            refs = {i: X[max(a, b - WINDOW):b] for i, (a, b) in windows.items()}
            test, current = KS(), None
            for t, i in zip(steps, ids, strict=True):
                if i != current:
                    test.fit(refs[i])
                    current = i
                test.test(X[t * STEP:(t + 1) * STEP])
    elif name == "performance":
        def statistic():
            start = first_step * STEP
            c = np.concatenate([[0.0], np.cumsum(errors[start:])])
            ends = np.minimum((steps + 1) * STEP, n) - start
            return 1 - (c[ends] - c[np.maximum(ends - 500, 0)]) / np.minimum(ends, 500)
    elif name == "adwin":
        def statistic():
            detector, current = ADWIN(), None
            for t, i in zip(steps, ids, strict=True):
                if i != current:
                    detector.reset()
                    current = i
                detector.update(errors[t * STEP:(t + 1) * STEP])
    else:
        def statistic():
            return None
    parts["statistic"] = _timed(statistic)
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=2_000_000)
    parser.add_argument("--triggers", default=",".join(TRIGGERS))
    args = parser.parse_args()
    print(versions())
    print(f"SEA, {args.n_samples:,} samples, sudden drift at half, LogisticRegression, step "
          f"{STEP}, train_window {WINDOW}; replay: median of 3\n")
    print("| trigger | retrains | replay (s) | generate | predict | fits | statistic | "
          "floor (s) | replay / floor |")
    print("|---|---|---|---|---|---|---|---|---|")
    model = LogisticRegression()
    stream = sea(args.n_samples)
    for name in args.triggers.split(","):
        seconds, result = median_time(
            lambda name=name: replay(stream, model, TRIGGERS[name](), seed=SEED,
                                     step_size=STEP, train_window=WINDOW))
        runs = [floor_parts(stream, result, name, model) for _ in range(3)]
        parts = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
        floor = sum(parts.values())
        print(f"| {name} | {result.summary['n_retrains']} | {seconds:.3f} | "
              f"{parts['generate']:.3f} | {parts['predict']:.3f} | {parts['fits']:.3f} | "
              f"{parts['statistic']:.3f} | {floor:.3f} | {seconds / floor:.2f} |", flush=True)


if __name__ == "__main__":
    main()

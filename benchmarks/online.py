"""What continuous learning costs per step: the replay under ``learning=online`` against
the same replay in batch, and against a hand-written predict / ``partial_fit`` loop.

On a SEA stream with a sudden drift (step 500, initial 5,000 samples, every label at
once, ``trigger=never``), for each model it times (median of 3):

- batch: the replay without updates (the deployed model predicts whole chunks ahead);
- online: the replay with :class:`sim.learning.Online` (per step: predict the step,
  deliver the labels, show the trigger, ``partial_fit`` on the arrived labels);
- loop: the floor of online, in the same process: read the stream in one block, then per
  step ``predict`` and ``partial_fit`` on the same arrays, nothing else.

It prints milliseconds per scored step and online over loop (the engine's overhead).

    python benchmarks/online.py [--n-samples 200000] [--models sgd,naive_bayes,river]
"""

from __future__ import annotations

import argparse

from common import median_time, sea, versions  # first: limits BLAS threads
from sklearn.linear_model import SGDClassifier
from sklearn.naive_bayes import GaussianNB

from sim import replay
from sim.learning import Online, RiverClassifier
from sim.protocol import child_seeds, seeded_clone
from strategies import Never

MODELS = {
    "sgd": SGDClassifier,
    "naive_bayes": GaussianNB,
    "river": lambda: RiverClassifier("tree.HoeffdingTreeClassifier"),
}
STEP, INITIAL, SEED = 500, 5000, 0


def loop(stream, model) -> int:
    """Predict and update step by step on the stream's arrays; return the steps scored."""
    seeds = child_seeds(SEED)
    (batch,) = stream.batches(seeds["stream"], stream.n_samples)
    X, y = batch.X, batch.y
    fitted = seeded_clone(model, seeds["model"]).fit(X[:INITIAL], y[:INITIAL])
    n_steps = 0
    for lo in range(INITIAL, len(y), STEP):
        fitted.predict(X[lo:lo + STEP])
        fitted.partial_fit(X[lo:lo + STEP], y[lo:lo + STEP])
        n_steps += 1
    return n_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    stream = sea(args.n_samples)
    print(versions())
    print(f"SEA, {args.n_samples:,} samples, step {STEP}, trigger=never; "
          "ms per scored step (median of 3)")
    print(f"{'model':<12} {'batch':>8} {'online':>8} {'loop':>8} {'online/loop':>12}")
    for name in args.models.split(","):
        model = MODELS[name]()
        kwargs = dict(step_size=STEP, initial_train=INITIAL, train_window=INITIAL, seed=SEED)
        t_batch, result = median_time(lambda m=model, kw=kwargs: replay(stream, m, Never(), **kw))
        t_online, _ = median_time(lambda m=model, kw=kwargs: replay(stream, m, Never(),
                                                                learning=Online(), **kw))
        t_loop, n_steps = median_time(lambda m=model: loop(stream, m))
        assert n_steps == result.summary["n_steps"]
        per = 1000 / n_steps
        print(f"{name:<12} {t_batch * per:8.2f} {t_online * per:8.2f} {t_loop * per:8.2f} "
              f"{t_online / t_loop:12.2f}")


if __name__ == "__main__":
    main()

"""Record what the simulator computes today, so that a refactor can prove it changed nothing.

``python tests/pins/make_pins.py`` replays every configuration of :data:`CONFIGS` (and the
oracle cases of :data:`ORACLES`) and writes ``tests/pins/pins.json``; ``tests/test_pins.py``
replays them again and asserts every recorded value is identical (bit for bit: floats are
stored by their exact ``repr``). CPU-second fields (``fit_seconds``,
``initial_fit_seconds``) are left out: they are measurements, not results.

Only regenerate the pins on purpose (a deliberate change of results), and say so in the
commit message. BLAS runs single-threaded, here and in the test.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sim import Batch, Drift, replay  # noqa: E402
from sim.oracle import hindsight  # noqa: E402
from sim.streams import SEA, Gaussian, PriorShift, RotatingHyperplane, Stagger  # noqa: E402
from sim.streams.base import Stream  # noqa: E402
from strategies import (  # noqa: E402
    AllOf,
    AnyOf,
    DriftAware,
    Budget,
    Cooldown,
    DataDrift,
    ErrorDetector,
    Holdout,
    KOfN,
    Never,
    Performance,
    Periodic,
    Warmup,
)
from strategies.detectors import (  # noqa: E402
    ADWIN,
    CUSUM,
    DDM,
    EDDM,
    HDDMA,
    KS,
    MMD,
    PSI,
    PageHinkley,
)

PINS = Path(__file__).with_name("pins.json")
CPU_FIELDS = ("fit_seconds", "initial_fit_seconds")


class LinearDrift(Stream):
    """A regression stream: y = w.x + noise, ``w`` changes at sample ``at``."""

    task = "regression"

    def __init__(self, n_samples=12_000, at=6_000):
        self.n_samples = n_samples
        self.at = at

    @property
    def n_features(self):
        return 3

    @property
    def drifts(self):
        return (Drift(self.at, self.at, "concept", "sudden", 0, 1),)

    def _blocks(self, seed):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(self.n_samples, 3))
        w = np.where(np.arange(self.n_samples)[:, None] < self.at, [1.0, 2.0, 0.0],
                     [1.0, -2.0, 1.0])
        yield X, (X * w).sum(axis=1) + rng.normal(scale=0.1, size=self.n_samples), None


class Buckets(Stream):
    """A stream that cuts its own steps of uneven size (like a time-bucketed table)."""

    def __init__(self, n_samples=12_000, at=6_000):
        self.n_samples = n_samples
        self.at = at

    @property
    def n_features(self):
        return 2

    @property
    def drifts(self):
        return (Drift(self.at, self.at, "concept", "sudden", 0, 1),)

    def batches(self, seed, step_size=None):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(self.n_samples, 2))
        flip = np.arange(self.n_samples) >= self.at
        y = ((X[:, 0] + X[:, 1] > 0) ^ flip).astype(int)
        sizes = rng.integers(200, 600, size=self.n_samples // 200)
        index, t = 0, 0
        for size in sizes:
            if index >= self.n_samples:
                break
            stop = min(index + int(size), self.n_samples)
            yield Batch(t=t, X=X[index:stop], y=y[index:stop], index=index)
            index, t = stop, t + 1


def sea(n=16_000, at=8_000):
    return SEA(n_samples=n, schedule=[{"at": at, "to": 3}])


def gradual_sea():
    return SEA(n_samples=16_000, schedule=[{"at": 6_000, "to": 2, "shape": "gradual",
                                             "width": 2_000}])


LR = LogisticRegression
SMALL = {"step_size": 250, "initial_train": 2_000, "train_window": 2_000, "min_train": 250}


def cfg(stream, trigger, model=LR, **kw):
    return {"stream": stream, "model": model, "trigger": trigger, **kw}


#: name -> a function returning replay's arguments (fresh objects every call)
CONFIGS = {
    "never": lambda: cfg(sea(), Never(), **SMALL),
    "periodic": lambda: cfg(sea(), Periodic(every=6), **SMALL),
    "periodic_memory_cache": lambda: cfg(sea(), Periodic(every=6), cache="memory", **SMALL),
    "periodic_sliding": lambda: cfg(sea(), Periodic(every=7), window="sliding", **SMALL),
    "periodic_expanding": lambda: cfg(sea(), Periodic(every=7), window="expanding", **SMALL),
    "periodic_since_retrain": lambda: cfg(sea(), Periodic(every=7), window="since_retrain",
                                          **SMALL),
    "periodic_deploy_latency": lambda: cfg(sea(), Periodic(every=5), deploy_latency=3, **SMALL),
    "periodic_seed7": lambda: cfg(sea(), Periodic(every=9), seed=7, **SMALL),
    "datadrift_ks": lambda: cfg(Gaussian(n_samples=12_000, schedule=[{"at": 6_000, "to": 1}]),
                                DataDrift(alpha=0.01), **SMALL),
    "datadrift_ks_memory_cache": lambda: cfg(
        Gaussian(n_samples=12_000, schedule=[{"at": 6_000, "to": 1}]), DataDrift(alpha=0.01),
        cache="memory", **SMALL),
    "datadrift_psi_window_refit": lambda: cfg(
        Gaussian(n_samples=12_000, schedule=[{"at": 6_000, "to": 1}]),
        DataDrift(test=PSI(), window=2, refit_after=3), window="since_change", **SMALL),
    "datadrift_mmd": lambda: cfg(
        Gaussian(n_samples=8_000, schedule=[{"at": 4_000, "to": 1}]),
        DataDrift(test=MMD(max_samples=200, n_permutations=20), window=2),
        **(SMALL | {"step_size": 500})),
    "performance": lambda: cfg(sea(), Performance(), **SMALL),
    "performance_label_delay": lambda: cfg(sea(), Performance(drop=0.03), label_delay=3,
                                           **SMALL),
    "performance_holdout_delay": lambda: cfg(sea(), Performance(drop=0.03), label_delay=3,
                                             gate=Holdout(n_val=300), **SMALL),
    "performance_label_rate": lambda: cfg(sea(), Performance(), label_rate=0.3, **SMALL),
    "performance_delay_rate_memory_cache": lambda: cfg(
        sea(), Performance(), label_delay=2, label_rate=0.5, cache="memory", **SMALL),
    "performance_threshold_since_retrain": lambda: cfg(
        sea(), Performance(threshold=0.85, drop=None), window="since_retrain", **SMALL),
    "ddm": lambda: cfg(sea(), ErrorDetector(DDM()), **SMALL),
    "eddm": lambda: cfg(sea(), ErrorDetector(EDDM(), use_warning=False), **SMALL),
    "adwin": lambda: cfg(sea(), ErrorDetector(ADWIN()), **SMALL),
    "adwin_label_rate_delay": lambda: cfg(sea(), ErrorDetector(ADWIN()), label_rate=0.6,
                                          label_delay=1, **SMALL),
    "page_hinkley": lambda: cfg(sea(), ErrorDetector(PageHinkley(threshold=20.0)), **SMALL),
    "cusum": lambda: cfg(sea(), ErrorDetector(CUSUM(threshold=20.0)), **SMALL),
    "hddma": lambda: cfg(sea(), ErrorDetector(HDDMA()), **SMALL),
    "drift_aware": lambda: cfg(gradual_sea(), DriftAware(delay=1), **SMALL),
    "drift_aware_delay_latency": lambda: cfg(gradual_sea(), DriftAware(refit_after=3),
                                                label_delay=2, deploy_latency=2, **SMALL),
    "any_of": lambda: cfg(sea(), AnyOf([Periodic(every=15), Performance()]), **SMALL),
    "all_of": lambda: cfg(sea(), AllOf([Performance(drop=0.02), ErrorDetector(DDM())],
                                       within=3), **SMALL),
    "k_of_n": lambda: cfg(sea(), KOfN([Performance(), ErrorDetector(DDM()),
                                       ErrorDetector(ADWIN())], k=2, within=4), **SMALL),
    "cooldown_datadrift": lambda: cfg(
        Gaussian(n_samples=12_000, schedule=[{"at": 6_000, "to": 1}]),
        Cooldown(DataDrift(alpha=0.05), min_gap=6), **SMALL),
    "warmup_performance": lambda: cfg(sea(), Warmup(Performance(drop=0.02), n_steps=8),
                                      **SMALL),
    "budget_periodic": lambda: cfg(sea(), Budget(Periodic(every=3), max_retrains=4,
                                                 period=20), **SMALL),
    "holdout_rejections": lambda: cfg(sea(), Periodic(every=4), gate=Holdout(margin=0.005,
                                                                             n_val=300),
                                      **SMALL),
    "holdout_memory_cache": lambda: cfg(sea(), Periodic(every=4), gate=Holdout(margin=0.005,
                                                                               n_val=300),
                                        cache="memory", **SMALL),
    "tree_datadrift": lambda: cfg(Gaussian(n_samples=12_000, schedule=[{"at": 6_000, "to": 1}]),
                                  DataDrift(test=KS(), alpha=0.001),
                                  model=lambda: DecisionTreeClassifier(max_depth=5), **SMALL),
    "tree_periodic_cache": lambda: cfg(sea(), Periodic(every=8),
                                       model=lambda: DecisionTreeClassifier(max_depth=5),
                                       cache="memory", **SMALL),
    "regression_never": lambda: cfg(LinearDrift(), Never(), model=LinearRegression, **SMALL),
    "regression_performance": lambda: cfg(LinearDrift(), Performance(drop=0.1),
                                          model=LinearRegression, **SMALL),
    "regression_holdout_delay": lambda: cfg(LinearDrift(), Periodic(every=4),
                                            gate=Holdout(margin=0.01, n_val=200),
                                            model=LinearRegression, label_delay=1, **SMALL),
    "uneven_steps_performance": lambda: cfg(Buckets(), Performance(), label_delay=1,
                                            **(SMALL | {"initial_train": 1_500})),
    "uneven_steps_rate_cache": lambda: cfg(Buckets(), Periodic(every=5), label_rate=0.5,
                                           cache="memory", **(SMALL | {"initial_train": 1_500})),
    "prior_shift_performance": lambda: cfg(
        PriorShift(n_samples=12_000, schedule=[{"at": 6_000, "to": 1}]),
        Performance(drop=0.005, window=250, min_labels=250),
        **SMALL),
    "hyperplane_adwin": lambda: cfg(
        RotatingHyperplane(n_samples=12_000, n_concepts=2,
                           schedule=[{"at": 6_000, "to": 1}]),
        ErrorDetector(ADWIN()), **SMALL),
    "stagger_periodic_tree": lambda: cfg(
        Stagger(n_samples=12_000, schedule=[{"at": 6_000, "to": 1}]), Periodic(every=5),
        model=lambda: DecisionTreeClassifier(random_state=None), **SMALL),
    "default_protocol": lambda: cfg(SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}]),
                                    Performance(), seed=1),
}

#: name -> (a CONFIGS name whose run's events are extra steps or None, hindsight's arguments)
ORACLES = {
    "sliding": (None, lambda: {"stream": sea(), "model": LR(), "every": 4,
                               "protocol_params": SMALL | {"window": "sliding"}}),
    "since_retrain": (None, lambda: {"stream": sea(12_000, 6_000), "model": LR(), "every": 6,
                                     "protocol_params": SMALL | {"window": "since_retrain"}}),
    "expanding_delay_rate": (None, lambda: {
        "stream": sea(), "model": LR(), "every": 5,
        "protocol_params": SMALL | {"window": "expanding", "label_delay": 2,
                                    "label_rate": 0.5, "deploy_latency": 1}}),
    "since_change_events": ("performance_label_delay", lambda: {
        "stream": sea(), "model": LR(), "every": 8,
        "protocol_params": SMALL | {"label_delay": 3}}),
    "since_change_events_gate": ("performance_holdout_delay", lambda: {
        "stream": sea(), "model": LR(), "every": 8, "gate": Holdout(n_val=300),
        "protocol_params": SMALL | {"label_delay": 3}}),
}


def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _jsonable(value):
    """Plain JSON values; floats keep their exact repr (json writes repr)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_config(name: str):
    """Replay configuration ``name``; return (its record, its RunResult)."""
    args = CONFIGS[name]()
    model = args.pop("model")()
    stream, trigger = args.pop("stream"), args.pop("trigger")
    result = replay(stream, model, trigger, **args)
    return record(result), result


def record(result) -> dict:
    """What a pin keeps of a run."""
    timeline, events = result.timeline, result.events
    metric = result.summary["metric"]
    summary = {k: v for k, v in result.summary.items() if k not in CPU_FIELDS}
    return _jsonable({
        "retrain_steps": events["step"].tolist(),
        "accepted": events["accepted"].tolist(),
        "gate_reason": events["gate_reason"].tolist(),
        "skipped": events["skipped"].tolist(),
        "train": [events["train_start"].tolist(), events["train_end"].tolist(),
                  events["n_train"].tolist(), events["n_val"].tolist()],
        "benefit": [repr(float(b)) for b in events["benefit"]],
        "steps": timeline["step"].tolist(),
        metric: [repr(float(v)) for v in timeline[metric]],
        "model_id": timeline["model_id"].tolist(),
        "n_labels": timeline["n_labels"].tolist(),
        "summary": json.loads(json.dumps(_jsonable(summary), sort_keys=True, default=repr)),
        "timeline_sha256": _digest(timeline),
        "events_sha256": _digest(events.drop(columns=["fit_seconds"])),
    })


def run_oracle(name: str, results: dict | None = None) -> dict:
    """Build oracle case ``name``'s frontier; return what a pin keeps of it."""
    events_of, make = ORACLES[name]
    args = make()
    params = args.pop("protocol_params")
    from sim import Protocol

    extra = ()
    if events_of is not None:
        run = (results or {}).get(events_of)
        if run is None:
            run = run_config(events_of)[1]
        extra = run.events
    frontier = hindsight(args.pop("stream"), args.pop("model"), seed=0,
                         protocol=Protocol(**params), extra_steps=extra, **args)
    table = frontier.frontier
    m = frontier.matrix
    return _jsonable({
        "accuracy": [repr(float(a)) for a in table["accuracy"]],
        "steps": [list(s) for s in table["steps"]],
        "cost": [repr(float(c)) for c in table["cost"]],
        "candidates": m.cand_step.tolist(),
        "correct_sha256": hashlib.sha256(np.ascontiguousarray(m.correct).tobytes()).hexdigest(),
        "rows": [m.row_train_start.tolist(), m.row_train_end.tolist(), m.row_n_train.tolist()],
        "n_labels": int(m.n_labels),
    })


_COMPACT = {"sort_keys": True, "separators": (",", ":")}


def dump(pins: dict) -> str:
    """The pins as JSON text, one configuration per line (compact, readable diffs)."""
    lines = []
    for section, items in sorted(pins.items()):
        rows = [f"  {json.dumps(name)}: {json.dumps(items[name], **_COMPACT)}"
                for name in sorted(items)]
        lines.append(f' "{section}": {{\n' + ",\n".join(rows) + "\n }")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def make() -> dict:
    """Compute every pin."""
    runs, results = {}, {}
    with threadpool_limits(1):
        for name in CONFIGS:
            runs[name], results[name] = run_config(name)
        oracles = {name: run_oracle(name, results) for name in ORACLES}
    return {"runs": runs, "oracles": oracles}


if __name__ == "__main__":
    pins = make()
    PINS.write_text(dump(pins))
    print(f"{len(pins['runs'])} runs and {len(pins['oracles'])} oracles pinned in {PINS}",
          file=sys.stderr)

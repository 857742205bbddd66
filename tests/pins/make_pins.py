"""Record what the simulator computes today, so that a refactor can prove it changed nothing.

``python tests/pins/make_pins.py`` replays every configuration of :data:`CONFIGS` (and the
oracle cases of :data:`ORACLES`), rewrites ``tests/pins/pins.json`` and prints which
configurations and fields changed against the previous file (nothing printed under
"changed": the results are the same). ``tests/test_pins.py`` replays them again and
compares with :func:`compare`.

A pin keeps every column of a run's timeline and events and its whole summary (the
oracle's frontier, candidates, training rows and its accuracy matrix): integers, booleans
and strings (retrain steps, verdicts, windows, counts, model ids, label counts, reasons)
are compared exactly; floats are stored rounded to :data:`DIGITS` significant digits
(NaN as null) and compared as :func:`numpy.testing.assert_allclose` does,
``|got - want| <= ATOL + RTOL * |want|``. Why these sizes: the same run on another CPU or
BLAS build differs in the last bits (summation order: ``0.08234706527173517`` against
``...515``). Measured with OpenBLAS's Prescott and Sandybridge kernels against Haswell's
(``OPENBLAS_CORETYPE``): about 210 pinned floats differ, by at most 8.8e-13 relative
(3.6e-16 absolute, on a benefit near 4e-4), and no discrete outcome; rounding to 12 digits
adds at most 5e-13. ``RTOL = 1e-9`` is three orders of magnitude above both, while one
changed prediction of a 250-sample step moves an accuracy by 4e-3 and a changed formula
typically moves a value by far more than 1e-9. ``ATOL = 1e-12`` only absorbs noise
around zero (a benefit of ``-1e-17`` instead of ``0.0``). CPU-second fields
(``fit_seconds``, ``initial_fit_seconds``) are left out: they are measurements, not results.

Only regenerate the pins on purpose (a deliberate change of results), and name the changed
configurations it prints in the commit message. BLAS runs single-threaded, here and in the
test.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import json  # noqa: E402
import math  # noqa: E402
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
    Budget,
    Cooldown,
    DataDrift,
    DriftAware,
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
DIGITS = 12  # significant digits a pinned float keeps
RTOL = 1e-9  # relative tolerance of a float (module docstring: why this size)
ATOL = 1e-12  # absolute tolerance of a float, for values that should be zero


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


def _jsonable(value):
    """Plain JSON values; floats rounded to :data:`DIGITS` significant digits, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.{DIGITS}g}")
    if value is pd.NA:
        return None
    return value


def _columns(frame: pd.DataFrame) -> dict:
    """A frame as ``{column: values}`` (missing values as None)."""
    return {c: _jsonable(frame[c].astype(object).where(frame[c].notna(), None).tolist())
            for c in frame.columns}


def run_config(name: str):
    """Replay configuration ``name``; return (its record, its RunResult)."""
    args = CONFIGS[name]()
    model = args.pop("model")()
    stream, trigger = args.pop("stream"), args.pop("trigger")
    result = replay(stream, model, trigger, **args)
    return record(result), result


def record(result) -> dict:
    """What a pin keeps of a run: its timeline, its events and its summary."""
    summary = {k: v for k, v in result.summary.items() if k not in CPU_FIELDS}
    return {"timeline": _columns(result.timeline),
            "events": _columns(result.events.drop(columns=list(CPU_FIELDS), errors="ignore")),
            "summary": _jsonable(summary)}


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
        "accuracy": table["accuracy"].tolist(),
        "steps": [list(s) for s in table["steps"]],
        "cost": table["cost"].tolist(),
        "candidates": m.cand_step.tolist(),
        "correct": m.correct.tolist(),  # per training row and scored step: counts
        "rows": [m.row_train_start.tolist(), m.row_train_end.tolist(), m.row_n_train.tolist()],
        "n_labels": int(m.n_labels),
    })


def _same(want, got) -> bool:
    """Whether two pinned leaves agree: floats within the tolerance, the rest exactly."""
    if isinstance(want, float) and isinstance(got, (float, int)) and not isinstance(got, bool):
        return abs(got - want) <= ATOL + RTOL * abs(want)
    return type(want) is type(got) and want == got


def compare(want, got, field: str = "") -> list[str]:
    """Return what differs between a pin ``want`` and a new record ``got``, field by field.

    Each difference names its field (``timeline.accuracy[12]``) and both values.

    Examples
    --------
    >>> pin = {"steps": [3, 7], "accuracy": [0.9, 0.875]}
    >>> compare(pin, {"steps": [3, 7], "accuracy": [0.9, 0.875 + 1e-14]})
    []
    >>> compare(pin, {"steps": [3, 8], "accuracy": [0.9, 0.876]})
    ['accuracy[1]: 0.875 != 0.876 (rtol 1e-09, atol 1e-12)', 'steps[1]: 7 != 8']
    """
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{field}.{k}".lstrip(".") + ": " + ("no longer recorded" if k not in got else
                                                     "new")
               for k in sorted(set(want) ^ set(got))]
        for k in sorted(set(want) & set(got)):
            out += compare(want[k], got[k], f"{field}.{k}".lstrip("."))
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{field}: {len(want)} values != {len(got)}"]
        return [d for i, (w, g) in enumerate(zip(want, got, strict=True))
                for d in compare(w, g, f"{field}[{i}]")]
    if _same(want, got):
        return []
    tolerance = f" (rtol {RTOL:g}, atol {ATOL:g})" if isinstance(want, float) else ""
    return [f"{field}: {want!r} != {got!r}{tolerance}"]


def changes(old: dict, new: dict) -> dict[str, list[str]]:
    """``"section/name" -> differences`` for every pinned case that is new, gone or changed."""
    out = {}
    for section in sorted(set(old) | set(new)):
        before, after = old.get(section, {}), new.get(section, {})
        for name in sorted(set(before) | set(after)):
            if name not in after:
                out[f"{section}/{name}"] = ["no longer pinned"]
            elif name not in before:
                out[f"{section}/{name}"] = ["newly pinned"]
            elif diff := compare(before[name], after[name]):
                out[f"{section}/{name}"] = diff
    return out


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


def main() -> None:
    """Rewrite pins.json; print each changed configuration and its first changed fields."""
    old = json.loads(PINS.read_text()) if PINS.exists() else {}
    pins = make()
    PINS.write_text(dump(pins))
    changed = changes(old, pins)
    for case, diff in changed.items():
        shown = "; ".join(diff[:5]) + (f"; ... {len(diff) - 5} more" if len(diff) > 5 else "")
        print(f"{case}: {shown}")
    print(f"{len(pins['runs'])} runs and {len(pins['oracles'])} oracles pinned in {PINS}; "
          f"{len(changed)} changed", file=sys.stderr)


if __name__ == "__main__":
    main()

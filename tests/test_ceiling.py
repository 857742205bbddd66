"""A ceiling that holds (issue 21): no job of a sweep ends above the shared hindsight optimum.

Over the default sweep and the ``rollout_validation``, ``incidents`` and ``label_free``
presets, every job (as ``retrain-sim`` runs it, :func:`experiments.run.simulate`) ends at
or below the optimum with its number of served retrains, or is reported "not bounded";
the optimum is one matrix per stream, seed, model and protocol, shared by every policy
(with every job's own retrain windows added, for the change points estimated inside a
step). On the default stream the shared optimum with 4 retrains, without any run's
windows, beats ``performance`` with its 4.
"""

import itertools

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from experiments import CONF_DIR
from experiments.run import build, simulate
from sim import oracle, threads

pytestmark = pytest.mark.slow

# preset (None: the default sweep) -> seeds
PRESETS = {None: [0, 1, 2], "rollout_validation": [0, 1], "incidents": [0, 1],
           "label_free": [0]}


def _jobs(preset, seeds):
    """The sweep's job overrides (its sweeper's grid), for the given seeds."""
    base = [f"experiment={preset}"] if preset else []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=base, return_hydra_config=True)
        grid = {k: str(v).split(",") for k, v in cfg.hydra.sweeper.params.items()
                if k != "seed"}
        for values in itertools.product(*grid.values()):
            for seed in seeds:
                overrides = [*base, *(f"{k}={v}" for k, v in zip(grid, values, strict=True)),
                             f"seed={seed}", "oracle.enabled=true"]
                yield overrides, compose("config", overrides=overrides)


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    cache = tmp_path_factory.mktemp("oracle_cache")
    out = []
    with threads.limit(1):
        for preset, seeds in PRESETS.items():
            for overrides, cfg in _jobs(preset, seeds):
                run = simulate(cfg, cache_dir=cache)
                out.append((preset, overrides, cfg, run))
    return cache, out


def _group(cfg):
    c = build(cfg)
    key = oracle.cache_key(c["stream"], c["model"], seed=cfg.seed, protocol=c["protocol"],
                           gate=c["gate"], every=cfg.oracle.every,
                           n_holdout=c["trigger"].n_holdout, windows=cfg.oracle.windows)
    return key, c


def test_every_job_is_at_or_below_its_optimum_or_not_bounded(sweeps):
    _, jobs = sweeps
    presets = {p for p, *_ in jobs}
    assert presets == set(PRESETS)
    n_unbounded = 0
    for _, overrides, cfg, run in jobs:
        s = run["summary"]
        c = build(cfg)
        reason = oracle.not_bounded(c["gate"], c.get("learning"))
        assert s["oracle_bounded"] is (reason is None), overrides
        if reason is not None:
            n_unbounded += 1
            assert pd.isna(s["regret"]) and pd.isna(s["optimal_accuracy_same_retrains"])
            continue
        assert s["mean_accuracy"] <= s["optimal_accuracy_same_retrains"] + 1e-12, overrides
        assert s["regret"] >= -1e-12, overrides
    # shadow, canary, staged canary and rollback
    assert n_unbounded == 4 * len(PRESETS["rollout_validation"])


def test_one_shared_optimum_bounds_every_job_of_its_stream_seed_model_and_protocol(sweeps):
    cache, jobs = sweeps
    groups = {}
    for _, overrides, cfg, run in jobs:
        if run["summary"]["oracle_bounded"]:
            key, c = _group(cfg)
            groups.setdefault(key, (cfg, c, []))[2].append((overrides, run))
    assert len(groups) >= 3 * 3 + 2  # streams x seeds (and the gates' held-out labels)
    for cfg, c, members in groups.values():
        events = pd.concat([run["events"] for _, run in members], ignore_index=True)
        shared = oracle.hindsight(
            c["stream"], c["model"], seed=cfg.seed, protocol=c["protocol"], cost=c["cost"],
            gate=c["gate"], every=cfg.oracle.every, windows=cfg.oracle.windows,
            extra_steps=events, cache_dir=cache, n_holdout=c["trigger"].n_holdout)
        for overrides, run in members:
            s = run["summary"]
            best = shared.best(min(int(s["n_served"]), shared.max_retrains))
            assert s["mean_accuracy"] <= best.accuracy + 1e-12, overrides


def test_on_the_default_stream_the_optimum_with_4_retrains_beats_performance(sweeps):
    """Without any run's own windows: the shared matrix alone is the ceiling here."""
    cache, jobs = sweeps
    seen = set()
    for preset, overrides, cfg, run in jobs:
        if preset is not None or "trigger=performance" not in overrides:
            continue
        s = run["summary"]
        assert s["n_served"] == 4, overrides
        _, c = _group(cfg)
        shared = oracle.hindsight(
            c["stream"], c["model"], seed=cfg.seed, protocol=c["protocol"], cost=c["cost"],
            every=cfg.oracle.every, windows=cfg.oracle.windows, cache_dir=cache)
        assert shared.best(4).accuracy >= s["mean_accuracy"], overrides
        seen.add(cfg.seed)
    assert seen == {0, 1, 2}

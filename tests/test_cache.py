"""The fit and prediction caches: results unchanged, and every change to the training set misses."""

import os
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sim import compare, replay
from sim.cache import DiskCache, MemoryCache, as_cache, fingerprint
from sim.streams import SEA
from strategies import DataDrift, Performance, Periodic
from strategies.detectors import KS


def sea(n=20_000, **kw):
    return SEA(n_samples=n, schedule=[{"at": n // 2, "to": 3}], **kw)


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.timeline, b.timeline, check_exact=True)
    pd.testing.assert_frame_equal(a.events.drop(columns="fit_seconds"),
                                  b.events.drop(columns="fit_seconds"), check_exact=True)
    drop = ("fit_seconds", "initial_fit_seconds")
    assert repr({k: v for k, v in a.summary.items() if k not in drop}) == repr(
        {k: v for k, v in b.summary.items() if k not in drop})


@pytest.mark.parametrize("kw", [{}, {"label_rate": 0.4, "label_delay": 2},
                                {"window": "sliding", "deploy_latency": 1}])
@pytest.mark.parametrize("trigger", [Periodic(every=4), DataDrift(alpha=0.1), Performance()],
                         ids=["periodic", "ks", "performance"])
def test_results_are_identical_with_and_without_the_cache(trigger, kw, tmp_path):
    plain = replay(sea(), LogisticRegression(), trigger, seed=2, **kw)
    memory = MemoryCache()
    for cache in (memory, memory, tmp_path, tmp_path):  # cold, then warm
        assert_same(plain, replay(sea(), LogisticRegression(), trigger, seed=2, cache=cache,
                                  **kw))
    assert memory.stats["fit_hits"] >= plain.summary["n_retrains"] + 1


def test_a_hit_reports_the_original_fit_seconds():
    cache = MemoryCache()
    first = replay(sea(), LogisticRegression(), Periodic(every=4), seed=0, cache=cache)
    again = replay(sea(), LogisticRegression(), Periodic(every=4), seed=0, cache=cache)
    pd.testing.assert_frame_equal(first.events, again.events, check_exact=True)
    assert again.summary["fit_seconds"] == first.summary["fit_seconds"]


@pytest.mark.parametrize("change", [
    dict(stream=sea(noise=0.2)),
    dict(stream=sea(thresholds=(8.0, 9.0, 7.0, 9.4))),
    dict(stream=sea(n=20_500)),
    dict(seed=1),
    dict(model=LogisticRegression(C=0.5)),
    dict(model=LogisticRegression(random_state=3)),
    dict(train_window=4000, expected_hits=1),  # the initial fit's set is unchanged
    dict(label_rate=0.5),
    dict(initial_train=4500),
], ids=["noise", "thresholds", "n_samples", "seed", "C", "random_state", "window",
        "label_rate", "initial_train"])
def test_a_changed_stream_seed_model_window_or_label_rate_misses(change):
    """Every fit misses, except the initial one when its training set is unchanged."""
    base = dict(stream=sea(), model=LogisticRegression(), seed=0, train_window=5000)
    cache = MemoryCache()
    run = base | {"trigger": Periodic(every=4)}
    replay(run.pop("stream"), run.pop("model"), run.pop("trigger"), cache=cache, **run)
    hits = cache.stats["fit_hits"]
    changed = base | change
    expected = changed.pop("expected_hits", 0)
    replay(changed.pop("stream"), changed.pop("model"), Periodic(every=4), cache=cache,
           **changed)
    assert cache.stats["fit_hits"] == hits + expected


def test_a_changed_stream_version_misses():
    class Other(SEA):
        version = "2"

    cache = MemoryCache()
    replay(sea(), LogisticRegression(), Periodic(every=4), cache=cache)
    replay(Other(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}]), LogisticRegression(),
           Periodic(every=4), cache=cache)
    assert cache.stats["fit_hits"] == 0


def test_compare_shares_one_cache_and_keeps_the_table():
    triggers = {f"{a}": DataDrift(alpha=a) for a in (0.001, 0.01, 0.05)}
    plain = compare(sea(), LogisticRegression(), triggers, seed=0).summary
    cached = compare(sea(), LogisticRegression(), triggers, seed=0, cache="memory").summary
    cols = [c for c in plain.columns if "seconds" not in c]
    pd.testing.assert_frame_equal(plain[cols], cached[cols], check_exact=True)


def _job(path):
    result = replay(sea(), LogisticRegression(), Periodic(every=3), seed=0, cache=path)
    return result.timeline["accuracy"].tolist()


def test_disk_cache_is_safe_for_parallel_jobs(tmp_path):
    with ProcessPoolExecutor(2) as pool:
        outcomes = list(pool.map(_job, [tmp_path] * 4))
    assert all(o == outcomes[0] for o in outcomes)
    assert not [f for f in tmp_path.rglob("*") if f.name.startswith(".tmp-")]
    cache = DiskCache(tmp_path)
    _job(cache)
    assert cache.stats["fit_misses"] == 0


def test_a_damaged_entry_is_a_miss(tmp_path):
    replay(sea(), LogisticRegression(), Periodic(every=4), cache=tmp_path)
    for f in (tmp_path / "fit").rglob("*.pkl"):
        f.write_bytes(b"not a pickle")
    cache = DiskCache(tmp_path)
    replay(sea(), LogisticRegression(), Periodic(every=4), cache=cache)
    assert cache.stats["fit_hits"] == 0


def test_unnamed_functions_make_a_run_uncacheable():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    model = make_pipeline(FunctionTransformer(lambda X: X), LogisticRegression())
    cache = MemoryCache()
    replay(sea(), model, Periodic(every=4), cache=cache)
    assert cache.stats["uncacheable_runs"] == 1 and len(cache) == 0


def test_bad_cache_argument_is_named():
    with pytest.raises(ValueError, match="'cache' parameter"):
        as_cache(3)
    assert as_cache(os.fspath("results/.cache")).path.as_posix() == "results/.cache"


def test_fingerprint_sees_nested_parameters():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    a = make_pipeline(StandardScaler(), LogisticRegression())
    b = make_pipeline(StandardScaler(with_mean=False), LogisticRegression())
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(a) == fingerprint(make_pipeline(StandardScaler(), LogisticRegression()))


# -- shared step results of DataDrift (sim.cache.ReferenceMemo) ------------------------

def _results(cache):
    return cache.stats["result_hits"], cache.stats["result_misses"]


def test_data_drift_shares_its_tests_and_keeps_the_results(tmp_path):
    """Runs at other thresholds reuse every test made against the same reference."""
    plain = replay(sea(), LogisticRegression(), DataDrift(alpha=0.2), seed=1)
    cache = MemoryCache()
    first = replay(sea(), LogisticRegression(), DataDrift(alpha=1e-9), seed=1, cache=cache)
    hits, misses = _results(cache)
    assert hits == 0 and misses == len(first.timeline)
    again = replay(sea(), LogisticRegression(), DataDrift(alpha=0.2), seed=1, cache=cache)
    assert_same(plain, again)
    # the runs share the initial model until alpha=0.2 first fires
    first_retrain = int(again.events["step"].iloc[0])
    first_step = int(again.timeline["step"].iloc[0])
    assert cache.stats["result_hits"] - hits >= first_retrain - first_step + 1
    # on disk, for separate jobs: the second job's tests all hit
    replay(sea(), LogisticRegression(), DataDrift(alpha=1e-9), seed=1, cache=tmp_path)
    disk = DiskCache(tmp_path)
    result = replay(sea(), LogisticRegression(), DataDrift(alpha=1e-8), seed=1, cache=disk)
    assert _results(disk) == (len(result.timeline), 0)


@pytest.mark.parametrize("change, shared", [
    (dict(train_window=4000), False),  # same initial fit (and fit key), shorter reference
    (dict(trigger=DataDrift(alpha=1e-9, window=2)), False),  # other current windows
    (dict(seed=3), False),
    (dict(step_size=400), False),  # other current windows
    (dict(trigger=DataDrift(alpha=1e-3, test=KS(), share=0.5)), True),  # same tests
], ids=["reference", "window", "seed", "step", "same-tests"])
def test_a_changed_reference_or_window_misses(change, shared):
    """Hits only when the reference and the current window are the same."""
    base = dict(trigger=DataDrift(alpha=1e-9), seed=0, train_window=5000, step_size=500)
    cache = MemoryCache()
    run = dict(base)
    replay(sea(), LogisticRegression(), run.pop("trigger"), cache=cache, **run)
    hits, _ = _results(cache)
    changed = base | change
    trigger = changed.pop("trigger")
    result = replay(sea(), LogisticRegression(), trigger, cache=cache, **changed)
    assert_same(replay(sea(), LogisticRegression(), trigger, **changed), result)
    new_hits = cache.stats["result_hits"] - hits
    if shared:  # every step until the first retrain (after it: another reference)
        steps = result.timeline["step"]
        until = result.events["step"].iloc[0] if len(result.events) else steps.iloc[-1]
        assert new_hits >= int((steps <= until).sum())
    else:
        assert new_hits == 0


def test_other_tests_and_stateful_tests_are_not_shared():
    from strategies.detectors import MMD, PSI

    cache = MemoryCache()
    replay(sea(), LogisticRegression(), DataDrift(alpha=1e-9), seed=0, cache=cache)
    hits, misses = _results(cache)
    replay(sea(), LogisticRegression(), DataDrift(PSI(), threshold=9.0), seed=0, cache=cache)
    assert cache.stats["result_hits"] == hits and cache.stats["result_misses"] > misses
    hits, misses = _results(cache)
    trigger = DataDrift(MMD(n_permutations=20, max_samples=200), alpha=1e-9)
    plain = replay(sea(n=8_000), LogisticRegression(), trigger, seed=0)
    for _ in range(2):
        assert_same(plain, replay(sea(n=8_000), LogisticRegression(), trigger, seed=0,
                                  cache=cache))
    assert _results(cache) == (hits, misses)  # MMD's random state moves: never shared

"""The fit and prediction caches: results unchanged, and every change to the training set misses.

Also what a cache and a config may not do: be keyed by a data file's name, path or
modification time instead of its bytes; run code when an entry is loaded; load data
through an arbitrary ``_target_`` function.
"""

import functools
import logging
import os
import pickle
import stat
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sim import compare, replay
from sim.cache import (
    CACHE_KEY_ENV,
    CacheEntryWarning,
    DiskCache,
    MemoryCache,
    as_cache,
    fingerprint,
)
from sim.streams import SEA, Tabular
from strategies import DataDrift, Performance, Periodic
from strategies.detectors import KS


@pytest.fixture(autouse=True)
def cache_key(tmp_path_factory, monkeypatch):
    """Each test signs its disk entries with a key of its own, not the user's."""
    path = tmp_path_factory.mktemp("key") / "cache-key"
    monkeypatch.setenv(CACHE_KEY_ENV, str(path))
    return path


def _entries(directory: Path) -> list[Path]:
    return [f for f in directory.rglob("*") if f.is_file()]


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
    for f in _entries(tmp_path / "fit"):
        f.write_bytes(b"not a pickle")
    cache = DiskCache(tmp_path)
    with pytest.warns(CacheEntryWarning, match="not a signed entry"):
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


# -- keys from content: a data file's bytes, a data function's values -----------------

def _table(path: Path, flip: bool = False) -> None:
    """Write a CSV of 6,000 rows; ``flip`` swaps the labels a/b of its second half."""
    rng = np.random.default_rng(0)
    X = rng.random((6000, 2))
    y = np.where(X.sum(axis=1) > 1, "a", "b")
    if flip:
        y[3000:] = np.where(y[3000:] == "a", "b", "a")
    pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "y": y}).to_csv(path, index=False)


def _accuracy(stream, cache=None) -> list[float]:
    result = replay(stream, LogisticRegression(), Periodic(every=2), step_size=500,
                    initial_train=1000, cache=cache)
    return result.timeline["accuracy"].tolist()


@pytest.mark.parametrize("how", ["in place", "replaced"])
def test_a_data_file_changed_with_the_same_size_and_mtime_misses(tmp_path, how):
    """The reported bug: labels flipped, size and mtime kept, the stale results returned."""
    data = tmp_path / "data.csv"
    _table(data)
    before = os.stat(data)
    cache = tmp_path / "cache"
    _accuracy(Tabular(data=str(data), target="y"), cache)
    flipped = tmp_path / "flipped.csv"
    _table(flipped, flip=True)
    if how == "in place":  # the same inode
        data.write_bytes(flipped.read_bytes())
    else:
        os.replace(flipped, data)
        _table(flipped, flip=True)
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(data).st_size == before.st_size
    expected = _accuracy(Tabular(data=str(flipped), target="y"))
    assert _accuracy(Tabular(data=str(data), target="y"), DiskCache(cache)) == expected


def test_a_stream_rereads_a_file_changed_with_the_same_size_and_mtime(tmp_path):
    """Tabular remembers its scan of a file by the file's bytes, not its size and mtime."""
    data = tmp_path / "data.csv"
    data.write_text("x,y\n0.5,a\n0.25,b\n")
    before = os.stat(data)
    stream = Tabular(data=str(data), target="y")
    assert stream.classes.tolist() == ["a", "b"]
    data.write_text("x,y\n0.5,a\n0.25,c\n")
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert stream.classes.tolist() == ["a", "c"]


def test_a_data_function_is_keyed_by_the_values_it_returns(tmp_path):
    data = tmp_path / "data.csv"
    _table(data)
    cache = MemoryCache()
    loader = functools.partial(pd.read_csv, data)  # the same function and arguments twice
    _accuracy(Tabular(data=loader, target="y"), cache)
    _table(data, flip=True)
    expected = _accuracy(Tabular(data=str(data), target="y"))
    assert _accuracy(Tabular(data=loader, target="y"), cache) == expected


def test_a_table_differing_only_in_the_types_of_its_text_values_misses():
    """pandas hashes an object column as text: the labels 1 and "1" must still differ."""
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": pd.Series([1, "a", 1], dtype=object)})
    other = frame.assign(y=pd.Series(["1", "a", "1"], dtype=object))
    assert fingerprint(frame) != fingerprint(other)
    assert fingerprint(frame) == fingerprint(frame.copy())
    assert fingerprint(frame["y"]) != fingerprint(other["y"])


def test_a_copy_of_the_data_elsewhere_hits(tmp_path):
    """Keys hold the bytes, not the path: the same data under another name is shared."""
    data, copy = tmp_path / "data.csv", tmp_path / "copy" / "other name.csv"
    _table(data)
    copy.parent.mkdir()
    copy.write_bytes(data.read_bytes())
    cache = MemoryCache()
    _accuracy(Tabular(data=str(data), target="y"), cache)
    misses = cache.stats["fit_misses"]
    _accuracy(Tabular(data=str(copy), target="y"), cache)
    assert cache.stats["fit_misses"] == misses and cache.stats["fit_hits"] == misses


# -- entries that cannot run code when loaded ------------------------------------------

class _Payload:
    """Unpickling it creates ``marker`` (what ``os.system`` could do, without a shell)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


@pytest.mark.parametrize("trigger, kinds", [
    (Periodic(every=4), {"fit", "predictions"}),
    (DataDrift(alpha=1e-9), {"fit", "predictions", "results"}),
], ids=["fits-and-predictions", "step-results"])
def test_a_planted_pickle_does_not_run(tmp_path, trigger, kinds):
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    plain = replay(sea(), LogisticRegression(), trigger, seed=0)
    replay(sea(), LogisticRegression(), trigger, seed=0, cache=cache)
    planted = _entries(cache)
    assert {f.parent.parent.name for f in planted} == kinds
    for f in planted:
        f.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.warns(CacheEntryWarning, match="not a signed entry"):
        again = replay(sea(), LogisticRegression(), trigger, seed=0, cache=DiskCache(cache))
    assert not marker.exists()
    assert_same(plain, again)
    with warnings.catch_warnings():  # the ignored entries were replaced by signed ones
        warnings.simplefilter("error", CacheEntryWarning)
        third = DiskCache(cache)
        replay(sea(), LogisticRegression(), trigger, seed=0, cache=third)
    assert third.stats["fit_misses"] == 0 and third.stats["fit_hits"] > 0


def test_an_entry_signed_with_another_key_or_moved_is_ignored(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    plain = replay(sea(), LogisticRegression(), Periodic(every=4), seed=0)
    replay(sea(), LogisticRegression(), Periodic(every=4), seed=0, cache=cache)
    fits = sorted(_entries(cache / "fit"))
    first = fits[0].read_bytes()  # a valid entry, under another key: it would lie
    fits[0].write_bytes(fits[1].read_bytes())
    fits[1].write_bytes(first)
    with pytest.warns(CacheEntryWarning, match="signature does not match"):
        moved = DiskCache(cache)
        assert_same(plain, replay(sea(), LogisticRegression(), Periodic(every=4), seed=0,
                                  cache=moved))
    assert moved.stats["fit_hits"] == len(fits) - 2
    monkeypatch.setenv(CACHE_KEY_ENV, str(tmp_path / "another user's key"))
    with pytest.warns(CacheEntryWarning, match="signature does not match"):
        other = DiskCache(cache)
        replay(sea(), LogisticRegression(), Periodic(every=4), seed=0, cache=other)
    assert other.stats["fit_hits"] == 0


def test_the_key_is_private_and_one_others_can_read_is_refused(cache_key):
    DiskCache(cache_key.parent / "cache")
    assert stat.S_IMODE(os.stat(cache_key).st_mode) == 0o600 and len(cache_key.read_bytes()) == 32
    os.chmod(cache_key, 0o644)
    with pytest.raises(PermissionError, match=r"cache key file .* must be a file of yours "
                                              r"readable and writable by you only \(mode 0600\)"
                                              r".* Got mode -rw-r--r--"):
        DiskCache(cache_key.parent / "cache")


def test_a_key_that_cannot_be_created_is_named(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_KEY_ENV, str(blocker / "cache-key"))
    with pytest.raises(PermissionError, match=f"could not be created .* Set {CACHE_KEY_ENV}"):
        DiskCache(tmp_path / "cache")


def test_predictions_are_arrays_read_without_pickle(tmp_path):
    replay(sea(), LogisticRegression(), Periodic(every=4), seed=0, cache=tmp_path)
    files = _entries(tmp_path / "predictions")
    assert files and all(f.suffix == ".npy" for f in files)
    body = files[0].read_bytes().split(b"\n", 1)[1][32:]
    assert body.startswith(b"\x93NUMPY") and b"pickle" not in body
    objects = np.array(["a", "b"], dtype=object)  # np.save would pickle it: memory only
    cache = DiskCache(tmp_path / "objects")
    cache.put_predictions("k", objects)
    assert cache.get_predictions("k") is objects and not _entries(tmp_path / "objects")


# -- data parameters take paths and tables, not `_target_` nodes ------------------------

@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """Run ``retrain-sim ...`` in this process; return (exit status, stderr)."""
    from experiments import run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setattr(sys, "argv", ["retrain-sim"])
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def call(args: list[str]) -> tuple[int, str]:
        capsys.readouterr()
        try:
            run.main(args)
            code = 0
        except SystemExit as ex:
            code = ex.code
        finally:
            monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
            root.handlers[:], _ = saved[0], root.setLevel(saved[1])
        return code, capsys.readouterr().err

    return call


LOADERS = {
    "pandas.read_pickle": "{_target_: pandas.read_pickle, filepath_or_buffer: payload.pkl}",
    "joblib.load": "{_target_: joblib.load, filename: payload.pkl}",
    "numpy.load": "{_target_: numpy.load, file: payload.pkl, allow_pickle: true}",
    "a partial": "{_target_: pandas.read_pickle, _partial_: true, "
                 "filepath_or_buffer: payload.pkl}",
    "in the loader's path": "{_target_: sim.datasets.electricity, _partial_: true, "
                            "path: {_target_: pandas.read_pickle, filepath_or_buffer: "
                            "payload.pkl}}",
}


@pytest.mark.parametrize("mode", [["hydra.mode=RUN"], ["-m"]], ids=["run", "multirun"])
@pytest.mark.parametrize("node", list(LOADERS.values()), ids=list(LOADERS))
def test_a_data_parameter_calling_a_loader_is_refused_before_anything_runs(
        cli, tmp_path, node, mode):
    marker = tmp_path / "marker"
    (tmp_path / "payload.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    code, err = cli([*mode, "stream=table", f"stream.data={node}", "stream.target=y",
                     "progress=false", f"hydra.sweep.dir={tmp_path / 'sweep'}"])
    assert not marker.exists()
    assert code == 2, err
    assert "Invalid value for stream.data" in err
    assert "must be the path of a CSV or parquet file" in err
    assert "sim.datasets.electricity" in err and "No job was launched" in err
    assert not (tmp_path / "sweep").exists()


def test_build_refuses_a_data_target_in_a_nested_stream(tmp_path):
    from omegaconf import OmegaConf

    from experiments.run import build
    from sim.checks import ParamError

    marker = tmp_path / "marker"
    (tmp_path / "payload.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    stream = {"_target_": "sim.streams.Injection", "schedule": [],
              "stream": {"_target_": "sim.streams.Tabular", "target": "y",
                         "data": {"_target_": "pandas.read_pickle",
                                  "filepath_or_buffer": str(tmp_path / "payload.pkl")}}}
    with pytest.raises(ParamError, match="The 'data' parameter of Tabular must be the path"):
        build(OmegaConf.create({"stream": stream}))
    assert not marker.exists()


def test_the_documented_data_parameters_still_build(tmp_path):
    from omegaconf import OmegaConf

    from experiments import CONF_DIR
    from experiments.run import build

    for name in ("elec2", "elec2_injected"):
        stream = OmegaConf.load(CONF_DIR / "stream" / f"{name}.yaml")
        built = build(OmegaConf.create({"stream": stream}))["stream"]
        assert type(built).__name__ in ("Tabular", "Injection")
    table = OmegaConf.load(CONF_DIR / "stream" / "table.yaml")
    table.data, table.target = str(tmp_path / "my.csv"), "y"
    assert build(OmegaConf.create({"stream": table}))["stream"].data == str(tmp_path / "my.csv")


def test_the_parquet_reader_required_cannot_unpickle():
    """pyarrow before 14.0.1 unpickles PyExtensionType metadata of a parquet file."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    pyarrow = next(Requirement(r) for r in project["project"]["dependencies"]
                   if Requirement(r).name == "pyarrow")
    assert not pyarrow.specifier.contains(Version("14.0.0"))
    assert pyarrow.specifier.contains(Version("14.0.1"))

"""Tests of sim.datasets: Elec2 from a local copy, the cache or OpenML, and the baselines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import Bunch

from sim import replay
from sim.datasets import (
    ELECTRICITY_COLUMNS,
    baselines,
    electricity,
    electricity_stream,
    locate_electricity,
    persistence,
)
from sim.streams import Injection
from strategies import DataDrift, Never, Periodic

N_ROWS = 45_312
ROOT = Path(__file__).resolve().parents[1]


def fake_openml_frame(n=N_ROWS, seed=0):
    """What fetch_openml(data_id=151, as_frame=True) returns: categories for day and class."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.uniform(size=n) for c in ELECTRICITY_COLUMNS})
    frame["day"] = pd.Categorical(rng.integers(1, 8, size=n).astype(str))
    frame["class"] = pd.Categorical(rng.choice(["UP", "DOWN"], size=n))
    return frame


@pytest.fixture
def fake_fetch(monkeypatch):
    monkeypatch.delenv("RETRAIN_SIM_DATA", raising=False)
    calls = []

    def fetch_openml(**kwargs):
        calls.append(kwargs)
        frame = fake_openml_frame()
        return Bunch(frame=frame, data=frame.drop(columns="class"), target=frame["class"])

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fetch_openml)
    return calls


def test_a_missing_data_file_skips_with_its_reason_unless_required(tmp_path, monkeypatch):
    from conftest import data_file

    monkeypatch.setenv("RETRAIN_SIM_DATA", str(tmp_path))
    monkeypatch.delenv("RETRAIN_SIM_REQUIRE_DATA", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"electricity.csv not found at .*; to run "
                                                     r"this test, put it in the directory named "
                                                     r"by RETRAIN_SIM_DATA .* get it: https://x"):
        data_file("electricity.csv", "https://x")
    monkeypatch.setenv("RETRAIN_SIM_REQUIRE_DATA", "1")
    with pytest.raises(pytest.fail.Exception, match="RETRAIN_SIM_REQUIRE_DATA=1: a missing "
                                                    "file fails"):
        data_file("electricity.csv", "https://x")
    (tmp_path / "electricity.csv").write_text("date\n")
    assert data_file("electricity.csv", "https://x") == tmp_path / "electricity.csv"


@pytest.mark.slow
def test_without_the_data_the_suite_says_which_tests_it_skipped(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRAIN_SIM_")}
    env["RETRAIN_SIM_DATA"] = str(tmp_path)  # a directory without electricity.csv
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/test_datasets.py", "-q",
                           "-p", "no:cacheprovider", "-k", "local_copy or persistence_on"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout
    assert "2 skipped" in done.stdout
    assert done.stdout.count("SKIPPED [1] tests/test_datasets.py:") == 2  # -ra, the default
    assert f"electricity.csv not found at {tmp_path / 'electricity.csv'}" in done.stdout


def test_local_copy(elec2_path):
    frame = electricity(path=elec2_path)
    assert frame.shape == (N_ROWS, 9)
    assert tuple(frame.columns) == ELECTRICITY_COLUMNS
    assert frame["day"].dtype == np.int64 and sorted(frame["day"].unique()) == list(range(1, 8))
    assert round(float((frame["class"] == "DOWN").mean()), 4) == 0.5755


def test_persistence_on_elec2_is_0853(elec2_path):
    y = electricity(path=elec2_path)["class"]
    assert persistence(y) == pytest.approx(0.8533, abs=5e-5)  # rows 1..45,311
    assert persistence(y) == pytest.approx(38_664 / 45_311)


def test_fetch_then_cache(tmp_path, fake_fetch):
    first = electricity(cache_dir=tmp_path)
    assert len(fake_fetch) == 1
    assert fake_fetch[0]["data_id"] == 151 and fake_fetch[0]["data_home"] == tmp_path
    cached = tmp_path / "retrain_sim" / "electricity.csv"
    assert cached.is_file()
    assert first["day"].dtype == np.int64 and first["class"].isin(["UP", "DOWN"]).all()
    second = electricity(cache_dir=tmp_path)  # from the cache: no second fetch
    assert len(fake_fetch) == 1
    pd.testing.assert_frame_equal(first, second, check_dtype=False)
    assert not list(cached.parent.glob("*.tmp"))


def offline(monkeypatch):
    """Block the network in-process: every OpenML fetch fails, and is counted."""
    calls = []

    def fetch_openml(**kwargs):
        calls.append(kwargs)
        raise OSError("Network is unreachable")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fetch_openml)
    return calls


def test_fetch_failure_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("RETRAIN_SIM_DATA", raising=False)
    calls = offline(monkeypatch)
    with pytest.raises(RuntimeError, match=r"Could not fetch .*\(OSError: Network is "
                                           r"unreachable\)\. Get OpenML data set 151 .* set "
                                           r"RETRAIN_SIM_DATA to its directory"):
        electricity(cache_dir=tmp_path)
    assert not (tmp_path / "retrain_sim" / "electricity.csv").exists()
    assert len(calls) == 1 and calls[0]["n_retries"] == 1  # at most one retry


def test_a_real_fetch_reaches_the_network(tmp_path, monkeypatch):
    """scikit-learn accepts the fetch's arguments: the failure is the network's own."""
    from urllib.error import URLError

    def no_network(*args, **kwargs):
        raise URLError("no network here")

    monkeypatch.delenv("RETRAIN_SIM_DATA", raising=False)
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", no_network)
    with pytest.raises(RuntimeError, match=r"Could not fetch .*\(URLError: "):
        electricity(cache_dir=tmp_path)


def test_the_data_directory_is_read_before_the_cache(tmp_path, monkeypatch, elec2_path):
    calls = offline(monkeypatch)
    monkeypatch.setenv("RETRAIN_SIM_DATA", str(elec2_path.parent))
    assert locate_electricity(cache_dir=tmp_path) == elec2_path
    assert len(electricity(cache_dir=tmp_path)) == N_ROWS and calls == []
    monkeypatch.setenv("RETRAIN_SIM_DATA", str(tmp_path))
    assert locate_electricity(cache_dir=tmp_path) is None


def test_offline_without_data_exits_2_before_any_job(tmp_path, monkeypatch, capsys):
    from experiments.run import main

    monkeypatch.delenv("RETRAIN_SIM_DATA", raising=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "no_cache"))
    monkeypatch.chdir(tmp_path)
    calls = offline(monkeypatch)
    with pytest.raises(SystemExit) as exit_:
        main(["-m", "experiment=elec2"])
    assert exit_.value.code == 2 and len(calls) == 1  # one attempt for the whole sweep
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Warning" not in err
    assert err.startswith("retrain-sim: the Elec2 data set is not on this machine and could "
                          "not be downloaded: stream.data.path is null, RETRAIN_SIM_DATA is "
                          "not set, the cache holds no copy, and fetching it from OpenML "
                          "failed (OSError: Network is unreachable)")
    assert "set RETRAIN_SIM_DATA=<the directory holding it> or pass stream.data.path=<the " \
           "file>. No job was launched." in err
    assert not (tmp_path / "results").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["-m", "experiment=elec2_injected", "stream.stream.data.path=no/elec2.csv"])
    assert exit_.value.code == 2
    assert "the Elec2 file given by stream.stream.data.path does not exist: 'no/elec2.csv'" \
        in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["-m", "stream=table", "stream.data=mine.csv", "stream.target=y"])
    assert exit_.value.code == 2
    assert "the data file given by stream.data does not exist: 'mine.csv'" \
        in capsys.readouterr().err


def test_a_given_path_is_never_fetched(tmp_path, fake_fetch):
    with pytest.raises(FileNotFoundError, match="'path' parameter of electricity"):
        electricity(path=tmp_path / "nope.csv", cache_dir=tmp_path)
    assert fake_fetch == []


def test_not_elec2_is_an_error(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"a": [1], "class": ["UP"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"is not Elec2: it lacks the column\(s\)"):
        electricity(path=path)


def test_persistence_validation():
    assert persistence([0, 0, 1, 1], lag=2) == 0.0
    with pytest.raises(ValueError, match="'lag' parameter of persistence must be an int >= 1"):
        persistence([0, 1], lag=0)
    with pytest.raises(ValueError, match="more than lag=1"):
        persistence([1])


def test_stream_loads_lazily_and_replays_daily(tmp_path, fake_fetch):
    stream = electricity_stream(cache_dir=tmp_path)
    assert fake_fetch == []  # nothing loaded yet
    assert stream.categorical_features == [0] and stream.drifts == ()
    batches = stream.batches(0, 48)
    assert len(fake_fetch) == 1  # then cached
    first = next(batches)
    assert first.X.shape == (48, 7) and first.t == 0


def test_elec2_replay_and_baseline(elec2_path):
    stream = electricity_stream(path=elec2_path, n_samples=48 * 120)
    result = replay(stream, DecisionTreeClassifier(max_depth=8, random_state=0),
                    Periodic(every=7), seed=0, step_size=48, label_delay=1,
                    initial_train=48 * 14, train_window=48 * 30, min_train=48 * 7)
    assert result.summary["n_steps"] == 120 - 14
    assert result.summary["n_drifts"] is None  # real data: no ground truth
    base = baselines(stream, result)
    y = electricity(path=elec2_path)["class"].to_numpy()[: 48 * 120]
    assert base["persistence_accuracy"] == pytest.approx(persistence(y[48 * 14 - 1:]))
    assert 0.6 < result.summary["mean_accuracy"] < base["persistence_accuracy"]


def test_injected_drift_into_elec2_is_found(elec2_path):
    at = 48 * 60
    stream = Injection(electricity_stream(path=elec2_path, n_samples=48 * 120), schedule=[
        {"kind": "covariate", "at": at, "features": ["nswdemand"], "shift": 0.5}])
    assert stream.drifts[0].start == at and stream.drifts[0].features == (3,)
    result = replay(stream, DecisionTreeClassifier(max_depth=8, random_state=0),
                    DataDrift(alpha=1e-8, window=7), seed=0, step_size=48, label_delay=1,
                    initial_train=48 * 14, train_window=48 * 30, min_train=48 * 7)
    assert result.summary["detected_drifts"] == 1
    assert result.summary["mean_detection_delay"] <= 7
    assert baselines(stream, result)["persistence_accuracy"] > 0.8
    assert baselines(stream, replay(stream, DecisionTreeClassifier(), Never(), step_size=48,
                                    initial_train=48 * 14))


def test_regression_has_no_persistence_baseline(elec2_path):
    stream = electricity_stream(path=elec2_path, n_samples=48 * 30, task="classification")
    stream.set_params(target="nswprice", features=["period", "nswdemand"], categorical=[],
                      task="regression")
    assert baselines(stream, None) == {}

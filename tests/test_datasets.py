"""Tests of sim.datasets: Elec2 from a local copy, the cache or OpenML, and the baselines."""

from __future__ import annotations

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
    persistence,
)
from sim.streams import Injection
from strategies import DataDrift, Never, Periodic

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "electricity.csv"
N_ROWS = 45_312


@pytest.fixture(scope="module")
def elec2_path():
    if not SHARED.is_file():
        pytest.skip(f"Elec2 test copy not found at {SHARED} (../shared/data/ beside the repo)")
    return SHARED


def fake_openml_frame(n=N_ROWS, seed=0):
    """What fetch_openml(data_id=151, as_frame=True) returns: categories for day and class."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.uniform(size=n) for c in ELECTRICITY_COLUMNS})
    frame["day"] = pd.Categorical(rng.integers(1, 8, size=n).astype(str))
    frame["class"] = pd.Categorical(rng.choice(["UP", "DOWN"], size=n))
    return frame


@pytest.fixture
def fake_fetch(monkeypatch):
    calls = []

    def fetch_openml(**kwargs):
        calls.append(kwargs)
        frame = fake_openml_frame()
        return Bunch(frame=frame, data=frame.drop(columns="class"), target=frame["class"])

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fetch_openml)
    return calls


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


def test_fetch_failure_says_what_to_do(tmp_path, monkeypatch):
    def offline(**kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", offline)
    with pytest.raises(RuntimeError, match=r"Could not fetch .* pass path="):
        electricity(cache_dir=tmp_path)
    assert not (tmp_path / "retrain_sim" / "electricity.csv").exists()


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
    assert stream.categorical_features == [0] and stream.drifts == ()
    assert fake_fetch == []  # nothing loaded yet
    batches = stream.batches(0, 48)
    assert len(fake_fetch) == 1
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

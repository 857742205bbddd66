"""Tests of the tabular replay (sim.streams.Tabular) and drift injection (sim.streams.Injection)."""

from __future__ import annotations

import functools
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from sim import replay
from sim.streams import SEA, Injection, Tabular
from sim.types import DRIFT_KINDS, DRIFT_SHAPES, Batch, Drift
from strategies import DataDrift, Never

# ---------------------------------------------------------------------------------------
# helpers


def make_frame(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "ts": pd.date_range("2024-01-01", periods=n, freq="1h"),
        "x": x,
        "z": rng.uniform(size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n),
        "label": np.where(x > 0, "pos", "neg"),
    })


def collect(stream, seed=0, step_size=100):
    batches = list(stream.batches(seed, step_size))
    X = np.concatenate([b.X for b in batches])
    y = np.concatenate([b.y for b in batches])
    return X, y, batches


@pytest.fixture(scope="module")
def frame():
    return make_frame()


@pytest.fixture(scope="module", params=["frame", "csv", "csv.gz", "parquet", "callable"])
def source(request, frame, tmp_path_factory):
    """The same data as a DataFrame, a CSV, a gzipped CSV, a parquet file and a callable."""
    kind = request.param
    if kind == "frame":
        return frame
    if kind == "callable":
        return functools.partial(make_frame)
    path = tmp_path_factory.mktemp("data") / f"data.{kind}"
    if kind == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return str(path)


# ---------------------------------------------------------------------------------------
# Tabular


def test_every_source_replays_the_same_arrays(source, frame):
    stream = Tabular(source, target="label", features=["x", "z", "colour"],
                     categorical=["colour"], chunksize=128)
    X, y, batches = collect(stream, step_size=64)
    assert X.shape == (1000, 3) and X.dtype == np.float64
    np.testing.assert_allclose(X[:, 0], frame["x"].to_numpy(), rtol=1e-12)
    assert y.tolist() == frame["label"].tolist()
    codes = {c: i for i, c in enumerate(pd.unique(frame["colour"]))}
    assert X[:, 2].tolist() == [float(codes[c]) for c in frame["colour"]]
    assert [b.t for b in batches] == list(range(len(batches)))
    assert [b.index for b in batches] == [64 * t for t in range(len(batches))]
    assert len(batches[-1]) == 1000 - 64 * 15
    assert all(isinstance(b, Batch) for b in batches)


def test_chunksize_and_step_size_do_not_change_the_data(tmp_path, frame):
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    a = collect(Tabular(path, target="label", time="ts", categorical=["colour"], chunksize=7),
                0, 33)
    b = collect(Tabular(path, target="label", time="ts", categorical=["colour"],
                        chunksize=5000), 5, 1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_defaults_and_properties(frame):
    stream = Tabular(frame, target="label", time="ts", categorical=["colour"])
    assert stream.feature_names == ["x", "z", "colour"]
    assert stream.n_features == 3
    assert stream.categorical_features == [2]
    assert stream.classes.tolist() == ["neg", "pos"]
    assert stream.drifts == () and stream.task == "classification"
    batch = next(stream.batches(0, 10))
    assert batch.time.dtype.kind == "M" and len(batch.time) == 10


def test_sorted_by_time_stably(frame, tmp_path):
    shuffled = frame.sample(frac=1.0, random_state=1)
    shuffled.loc[shuffled.index[:10], "ts"] = frame["ts"].iloc[0]  # ties keep their order
    path = tmp_path / "shuffled.csv"
    shuffled.to_csv(path, index=False)
    expected = shuffled.sort_values("ts", kind="stable")
    for data in (shuffled, path):
        X, y, batches = collect(Tabular(data, target="label", time="ts",
                                        features=["x"]), step_size=100)
        np.testing.assert_allclose(X[:, 0], expected["x"].to_numpy())
        times = np.concatenate([b.time for b in batches])
        assert (np.diff(times.astype("int64")) >= 0).all()


def test_daily_buckets_ignore_step_size(frame):
    stream = Tabular(frame, target="label", time="ts", features=["x"], step="1D")
    batches = list(stream.batches(0, step_size=7))
    assert [len(b) for b in batches[:-1]] == [24] * (len(batches) - 1)
    assert [b.t for b in batches] == list(range(len(batches)))
    assert sum(len(b) for b in batches) == 1000
    # 12-hour buckets and lazily read CSV chunks that split buckets
    stream.set_params(step="12h", chunksize=50)
    assert [len(b) for b in stream.batches(0, 999)][:3] == [12, 12, 12]


def test_empty_buckets_leave_gaps_in_t(frame):
    gappy = frame[(frame["ts"] < "2024-01-03") | (frame["ts"] >= "2024-01-05")]
    batches = list(Tabular(gappy, target="label", time="ts", features=["x"],
                           step="1D").batches(0))
    assert [b.t for b in batches[:4]] == [0, 1, 4, 5]
    assert [b.index for b in batches[:3]] == [0, 24, 48]


def test_numeric_time_buckets():
    data = pd.DataFrame({"sec": [0, 10, 86_399, 86_400, 200_000], "x": range(5),
                         "y": [0, 1, 0, 1, 1]})
    batches = list(Tabular(data, target="y", time="sec", step=86_400).batches(0))
    assert [(b.t, len(b)) for b in batches] == [(0, 3), (1, 1), (2, 1)]


def test_weekly_periods(frame):
    batches = list(Tabular(frame, target="label", time="ts", features=["x"],
                           step="W").batches(0))
    # 2024-01-01 is a Monday: five full weeks of 168 hours, then 160 hours of the sixth
    assert [len(b) for b in batches] == [168] * 5 + [160]


def test_n_samples_limits_the_replay(frame, tmp_path):
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    for data in (frame, path):
        X, _, _ = collect(Tabular(data, target="label", features=["x"], n_samples=250,
                                  chunksize=100))
        assert len(X) == 250


def test_regression_target(frame):
    stream = Tabular(frame, target="z", features=["x"], task="regression")
    _, y, _ = collect(stream)
    assert y.dtype == np.float64 and stream.classes is None


def test_replay_runs_through_the_engine(frame):
    stream = Tabular(frame, target="label", categorical=["colour"], time="ts")
    result = replay(stream, LogisticRegression(), Never(), step_size=100, initial_train=200)
    assert result.summary["n_samples"] == 800
    assert result.summary["mean_accuracy"] > 0.95
    assert result.summary["n_drifts"] is None and result.summary["mean_detection_delay"] is None


@pytest.mark.parametrize("params, message", [
    ({"data": None}, "'data' parameter of Tabular must be a DataFrame"),
    ({"data": "x.xlsx"}, "'data' parameter"),
    ({"data": 3}, "'data' parameter"),
    ({"target": None}, "'target' parameter of Tabular must be the name"),
    ({"target": "klass"}, r"'target' parameter of Tabular names 'klass', which is not a "
                         r"column of the DataFrame.*the columns are \['ts', 'x'"),
    ({"features": ["x", "nope"]}, r"'features' parameter .* 'nope', which is not a column"),
    ({"features": ["x", "label"]}, "'features' parameter of Tabular must be a list of "
                                   "columns without the target"),
    ({"features": []}, "'features' parameter"),
    ({"categorical": ["z2"]}, "'categorical' parameter"),
    ({"time": "when"}, r"'time' parameter .* 'when', which is not a column"),
    ({"step": "1D"}, "'step' parameter of Tabular buckets rows by the 'time' column"),
    ({"time": "ts", "step": "fortnightly"}, "'step' parameter"),
    ({"time": "ts", "step": -1}, "'step' parameter"),
    ({"n_samples": 0}, "'n_samples' parameter of Tabular must be an int >= 1 or None. "
                       "Got 0 instead."),
    ({"task": "ranking"}, "'task' parameter"),
    ({"chunksize": 0}, "'chunksize' parameter"),
])
def test_bad_parameters_raise_at_the_call(frame, params, message):
    stream = Tabular(**({"data": frame, "target": "label"} | params))
    assert stream.get_params()["data"] is (params["data"] if "data" in params else frame)
    with pytest.raises(ValueError, match=message):
        stream.batches(seed=0, step_size=10)  # raises now, not at the first next()


def test_missing_file_and_bad_seed(frame):
    with pytest.raises(FileNotFoundError, match="'data' parameter of Tabular names a file"):
        Tabular("no/such.csv", target="y").batches(0, 10)
    with pytest.raises(ValueError, match="'seed'"):
        Tabular(frame, target="label").batches(-1, 10)
    with pytest.raises(ValueError, match="'step_size'"):
        Tabular(frame, target="label").batches(0, 0)


def test_missing_values_are_named(frame, tmp_path):
    broken = frame.copy()
    broken.loc[123, "z"] = np.nan
    with pytest.raises(ValueError, match=r"Column 'z' of the DataFrame has a missing value "
                                         r"at row 123"):
        Tabular(broken, target="label", time="ts", categorical=["colour"]).batches(0, 10)
    no_label = frame.copy()
    no_label.loc[7, "label"] = None
    path = tmp_path / "nolabel.csv"
    no_label.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"Column 'label' of .* missing value at row 7"):
        collect(Tabular(path, target="label", features=["x"], chunksize=5))


def test_text_features_are_categorical_and_regression_needs_numbers(frame):
    stream = Tabular(frame, target="label", time="ts")
    assert stream.categorical_features == [2] and stream.feature_names == ["x", "z", "colour"]
    X, _, _ = collect(stream)
    assert sorted(np.unique(X[:, 2]).tolist()) == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="regression target must be"):
        Tabular(frame, target="label", features=["x"], task="regression").batches(0, 10)


# ----- any table in: the done-when cases --------------------------------------------------

def headerless(tmp_path, n=600, seed=1):
    """A headerless CSV like the public benchmark streams: numbers, then a class label."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    label = np.where(X[:, 0] > 0, "sp1", "sp4")
    frame = pd.DataFrame(X)
    frame[4] = label
    path = tmp_path / "stream.csv"
    frame.to_csv(path, header=False, index=False)
    return path, X, label


def test_a_headerless_csv_is_refused_then_read_with_header_none(tmp_path):
    path, X, label = headerless(tmp_path)
    with pytest.raises(ValueError, match=r"The first row of .*stream.csv' looks like data, not "
                                         r"a header: its column names are numbers .* pass "
                                         r"header=None"):
        Tabular(path, target="sp4").batches(0, 50)
    for target in (4, "4"):
        stream = Tabular(path, target=target, header=None, chunksize=64)
        got, y, _ = collect(stream, step_size=50)
        np.testing.assert_allclose(got, X, rtol=1e-12)
        assert y.tolist() == label.tolist()  # the first row is data, not lost
        assert stream.rows_ == {"rows_read": 600, "rows_replayed": 600, "rows_skipped": 0,
                                "skipped_because": {}}
        assert stream.feature_names == ["0", "1", "2", "3"]
    named = Tabular(path, target="y", names=["a", "b", "c", "d", "y"], features=["a", "b"])
    assert collect(named)[0].shape == (600, 2)


def test_a_compressed_tsv_with_a_header_row_of_numbers(tmp_path):
    path, X, label = headerless(tmp_path)
    frame = pd.read_csv(path, header=None)
    gz = tmp_path / "s.tsv.gz"
    frame.to_csv(gz, sep="\t", index=False)  # header "0 1 2 3 4": numbers, but a header
    stream = Tabular(gz, target="4", header=0)
    np.testing.assert_allclose(collect(stream)[0], X, rtol=1e-12)


def test_a_dataframe_with_integer_column_labels():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 34)))
    frame[33] = np.where(frame[0] > 0, 1, 0)
    for target in (33, "33"):
        stream = Tabular(frame, target=target, features=[0, 1, "2"])
        X, y, _ = collect(stream)
        assert X.shape == (300, 3) and y.tolist() == frame[33].tolist()
    with pytest.raises(ValueError, match=r"'target' parameter of Tabular names 34, which is not "
                                         r"a column of the DataFrame.*\(34 columns\)"):
        Tabular(frame, target=34).batches(0, 10)
    result = replay(Tabular(frame, target=33), LogisticRegression(), Never(), step_size=50,
                    initial_train=100)
    assert result.summary["mean_accuracy"] > 0.9


def test_a_parquet_file_with_a_string_categorical(tmp_path, frame):
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    stream = Tabular(path, target="label", time="ts", chunksize=100)
    X, y, _ = collect(stream)
    assert stream.categorical_features == [2]
    codes = {c: i for i, c in enumerate(pd.unique(frame["colour"]))}
    assert X[:, 2].tolist() == [float(codes[c]) for c in frame["colour"]]
    result = replay(stream, DecisionTreeClassifier(random_state=0),
                    DataDrift(categorical=stream.categorical_features), step_size=100,
                    initial_train=200)
    assert result.summary["n_samples"] == 800


def test_a_time_column_with_uneven_buckets():
    stamps = pd.to_datetime(["2024-01-01 01:00", "2024-01-01 05:00", "2024-01-01 09:00",
                             "2024-01-02 12:00", "2024-01-04 00:10", "2024-01-04 10:00",
                             "2024-01-04 11:00", "2024-01-04 23:59", "2024-01-05 00:00"])
    frame = pd.DataFrame({"t": stamps, "x": np.arange(9.0), "y": list("abababab") + ["a"]})
    batches = list(Tabular(frame, target="y", time="t", step="1D").batches(0, 4))
    assert [(b.t, b.index, len(b)) for b in batches] == [(0, 0, 3), (1, 3, 1), (3, 4, 4),
                                                          (4, 8, 1)]
    assert np.concatenate([b.X[:, 0] for b in batches]).tolist() == list(range(9))


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text(""), r"is empty: no header and no rows"),
    (lambda p: p.write_text("x,label\n"), r"has no rows \(only a header, or nothing\)"),
    (lambda p: p.write_text("x,label\n1.0,a\n2.0,b\nunknown,a\n"),
     r"Column 'x' of .* mixes numbers and text: row 2 holds 'unknown' .* declare it in "
     r"'categorical'"),
    (lambda p: p.write_text("x,label\n1.0,a\n2.0,\n3.0,b\n"),
     r"Column 'label' of .* has a missing value at row 1 \(counted from 0, header "
     r"excluded\).*missing='skip'"),
    (lambda p: p.write_text("x,colour\n1.0,a\n2.0,b\n"),
     r"'target' parameter of Tabular names 'label', which is not a column of .*"
     r"the columns are \['x', 'colour'\]"),
])
def test_bad_files_are_named_before_any_replay(tmp_path, make, message):
    path = tmp_path / "bad.csv"
    make(path)
    with pytest.raises(ValueError, match=message):
        Tabular(path, target="label").batches(0, 10)  # the call, not the first step, raises


def test_mixed_labels_and_nan_labels_in_a_dataframe():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": ["a", "b", 3, "a"]})
    with pytest.raises(ValueError, match=r"The target 'y' of the DataFrame mixes numbers and "
                                         r"text: row 2 holds 3 while other labels are text"):
        Tabular(frame, target="y").batches(0, 2)
    frame["y"] = [0.0, np.nan, 1.0, 0.0]
    with pytest.raises(ValueError, match=r"Column 'y' of the DataFrame has a missing value at "
                                         r"row 1"):
        Tabular(frame, target="y").batches(0, 2)


def test_skipped_rows_are_counted_never_silent(frame):
    broken = frame.copy()
    broken.loc[[5, 6, 700], "label"] = None
    broken.loc[[6, 10], "x"] = np.nan
    stream = Tabular(broken, target="label", time="ts", missing="skip")
    X, y, batches = collect(stream, step_size=100)
    assert len(y) == 996
    assert stream.rows_ == {"rows_read": 1000, "rows_replayed": 996, "rows_skipped": 4,
                            "skipped_because": {"missing value in 'x'": 2,
                                                "missing value in 'label'": 2}}
    assert [b.index for b in batches][:2] == [0, 100]
    result = replay(stream, DecisionTreeClassifier(random_state=0), Never(), step_size=100,
                    initial_train=200)
    assert result.summary["n_samples"] == 796


# ----- known events -----------------------------------------------------------------------

def test_declared_events_are_the_ground_truth(frame):
    stream = Tabular(frame, target="label", time="ts", events=[
        {"at": 400, "kind": "concept"},
        {"at": "2024-01-30 00:00", "kind": "covariate", "shape": "gradual", "width": 50},
        {"at": 900, "kind": "incident"},
    ], ground_truth_complete=True)
    assert [(d.start, d.end, d.kind, d.shape) for d in stream.drifts] == [
        (400, 400, "concept", "sudden"), (696, 746, "covariate", "gradual"),
        (900, 900, "incident", "sudden")]
    assert stream.ground_truth_complete and not Tabular(frame, target="label").ground_truth_complete
    result = replay(stream, DecisionTreeClassifier(random_state=0), Never(), step_size=100,
                    initial_train=200)
    assert result.summary["n_drifts"] == 3 and result.summary["missed_drifts"] == 3
    skipped = frame.copy()
    skipped.loc[400, "x"] = np.nan
    moved = Tabular(skipped, target="label", missing="skip", events=[{"at": 401, "kind": "prior"}])
    assert moved.drifts[0].start == 400  # sample indices of the replay, after the skipped row


@pytest.mark.parametrize("event, message", [
    ({"at": 5000, "kind": "concept"}, r"'at' must be a replayed row number; the data has rows "
                                      r"0 to 999"),
    ({"at": 10, "kind": "release"}, r"'kind' must be one of 'concept', 'covariate', 'prior', "
                                    r"'incident'"),
    ({"at": 10, "kind": "concept", "width": 5}, r"'width' must be an int >= 0: 0 for a sudden"),
    ({"at": "2024-01-05", "kind": "concept"}, r".*a time stamp needs the 'time' parameter"),
    ({"at": 10, "kind": "concept", "when": 3}, r"unknown key\(s\) \['when'\]"),
    ({"at": 990, "kind": "concept", "shape": "gradual", "width": 50},
     r"the event must end by the end of the replay \(1000 rows\)"),
])
def test_bad_events_are_named(frame, event, message):
    with pytest.raises(ValueError, match=r"Event 0 of the 'events' parameter of Tabular is "
                                         r"invalid: " + message):
        Tabular(frame.drop(columns="ts"), target="label", events=[event]).batches(0, 10)


def test_estimator_conventions(frame):
    stream = Tabular(frame, target="label", time="ts", categorical=["colour"])
    copy = clone(stream)
    assert copy.get_params()["target"] == "label"
    np.testing.assert_array_equal(collect(copy)[0], collect(stream)[0])
    again = pickle.loads(pickle.dumps(stream))
    np.testing.assert_array_equal(collect(again)[0], collect(stream)[0])
    assert "Tabular" in repr(Tabular(target="y"))


# ---------------------------------------------------------------------------------------
# Injection


def base_stream(frame):
    return Tabular(frame, target="label", features=["x", "z"])


def test_no_schedule_is_the_wrapped_stream(frame):
    a = collect(base_stream(frame))
    b = collect(Injection(base_stream(frame), schedule=[]))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_covariate_shift_and_scale(frame):
    schedule = [{"kind": "covariate", "at": 500, "features": ["z"], "shift": 2.0, "scale": 3.0}]
    stream = Injection(base_stream(frame), schedule=schedule)
    X, y, batches = collect(stream, step_size=128)
    X0, y0, _ = collect(base_stream(frame), step_size=128)
    mean = X0[:500, 1].mean()
    np.testing.assert_array_equal(X[:500], X0[:500])
    np.testing.assert_allclose(X[500:, 1], mean + 3.0 * (X0[500:, 1] - mean) + 2.0)
    np.testing.assert_array_equal(X[:, 0], X0[:, 0])
    np.testing.assert_array_equal(y, y0)  # labels kept
    assert stream.drifts == (Drift(start=500, end=500, kind="covariate", shape="sudden",
                                   features=(1,)),)
    concept = np.concatenate([b.concept for b in batches])
    assert concept[:500].sum() == 0 and (concept[500:] == 1).all()


def test_gradual_and_incremental_windows(frame):
    base = base_stream(frame)
    X0 = collect(base)[0]
    gradual = Injection(base, schedule=[{"kind": "covariate", "at": 200, "features": [0],
                                         "shift": 100.0, "shape": "gradual", "width": 400}])
    X = collect(gradual, seed=3)[0]
    changed = X[:, 0] != X0[:, 0]
    assert not changed[:200].any() and changed[600:].all()
    assert 0.3 < changed[200:600].mean() < 0.7
    assert changed[200:300].mean() < changed[500:600].mean()
    X_again = collect(gradual, seed=3, step_size=7)[0]  # same seed: same mix, any step
    np.testing.assert_array_equal(X, X_again)
    assert not np.array_equal(X, collect(gradual, seed=4)[0])
    incremental = Injection(base, schedule=[{"kind": "covariate", "at": 200, "features": [0],
                                             "shift": 1.0, "shape": "incremental",
                                             "width": 400}])
    delta = collect(incremental)[0][:, 0] - X0[:, 0]
    np.testing.assert_allclose(delta[[199, 400, 600, 900]], [0.0, 0.5, 1.0, 1.0])


def test_concept_flip_in_a_region(frame):
    schedule = [{"kind": "concept", "at": 300, "mode": "flip", "region": {"z": [0.5, None]}}]
    stream = Injection(base_stream(frame), schedule=schedule)
    X, y, _ = collect(stream)
    y0 = frame["label"].to_numpy()
    inside = (np.arange(1000) >= 300) & (X[:, 1] >= 0.5)
    assert (y[inside] != y0[inside]).all() and (y[~inside] == y0[~inside]).all()
    np.testing.assert_array_equal(X, collect(base_stream(frame))[0])  # inputs unchanged
    assert stream.drifts[0].features == (1,) and stream.drifts[0].kind == "concept"


def test_concept_permute_and_swap():
    sea = SEA(n_samples=3000)
    X0, y0, _ = collect(sea, seed=1)
    permuted = Injection(sea, schedule=[{"kind": "concept", "at": 1000, "mode": "permute",
                                         "mapping": {0: 1, 1: 0}}])
    _, y, _ = collect(permuted, seed=1)
    assert (y[1000:] == 1 - y0[1000:]).all() and (y[:1000] == y0[:1000]).all()
    swapped = Injection(sea, schedule=[{"kind": "concept", "at": 1000, "mode": "swap",
                                        "features": [0, 2]}])
    X, y, _ = collect(swapped, seed=1)
    np.testing.assert_array_equal(X[1000:, [0, 2]], X0[1000:, [2, 0]])
    np.testing.assert_array_equal(y, y0)
    kinds = [(d.kind, d.features) for d in swapped.drifts]
    assert kinds == [("concept", (0, 2))]


def test_prior_shift_changes_proportions_only(frame):
    n = 1000
    schedule = [{"kind": "prior", "at": 500, "proportions": {"pos": 0.9, "neg": 0.1}}]
    stream = Injection(base_stream(frame), schedule=schedule)
    X, y, _ = collect(stream, seed=2, step_size=100)
    assert abs((y[:500] == "pos").mean() - 0.5) < 0.1
    assert abs((y[500:] == "pos").mean() - 0.9) < 0.05
    assert ((X[500:, 0] > 0) == (y[500:] == "pos")).all()  # P(X|y) kept: the rule holds
    assert len(y) == n
    np.testing.assert_array_equal(y, collect(stream, seed=2, step_size=100)[1])


def test_injected_drift_is_measured_by_the_engine():
    sea = SEA(n_samples=20_000)
    stream = Injection(sea, schedule=[{"kind": "covariate", "at": 10_000, "features": [2],
                                       "shift": 5.0}])
    result = replay(stream, LogisticRegression(), DataDrift(alpha=0.01), seed=0,
                    step_size=500, initial_train=1000, window="sliding")
    assert result.summary["n_drifts"] == 1
    assert result.summary["detected_drifts"] == 1
    assert result.summary["mean_detection_delay"] <= 1


def test_wrapped_drifts_are_kept():
    sea = SEA(n_samples=10_000, schedule=[{"at": 5000, "to": 1}])
    stream = Injection(sea, schedule=[{"kind": "prior", "at": 2000, "proportions": [0.2, 0.8],
                                       "shape": "gradual", "width": 1000}])
    drifts = stream.drifts
    assert [(d.start, d.kind) for d in drifts] == [(2000, "prior"), (5000, "concept")]
    for d in drifts:
        assert d.kind in DRIFT_KINDS and d.shape in DRIFT_SHAPES
    X, y, _ = collect(stream)
    assert len(y) == 10_000


@pytest.mark.parametrize("event, message", [
    ({"kind": "seasonal", "at": 10}, "'kind' must be one of"),
    ({"kind": "covariate", "at": 0, "features": [0], "shift": 1.0}, "'at' must be an int >= 1"),
    ({"kind": "covariate", "at": 10, "features": [0]}, "changes nothing"),
    ({"kind": "covariate", "at": 10, "features": ["nope"], "shift": 1.0}, "does not have"),
    ({"kind": "covariate", "at": 10, "features": [5], "shift": 1.0}, r"indices in \[0, 1\]"),
    ({"kind": "covariate", "at": 10, "features": [0], "shift": [1.0, 2.0]}, "'shift' must"),
    ({"kind": "covariate", "at": 10, "features": [0], "shift": 1.0, "colour": 1},
     r"unknown key\(s\) \['colour'\]"),
    ({"kind": "covariate", "at": 10, "features": [0], "shift": 1.0, "shape": "gradual"},
     "'width' must be an int >= 1"),
    ({"kind": "concept", "at": 10, "mode": "rotate"}, "'mode' must be one of"),
    ({"kind": "concept", "at": 10, "mode": "swap", "features": [0]}, "two different"),
    ({"kind": "concept", "at": 10, "mode": "flip", "region": {"x": [1.0, 0.0]}}, "low < high"),
    ({"kind": "concept", "at": 10, "mode": "flip", "shape": "incremental", "width": 5},
     "cannot be 'incremental'"),
    ({"kind": "prior", "at": 10, "proportions": [0.5, 0.6]}, "sum to 1"),
])
def test_bad_events_raise(frame, event, message):
    stream = Injection(base_stream(frame), schedule=[event])
    assert stream.get_params()["schedule"][0] is event
    with pytest.raises(ValueError, match=message):
        stream.drifts  # noqa: B018
    with pytest.raises(ValueError, match="Event 0 of the 'schedule' parameter of Injection"):
        stream.batches(0, 10)


def test_bad_injection_parameters(frame):
    with pytest.raises(ValueError, match="'stream' parameter of Injection must be a Stream"):
        Injection(stream=frame).batches(0, 10)
    too_late = Injection(SEA(n_samples=3000), schedule=[{"kind": "prior", "at": 5000,
                                                         "proportions": [0.5, 0.5]}])
    with pytest.raises(ValueError, match="n_samples = 3000"):
        too_late.drifts  # noqa: B018
    late = Injection(base_stream(frame), schedule=[{"kind": "covariate", "at": 5000,
                                                    "features": [0], "shift": 1.0}])
    with pytest.raises(ValueError, match="must end by the end of the stream, which has 1000"):
        collect(late)
    flip3 = Injection(Tabular(frame, target="colour", features=["x"]),
                      schedule=[{"kind": "concept", "at": 10, "mode": "flip"}])
    with pytest.raises(ValueError, match="mode 'flip' needs two classes"):
        flip3.batches(0, 10)


def test_injection_estimator_conventions(frame):
    stream = Injection(base_stream(frame), schedule=[{"kind": "covariate", "at": 100,
                                                      "features": [0], "shift": 1.0}])
    copy = clone(stream)
    np.testing.assert_array_equal(collect(copy)[0], collect(stream)[0])
    again = pickle.loads(pickle.dumps(stream))
    np.testing.assert_array_equal(collect(again)[0], collect(stream)[0])
    assert stream.get_params()["stream__target"] == "label"
    assert stream.n_features == 2 and stream.feature_names == ["x", "z"]


def test_tree_pipeline_config_handles_the_categorical_column(frame):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from experiments import CONF_DIR

    model = instantiate(OmegaConf.load(CONF_DIR / "model" / "elec2_tree.yaml"), _convert_="all")
    stream = Tabular(frame, target="label", features=["colour", "x", "z"],
                     categorical=["colour"])
    assert stream.categorical_features == [0]
    result = replay(stream, clone(model), Never(), step_size=100, initial_train=200)
    assert result.summary["mean_accuracy"] > 0.9
    assert isinstance(model.steps[-1][1], DecisionTreeClassifier)


# ----- the one-line workflow on a real file ---------------------------------------------

@pytest.mark.slow
def test_a_real_table_with_a_declared_change_replays_from_one_command_line(tmp_path,
                                                                            elec2_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sweep = tmp_path / "sweep"
    args = ["-m", "stream=table", f"stream.data={elec2_path}", "stream.target=class",
            "stream.n_samples=9600", "stream.events=[{at: 5760, kind: concept}]",
            "trigger=periodic,data_drift", "seed=0", "protocol.step_size=48",
            "protocol.initial_train=672", "protocol.train_window=1440",
            "protocol.min_train=336", "oracle.enabled=false", "progress=false",
            f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("HYDRA_FULL_ERROR", None)
    done = subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = [json.loads(p.read_text()) for p in sorted(sweep.glob("*/summary.json"))]
    assert [r["status"] for r in records] == ["ok", "ok"]
    for record in records:
        summary = record["summary"]
        assert record["drifts"][0]["start"] == 5760 and summary["n_drifts"] == 1
        assert summary["drifts"][0]["start_step"] == 5760 // 48
        assert summary["rows_read"] == 9600 and summary["rows_skipped"] == 0
    report = (sweep / "report.md").read_text()
    assert "concept (sudden) at sample 5,760" in report


def test_a_single_class_window_is_named_by_its_plain_value():
    from strategies import Periodic

    frame = pd.DataFrame({"x": np.arange(600.0),
                          "y": ["sp1", "sp4"] * 100 + ["sp4"] * 400})
    result = replay(Tabular(frame, target="y"), DecisionTreeClassifier(), Periodic(every=2),
                    step_size=50, initial_train=200, train_window=100, min_train=50)
    reasons = set(result.events["skipped"].dropna()) - {""}
    assert reasons == {"the training window has a single class ('sp4')"}


# ----- tables read as written (issue 22) ----------------------------------------------------

def test_text_labels_keep_their_spelling_in_every_chunk(tmp_path):
    # the first chunk holds 'A' and '01', the later ones only '01' (read alone, a number)
    labels = ["A", "01"] * 50 + ["01"] * 400
    path = tmp_path / "labels.csv"
    pd.DataFrame({"x": np.arange(500.0), "y": labels}).to_csv(path, index=False)
    stream = Tabular(path, target="y", chunksize=100)
    _, y, _ = collect(stream)
    assert y.tolist() == labels
    assert stream.classes.tolist() == ["01", "A"]
    # labels that are numbers in every chunk are numbers, decided over the whole column
    path.write_text("x,y\n" + "".join(f"{i},{v}\n" for i, v in
                                      enumerate(["1", "2"] * 10 + ["1.5"] * 10)))
    numeric = Tabular(path, target="y", chunksize=7)
    _, y, _ = collect(numeric)
    assert y.dtype == np.float64 and numeric.classes.tolist() == [1.0, 1.5, 2.0]
    # two spellings of one number are two labels, not one class
    path.write_text("x,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(["01", "1"] * 10)))
    spelled = Tabular(path, target="y", chunksize=3)
    assert collect(spelled)[1].tolist() == ["01", "1"] * 10
    assert spelled.classes.tolist() == ["01", "1"]


def test_na_like_labels_are_classes_unless_declared_missing(tmp_path):
    names = ["NA", "N/A", "null", "nan", "None"]
    labels = [names[i % 5] for i in range(100)] + ["ok"] * 20
    path = tmp_path / "na.csv"
    pd.DataFrame({"x": np.arange(120.0), "y": labels}).to_csv(path, index=False)
    stream = Tabular(path, target="y", missing="skip", chunksize=16)
    _, y, _ = collect(stream)
    assert y.tolist() == labels and stream.rows_["rows_skipped"] == 0
    assert sorted(stream.classes.tolist()) == sorted([*names, "ok"])
    declared = Tabular(path, target="y", missing="skip", missing_labels=["NA", "null"])
    _, y, _ = collect(declared)
    assert len(y) == 80 and "NA" not in y.tolist()
    assert declared.rows_["skipped_because"] == {"missing value in 'y'": 40}
    with pytest.raises(ValueError, match=r"Column 'y' of .* has a missing value at row 0 .*"
                                         r"missing_labels"):
        Tabular(path, target="y", missing_labels=["NA"]).batches(0, 10)
    # an empty field is a missing label by default, a class when missing_labels=[]
    path.write_text("x,y\n1,a\n2,\n3,b\n")
    with pytest.raises(ValueError, match=r"Column 'y' of .* missing value at row 1"):
        Tabular(path, target="y").batches(0, 10)
    assert collect(Tabular(path, target="y", missing_labels=[]))[1].tolist() == ["a", "", "b"]
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["NA", "?", "b"]})
    assert collect(Tabular(frame, target="y", missing="skip",
                           missing_labels=["?"]))[1].tolist() == ["NA", "b"]


@pytest.mark.parametrize("value", ["NA", [1], [None], None])
def test_bad_missing_labels_are_refused(frame, value):
    with pytest.raises(ValueError, match="'missing_labels' parameter of Tabular must be"):
        Tabular(frame, target="label", missing_labels=value).batches(0, 10)


def test_a_text_feature_with_numbers_in_a_later_chunk_is_refused(tmp_path):
    colour = ["red", "blue"] * 50 + ["red", "7"] * 50
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"c": colour, "x": np.arange(200.0), "y": ["a", "b"] * 100}).to_csv(
        path, index=False)
    with pytest.raises(ValueError, match=r"Column 'c' of .* mixes numbers and text: row 101 "
                                         r"holds '7' .* text elsewhere.*'categorical'"):
        Tabular(path, target="y", chunksize=50).batches(0, 10)
    stream = Tabular(path, target="y", chunksize=50, categorical=["c"])
    assert sorted(np.unique(collect(stream)[0][:, 0]).tolist()) == [0.0, 1.0, 2.0]
    # numbers first, text later: refused too
    codes = ["7", "8"] * 50 + ["red", "blue"] * 50
    pd.DataFrame({"c": codes, "x": np.arange(200.0), "y": ["a", "b"] * 100}).to_csv(
        path, index=False)
    with pytest.raises(ValueError, match=r"Column 'c' of .* mixes numbers and text: row 100 "
                                         r"holds 'red'"):
        Tabular(path, target="y", chunksize=50).batches(0, 10)


def test_duplicate_column_names_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("x,z,x,y\n1,2,3,a\n4,5,6,b\n")
    with pytest.raises(ValueError, match=r"'.*dup.csv' has duplicate column names: 'x' "
                                         r"\(columns 0 and 2\)"):
        Tabular(path, target="y").batches(0, 10)
    frame = pd.DataFrame([[1.0, 2.0, "a"]], columns=["x", "x", "y"])
    with pytest.raises(ValueError, match=r"the DataFrame has duplicate column names: 'x'"):
        Tabular(frame, target="y").batches(0, 10)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table([pa.array([1.0]), pa.array([2.0]), pa.array(["a"])],
                            names=["x", "x", "y"]), tmp_path / "dup.parquet")
    with pytest.raises(ValueError, match=r"dup.parquet' has duplicate column names: 'x' "
                                         r"\(columns 0 and 1\)"):
        Tabular(tmp_path / "dup.parquet", target="y").batches(0, 10)
    renamed = Tabular(path, target="y", names=["x1", "z", "x2", "y"], header=0)
    assert collect(renamed)[0].tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_infinite_values_are_named_or_skipped(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("x,z,y\n1,2,a\n3,inf,b\n-inf,4,a\n5,6,b\n")
    with pytest.raises(ValueError, match=r"Column 'z' of .* has an infinite value \(inf\) at "
                                         r"row 1 \(counted from 0, header excluded\)"):
        Tabular(path, target="y").batches(0, 10)
    stream = Tabular(path, target="y", missing="skip")
    X, y, _ = collect(stream)
    assert X.tolist() == [[1.0, 2.0], [5.0, 6.0]] and y.tolist() == ["a", "b"]
    assert stream.rows_ == {"rows_read": 4, "rows_replayed": 2, "rows_skipped": 2,
                            "skipped_because": {"infinite value in 'z'": 1,
                                                "infinite value in 'x'": 1}}
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.5, np.inf, 1.0]})
    with pytest.raises(ValueError, match=r"Column 'y' of the DataFrame has an infinite value"):
        Tabular(frame, target="y", task="regression").batches(0, 10)


def test_a_directory_is_named_as_such(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"'data' parameter of Tabular names a "
                                                r"directory, not a file: .*Give a CSV or "
                                                r"Parquet file"):
        Tabular(tmp_path, target="y").batches(0, 10)
    (tmp_path / "d.parquet").mkdir()
    with pytest.raises(IsADirectoryError, match="names a directory"):
        Tabular(tmp_path / "d.parquet", target="y").batches(0, 10)


def test_the_python_summary_counts_the_rows_like_the_cli(frame):
    broken = frame.copy()
    broken.loc[[3, 500], "z"] = np.nan
    stream = Tabular(broken, target="label", time="ts", missing="skip")
    result = replay(stream, LogisticRegression(), Never(), step_size=100, initial_train=200)
    assert {k: result.summary[k] for k in ("rows_read", "rows_replayed", "rows_skipped",
                                           "rows_skipped_because")} == {
        "rows_read": 1000, "rows_replayed": 998, "rows_skipped": 2,
        "rows_skipped_because": "2 missing value in 'z'"}
    injected = Injection(Tabular(frame, target="label"), schedule=[])
    result = replay(injected, LogisticRegression(), Never(), step_size=100, initial_train=200)
    assert result.summary["rows_skipped"] == 0 and result.summary["rows_read"] == 1000
    synthetic = replay(SEA(n_samples=6000), LogisticRegression(), Never(), step_size=100,
                       initial_train=200)
    assert "rows_read" not in synthetic.summary

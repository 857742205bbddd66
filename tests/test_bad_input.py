"""Bad input: a clear error naming the key, the value and what is allowed; defined
behaviour where an error would be wrong.

Each mistake is checked through the command line (``retrain-sim``'s ``main``, in this
process: the same code as the console script, without a Python start-up per case) and,
where it is the library's, through Python (``sim.replay``).
"""

import logging
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from experiments import run
from sim import replay
from sim.streams import Gaussian, PriorShift
from strategies import DataDrift, Never, Performance, Periodic

PROTOCOL = ["protocol.step_size=250", "protocol.initial_train=500",
            "protocol.train_window=1000", "protocol.benefit_window=4", "progress=false"]
STREAM = ["stream.n_samples=6000", "stream.schedule=[{at:2000,to:2},{at:4000,to:3}]"]


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """Run ``retrain-sim hydra.mode=RUN ...`` in-process; return (exit status, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setattr(sys, "argv", ["retrain-sim"])
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    runs = iter(range(1000))

    def call(args: list[str]) -> tuple[int, str]:
        capsys.readouterr()
        argv = ["hydra.mode=RUN", f"hydra.run.dir={tmp_path / str(next(runs))}", *args]
        try:
            run.main(argv)
            code = 0
        except SystemExit as ex:
            code = ex.code
        finally:
            monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
            root.handlers[:], _ = saved[0], root.setLevel(saved[1])
        return code, capsys.readouterr().err

    yield call


CLI_CASES = {
    # caught before any job runs: exit status 2
    "unknown option": (["trigger=perfomance"], 2,
                       ["Unknown option 'perfomance'", "Did you mean 'performance'?",
                        "Allowed: adwin"]),
    "unknown key": (["sede=3"], 2, ["Unknown key 'sede'", "Did you mean 'seed'?"]),
    "unknown parameter": (["trigger=periodic", "trigger.evry=5"], 2,
                          ["Unknown parameter 'trigger.evry'", "takes every"]),
    "bad fail_fast": (["fail_fast=maybe"], 2,
                      ["Invalid value for fail_fast ('maybe'", "allowed: true, false"]),
    "bad resume": (["resume=later"], 2, ["Invalid value for resume", "auto, true, false"]),
    # caught when the run builds or replays: the run fails, exit status 1
    "wrong type": (["trigger=periodic", "trigger.every=abc", *STREAM], 1,
                   ["trigger.every ('abc')", "must be an int >= 1", "Got 'abc'"]),
    "seed not an int": (["seed=abc", *STREAM], 1,
                        ["Invalid value for seed ('abc')", "must be an int >= 0"]),
    "negative delay": (["protocol.label_delay=-1", *STREAM], 1,
                       ["protocol.label_delay (-1)", "must be an int >= 0"]),
    "label_rate 0": (["protocol.label_rate=0", *STREAM], 1,
                     ["protocol.label_rate (0)", "label_rate' parameter of Protocol must be",
                      "Got 0"]),
    "label_rate above 1": (["protocol.label_rate=1.5", *STREAM], 1,
                           ["protocol.label_rate (1.5)", "(0, 1]"]),
    "window larger than the stream": (["protocol.train_window=100000", *STREAM], 1,
                                      ["protocol.train_window (100000)",
                                       "<= the stream's n_samples (6000)"]),
    "alpha outside (0, 1)": (["trigger=data_drift", "trigger.alpha=1.5", *STREAM], 1,
                             ["trigger.alpha (1.5)", "alpha' parameter of DataDrift must be",
                              "(0, 1)"]),
    "stream shorter than the initial segment": (
        ["protocol.initial_train=100000", *STREAM], 1,
        ["protocol.initial_train (100000)", "leave at least one step", "6000 samples"]),
    "one class in the initial window": (
        ["stream=prior_shift", "stream.n_samples=6000", "stream.priors=[[1.0,0.0]]",
         "stream.schedule=[]"], 1, ["single class", "initial_train"]),
    "a model that raises": (["+model.solver=bogus", *STREAM], 1,
                            ["model.solver ('bogus')", "LogisticRegression"]),
    "a parameter the model lacks": (["+model.solverr=x", *STREAM], 1,
                                    ["has no parameter 'solverr'", "Allowed:", "solver"]),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_names_the_key_the_value_and_the_rule(cli, case):
    args, code, needles = CLI_CASES[case]
    status, stderr = cli([*PROTOCOL, *args])  # the case's values win
    assert status == code, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in stderr, (needle, stderr)


def test_a_single_run_that_works_exits_0(cli):
    status, stderr = cli([*STREAM, *PROTOCOL])
    assert status == 0, stderr


# ----------------------------------------------------------------------------------------
# data files (sim.streams.Tabular) through the command line


@pytest.fixture
def data_files(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    frame["y"] = (frame["a"] > 0).astype(int)
    missing = frame.copy()
    missing.loc[1500, "b"] = np.nan
    missing.to_csv(tmp_path / "missing.csv", index=False)
    frame.drop(columns="y").to_csv(tmp_path / "no_target.csv", index=False)
    infinite = frame.astype({"a": object})
    infinite.loc[2999, "a"] = "inf"
    infinite.to_csv(tmp_path / "infinite.csv", index=False)
    (tmp_path / "duplicate.csv").write_text("a,b,a,y\n1,2,3,0\n")
    (tmp_path / "folder.csv").mkdir()
    return tmp_path


@pytest.mark.parametrize("name, needles", [
    ("missing", ["Column 'b'", "missing value at row 1500", "does not impute"]),
    ("no_target", ["Invalid value for stream.target ('y')", "which is not a column of",
                   "the columns are ['a', 'b']"]),
    ("infinite", ["Column 'a'", "infinite value (inf) at row 2999"]),
    ("duplicate", ["duplicate column names: 'a' (columns 0 and 2)"]),
    ("folder", ["stream.data names a directory, not a file", "Give a CSV or Parquet file"]),
])
def test_data_file_errors_stop_the_launch(cli, data_files, name, needles):
    status, stderr = cli(["stream=elec2", f"stream.data={data_files / name}.csv",
                          "stream.target=y", "stream.features=[a,b]", "stream.categorical=[]",
                          *PROTOCOL])
    assert status == 2, stderr  # caught before any job ran
    assert "No job was launched" in stderr and "Traceback" not in stderr
    for needle in needles:
        assert needle in stderr, (needle, stderr)


# ----------------------------------------------------------------------------------------
# the same mistakes through Python


def _replay(stream=None, trigger=None, **protocol):
    stream = stream if stream is not None else Gaussian(
        n_samples=6000, schedule=[{"at": 2000, "to": 2}, {"at": 4000, "to": 3}])
    params = {"step_size": 250, "initial_train": 500, "train_window": 1000, **protocol}
    return replay(stream, LogisticRegression(), trigger or Periodic(every=5), **params)


@pytest.mark.parametrize("kwargs, match", [
    ({"label_delay": -1}, r"'label_delay' parameter of Protocol must be an int >= 0\. Got -1"),
    ({"label_rate": 0}, r"'label_rate' parameter of Protocol must be .*\(0, 1\]\. Got 0 "),
    ({"label_rate": 1.5}, r"'label_rate' parameter of Protocol .* Got 1\.5"),
    ({"step_size": "abc"}, r"'step_size' parameter of Protocol must be an int >= 1\. Got 'abc'"),
    ({"window": "slide"}, r"'window' parameter of Protocol must be one of .*Got 'slide'"),
    ({"initial_train": 100_000}, r"fewer than initial_train=100000"),
])
def test_python_protocol_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _replay(**kwargs)


def test_python_component_errors():
    with pytest.raises(ValueError, match=r"'alpha' parameter of DataDrift .*\(0, 1\)\. Got 1\.5"):
        _replay(trigger=DataDrift(alpha=1.5))
    with pytest.raises(ValueError, match=r"'every' parameter of Periodic must be an int >= 1"):
        _replay(trigger=Periodic(every="abc"))
    with pytest.raises(ValueError, match=r"single class"):
        _replay(PriorShift(n_samples=6000, priors=[[1.0, 0.0]], schedule=[]))


def test_python_window_larger_than_the_stream():
    try:
        _replay(train_window=100_000)
    except ValueError as ex:
        assert "train_window" in str(ex)
    else:
        raise AssertionError("no error")


def test_python_initial_segment_leaving_no_step():
    try:
        result = _replay(initial_train=5900)  # rounded up to 6000: every sample
    except ValueError as ex:
        assert "initial_train" in str(ex)
    else:
        assert len(result.timeline) > 0, "an empty timeline, no error"


def test_python_seed_not_an_int():
    try:
        replay(Gaussian(n_samples=6000), LogisticRegression(), Never(), seed="abc",
               step_size=250, initial_train=500)
    except ValueError as ex:
        assert "'seed' parameter" in str(ex)
    except TypeError as ex:
        raise AssertionError(f"TypeError: {ex}") from ex


def test_python_trigger_window_larger_than_the_stream():
    for trigger in (DataDrift(window=1000), Performance(window=100_000, min_labels=100_000)):
        try:
            _replay(trigger=trigger)
        except ValueError as ex:
            assert "window" in str(ex)
        else:
            raise AssertionError(f"{trigger!r}: no error")


# ----------------------------------------------------------------------------------------
# defined behaviour where an error would be wrong (through sim.replay)


def test_steps_without_labels():
    # labels 3 steps late, 2% of them: steps 0-2 see none, later steps often none
    result = _replay(trigger=Performance(drop=0.05, window=50, min_labels=50),
                     label_delay=3, label_rate=0.02)
    timeline = result.timeline
    assert (timeline["n_labels"].iloc[:3] == 0).all()
    assert (timeline["n_labels"] == 0).sum() >= 3
    assert timeline["accuracy"].between(0, 1).all()  # scored every step all the same


def test_a_training_window_with_a_single_class_skips_the_retrain():
    # after sample 3000 every label is class 0; a sliding window of 500 then has one class
    stream = PriorShift(n_samples=6000, priors=[[0.5, 0.5], [1.0, 0.0]],
                        schedule=[{"at": 3000, "to": 1}])
    result = _replay(stream, Periodic(every=4), train_window=500, min_train=250,
                     window="sliding")
    events = result.events
    skipped = events[events["skipped"].astype(str).str.contains("single class")]
    assert len(skipped), events[["step", "skipped"]]
    assert (skipped["model_id"] == -1).all() and (~skipped["accepted"]).all()
    assert (skipped["cost"] == 0).all()
    # the deployed model stays: no step after a skipped retrain switches to a new model
    for step in skipped["step"]:
        after = result.timeline[result.timeline["step"] == step + 1]["model_id"]
        before = result.timeline[result.timeline["step"] == step]["model_id"]
        assert after.tolist() == before.tolist() or step + 1 > result.timeline["step"].max()
    assert result.summary["n_skipped"] == len(skipped)


def test_every_label_delayed_past_the_end():
    result = _replay(trigger=Periodic(every=5), label_delay=1000)
    assert (result.timeline["n_labels"] == 0).all()
    # retrains happen on schedule, on the only labels there are: the initial segment
    events = result.events
    assert len(events) and (events["train_end"] <= 500).all()
    assert result.timeline["accuracy"].between(0, 1).all()
    # a label-driven trigger never fires
    assert _replay(trigger=Performance(), label_delay=1000).summary["n_retrains"] == 0

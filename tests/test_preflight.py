"""One check of a run (sim.preflight.check_run): Replay.reset and the sweep's pre-launch
check give the same verdict, before any work, on the same values."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from sim import Protocol
from sim.engine import Replay
from sim.preflight import check_run
from sim.scripted import AtSteps
from sim.streams import SEA, Incidents, Tabular
from strategies import Canary, Holdout, LabelCheck, Periodic, Uncertainty

ROOT = Path(__file__).resolve().parent.parent


def _regression_table(path: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=6000), "b": rng.normal(size=6000)})
    frame["y"] = 2 * frame["a"] + rng.normal(size=6000)
    frame.to_csv(path, index=False)
    return path


REFUSED = [  # (replay's arguments, a piece of its error)
    (dict(gate=Canary()), "judges live accuracy: it needs a classification stream"),
    (dict(gate=LabelCheck()), "checks the class counts of the training labels"),
    (dict(trigger=Uncertainty()), "Uncertainty"),
]


@pytest.mark.parametrize("kwargs, needle", REFUSED)
def test_reset_refuses_what_check_run_refuses_on_a_regression_table(tmp_path, kwargs, needle):
    stream = Tabular(str(_regression_table(tmp_path / "reg.csv")), target="y",
                     task="regression")
    args = dict(trigger=Periodic(every=5)) | kwargs
    trigger = args.pop("trigger")
    with pytest.raises(ValueError, match=needle) as by_check:
        check_run(stream, LinearRegression(), trigger, step_size=250, initial_train=1000,
                  **args)
    with pytest.raises(ValueError, match=needle) as by_reset:
        Replay(stream, LinearRegression(), trigger, step_size=250, initial_train=1000,
               **args).reset()
    assert str(by_check.value) == str(by_reset.value)


def test_check_run_reads_the_streams_values_and_the_top_level_ones():
    bad_events = Incidents(SEA(n_samples=6000), events=[{"cause": "stuck", "start": 5000,
                                                         "end": 4000, "features": [0]}])
    with pytest.raises(ValueError, match="Incidents"):
        check_run(bad_events, LogisticRegression(), AtSteps([3]), initial_train=1000)
    with pytest.raises(ValueError, match="The 'cache' parameter must be"):
        check_run(SEA(n_samples=6000), LogisticRegression(), AtSteps([3]), cache=123,
                  initial_train=1000)
    with pytest.raises(ValueError, match="The 'every' parameter of hindsight must be"):
        check_run(SEA(n_samples=6000), LogisticRegression(), AtSteps([3]), every=0,
                  initial_train=1000)
    run = check_run(SEA(n_samples=6000), LogisticRegression(), AtSteps([3]),
                    gate=Holdout(n_val=200), protocol=Protocol(initial_train=1000))
    assert run.gate_tags.n_val == 200 and run.task == "classification"


def _cli(args: list[str], cwd: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("args, needle", [
    (["gate=canary"], "needs a classification stream"),
    (["gate=label_check"], "checks the class counts of the training labels"),
    (["trigger=uncertainty"], "Uncertainty"),
    (["stream.target=no_such_column"], "no_such_column"),
])
def test_a_run_the_engine_refuses_exits_2_before_launch(tmp_path, args, needle):
    """The sweep's pre-check calls check_run: nothing is launched, no directory written."""
    table = _regression_table(tmp_path / "reg.csv")
    sweep = tmp_path / "sweep"
    done = _cli(["-m", f"hydra.sweep.dir={sweep}", "stream=table", f"stream.data={table}",
                 "stream.target=y", "stream.task=regression", "model=sgd_regressor",
                 "trigger=periodic", "protocol.step_size=250", "protocol.initial_train=1000",
                 "protocol.train_window=1000", "progress=false", "seed=0,1", *args], tmp_path)
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert "o job was launched" in done.stderr
    assert not sweep.exists() and not (tmp_path / "results").exists()


GOOD_EVENTS = "stream.events=[{cause: stuck, start: 2000, end: 3000, features: [0]}]"


@pytest.mark.slow
@pytest.mark.parametrize("args, needle", [
    (["stream.events=[{cause: stuck, start: 5000, end: 4000, features: [0]}]"], "Incidents"),
    ([GOOD_EVENTS, "oracle.every=0"], "The 'every' parameter of hindsight must be"),
    ([GOOD_EVENTS, "cache=123"], "The 'cache' parameter must be"),
])
def test_stream_and_top_level_values_exit_2_before_launch(tmp_path, args, needle):
    sweep = tmp_path / "sweep"
    done = _cli(["-m", f"hydra.sweep.dir={sweep}", "stream=sea_incidents",
                 "stream.stream.n_samples=6000", "trigger=periodic", "protocol.step_size=250",
                 "protocol.initial_train=1000", "protocol.train_window=1000",
                 "progress=false", "seed=0,1", *args], tmp_path)
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert not sweep.exists() and not (tmp_path / "results").exists()

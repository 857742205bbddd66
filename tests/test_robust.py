"""Robust threshold choice: BlockBootstrap, experiment=robust_table, the advisor's robust view."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import advise
from sim.checks import ParamError
from sim.streams import SEA, BlockBootstrap, Incidents, Tabular

ROOT = Path(__file__).resolve().parent.parent


def _cli(module: str, args: list[str], cwd: Path, timeout: float = 600):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _table(n=1000, at=600):
    frame = pd.DataFrame({"row": np.arange(n, dtype=float), "y": np.arange(n) % 2})
    return Tabular(frame, target="y", events=[{"at": at, "kind": "concept"}])


def _rows(stream, step=100):
    return np.concatenate([b.X[:, 0] for b in stream.batches(seed=0, step_size=step)])


# ----------------------------------------------------------------------------------------
# the wrapper


def test_a_replicate_keeps_the_length_and_the_order_within_blocks():
    rows = _rows(BlockBootstrap(_table(), block=100, replicate=4))
    assert len(rows) == 1000
    blocks = rows.reshape(10, 100)
    np.testing.assert_array_equal(np.diff(blocks, axis=1), 1)  # consecutive rows in a block
    assert len(set(blocks[:, 0])) > 1 and not np.array_equal(rows, np.arange(1000))


def test_the_same_replicate_is_the_same_future_and_others_differ():
    a = _rows(BlockBootstrap(_table(), block=100, replicate=2))
    np.testing.assert_array_equal(a, _rows(BlockBootstrap(_table(), block=100, replicate=2)))
    np.testing.assert_array_equal(a, _rows(BlockBootstrap(_table(), block=100, replicate=2),
                                           step=37))
    assert not np.array_equal(a, _rows(BlockBootstrap(_table(), block=100, replicate=3)))


def test_the_default_block_is_a_tenth_of_the_stream():
    rows = _rows(BlockBootstrap(_table(n=2000)))
    starts = np.flatnonzero(np.diff(rows) != 1) + 1
    assert set(np.diff(np.concatenate([[0], starts, [2000]]))) <= {200, 400, 600}
    assert all(s % 200 == 0 for s in starts)


def test_drifts_travel_with_their_blocks():
    for replicate in range(30):
        stream = BlockBootstrap(_table(at=650), block=100, replicate=replicate)
        rows = _rows(stream)
        # the drift's row 650 sits inside a block that starts at a row < 650: declared there
        blocks = rows.reshape(10, 100)
        expected = [j * 100 + 650 - int(b[0]) for j, b in enumerate(blocks) if b[0] < 650 <= b[-1]]
        assert [d.start for d in stream.drifts] == expected
        assert all(rows[d.start] == 650 for d in stream.drifts)
    assert not stream.ground_truth_complete


def test_incidents_travel_with_their_blocks_clipped():
    inner = Incidents(SEA(n_samples=2000), events=[
        {"cause": "stuck", "start": 900, "end": 1300, "features": [1]}])
    stream = BlockBootstrap(inner, block=500, replicate=1)
    source = np.concatenate([np.arange(a, a + 500) for a in stream._starts(2000)[0]])
    broken = (source >= 900) & (source < 1300)
    declared = np.zeros(2000, dtype=bool)
    for i in stream.incidents:
        declared[i.start:i.end] = True
    np.testing.assert_array_equal(declared, broken)
    assert broken.any()


@pytest.mark.parametrize("kwargs, needle", [
    ({"block": 1}, "The 'block' parameter of BlockBootstrap must be an int >= 2"),
    ({"block": 5000}, "The 'block' parameter of BlockBootstrap must be an int in [2, 1000]"),
    ({"replicate": -1}, "The 'replicate' parameter of BlockBootstrap must be an int >= 0"),
])
def test_bad_parameters_are_named(kwargs, needle):
    with pytest.raises(ParamError) as info:
        list(BlockBootstrap(_table(), **kwargs).batches(0, 100))
    assert needle in str(info.value)


def test_a_table_cut_by_time_is_refused():
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=100, freq="h"),
                          "x": np.arange(100.0), "y": np.arange(100) % 2})
    daily = Tabular(frame, target="y", time="when", step="1D")
    with pytest.raises(ValueError, match="cuts its own steps by time"):
        list(BlockBootstrap(daily, block=10).batches(0, 10))


# ----------------------------------------------------------------------------------------
# the advisor's robust view


def _jobs(scores: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"job": f"{c}-{s}", "trigger.drop": c, "seed": s,
                          "mean_accuracy": v, "total_cost": 1.0, "n_retrains": 1,
                          "n_samples": 10_000, "status": "ok", "config_id": f"{c}-{s}"}
                         for c, values in scores.items() for s, v in enumerate(values)])


def test_a_configuration_best_on_few_futures_has_a_low_probability():
    # 0.05 is the best on 3 of 20 futures (by a lot), 0.1 on the other 17 (by a little)
    rng = np.random.default_rng(0)
    base = 0.8 + rng.normal(0, 0.02, 20)
    lucky = np.where(np.arange(20) < 3, base + 0.1, base - 0.01)
    r = advise.robust(advise.advise(_jobs({0.05: list(lucky), 0.1: list(base)})))
    assert r.table.loc["trigger.drop=0.05", "p_best"] == pytest.approx(0.15)
    assert r.table.loc["trigger.drop=0.1", "p_best"] == pytest.approx(0.85)
    assert r.table["p_best"].sum() == pytest.approx(1.0)


def test_ties_split_the_probability_and_cvar_is_the_worst_tenth():
    values = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    r = advise.robust(advise.advise(_jobs({0.05: values, 0.1: values})))
    assert r.table["p_best"].tolist() == [0.5, 0.5]
    assert r.table["cvar"].tolist() == pytest.approx([0.0, 0.0])  # the worst 1 of 10
    assert advise.robust(advise.advise(_jobs({0.05: values, 0.1: values})),
                         tail=0.2).table["cvar"].tolist() == pytest.approx([0.05, 0.05])


def test_the_rule_trades_a_little_expectation_for_a_better_worst_case():
    steady = [0.80] * 10
    risky = [0.85] * 8 + [0.70, 0.70]  # mean 0.82, worst 10% 0.70
    jobs = _jobs({0.05: risky, 0.1: steady})
    assert advise.robust(advise.advise(jobs), delta=0.05).recommended == "trigger.drop=0.1"
    # a margin smaller than the loss in expectation keeps the best in expectation
    assert advise.robust(advise.advise(jobs), delta=0.01).recommended == "trigger.drop=0.05"


@pytest.mark.parametrize("kwargs, needle", [
    ({"delta": -0.1}, "The 'delta' parameter of robust must be a number >= 0"),
    ({"tail": 0.0}, "The 'tail' parameter of robust must be a number in (0, 1]"),
])
def test_robust_refuses_bad_arguments(kwargs, needle):
    with pytest.raises(ValueError) as info:
        advise.robust(advise.advise(_jobs({0.05: [0.8, 0.9], 0.1: [0.7, 0.8]})), **kwargs)
    assert needle in str(info.value)


def test_robust_needs_two_futures():
    with pytest.raises(ValueError, match="needs at least 2"):
        advise.robust(advise.advise(_jobs({0.05: [0.8], 0.1: [0.7]})))


# ----------------------------------------------------------------------------------------
# experiment=robust_table end to end


@pytest.mark.slow
def test_robust_table_on_a_csv_with_a_drift_then_the_advisor(tmp_path):
    rng = np.random.default_rng(0)
    n = 8000
    X = rng.normal(size=(n, 2))
    sign = np.where(np.arange(n) < 5000, 1.0, -1.0)
    y = (sign * X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "label": y}).to_csv(tmp_path / "t.csv",
                                                                  index=False)
    sweep = tmp_path / "sweep"
    done = _cli("experiments.run", [
        "-m", "experiment=robust_table", f"stream.stream.data={tmp_path / 't.csv'}",
        "stream.stream.target=label", "stream.stream.events=[{at:5000,kind:concept}]",
        "trigger.drop=0.02,0.2", "seed=range(6)", "protocol.initial_train=1000",
        "progress=false", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(p.read_text()) for p in sweep.glob("*/summary.json")]
    assert len(records) == 12 and all(r["status"] == "ok" for r in records)
    # every future is another resample; the drift travels with its block
    assert len({r["summary"]["mean_accuracy"] for r in records}) > 2
    assert any(r["drifts"] for r in records)
    done = _cli("experiments.advise", [str(sweep), "--cost-weight", "0.05"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Over 6 resampled futures" in done.stdout
    for config in ("trigger.drop=0.02", "trigger.drop=0.2"):
        assert any(line.strip().startswith(config) and "P(best)" in line
                   for line in done.stdout.splitlines())
    assert "Robust choice:" in done.stdout
    assert (sweep / "robust.png").stat().st_size > 0

"""The experiments layer: job records, sweep aggregation, reports, errors, the CLI end to end."""

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from experiments import CONF_DIR, errors, report, store
from experiments.stats import ci95, pareto_front
from sim.checks import param_error

ROOT = Path(__file__).resolve().parent.parent
# a tiny stream with one covariate and one concept drift, in steps of 250 samples
TINY = ["stream.n_samples=6000", "stream.schedule=[{at:2000,to:2},{at:4000,to:3}]",
        "protocol.step_size=250", "protocol.initial_train=500", "protocol.train_window=1000",
        "protocol.benefit_window=4", "progress=false"]


def _cli(module: str, args: list[str], cwd: Path, timeout: float = 120):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


# ----------------------------------------------------------------------------------------
# a fake sweep, written as jobs write it (no Hydra needed)


def _fake_job(directory: Path, overrides: list[str], accuracy: float, *, status="ok",
              retrain_steps=(5,), seed=0) -> None:
    directory.mkdir(parents=True)
    (directory / ".hydra").mkdir()
    (directory / ".hydra" / "overrides.yaml").write_text(
        "".join(f"- {o}\n" for o in overrides))
    if status == "missing":
        return
    rng = np.random.default_rng(seed)
    steps = np.arange(2, 30)
    timeline = pd.DataFrame({"step": steps, "accuracy": np.clip(
        accuracy + rng.normal(0, 0.01, len(steps)) - 0.3 * (steps == 10), 0, 1)})
    events = pd.DataFrame({"step": list(retrain_steps), "model_id": range(1, 1 + len(
        retrain_steps)), "accepted": [True] * len(retrain_steps)})
    store.write_timeline(directory, timeline)
    store.write_events(directory, events)
    record = {
        "status": status, "overrides": overrides,
        "error": {"message": "Invalid value for trigger.every (-1): must be >= 1"}
        if status == "failed" else None,
        "config": {"trigger": {"_target_": "strategies.DriftAware"}
                   if "trigger=drift_aware" in overrides else {"_target_": "strategies.Periodic"}},
        "drifts": [{"start": 5000, "end": 5000, "kind": "concept", "shape": "sudden"}],
        "step_size": 500,
    }
    if status == "ok":
        record["summary"] = {
            "mean_accuracy": float(timeline["accuracy"].mean()), "n_retrains": len(retrain_steps),
            "total_cost": float(len(retrain_steps)), "false_retrains": 0, "precision": None,
            "drifts": [{"start_step": 10, "end_step": 10, "kind": "concept", "shape": "sudden",
                        "detected_at": 11, "detection_delay": 1, "recovery_steps": 2,
                        "accuracy_lost": 0.05}],
        }
    store.write_summary(directory, record)


@pytest.fixture
def fake_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    num = 0
    for trigger, every, acc in (("periodic", 5, 0.9), ("periodic", 10, 0.85),
                                ("periodic", 20, 0.8), ("drift_aware", 1, 0.95)):
        for seed in (0, 1):
            overrides = [f"trigger={trigger}", f"trigger.every={every}", f"seed={seed}"]
            if trigger == "drift_aware":
                overrides = [f"trigger={trigger}", f"seed={seed}"]
            _fake_job(sweep / str(num), overrides, acc + 0.01 * seed, seed=seed,
                      retrain_steps=tuple(range(3, 30, every)))
            num += 1
    _fake_job(sweep / str(num), ["trigger=periodic", "trigger.every=-1", "seed=0"], 0,
              status="failed")
    _fake_job(sweep / str(num + 1), ["trigger=periodic", "trigger.every=5", "seed=2"], 0,
              status="missing")
    return sweep


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    store.write_summary(tmp_path, {"a": np.float64(1.5), "b": float("nan")})
    assert json.loads((tmp_path / "summary.json").read_text()) == {"a": 1.5, "b": None}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]

    def broken(path):
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.atomic_write(tmp_path / "summary.json", broken)
    assert json.loads((tmp_path / "summary.json").read_text())["a"] == 1.5  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


# ----------------------------------------------------------------------------------------
# a job's record, built from its config and its replays (no Hydra state, no files)


def _replay(accuracy: float, drift_start: int) -> dict:
    """One seed's result of ``experiments.run.simulate``, the parts a record keeps."""
    return {"summary": {"metric": "accuracy", "mean_accuracy": accuracy, "n_retrains": 2},
            "drifts": [{"start": drift_start}], "incidents": [], "step_size": 250}


def test_a_job_record_is_built_from_its_config_and_replays():
    from omegaconf import OmegaConf
    from omegaconf.errors import InterpolationKeyError

    from experiments.run import job_record

    cfg = OmegaConf.create({"seed": 3, "progress": False,
                            "trigger": {"_target_": "strategies.Periodic", "every": -1},
                            "protocol": {"step_size": 250,
                                         "initial_train": "${protocol.step_size}"},
                            "objective": {"kind": "score", "seeds": [3, 4]}})
    job = {"num": 7, "dir": "/sweep/7", "started": "2026-12-06T06:00:00+00:00"}
    runs = [_replay(0.8, 1000), _replay(0.9, 2000)]
    record = job_record(cfg, runs, overrides=["seed=3"], job=job)
    assert list(record) == ["status", "error", "overrides", "job", "config", "config_hash",
                            "config_id", "drifts", "incidents", "step_size", "files", "summary"]
    assert (record["status"], record["error"], record["files"]) == ("ok", None, None)
    assert record["overrides"] == ["seed=3"] and record["job"] == job and record["job"] is not job
    assert record["config"]["protocol"]["initial_train"] == 250  # resolved
    assert record["config_hash"] == store.job_hash({**record["config"], "progress": True})
    reseeded = job_record(OmegaConf.merge(cfg, {"seed": 4}), runs)
    assert reseeded["config_id"] == record["config_id"]
    assert reseeded["config_hash"] != record["config_hash"]
    assert record["drifts"] == [{"start": 1000}] and record["step_size"] == 250  # the first seed's
    assert record["summary"] == {"metric": "accuracy", "mean_accuracy": pytest.approx(0.85),
                                 "n_retrains": 2, "seeds_averaged": [3, 4]}

    # a failure: what the job knew, and the error naming the key at fault
    try:
        raise param_error("Periodic", "every", "an int >= 1", -1)
    except ValueError as ex:
        failed = job_record(cfg, overrides=["seed=3"], job=job, error=ex)
    assert list(failed) == ["status", "error", "overrides", "job", "config", "config_hash",
                            "config_id"]
    assert failed["status"] == "failed" and failed["error"]["type"] == "ParamError"
    assert failed["error"]["message"].startswith("Invalid value for trigger.every (-1): ")
    assert "raise param_error" in failed["error"]["traceback"]
    # a job that failed after its replays (writing its files) keeps what they found
    late = job_record(cfg, runs, error=OSError("No space left on device"))
    assert list(late)[-3:] == ["drifts", "incidents", "step_size"] and "summary" not in late
    # a config that does not resolve: the job's failure, left out of its record
    broken = OmegaConf.create({"seed": 0, "cache": "${nowhere}"})
    with pytest.raises(InterpolationKeyError):
        job_record(broken, runs)
    assert "config" not in job_record(broken, error=InterpolationKeyError("nowhere"))


def test_ci95_is_t_based():
    mean, half, n = ci95([1.0, 2.0, 3.0, None])
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)
    assert np.isnan(ci95([1.0])[1])


def test_pareto_front():
    front = pareto_front(np.array([0, 1, 1, 2, 5]), np.array([0.6, 0.8, 0.7, 0.8, 0.9]))
    assert front.tolist() == [0, 1, 4]


def test_aggregate_a_sweep(fake_sweep):
    agg = report.aggregate(fake_sweep)
    jobs = pd.read_csv(fake_sweep / "summary.csv")
    assert len(jobs) == 10
    assert list(jobs.columns[:4]) == ["job", "trigger", "trigger.every", "seed"]
    assert jobs["status"].value_counts().to_dict() == {"ok": 8, "failed": 1, "missing": 1}
    assert {"mean_accuracy", "n_retrains", "total_cost", "status", "error"} <= set(jobs.columns)
    configs = pd.read_csv(fake_sweep / "configs.csv", index_col=0)
    row = configs.loc["trigger=periodic, trigger.every=5"]
    assert row["n_ok"] == 2 and row["n_missing"] == 1
    assert row["mean_accuracy_ci95"] > 0
    for name in ("accuracy_over_time.png", "accuracy_vs_cost.png",
                 "sensitivity_trigger.every.png"):
        assert (fake_sweep / name).stat().st_size > 10_000, name
    text = (fake_sweep / "report.md").read_text()
    assert "## Best configuration per metric" in text
    assert "trigger=periodic, trigger.every=5" in text  # the best accuracy of a policy
    assert "## Failures" in text and "trigger.every (-1)" in text and "never finished" in text
    assert agg.outcome()["n_failed"] == 1 and agg.outcome()["n_missing"] == 1
    assert "drift_aware" in agg.drift_aware


def test_report_cli_on_a_partial_sweep(fake_sweep, capsys):
    shutil.rmtree(fake_sweep / "3")
    report.main([str(fake_sweep), "--no-figures"])
    jobs = pd.read_csv(fake_sweep / "summary.csv")
    assert len(jobs) == 9 and "3" not in jobs["job"].astype(str).tolist()
    assert "9 jobs" in capsys.readouterr().out


def _many_jobs(sweep: Path, n_configs: int, n_seeds: int) -> None:
    """Write ``n_configs * n_seeds`` small job directories fast (files copied, not rebuilt)."""
    template = sweep.parent / "template"
    _fake_job(template, ["trigger=periodic", "trigger.every=1", "seed=0"], 0.8)
    timeline = (template / store.TIMELINE).read_bytes()
    events = (template / store.EVENTS).read_bytes()
    record = json.loads((template / store.SUMMARY).read_text())
    num = 0
    for every in range(1, n_configs + 1):
        for seed in range(n_seeds):
            job = sweep / str(num)
            (job / ".hydra").mkdir(parents=True)
            overrides = ["trigger=periodic", f"trigger.every={every}", f"seed={seed}"]
            (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
            (job / store.TIMELINE).write_bytes(timeline)
            (job / store.EVENTS).write_bytes(events)
            record["overrides"] = overrides
            record["summary"] = {**record["summary"], "mean_accuracy": 0.8 + every / 10_000
                                 + seed / 1000, "n_retrains": every % 7, "total_cost": every % 7}
            (job / store.SUMMARY).write_text(json.dumps(record))
            num += 1


def test_two_thousand_jobs_aggregate(tmp_path):
    sweep = tmp_path / "sweep"
    _many_jobs(sweep, n_configs=400, n_seeds=5)
    agg = report.aggregate(sweep)
    assert len(agg.jobs) == 2000 and (agg.jobs["status"] == "ok").all()
    assert len(agg.configs) == 400 and (agg.configs["n_ok"] == 5).all()
    assert agg.drawn == (report.MAX_DRAWN, 400)  # timelines read for the drawn ones only
    assert "The 16 best of 400 configurations are drawn" in (sweep / "report.md").read_text()
    for name in ("accuracy_over_time.png", "accuracy_vs_cost.png",
                 "sensitivity_trigger.every.png"):
        assert (sweep / name).is_file()


def test_the_sweeps_frontier_is_each_seeds_best_then_the_mean(tmp_path):
    # per seed, the best accuracy any job's frontier reaches with at most K retrains (a
    # frontier holds its last value beyond its largest K; the first job's on a tie), then
    # the mean over seeds; a job without a frontier file is left out, not an error
    frontiers = {"a": (0, [0.5, 0.7, 0.8], [0.0, 1.0, 2.0]), "b": (0, [0.5, 0.9], [0.5, 3.0]),
                 "c": (1, [0.6, 0.6, 0.7], [0.0, 1.0, 2.0]), "d": (1, None, None)}
    records = {}
    for name, (seed, accuracy, cost) in frontiers.items():
        (tmp_path / name).mkdir()
        if accuracy is not None:
            store.write_frontier(tmp_path / name, pd.DataFrame({
                "K": range(len(accuracy)), "accuracy": accuracy, "total_cost": cost,
                "steps": [str(tuple(range(3, 3 + k))) for k in range(len(accuracy))]}))
        records[name] = (tmp_path / name, {"config": {"seed": seed, "stream": "s"}})
    jobs = pd.DataFrame({"job": list(frontiers), "status": "ok"})
    agg = report.Aggregate(tmp_path, jobs, pd.DataFrame(), [], [])
    frontier = report._frontier(agg, records)
    assert frontier["K"].tolist() == [0, 1, 2]
    assert frontier["accuracy"].tolist() == pytest.approx([0.55, 0.75, 0.8])
    assert frontier["total_cost"].tolist() == pytest.approx([0.0, 2.0, 2.5])
    assert frontier["n_seeds"].tolist() == [2, 2, 2]
    records["c"][1]["config"]["stream"] = "other"  # two settings: no common frontier
    assert report._frontier(agg, records) is None


def test_aggregate_ignores_jobs_beyond_the_sweep_and_runtime_keys(fake_sweep):
    record = store.read_summary(fake_sweep / "0")
    record["overrides"] += ["resume=true", "progress=false"]
    store.write_summary(fake_sweep / "0", record)
    agg = report.aggregate(fake_sweep, figures=False, expected=6)
    assert len(agg.jobs) == 6  # 6 to 9: left by an earlier, larger sweep in the directory
    assert "resume" not in agg.jobs and "progress" not in agg.jobs


def test_report_cli_rejects_an_empty_directory(tmp_path):
    with pytest.raises(SystemExit) as info:
        report.main([str(tmp_path)])
    assert info.value.code == 2


# ----------------------------------------------------------------------------------------
# error messages


def test_unknown_option_names_the_allowed_ones():
    message = errors.check_overrides(["-m", "trigger=periodic,perfomance", "seed=0,1"])
    assert "Unknown option 'perfomance'" in message and "'trigger'" in message
    assert "Did you mean 'performance'?" in message and "never" in message
    assert errors.check_overrides(["trigger=periodic", "experiment=threshold_sweep"]) is None


def test_unknown_parameter_names_the_parameters():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        with pytest.raises(Exception) as info:
            compose("config", ["trigger=periodic", "trigger.evry=5"])
    message = errors.explain(info.value, ["trigger=periodic", "trigger.evry=5"])
    assert "Unknown parameter 'trigger.evry'" in message
    assert "trigger=periodic (strategies.Periodic) takes every" in message
    assert "Did you mean 'trigger.every'?" in message
    # without a trigger chosen, the default sweep runs every family
    message = errors.explain(info.value, ["trigger.evry=5"])
    assert "trigger=never (strategies.Never) takes no parameters" in message
    assert "pick the option" in message


def test_out_of_range_value_names_the_key():
    ex = param_error("Cooldown", "min_gap", "an int >= 0", -3)
    config = {"trigger": {"_target_": "strategies.Cooldown", "min_gap": -3,
                          "trigger": {"_target_": "strategies.Periodic", "every": 2}}}
    message = errors.describe_job_error(ex, config)
    assert message.startswith("Invalid value for trigger.min_gap (-3):")


@pytest.mark.slow
def test_cli_errors_are_one_paragraph(tmp_path):
    cases = [
        (["trigger=perfomance"], 2, ["Unknown option 'perfomance'", "Allowed:"]),
        (["hydra.mode=RUN", "trigger=periodic", "trigger.evry=5"], 2,
         ["Unknown parameter 'trigger.evry'", "takes every"]),
        (["hydra.mode=RUN", "trigger=periodic", "trigger.every=-1", *TINY], 1,
         ["trigger.every (-1)", "must be an int >= 1"]),
    ]
    for args, code, needles in cases:
        done = _cli("experiments.run", args, tmp_path)
        assert done.returncode == code, (args, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        for needle in needles:
            assert needle in done.stderr, (needle, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# ----------------------------------------------------------------------------------------
# start-up: what a command does before its work (benchmarks/startup.py times it)

HEAVY = ("sklearn", "scipy", "pandas", "hydra", "matplotlib")


def _imported(code: str, names) -> list[str]:
    """Run ``code`` in a fresh interpreter; return which of ``names`` it imported."""
    probe = f"{code}\nimport sys\nprint([m for m in {tuple(names)!r} if m in sys.modules], " \
            "file=sys.stderr)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return eval(done.stderr.strip().splitlines()[-1])


def test_help_imports_none_of_the_heavy_libraries():
    assert _imported("from experiments.cli import main\nmain(['--help'])", HEAVY) == []


def test_strategies_leave_what_few_runs_need_unimported():
    # scipy.signal (CUSUM) and the label-free calibrators cost 0.2 s of every start-up
    assert _imported("import strategies", ("scipy.signal", "sklearn.ensemble",
                                           "sklearn.isotonic")) == []


@pytest.mark.parametrize("argv, mode", [
    (["hydra.mode=RUN", "trigger=never"], "RUN"), (["-m", "seed=0,1"], "MULTIRUN"),
    (["--multirun"], "MULTIRUN"), (["hydra.mode=MULTIRUN"], "MULTIRUN"), ([], None),
    (["trigger=never"], None), (["hydra.mode=BOTH"], None)])
def test_the_run_mode_is_read_from_the_command_line(argv, mode):
    from experiments import run

    assert (None if run._mode(argv) is None else run._mode(argv).name) == mode


def test_a_single_run_composes_its_config_once(tmp_path, monkeypatch):
    from experiments import run
    from experiments.hydra_internals import Hydra

    calls = []
    compose_config = Hydra.compose_config

    def counted(self, *args, **kwargs):
        calls.append(kwargs.get("run_mode"))
        return compose_config(self, *args, **kwargs)

    monkeypatch.setattr(Hydra, "compose_config", counted)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["retrain-sim"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")  # main() sets it; restored afterwards
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        # the default stream: a stream.* override has the data check compose it too
        run.main(["hydra.mode=RUN", f"hydra.run.dir={tmp_path / 'run'}", "trigger=never",
                  "oracle.enabled=false", "progress=false"])
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "ok"
    assert len(calls) == 1, calls


# ----------------------------------------------------------------------------------------
# end to end


@pytest.mark.slow
def test_single_run_writes_its_record(tmp_path):
    done = _cli("experiments.run", ["hydra.mode=RUN", "trigger=performance",
                                    f"hydra.run.dir={tmp_path / 'run'}", *TINY], tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert record["status"] == "ok" and len(record["config_hash"]) == 16
    assert record["config"]["trigger"]["_target_"] == "strategies.Performance"
    assert record["overrides"][:2] == ["hydra.mode=RUN", "trigger=performance"] or \
        "trigger=performance" in record["overrides"]
    timeline = pd.read_parquet(tmp_path / "run" / "timeline.parquet")
    assert timeline["step"].is_monotonic_increasing
    mean = record["summary"]["mean_accuracy"]
    assert f"mean accuracy {mean:.4f} over {len(timeline)} scored steps" in done.stdout
    # (a table mostly eaten by the initial training shows there)


@pytest.mark.slow
def test_multirun_with_joblib_then_report_on_a_partial_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    done = _cli("experiments.run", [
        "-m", "trigger=never,performance,drift_aware", "seed=0,1", "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep}", *TINY], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Joblib.Parallel(n_jobs=2" in done.stdout + done.stderr
    jobs = pd.read_csv(sweep / "summary.csv")
    assert len(jobs) == 6 and (jobs["status"] == "ok").all()
    assert set(jobs["trigger"]) == {"never", "performance", "drift_aware"}
    for name in ("report.md", "configs.csv", "accuracy_over_time.png", "accuracy_vs_cost.png"):
        assert (sweep / name).is_file(), name
    for job in range(6):
        assert {"timeline.parquet", "events.csv", "summary.json", "oracle_frontier.csv"} <= {
            p.name for p in (sweep / str(job)).iterdir()}
    # every run is measured against the hindsight optimum with as many retrains
    assert (jobs["regret"] >= -1e-9).all()
    assert (jobs["optimal_accuracy_same_retrains"] >= jobs["mean_accuracy"] - 1e-9).all()
    assert jobs.loc[jobs["trigger"] == "never", "regret"].abs().max() < 1e-9
    # one matrix per seed, shared, and the frontier solved on it once
    assert len(list((sweep / ".oracle_cache").glob("oracle-*.npz"))) == 2
    assert len(list((sweep / ".oracle_cache").glob("frontier-*.npz"))) == 2

    shutil.rmtree(sweep / "4")
    (sweep / "summary.csv").unlink()
    done = _cli("experiments.report", [str(sweep)], tmp_path)
    assert done.returncode == 0, done.stderr
    jobs = pd.read_csv(sweep / "summary.csv")
    assert len(jobs) == 5 and (jobs["status"] == "ok").all()


@pytest.mark.slow
def test_a_failing_job_is_recorded_and_the_sweep_goes_on(tmp_path):
    # every value is valid, but the first job's initial window has a single class: it can
    # only fail when it runs
    sweep = tmp_path / "sweep"
    args = ["-m", "trigger=periodic", "stream=prior_shift", "stream.n_samples=6000",
            "stream.schedule=[]", "stream.priors=[[1.0,0.0]],[[0.5,0.5]]", "seed=0",
            "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={sweep}", *TINY[2:]]
    done = _cli("experiments.run", args, tmp_path)
    # not asked to fail fast: every job ran, the failure is named, exit status 0
    assert done.returncode == 0, done.stderr
    assert "1 of 2 jobs did not succeed" in done.stderr and "single class" in done.stderr
    jobs = pd.read_csv(sweep / "summary.csv")
    assert jobs.set_index("job")["status"].to_dict() == {0: "failed", 1: "ok"}
    assert "## Failures" in (sweep / "report.md").read_text()

    # fail_fast=true: the job after the failure does not run, exit status 1
    fast = tmp_path / "fast"
    done = _cli("experiments.run", [*args, f"hydra.sweep.dir={fast}", "fail_fast=true"],
                tmp_path)
    assert done.returncode == 1, done.stderr
    assert "fail_fast=true and a job failed" in done.stderr
    jobs = pd.read_csv(fast / "summary.csv").set_index("job")
    assert jobs["status"].to_dict() == {0: "failed", 1: "missing"}
    assert "not run: fail_fast" in jobs.loc[1, "error"]


@pytest.mark.slow
@pytest.mark.parametrize("args, needles", [
    (["trigger=performance", "trigger.drop=-0.1"],
     ["3 of the 3 jobs", "Invalid value for trigger.drop (-0.1)",
      "The 'drop' parameter of Performance must be a float > 0"]),
    (["trigger=periodic", "trigger.every=0,5", "seed=0,1"],
     ["2 of the 4 jobs", "Invalid value for trigger.every (0)"]),
    (["trigger=periodic", "seed=0,-1"], ["1 of the 2 jobs", "Invalid value for seed (-1)"]),
    (["trigger=periodic", "model.C=-1"], ["Invalid value for model.C (-1)"]),
    (["trigger=periodic", "threads=-1"], ["Invalid value for threads (-1)"]),
    (["trigger=never", "learning=online"], ["LogisticRegression has none", "model=sgd"]),
    (["trigger=periodic", "protocol.train_window=100000"],
     ["protocol.train_window (100000)", "<= the stream's n_samples (6000)"]),
])
def test_a_bad_value_stops_the_sweep_before_any_job(tmp_path, args, needles):
    sweep = tmp_path / "sweep"
    done = _cli("experiments.run", ["-m", f"hydra.sweep.dir={sweep}", *TINY, *args], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "no job was launched" in done.stderr and "Traceback" not in done.stderr
    for needle in needles:
        assert needle in done.stderr, (needle, done.stderr)
    assert not sweep.exists() and not (tmp_path / "results").exists()


@pytest.mark.slow
def test_a_disk_cache_changes_nothing_but_time(tmp_path):
    args = ["-m", "trigger=data_drift", "trigger.alpha=0.01,0.2", "seed=0",
            "hydra.launcher.n_jobs=1", *TINY]
    plain = _cli("experiments.run", [*args, f"hydra.sweep.dir={tmp_path / 'plain'}"], tmp_path)
    cached = _cli("experiments.run", [*args, f"hydra.sweep.dir={tmp_path / 'cached'}",
                                      f"cache={tmp_path / 'cache'}"], tmp_path)
    assert plain.returncode == 0 and cached.returncode == 0, cached.stderr
    a = pd.read_csv(tmp_path / "plain" / "summary.csv")
    b = pd.read_csv(tmp_path / "cached" / "summary.csv")
    metrics = ["mean_accuracy", "n_retrains", "total_cost", "false_retrains", "regret"]
    pd.testing.assert_frame_equal(a[metrics], b[metrics])
    assert "cache" not in b.columns  # how a job runs, not what it computes
    assert any((tmp_path / "cache").rglob("*"))

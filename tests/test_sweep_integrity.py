"""Results you can trust: one sweep per directory, files checked against their digests,
true/false settings and added keys checked before launch, workers that end with their
launcher, SIGTERM handled like Ctrl-C, no process-wide umask change, finite advice limits.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments import advise, errors, report, store
from experiments.run import _resume_mode, check_settings
from sim.files import atomic_write

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["stream.n_samples=20000", "stream.schedule=[{at:8000,to:2},{at:14000,to:3}]",
         "protocol.step_size=250", "protocol.initial_train=500", "protocol.train_window=1000",
         "protocol.benefit_window=4", "progress=false"]
SWEEP = ["-m", "trigger=never,periodic", "seed=0", *SMALL]


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def _run(module: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=300)


def _mtimes(sweep: Path) -> dict[str, int]:
    return {str(p.relative_to(sweep)): p.stat().st_mtime_ns for p in sweep.glob("*/*")
            if p.is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished two-job sweep (the basic launcher: no worker pool to start)."""
    tmp = tmp_path_factory.mktemp("finished")
    sweep = tmp / "sweep"
    done = _run("experiments.run", [*SWEEP, "hydra/launcher=basic",
                                    f"hydra.sweep.dir={sweep}"], tmp)
    assert done.returncode == 0, done.stderr
    return sweep


@pytest.fixture
def sweep(finished, tmp_path):
    """A copy of the finished sweep, to change."""
    import shutil

    return Path(shutil.copytree(finished, tmp_path / "sweep"))


# ----------------------------------------------------------------------------------------
# one sweep per directory


def test_a_different_sweep_into_a_sweep_directory_is_refused(sweep, tmp_path):
    before = _mtimes(sweep)
    other = ["-m", "trigger=never,ddm", "seed=0", *SMALL, "hydra/launcher=basic",
             f"hydra.sweep.dir={sweep}"]
    done = _run("experiments.run", other, tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"The sweep directory {sweep} holds another sweep" in done.stderr
    assert "job 1 is `trigger=periodic" in done.stderr and "is `trigger=ddm" in done.stderr
    assert "Nothing was run or overwritten" in done.stderr
    assert _mtimes(sweep) == before


def test_the_same_sweep_resumes_in_its_directory(sweep, tmp_path):
    before = _mtimes(sweep)
    done = _run("experiments.run", [*SWEEP, "hydra/launcher=basic", "resume=true",
                                    f"hydra.sweep.dir={sweep}"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert all(_mtimes(sweep)[name] == t for name, t in before.items()
               if name.endswith((store.SUMMARY, store.TIMELINE)))  # both jobs skipped


def test_claim_sweep_compares_the_whole_job_list(tmp_path):
    jobs = [["trigger=never", "seed=0"], ["trigger=never", "seed=1"]]
    assert store.claim_sweep(tmp_path, jobs) is None
    assert json.loads((tmp_path / store.MANIFEST).read_text())["jobs"] == jobs
    assert store.claim_sweep(tmp_path, [[*j, "resume=true", "progress=false"] for j in jobs]) \
        is None  # runtime keys do not count
    assert "holds another sweep (2 jobs, this command 1)" in store.claim_sweep(
        tmp_path, jobs[:1])  # a smaller sweep would leave job 1 behind
    assert "its job 1 is `trigger=never seed=1`, this command's is `trigger=never seed=2`" \
        in store.claim_sweep(tmp_path, [jobs[0], ["trigger=never", "seed=2"]])
    (tmp_path / store.MANIFEST).write_text("{")
    assert "unreadable sweep.json" in store.claim_sweep(tmp_path, jobs)


def test_claim_sweep_checks_a_directory_left_without_manifest(tmp_path):
    """An older retrain-sim's sweep: each numbered job directory's own overrides count."""
    (tmp_path / "0" / ".hydra").mkdir(parents=True)
    (tmp_path / "0" / ".hydra" / "overrides.yaml").write_text("- trigger=never\n- seed=0\n")
    store.write_summary(tmp_path / "1", {"status": "ok", "overrides": ["trigger=ddm", "seed=0"]})
    problem = store.claim_sweep(tmp_path, [["trigger=never", "seed=0"],
                                           ["trigger=periodic", "seed=0"]])
    assert "its job 1 is `trigger=ddm seed=0`" in problem
    assert not (tmp_path / store.MANIFEST).exists()
    assert store.claim_sweep(tmp_path, [["trigger=never", "seed=0"],
                                        ["trigger=ddm", "seed=0"]]) is None
    assert (tmp_path / store.MANIFEST).exists()


# ----------------------------------------------------------------------------------------
# digests


def _job(directory: Path) -> dict:
    written = [store.write_timeline(directory, pd.DataFrame({"step": [1, 2], "accuracy": [.5, 1]})),
               store.write_events(directory, pd.DataFrame({"step": [1]}))]
    record = {"status": "ok", "config_hash": "h", "overrides": ["seed=0"],
              "summary": {"mean_accuracy": 0.75}, "files": store.digests(written)}
    store.write_summary(directory, record)
    return record


@pytest.mark.parametrize("damage", [
    lambda d: (d / store.TIMELINE).write_bytes((d / store.TIMELINE).read_bytes()[:100]),
    lambda d: (d / store.EVENTS).write_text("step\n2\n"),
    lambda d: (d / store.EVENTS).unlink(),
], ids=["truncated timeline", "edited events", "deleted events"])
def test_a_damaged_job_is_not_finished_and_is_reported_corrupt(tmp_path, damage):
    for name in ("0", "1"):
        _job(tmp_path / name)
    assert store.finished(tmp_path / "1", "h") is not None
    damage(tmp_path / "1")
    assert store.finished(tmp_path / "1", "h") is None  # resume reruns it
    agg = report.aggregate(tmp_path, figures=False)
    assert agg.counts == {"ok": 1, "failed": 0, "missing": 0, "corrupt": 1}
    assert agg.digest().splitlines()[0] == f"Sweep {tmp_path}: 2 jobs, 1 ok, 1 corrupt."
    assert agg.outcome()["n_corrupt"] == 1
    assert "(1 failed" not in agg.outcome()["message"]
    jobs = pd.read_csv(tmp_path / "summary.csv")
    assert jobs["status"].tolist() == ["ok", "corrupt"]
    assert "resume=true" in jobs["error"].iloc[1]
    assert "1 corrupt" in (tmp_path / "report.md").read_text()


def test_a_job_records_the_digests_of_its_files(finished):
    for job in ("0", "1"):
        record = store.read_summary(finished / job)
        assert set(record["files"]) >= {store.TIMELINE, store.EVENTS}
        assert record["files"] == store.digests([finished / job / n for n in record["files"]])


def test_report_and_resume_of_a_corrupted_sweep(sweep, tmp_path):
    timeline = sweep / "1" / store.TIMELINE
    timeline.write_bytes(timeline.read_bytes()[:200])
    done = _run("experiments.report", [str(sweep), "--no-figures"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Sweep {sweep}: 2 jobs, 1 ok, 1 corrupt." in done.stdout
    before = _mtimes(sweep)
    done = _run("experiments.run", [*SWEEP, "hydra/launcher=basic",
                                    f"hydra.sweep.dir={sweep}"], tmp_path)
    assert done.returncode == 0, done.stderr
    after = _mtimes(sweep)
    assert after["0/summary.json"] == before["0/summary.json"]  # intact: skipped
    assert after["1/summary.json"] != before["1/summary.json"]  # corrupt: rerun
    assert report.aggregate(sweep, figures=False).counts["ok"] == 2


# ----------------------------------------------------------------------------------------
# true/false settings and added keys


@pytest.mark.parametrize("args, key", [
    (["oracle.enabled=no"], "oracle.enabled"),
    (["baselines=yes"], "baselines"),
    (["baselines=no"], "baselines"),
    (["-m", "baselines=true,1"], "baselines"),
    (["progress=off"], "progress"),
    (["hydra.mode=RUN", "fail_fast=0"], "fail_fast"),
])
def test_true_false_settings_take_only_true_or_false(args, key):
    problem = errors.check_runtime_keys(args)
    assert problem is not None and problem.startswith(f"Invalid value for {key} (")
    assert problem.endswith("allowed: true, false.")


def test_true_false_settings_accept_booleans():
    assert errors.check_runtime_keys(["oracle.enabled=false", "baselines=True",
                                      "-m", "fail_fast=true,false"]) is None


def test_a_job_checks_its_true_false_settings():
    """Values set in a YAML file (a preset) never reach the command-line check."""
    check_settings({"seed": 0, "baselines": True, "oracle": {"enabled": False}})
    config = {"seed": 0, "baselines": "no", "oracle": {"enabled": True}}
    with pytest.raises(ValueError) as raised:
        check_settings(config)
    assert errors.describe_job_error(raised.value, config).startswith(
        "Invalid value for baselines ('no'): The 'baselines' parameter of the run must be one "
        "of False, True.")
    config = {"seed": 0, "oracle": {"enabled": "yes", "every": 10}}
    with pytest.raises(ValueError) as raised:
        check_settings(config)
    assert errors.describe_job_error(raised.value, config).startswith(
        "Invalid value for oracle.enabled ('yes')")


def test_resume_takes_only_its_values():
    assert [_resume_mode(v) for v in ("auto", True, "true", False, "false")] == [
        "auto", "latest", "latest", "off", "off"]
    for value in ("yes", "no", "1", 0, "latest"):
        with pytest.raises(ValueError, match="'resume' parameter must be one of"):
            _resume_mode(value)


def test_added_keys_must_exist():
    problem = errors.check_added_keys(["-m", "+oracle.enabld=false"])
    assert problem.startswith("Unknown key 'oracle.enabld' (in '+oracle.enabld=false')")
    assert "Nearest known keys: oracle.enabled" in problem
    assert errors.check_added_keys(["+foo=1"]).startswith("Unknown key 'foo' (in '+foo=1')")
    # a preset's own keys, group options and component parameters may be added
    assert errors.check_added_keys(["experiment=optuna_threshold", "++objective.seeds=[0]"]) \
        is None
    assert "Unknown key 'objective.seeds'" in errors.check_added_keys(["+objective.seeds=[0]"])
    assert errors.check_added_keys(["+experiment=elec2", "+trigger.every=5",
                                    "++seed=3", "+hydra.job.chdir=false"]) is None


@pytest.mark.parametrize("args, words", [
    (["oracle.enabled=no"], ["oracle.enabled", "'no'", "allowed: true, false"]),
    (["baselines=yes"], ["baselines", "'yes'", "allowed: true, false"]),
    (["+foo=1"], ["Unknown key 'foo'", "Top-level keys: seed"]),
])
def test_the_command_refuses_them_before_launch(tmp_path, args, words):
    done = _run("experiments.run", ["-m", "trigger=never", "seed=0", *args,
                                    f"hydra.sweep.dir={tmp_path / 'sweep'}"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert all(w in done.stderr for w in words), done.stderr
    assert not (tmp_path / "sweep").exists()


# ----------------------------------------------------------------------------------------
# the launching process ends: so do its workers


def _session(sid: int) -> list[int]:
    """The live processes of session ``sid`` (zombies aside)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


WORKER = """
import os, sys, time
from pathlib import Path
from hydra_plugins.retrain_sim.launcher import end_with
end_with(os.getppid())
Path(sys.argv[1]).write_text(str(os.getpid()))
time.sleep(300)
"""
LAUNCHER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
time.sleep(300)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_worker_ends_when_its_launcher_is_killed(tmp_path):
    ready = tmp_path / "worker.pid"
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, WORKER, str(ready)],
                                cwd=ROOT, env=_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() or not ready.read_text():
            assert launcher.poll() is None and time.monotonic() < deadline, "no worker"
            time.sleep(0.05)
        worker = int(ready.read_text())
        launcher.kill()
        launcher.wait()
        deadline = time.monotonic() + 30  # a bound, not a speed: it ends within a second
        while _session(launcher.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker not in _session(launcher.pid), "the worker outlived its launcher"
    finally:
        for pid in _session(launcher.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_end_with_the_launching_process(tmp_path, sig):
    sweep = tmp_path / "sweep"
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr:  # a file: a pipe would wait for a surviving worker too
        proc = subprocess.Popen(
            [sys.executable, "-m", "experiments.run", "-m", "trigger=never,periodic,performance",
             "seed=range(8)", *SMALL, "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}"],
            cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not list(sweep.glob("*/.hydra")):  # a worker runs a job
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no job started"
            time.sleep(0.05)
        workers = [p for p in _session(proc.pid) if "LokyProcess" in _cmdline(p)]
        assert workers, "no joblib worker process found"
        os.kill(proc.pid, sig)
        proc.wait(timeout=120)
        deadline = time.monotonic() + 30  # a bound, not a speed: they end within a second
        while _session(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _session(proc.pid)
    finally:
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"still alive after the launcher ended: {[_cmdline(p) for p in left]}"
    if sig == signal.SIGTERM:  # the message of Ctrl-C, and its own status
        text = log.read_text()
        assert proc.returncode == 143, text
        assert "Terminated (SIGTERM)." in text and f"retrain-sim-report {sweep}" in text
        assert "resume=true" in text


# ----------------------------------------------------------------------------------------
# files


def _umask_now() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    raise AssertionError("no Umask line")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_atomic_write_never_changes_the_umask(tmp_path, monkeypatch):
    def no_umask(mask):
        raise AssertionError(f"os.umask({mask:o}) changes it for every thread")

    monkeypatch.setattr(os, "umask", no_umask)
    path = atomic_write(tmp_path / "a.txt", lambda p: p.write_text("x"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask_now()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


# ----------------------------------------------------------------------------------------
# advice


def _summary(directory: Path) -> Path:
    rows = [{"job": str(i), "trigger.every": e, "seed": s, "mean_accuracy": 0.8 + 0.01 * e,
             "total_cost": 10 / e, "n_retrains": 10 / e, "n_samples": 10_000, "status": "ok"}
            for i, (e, s) in enumerate((e, s) for e in (1, 2) for s in range(2))]
    pd.DataFrame(rows).to_csv(directory / "summary.csv", index=False)
    return directory


@pytest.mark.parametrize("flag", ["--cost-weight", "--max-cost", "--max-retrains", "--max-ci"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_advise_refuses_non_finite_limits(tmp_path, flag, value):
    with pytest.raises(SystemExit) as ended:
        advise.main([str(_summary(tmp_path)), flag, value, "--no-figure"])
    assert ended.value.code == 2
    name = flag.removeprefix("--").replace("-", "_")
    with pytest.raises(ValueError, match=f"The '{name}' parameter of advise must be a finite"):
        advise.advise(pd.read_csv(tmp_path / "summary.csv"), **{name: float(value)})

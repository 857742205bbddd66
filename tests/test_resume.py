"""Resume and failure isolation: kill a worker, kill the whole sweep, resume, compare.

A sweep interrupted part-way and resumed must aggregate to exactly what an uninterrupted
sweep gives (timing columns aside): no job lost, none duplicated, and the jobs that had
finished are not run again.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments import report, store
from experiments.run import _resume_mode, previous_sweep

ROOT = Path(__file__).resolve().parent.parent
N_JOBS = 8
SWEEP = ["-m", "trigger=never,periodic,performance,data_drift", "seed=0,1",
         "stream.n_samples=20000", "stream.schedule=[{at:8000,to:2},{at:14000,to:3}]",
         "protocol.step_size=250", "protocol.initial_train=500", "protocol.train_window=1000",
         "protocol.benefit_window=4", "progress=false"]


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "experiments.run", *SWEEP, *args], cwd=cwd,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.run", *SWEEP, *args], cwd=cwd,
                          env=_env(), capture_output=True, text=True, timeout=300)


def comparable(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    return frame.drop(columns=[c for c in frame.columns if "seconds" in c])


def _finished(sweep: Path) -> dict[str, int]:
    """Job name -> mtime (ns) of its summary.json, for the jobs with one."""
    return {p.parent.name: p.stat().st_mtime_ns for p in sweep.glob(f"*/{store.SUMMARY}")}


def _wait_for(sweep_glob, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list(sweep_glob())) < n:
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        assert time.monotonic() < deadline, "no job finished in time"
        time.sleep(0.02)


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = [], [pid]
    while frontier:
        children = [c for c, p in parents.items() if p in frontier]
        out += children
        frontier = children
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _running_job(pid: int, sweep: Path) -> Path | None:
    """The job directory whose ``run.log`` worker ``pid`` has open and which has no summary."""
    try:
        files = [Path(os.readlink(fd)) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return None
    return next((f.parent for f in files if f.name == "run.log" and f.parent.parent == sweep
                 and not (f.parent / store.SUMMARY).exists()), None)


def _kill_a_worker_mid_job(proc: subprocess.Popen, sweep: Path, timeout: float = 120) -> None:
    """SIGKILL a joblib worker while it runs a job, never while it sends a result back.

    A worker killed while it writes a finished job's result to loky's result pipe (the
    moment its summary.json appears) leaves half a message there and the queue's write
    lock taken: loky's manager thread then waits forever for the rest of the message
    and never sees that the worker died, so the sweep hangs. A crash mid-job (what this
    test is about: a segfault, the OOM killer) is what loky detects. So the worker is
    stopped first, and killed only if its job still has no summary.json (it has not
    finished); otherwise it is resumed and another moment is taken.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        for pid in [p for p in _descendants(proc.pid) if "LokyProcess" in _cmdline(p)]:
            if _running_job(pid, sweep) is None:
                continue
            os.kill(pid, signal.SIGSTOP)
            if _running_job(pid, sweep) is not None:
                os.kill(pid, signal.SIGKILL)
                return
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("no joblib worker was found running a job")


def _check_complete(sweep: Path, reference: pd.DataFrame) -> None:
    jobs = pd.read_csv(sweep / "summary.csv")
    assert len(jobs) == N_JOBS and jobs["job"].is_unique
    assert not jobs.duplicated(["trigger", "seed"]).any()
    assert (jobs["status"] == "ok").all()
    pd.testing.assert_frame_equal(comparable(sweep / "summary.csv"), reference)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted sweep (basic launcher: the jobs one after the other)."""
    tmp = tmp_path_factory.mktemp("reference")
    done = _run(["hydra/launcher=basic", f"hydra.sweep.dir={tmp / 'sweep'}"], tmp)
    assert done.returncode == 0, done.stderr
    return comparable(tmp / "sweep" / "summary.csv")


# ----------------------------------------------------------------------------------------
# what counts as finished


def test_only_a_complete_ok_record_of_the_same_config_is_finished(tmp_path):
    record = {"status": "ok", "config_hash": store.job_hash({"seed": 1})}
    store.write_summary(tmp_path, record)
    assert store.finished(tmp_path, record["config_hash"]) is None  # no timeline, no events
    store.write_timeline(tmp_path, pd.DataFrame({"step": [1]}))
    store.write_events(tmp_path, pd.DataFrame({"step": []}))
    assert store.finished(tmp_path, record["config_hash"]) == record
    assert store.finished(tmp_path, store.job_hash({"seed": 2})) is None  # another config
    # the runtime keys do not change what a job computes
    assert store.job_hash({"seed": 1, "resume": True, "fail_fast": True, "progress": False}) \
        == record["config_hash"]
    store.write_summary(tmp_path, {**record, "status": "failed"})
    assert store.finished(tmp_path, record["config_hash"]) is None  # failed jobs run again
    store.clear_mark(tmp_path)
    assert store.read_summary(tmp_path) is None and (tmp_path / store.TIMELINE).exists()


def test_resume_values():
    assert [_resume_mode(v) for v in ("auto", True, "true", False, "false")] == [
        "auto", "latest", "latest", "off", "off"]
    with pytest.raises(ValueError, match="'resume' parameter must be one of auto, true, false"):
        _resume_mode("sometimes")


def test_previous_sweep_matches_the_overrides(tmp_path):
    for name, task in (("a", ["trigger=never", "seed=0,1"]),
                       ("b", ["trigger=never", "seed=0,1", "resume=true"]),
                       ("c", ["trigger=ddm", "seed=0,1"])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "multirun.yaml").write_text(
            "hydra:\n  overrides:\n    task:\n" + "".join(f"    - {t}\n" for t in task))
        time.sleep(0.01)
    # the launcher and the runtime keys do not count; the latest match wins
    found = previous_sweep(["-m", "trigger=never", "seed=0,1", "hydra/launcher=basic",
                            "resume=true"], root=tmp_path)
    assert found == tmp_path / "b"
    assert previous_sweep(["-m", "trigger=adwin"], root=tmp_path) is None


# ----------------------------------------------------------------------------------------
# faults


@pytest.mark.slow
def test_kill_a_worker_then_resume(reference, tmp_path):
    sweep = tmp_path / "sweep"
    args = ["hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}"]
    proc = _start(args, tmp_path)
    try:
        _wait_for(lambda: sweep.glob(f"*/{store.SUMMARY}"), 1, proc)
        _kill_a_worker_mid_job(proc, sweep)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 1, stderr
    assert "The sweep stopped before all its jobs finished" in stderr
    assert "resume=true" in stderr
    before = _finished(sweep)
    assert 1 <= len(before) < N_JOBS, "the kill came too late to interrupt the sweep"

    done = _run([*args, "resume=true"], tmp_path)
    assert done.returncode == 0, done.stderr
    _check_complete(sweep, reference)
    after = _finished(sweep)
    assert all(after[job] == mtime for job, mtime in before.items()), \
        "a job that had finished was run again"


@pytest.mark.slow
def test_kill_the_whole_sweep_then_resume(reference, tmp_path):
    # the default sweep directory (results/multirun/<date>/<time>), found again by resume=true
    proc = _start(["hydra/launcher=basic"], tmp_path)
    try:
        _wait_for(lambda: tmp_path.glob(f"results/multirun/*/*/*/{store.SUMMARY}"), 3, proc)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    (sweep,) = [p.parent for p in tmp_path.glob("results/multirun/*/*/multirun.yaml")]
    before = _finished(sweep)
    assert 3 <= len(before) < N_JOBS, "the kill came too late to interrupt the sweep"
    partial = report.aggregate(sweep, figures=False)  # retrain-sim-report on what is there
    assert partial.counts["ok"] == len(before)

    # records that must not be reused: another config, and a failed job
    job0, job1 = sweep / "0", sweep / "1"
    record = store.read_summary(job0)
    store.write_summary(job0, {**record, "config_hash": "0" * 16})
    store.write_summary(job1, {**store.read_summary(job1), "status": "failed"})
    before = _finished(sweep)

    done = _run(["resume=true"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Resuming the sweep in {sweep.relative_to(tmp_path)}" in done.stderr
    _check_complete(sweep, reference)
    after = _finished(sweep)
    rerun = {job for job, mtime in before.items() if after[job] != mtime}
    assert rerun == {"0", "1"}
    assert json.loads((job0 / store.SUMMARY).read_text())["config_hash"] != "0" * 16

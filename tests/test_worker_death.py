"""A sweep whose joblib worker dies while it sends a job's result back ends; resume finishes it.

A loky worker killed (OOM killer, segfault, ``kill -9``) in the middle of writing a message
to loky's result pipe leaves half a message there: loky's manager thread then reads
forever and never sees the dead worker, and the sweep hangs. The worker is killed here at
the worst moment its result write allows, deterministically: a ``sitecustomize`` (in the
sweep's ``PYTHONPATH``, so in the workers too) replaces the pipe connection's
``_send_bytes`` in the workers; the first message a worker sends once a job of the sweep
has its summary.json is cut as a kill could cut it. ``multiprocessing`` writes a message
of more than 16 KiB as two writes (header, then payload): the kill lands between them. A
message that is written in one ``write`` of at most ``PIPE_BUF`` bytes is written whole or
not at all: the kill lands before it. A longer single write may be cut after
``PIPE_BUF`` bytes: the kill lands there.
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from experiments import store
from hydra_plugins.retrain_sim import launcher
from hydra_plugins.retrain_sim.launcher import in_file, read_outcome

ROOT = Path(__file__).resolve().parent.parent
N_JOBS = 6
SWEEP = ["-m", "trigger=never,periodic,performance", "seed=0,1", "stream.n_samples=6000",
         "stream.schedule=[{at:3000,to:2}]", "protocol.step_size=250",
         "protocol.initial_train=500", "protocol.train_window=1000",
         "protocol.benefit_window=4", "progress=false", "hydra.launcher.n_jobs=2"]

KILL_MID_SEND = textwrap.dedent('''
    import os, select, signal, struct
    from multiprocessing.connection import Connection
    from pathlib import Path

    _send_bytes = Connection._send_bytes

    def _worker() -> bool:
        return b"LokyProcess" in Path("/proc/self/cmdline").read_bytes()

    def _first_result_after_a_job() -> bool:
        sweep = Path(os.environ["KILL_MID_SEND_SWEEP"])
        if not any(sweep.glob("*/summary.json")):
            return False
        try:  # one kill per sweep
            os.close(os.open(sweep / "killed.mark", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def _cut(self, buf):
        if not (_worker() and _first_result_after_a_job()):
            return _send_bytes(self, buf)
        message = struct.pack("!i", len(buf)) + bytes(buf)
        if len(buf) > 16384:  # header and payload are two writes
            self._send(message[:4])
        elif len(message) > select.PIPE_BUF:  # one write, not atomic
            self._send(message[:select.PIPE_BUF])
        os.kill(os.getpid(), signal.SIGKILL)

    if os.environ.get("KILL_MID_SEND_SWEEP"):
        Connection._send_bytes = _cut
''')


def _run(args: list[str], cwd: Path, hook: Path | None = None,
         sweep: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(p) for p in (hook, ROOT) if p is not None] + [os.environ.get("PYTHONPATH", "")])}
    env.pop("HYDRA_FULL_ERROR", None)
    if sweep is not None:
        env["KILL_MID_SEND_SWEEP"] = str(sweep)
    proc = subprocess.Popen([sys.executable, "-m", "experiments.run", *SWEEP, *args], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=120)  # a hang detector, not a speed test
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the sweep hung: it did not end within 120 s")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _finished(sweep: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in sweep.glob(f"*/{store.SUMMARY}")}


@pytest.mark.slow
def test_a_worker_killed_while_it_sends_a_result_stops_the_sweep_and_resume_finishes_it(
        tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(KILL_MID_SEND)
    sweep = tmp_path / "sweep"
    args = [f"hydra.sweep.dir={sweep}"]

    broken = _run(args, tmp_path, hook=hook, sweep=sweep)
    assert (sweep / "killed.mark").exists(), "no worker was killed: the hook did not run"
    assert broken.returncode == 1, broken.stderr
    assert "The sweep stopped before all its jobs finished" in broken.stderr
    assert "SIGKILL" in broken.stderr
    assert "resume=true" in broken.stderr
    before = _finished(sweep)
    assert 1 <= len(before) < N_JOBS, "the kill came too late to interrupt the sweep"

    done = _run([*args, "resume=true"], tmp_path)
    assert done.returncode == 0, done.stderr
    after = _finished(sweep)
    assert len(after) == N_JOBS
    assert all(store.read_summary(sweep / job)["status"] == "ok" for job in after)
    assert all(after[job] == mtime for job, mtime in before.items()), \
        "a job that had finished was run again"


def test_a_worker_sends_back_none_and_its_value_is_read_from_the_file(tmp_path):
    path = tmp_path / "0.pickle"
    assert in_file(str(path), divmod, 7, 2) is None
    assert read_outcome(str(path)) == (3, 1)


def test_an_error_in_a_worker_is_raised_with_the_workers_traceback(tmp_path):
    path = tmp_path / "0.pickle"
    assert in_file(str(path), int, "seven") is None
    with pytest.raises(ValueError, match="seven") as raised:
        read_outcome(str(path))
    # Hydra's plugin scan re-executes the launcher's module, so the class is looked up now
    assert isinstance(raised.value.__cause__, launcher.WorkerTraceback)
    assert "in_file" in str(raised.value.__cause__)

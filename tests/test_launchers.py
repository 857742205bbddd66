"""Launchers for real: the same small sweep run serially, with joblib, submitit and Ray.

Every launcher runs the jobs in other processes (submitit: one process per job through
its local executor, the code path of SLURM; Ray: tasks on a local Ray instance this test
starts and stops). The aggregated ``summary.csv`` must be the same whichever ran it,
timing columns aside.
"""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from experiments import CONF_DIR

ROOT = Path(__file__).resolve().parent.parent
TINY = ["stream.n_samples=6000", "stream.schedule=[{at:2000,to:2},{at:4000,to:3}]",
        "protocol.step_size=250", "protocol.initial_train=500", "protocol.train_window=1000",
        "protocol.benefit_window=4", "progress=false"]
SWEEP = ["-m", "trigger=never,performance", "seed=0,1", *TINY]


def _env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           **extra}
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def run_sweep(sweep: Path, launcher: list[str], cwd: Path, timeout: float = 240, **env):
    """Run :data:`SWEEP` into ``sweep`` with the given launcher overrides."""
    return subprocess.run([sys.executable, "-m", "experiments.run", *SWEEP, *launcher,
                           f"hydra.sweep.dir={sweep}"], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def comparable(path: Path) -> pd.DataFrame:
    """summary.csv without its timing columns (CPU seconds differ from run to run)."""
    frame = pd.read_csv(path)
    return frame.drop(columns=[c for c in frame.columns if "seconds" in c])


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The sweep run by Hydra's basic launcher: one job after the other, in-process."""
    tmp = tmp_path_factory.mktemp("serial")
    done = run_sweep(tmp / "sweep", ["hydra/launcher=basic"], tmp)
    assert done.returncode == 0, done.stderr
    frame = comparable(tmp / "sweep" / "summary.csv")
    assert len(frame) == 4 and (frame["status"] == "ok").all()
    return frame


@pytest.mark.parametrize("name", ["local", "slurm", "slurm_local", "ray_cluster", "ray_local"])
def test_launcher_configs_compose(name):
    plugin = {"slurm": "hydra_plugins.hydra_submitit_launcher",
              "slurm_local": "hydra_plugins.hydra_submitit_launcher",
              "ray_cluster": "hydra_plugins.hydra_ray_launcher",
              "ray_local": "hydra_plugins.hydra_ray_launcher"}.get(name)
    if plugin and importlib.util.find_spec(plugin) is None:
        pytest.skip(f"{plugin} is not installed (pip install -e '.[slurm,ray]')")
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", [f"hydra/launcher={name}"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    expected = {"local": "retrain_sim.launcher.LocalLauncher", "slurm": "SlurmLauncher",
                "slurm_local": "submitit_launcher.LocalLauncher", "ray_cluster": "RayLauncher",
                "ray_local": "RayLauncher"}[name]
    assert launcher._target_.endswith(expected)
    if name == "slurm":
        assert {"partition", "timeout_min", "cpus_per_task", "mem_gb", "account"} <= set(launcher)
    if name == "ray_cluster":
        assert launcher.ray.init.address == "auto"


@pytest.mark.parametrize("jobs", [
    [["trigger=performance", f"seed={s}", "trigger.drop=0.05", "experiment=threshold_sweep"]
     for s in (0, 1, 13)],
    [[f"seed={s}", "trigger=ddm", "stream.n_samples=6000", "hydra.launcher.n_jobs=2"]
     for s in (2, 0)],
])
def test_a_batch_gives_each_job_the_config_hydra_composes_for_it(jobs, tmp_path):
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode
    from omegaconf import OmegaConf, open_dict

    from hydra_plugins.retrain_sim.launcher import batches, job_config

    assert len(batches(jobs, n_workers=1)) == 1  # one configuration: one batch
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", [f"hydra.sweep.dir={tmp_path}"],
                                           run_mode=RunMode.MULTIRUN)
        base = loader.load_sweep_config(master, jobs[0])
        before = OmegaConf.to_container(base, resolve=False)
        for job in jobs:
            want, got = loader.load_sweep_config(master, job), job_config(base, job)
            assert OmegaConf.to_container(got, resolve=False) == \
                OmegaConf.to_container(want, resolve=False)
            for cfg in (want, got):  # as the launcher sets it, so that it resolves
                with open_dict(cfg):
                    cfg.hydra.job.num = 7

            def resolved(cfg):  # what the job reads, its directory and its job node
                job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
                return (OmegaConf.to_container(job, resolve=True),
                        OmegaConf.to_container(cfg.hydra.sweep, resolve=True),
                        OmegaConf.to_container(cfg.hydra.job, resolve=True))

            assert resolved(got) == resolved(want)
            assert OmegaConf.is_struct(got) and not OmegaConf.is_readonly(got.hydra)
            assert type(got.seed) is type(want.seed)
        assert OmegaConf.to_container(base, resolve=False) == before


def test_jobs_without_a_plain_seed_run_alone():
    from hydra_plugins.retrain_sim.launcher import batches

    jobs = [["trigger=ddm", "seed=0"], ["trigger=ddm", "+seed=1"], ["trigger=ddm"],
            ["trigger=ddm", "seed=2"], ["trigger=never", "seed=0"]]
    assert sorted(batches(jobs, n_workers=1)) == [[0, 3], [1], [2], [4]]


@pytest.mark.slow
def test_joblib_gives_the_serial_result(serial, tmp_path):
    done = run_sweep(tmp_path / "sweep", ["hydra.launcher.n_jobs=2"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Joblib.Parallel(n_jobs=2" in done.stdout + done.stderr
    pd.testing.assert_frame_equal(comparable(tmp_path / "sweep" / "summary.csv"), serial)


@pytest.mark.slow
def test_submitit_gives_the_serial_result(serial, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher",
                        reason="hydra-submitit-launcher is not installed (pip install -e "
                               "'.[slurm]')")
    sweep = tmp_path / "sweep"
    done = run_sweep(sweep, ["hydra/launcher=slurm_local"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Submitit 'local' sweep output dir" in done.stdout + done.stderr
    # every job ran in a process of its own, through submitit's job files
    assert len(list((sweep / ".submitit").glob("*/*_result.pkl"))) == 4
    pd.testing.assert_frame_equal(comparable(sweep / "summary.csv"), serial)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_executable() -> str:
    beside = Path(sys.executable).parent / "ray"
    return str(beside) if beside.exists() else "ray"


@pytest.fixture
def ray_head():
    """A local Ray instance (``ray start --head --block``), stopped by its process group."""
    pytest.importorskip("hydra_plugins.hydra_ray_launcher",
                        reason="hydra-ray-launcher is not installed (pip install -e '.[ray]')")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's sockets live there
    env = _env(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    head = subprocess.Popen(
        [_ray_executable(), "start", "--head", "--block", f"--port={port}",
         "--node-ip-address=127.0.0.1", "--num-cpus=2", "--include-dashboard=false",
         f"--ray-client-server-port={_free_port()}", f"--temp-dir={temp}",
         "--disable-usage-stats"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield f"127.0.0.1:{port}", env
    finally:
        for sig, wait in ((signal.SIGINT, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(head.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(head.pid):
                head.poll()
                time.sleep(0.2)
            if not _group_alive(head.pid):
                break
        head.wait(timeout=10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_ray_gives_the_serial_result(serial, ray_head, tmp_path):
    address, env = ray_head
    sweep = tmp_path / "sweep"
    started = time.perf_counter()
    done = run_sweep(sweep, ["hydra/launcher=ray_cluster",
                             f"hydra.launcher.ray.init.address={address}"], tmp_path,
                     **{k: env[k] for k in ("RAY_AUTH_MODE", "RAY_USAGE_STATS_ENABLED")})
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Ray Launcher is launching 4 jobs" in done.stdout + done.stderr
    assert "Started a local Ray instance" not in done.stdout + done.stderr  # it joined ours
    pd.testing.assert_frame_equal(comparable(sweep / "summary.csv"), serial)
    print(f"Ray sweep of 4 jobs on a running instance: {elapsed:.1f} s")

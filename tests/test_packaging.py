"""The project installs anywhere: a wheel ships the code and the configs, runs anywhere."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ["stream.n_samples=6000", "stream.schedule=[{at:2000,to:2},{at:4000,to:3}]",
        "protocol.step_size=250", "protocol.initial_train=500", "protocol.train_window=1000",
        "protocol.benefit_window=4", "progress=false"]


def test_every_package_of_the_tree_is_installed():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    code = {".".join(init.parent.relative_to(ROOT).parts)
            for top in ("sim", "strategies", "experiments", "hydra_plugins")
            for init in (ROOT / top).rglob("__init__.py")}
    missing = code - set(config["packages"])
    assert not missing, f"packages missing from pyproject.toml: {sorted(missing)}"
    assert config["package-dir"] == {"experiments.conf": "conf"}


@pytest.mark.slow
def test_a_wheel_runs_a_sweep_from_another_directory(tmp_path):
    # pip builds the wheel as a user's pip does (setuptools from the package index)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(tmp_path / "dist"), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("retrain_sim-*.whl"))
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                           "--target", str(site), str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (site / "experiments" / "conf" / "config.yaml").is_file()
    assert (site / "experiments" / "conf" / "trigger" / "periodic.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}  # the installed copy, not this checkout
    env.pop("HYDRA_FULL_ERROR", None)
    done = subprocess.run([sys.executable, "-c", "import experiments as e; print(e.CONF_DIR)"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert Path(done.stdout.strip()) == site / "experiments" / "conf", done.stderr
    done = subprocess.run([sys.executable, "-m", "experiments.cli", "-m",
                           "trigger=periodic,performance", "seed=0", *TINY],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summaries = list(elsewhere.glob("results/multirun/*/*/summary.csv"))
    assert len(summaries) == 1 and "periodic" in summaries[0].read_text()

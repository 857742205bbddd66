"""Test-suite settings: hypothesis profiles, and where the real data sets are.

Locally hypothesis explores new examples on every run; with ``CI`` set (as ``.ci/run``
runs) it draws them from a fixed seed, so a green main stays green.

Real data: ``RETRAIN_SIM_DATA`` names the directory of local copies (``electricity.csv``
for Elec2); when unset it is ``../shared/data`` beside the repository. A test that needs
a file that is not there fails, naming the file and how to get it; set
``RETRAIN_SIM_SKIP_DATA=1`` to skip those tests instead (a machine without the data).
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
if not os.environ.get("RETRAIN_SIM_DATA"):
    os.environ["RETRAIN_SIM_DATA"] = str(REPO.parent / "shared" / "data")


def data_file(name: str, how: str) -> Path:
    """The path of a real data file under ``$RETRAIN_SIM_DATA``; fail (or skip) without it."""
    path = Path(os.environ["RETRAIN_SIM_DATA"]).expanduser() / name
    if not path.is_file():
        message = (f"{name} not found at {path}: get {how} and put it in the directory named "
                   "by RETRAIN_SIM_DATA (default ../shared/data beside the repository), or "
                   "set RETRAIN_SIM_SKIP_DATA=1 to skip the tests that need it.")
        if os.environ.get("RETRAIN_SIM_SKIP_DATA") == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    return path


@pytest.fixture(scope="session")
def elec2_path() -> Path:
    """Elec2's local copy (``$RETRAIN_SIM_DATA/electricity.csv``)."""
    from sim.datasets import ELECTRICITY_SOURCE

    return data_file("electricity.csv", ELECTRICITY_SOURCE)

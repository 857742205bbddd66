"""Test-suite settings: hypothesis profiles, and where the real data sets are.

Locally hypothesis explores new examples on every run; with ``CI`` set (as ``.ci/run``
runs) it draws them from a fixed seed, so a green main stays green. No test asserts a
wall-clock time (speed goals are in benchmarks/): hypothesis's per-example deadline and
its too-slow health check are off, so a loaded machine cannot fail the suite.

Real data: ``RETRAIN_SIM_DATA`` names the directory of local copies (``electricity.csv``
for Elec2); when unset it is ``../shared/data`` beside the repository. A test that needs
a file that is not there is skipped, with a reason naming the file, where it was looked
for and how to get it (``pytest -ra``, the default, lists it), so a fresh clone without
the data passes. ``RETRAIN_SIM_REQUIRE_DATA=1`` turns that skip into a failure: ``.ci/run``
sets it, so CI cannot skip the data tests silently.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]

_NO_CLOCK = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("local", **_NO_CLOCK)
settings.register_profile("ci", derandomize=True, print_blob=True, **_NO_CLOCK)
settings.load_profile("ci" if os.environ.get("CI") else "local")
if not os.environ.get("RETRAIN_SIM_DATA"):
    os.environ["RETRAIN_SIM_DATA"] = str(REPO.parent / "shared" / "data")


def data_file(name: str, how: str) -> Path:
    """The path of a real data file under ``$RETRAIN_SIM_DATA``; skip (or fail) without it."""
    path = Path(os.environ["RETRAIN_SIM_DATA"]).expanduser() / name
    if not path.is_file():
        message = (f"{name} not found at {path}; to run this test, put it in the directory "
                   "named by RETRAIN_SIM_DATA (default ../shared/data beside the repository). "
                   f"Where to get it: {how}")
        if os.environ.get("RETRAIN_SIM_REQUIRE_DATA") == "1":
            pytest.fail(f"{message} (RETRAIN_SIM_REQUIRE_DATA=1: a missing file fails).",
                        pytrace=False)
        pytest.skip(f"{message}.")
    return path


@pytest.fixture(scope="session")
def elec2_path() -> Path:
    """Elec2's local copy (``$RETRAIN_SIM_DATA/electricity.csv``)."""
    from sim.datasets import ELECTRICITY_SOURCE

    return data_file("electricity.csv", ELECTRICITY_SOURCE)

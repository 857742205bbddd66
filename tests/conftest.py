"""Test-suite settings: property-based tests replay the same examples under CI.

Locally hypothesis explores new examples on every run; with ``CI`` set (as ``.ci/run``
runs) it draws them from a fixed seed, so a green main stays green. No test asserts a
wall-clock time (speed goals are in benchmarks/): hypothesis's per-example deadline and
its too-slow health check are off, so a loaded machine cannot fail the suite.
"""

import os

from hypothesis import HealthCheck, settings

_NO_CLOCK = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("local", **_NO_CLOCK)
settings.register_profile("ci", derandomize=True, print_blob=True, **_NO_CLOCK)
settings.load_profile("ci" if os.environ.get("CI") else "local")

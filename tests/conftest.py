"""Test-suite settings: property-based tests replay the same examples under CI.

Locally hypothesis explores new examples on every run; with ``CI`` set (as ``.ci/run``
runs) it draws them from a fixed seed, so a green main stays green.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

"""retrain-sim's experiments: the Hydra app, sweep aggregation, reports and plots.

Only this package imports hydra, omegaconf, tqdm and matplotlib; the simulator
(:mod:`sim`) and the strategies (:mod:`strategies`) stay silent libraries.

- :mod:`experiments.run`: the ``retrain-sim`` Hydra app (one job = one replay).
- :mod:`experiments.store`: what a job writes, atomically, and how it is read back.
- :mod:`experiments.report`: aggregation of a sweep directory (``retrain-sim-report``).
- :mod:`experiments.plots`: the figures of a report.
- :mod:`experiments.callbacks`: the Hydra callback that aggregates every multirun.
- :mod:`experiments.errors`: one-paragraph messages for configuration mistakes.
"""

from importlib.util import find_spec
from pathlib import Path

CONF_DIR = Path(find_spec("experiments.conf").submodule_search_locations[0])
"""The Hydra config directory: the package ``experiments.conf``, i.e. ``conf/`` of the
repository in an editable install, a copy inside the installed package otherwise."""

GROUPS = ("stream", "model", "trigger", "gate", "cost", "protocol", "learning")
"""The component groups: each option is a ``_target_`` plus constructor arguments."""

__all__ = ["CONF_DIR", "GROUPS"]

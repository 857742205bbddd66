"""Drifting data streams: the :class:`Stream` base and the synthetic generators.

Every generator takes ``n_samples`` and a composable drift ``schedule`` (see
:mod:`sim.streams.schedule`) and yields :class:`~sim.types.Batch` objects from
``batches(seed, step_size)``, with the ground truth in ``drifts``.
"""

from sim.streams.base import Stream
from sim.streams.bootstrap import BlockBootstrap
from sim.streams.friedman import Friedman
from sim.streams.gaussian import Gaussian
from sim.streams.hyperplane import RotatingHyperplane
from sim.streams.incidents import Incidents
from sim.streams.inject import Injection
from sim.streams.prior import PriorShift
from sim.streams.sea import SEA
from sim.streams.stagger import Stagger
from sim.streams.tabular import Tabular

__all__ = [
    "SEA",
    "BlockBootstrap",
    "Friedman",
    "Gaussian",
    "Incidents",
    "Injection",
    "PriorShift",
    "RotatingHyperplane",
    "Stagger",
    "Stream",
    "Tabular",
]

"""retrain-sim's simulator: drifting streams, the replay engine, cost and metrics.

>>> from sim import replay, compare, Protocol, Cost
"""

from sim.compare import Comparison, compare
from sim.cost import Cost
from sim.engine import Protocol, replay
from sim.types import Batch, Decision, Drift, Labels, Observation, RunResult

__all__ = [
    "Batch",
    "Comparison",
    "Cost",
    "Decision",
    "Drift",
    "Labels",
    "Observation",
    "Protocol",
    "RunResult",
    "compare",
    "replay",
]

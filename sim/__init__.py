"""retrain-sim's simulator: drifting streams, the replay engine, cost and metrics.

>>> from sim import replay, Replay, compare, Protocol, Cost
"""

from sim.compare import Comparison, compare
from sim.cost import Cost
from sim.engine import Replay, replay
from sim.protocol import Protocol
from sim.types import Batch, Decision, Drift, Evaluation, Labels, Observation, RunResult

__all__ = [
    "Batch",
    "Comparison",
    "Cost",
    "Decision",
    "Drift",
    "Evaluation",
    "Labels",
    "Observation",
    "Protocol",
    "Replay",
    "RunResult",
    "compare",
    "replay",
]

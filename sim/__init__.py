"""retrain-sim's simulator: drifting streams, the replay engine, cost and metrics.

>>> from sim import replay, Replay, compare, Protocol, Cost
"""

from sim.cost import Cost
from sim.engine import Replay, compare, replay
from sim.protocol import Protocol
from sim.types import Batch, Decision, Drift, Evaluation, Labels, Observation, RunResult

__all__ = [
    "Batch",
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

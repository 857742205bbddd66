"""retrain-sim's strategies: triggers that decide when to retrain, and gates.

>>> from strategies import Periodic, Performance, Cooldown, Holdout
"""

from strategies.approval import Approval
from strategies.base import Gate, GateTags, LiveGate, Trigger, TriggerTags
from strategies.combinators import AllOf, AnyOf, Budget, Cooldown, KOfN, Warmup
from strategies.cost_aware import CARA, CostAware, DataAmount, DataLatency, Forecast
from strategies.gates import (
    AlwaysAccept,
    Canary,
    Holdout,
    LabelCheck,
    Rollback,
    Shadow,
    StagedCanary,
)
from strategies.label_free import EstimatedPerformance, PredictionDrift, Uncertainty
from strategies.triggers import (
    DataDrift,
    DriftAware,
    ErrorDetector,
    Never,
    Performance,
    Periodic,
)

__all__ = [
    "AllOf",
    "AlwaysAccept",
    "AnyOf",
    "Approval",
    "CARA",
    "Canary",
    "DriftAware",
    "Budget",
    "Cooldown",
    "CostAware",
    "DataAmount",
    "DataLatency",
    "DataDrift",
    "ErrorDetector",
    "EstimatedPerformance",
    "Forecast",
    "Gate",
    "GateTags",
    "Holdout",
    "LabelCheck",
    "KOfN",
    "LiveGate",
    "Never",
    "Performance",
    "Periodic",
    "PredictionDrift",
    "Rollback",
    "Shadow",
    "StagedCanary",
    "Trigger",
    "TriggerTags",
    "Uncertainty",
    "Warmup",
]

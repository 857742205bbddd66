"""The base classes of the strategy families, where strategies import them from.

:class:`Trigger` and :class:`Gate` live in :mod:`sim.interfaces`, :class:`LiveGate` in
:mod:`sim.rollout`: the engine steps them, so they live below it in ``sim``. This module
re-exports them for the strategies (``from strategies import Trigger`` is the public
spelling).

>>> from strategies.base import LiveGate
>>> LiveGate.__module__
'sim.rollout'
"""

from sim.interfaces import Gate, GateTags, Trigger, TriggerTags
from sim.rollout import LiveGate

__all__ = ["Gate", "GateTags", "LiveGate", "Trigger", "TriggerTags"]

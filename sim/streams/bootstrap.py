"""Resampled futures of one table: :class:`BlockBootstrap`, a moving-block bootstrap.

A threshold chosen on one historical table is tuned to that table's one sequence of
events. :class:`BlockBootstrap` replays a stream as another plausible future: the
stream is cut into blocks of ``block`` consecutive samples drawn at random start
positions (a moving-block bootstrap, Künsch 1989), laid end to end until the replay has
as many samples as the original. Within a block the samples keep their order, so the
dependence between nearby samples (a drift's onset, a season, label runs) survives;
across blocks the order is new. Each ``replicate`` is one future, drawn from its own
seed: a sweep over replicates (``stream.replicate=${seed}``, ``seed=range(20)``) is an
ordinary Hydra sweep, and the advisor (:func:`experiments.advise.robust`) reads the
distribution of every configuration's result over them.

Declared events travel with their blocks: a drift or an incident of the wrapped stream
is declared in the replay at every block that holds part of it, at its new sample
positions (clipped to the block; a drift that starts at a block's first row is not, as
there the change is the block boundary's), so the drift metrics still measure detection against
the changes the replay really contains. A block boundary is itself an undeclared change
(the data jump from one part of the table to another), so the replay never claims
complete ground truth.

What it assumes: the table is a sequence of stationary stretches whose dependence is
shorter than a block. A single long drift (a trend over the whole table, or a change
whose before and after both matter) is broken up: its blocks land in a random order,
which turns one slow change into several abrupt ones.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import numpy as np

from sim.checks import Interval, check, param_error
from sim.streams.base import Stream, Wrapper, rechunk
from sim.types import Batch

__all__ = ["BlockBootstrap"]

_BOOTSTRAP = 0xB0  # spawn_key purpose of the block draw, apart from every stream's own
_READ = 2**14  # samples per step when the wrapped stream is read whole
N_BLOCKS = 10
"""Blocks per replicate when ``block`` is None: the default block is a tenth of the stream."""


class BlockBootstrap(Wrapper):
    """Replay a stream as a resampled future: random blocks of it, each in its own order.

    Parameters
    ----------
    stream
        The stream to resample (a :class:`~sim.streams.Tabular` replay of a table with
        ``step=None``, or any stream cut in steps of ``step_size`` samples).
    block
        Samples per block, an int >= 2 and at most the stream's length. None (the
        default): a tenth of the stream (:data:`N_BLOCKS` blocks per replicate), long
        enough that a block holds several steps and a training window, so that a
        trigger's alarm, the retrain and its recovery play out inside one block, and
        short enough that ten blocks give many distinct futures. Choose it longer than
        the dependence you want kept (a season, a drift's width).
    replicate
        Which resampled future, an int >= 0 (its seed); the same replicate gives the
        same future.

    Examples
    --------
    >>> import pandas as pd
    >>> from sim.streams import Tabular
    >>> frame = pd.DataFrame({"x": range(12), "y": [0, 1] * 6})
    >>> table = Tabular(frame, target="y", events=[{"at": 6, "kind": "concept"}])
    >>> future = BlockBootstrap(table, block=4, replicate=2)
    >>> [b.X[:, 0].astype(int).tolist() for b in future.batches(seed=0, step_size=4)]
    [[2, 3, 4, 5], [4, 5, 6, 7], [0, 1, 2, 3]]
    >>> [(d.start, d.kind) for d in future.drifts]  # row 6, in the second block
    [(6, 'concept')]
    """

    version = "1"
    ground_truth_complete = False
    _constraints = {"block": Interval("int", 2, allow_none=True),
                    "replicate": Interval("int", 0)}

    def __init__(self, stream: Stream | None = None, block: int | None = None,
                 replicate: int = 0):
        self.stream = stream
        self.block = block
        self.replicate = replicate

    def batches(self, seed=0, step_size: int | None = None) -> Iterator[Batch]:
        """Yield the resampled future in steps of ``step_size`` samples.

        Parameters
        ----------
        seed
            Passed unchanged to the wrapped stream (the block draw comes from
            ``replicate``).
        step_size
            Samples per step.
        """
        check(self, "step_size", step_size, Interval("int", 1))
        X, y, concept = self._read(seed)
        index = self._index(len(y))
        return rechunk(iter([(X[index], y[index],
                              None if concept is None else concept[index])]), step_size)

    @property
    def drifts(self) -> tuple:
        """The wrapped stream's drifts, at every block of the future that holds part of one."""
        return self._carried(self._inner().drifts)

    @property
    def incidents(self) -> tuple:
        """The wrapped stream's incidents, carried with their blocks like the drifts."""
        return self._carried(self._inner().incidents)

    # ----- the draw ---------------------------------------------------------------------
    def _starts(self, n: int) -> tuple[np.ndarray, int]:
        """Return the source start of each block of the future and the block length."""
        for name, constraint in type(self)._constraints.items():
            check(self, name, getattr(self, name), constraint)
        block = self.block if self.block is not None else max(2, math.ceil(n / N_BLOCKS))
        if block > n:
            raise param_error(self, "block", f"an int in [2, {n}] (the wrapped stream's "
                              "samples)", self.block)
        rng = np.random.default_rng(np.random.SeedSequence(self.replicate,
                                                           spawn_key=(_BOOTSTRAP,)))
        return rng.integers(0, n - block + 1, size=math.ceil(n / block)), block

    def _index(self, n: int) -> np.ndarray:
        """Return, for each sample of the future, its index in the wrapped stream."""
        starts, block = self._starts(n)
        return (starts[:, None] + np.arange(block)).ravel()[:n]

    def _carried(self, events) -> tuple:
        """Place ``events`` (drifts or incidents) at every block of the future holding them."""
        if not events:
            return ()
        n = self._length()
        starts, block = self._starts(n)
        out = []
        for j, a in enumerate(starts):
            lo, hi = int(a), int(a) + min(block, n - j * block)  # the block's source rows
            for ev in events:
                # an incident is a state: carried by every block holding some of it; a
                # drift is a change: carried when it starts after the block's first row
                # (at that row the change would be the junction's, not the drift's) or
                # the block starts inside its window
                inside = (ev.start < hi and ev.end > lo if ev.kind == "incident" else
                          lo < ev.start < hi or ev.start <= lo < ev.end)
                if inside:
                    start = j * block + max(ev.start, lo) - lo
                    out.append(dataclasses.replace(
                        ev, start=start, end=start + min(ev.end, hi) - max(ev.start, lo)
                        if ev.end > ev.start else start))
        return tuple(sorted(out, key=lambda ev: (ev.start, ev.end)))

    # ----- the wrapped stream -----------------------------------------------------------
    def _read(self, seed) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        inner = self._inner()
        if getattr(inner, "step", None) is not None:  # a Tabular cutting time buckets
            raise ValueError(
                f"BlockBootstrap needs a stream cut in steps of step_size samples; the "
                f"wrapped {type(inner).__name__} cuts its own steps by time (its 'step' is "
                f"{inner.step!r}). Set its 'step' to None.")
        parts = list(inner.batches(seed, _READ))
        if not parts:
            raise ValueError("BlockBootstrap: the wrapped stream yields no samples.")
        concept = (None if any(b.concept is None for b in parts)
                   else np.concatenate([b.concept for b in parts]))
        self._n = sum(len(b) for b in parts)
        return (np.concatenate([b.X for b in parts]), np.concatenate([b.y for b in parts]),
                concept)

    def _length(self) -> int:
        """Return the wrapped stream's number of samples (read once when not yet known)."""
        if getattr(self, "_n", None) is None:
            self._read(0)
        return self._n

"""The base class of every stream: what the engine relies on.

A stream is a lazy, seeded source of :class:`~sim.types.Batch` objects cut into steps,
with its ground-truth drifts. The engine reads only this interface.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from sim.checks import is_int, is_sequence, param_error
from sim.metrics import EARLY_STEPS
from sim.types import Batch, Drift

__all__ = ["Stream", "StreamTags", "Wrapper", "rechunk", "seed_root"]


@dataclass(frozen=True)
class StreamTags:
    """How the engine may read a stream and judge a run on it: the one record it reads.

    :meth:`Stream.__retrain_tags__` builds it from the stream's declarations (the
    attributes of the same names, see :class:`Stream`).

    Examples
    --------
    >>> from sim.streams import SEA
    >>> SEA(n_samples=1_000).__retrain_tags__()
    StreamTags(rechunkable=True, ground_truth_complete=True, onset_tolerance=0)
    """

    rechunkable: bool = True
    ground_truth_complete: bool = True
    onset_tolerance: int = EARLY_STEPS


class Stream(BaseEstimator):
    """Base class of streams.

    Subclasses implement :meth:`_blocks` (or override :meth:`batches`), and the
    properties :attr:`drifts` and :attr:`n_features`. ``__init__`` stores its arguments
    unchanged (scikit-learn convention); validation happens in :meth:`batches`.

    Attributes
    ----------
    version
        Bumped whenever a subclass changes the data it generates for a given seed, so
        that caches keyed by it miss.
    task
        ``"classification"`` or ``"regression"``.
    ground_truth_complete
        Whether :attr:`drifts` lists every drift of the stream (True for a synthetic
        generator; a real data set may have drifts nobody declared).
    rechunkable
        True when ``batches(seed, n)`` yields the same samples in the same order for every
        ``n``, cut every ``n`` samples (as :meth:`batches` does here): the engine then
        reads many steps in one batch. A subclass that overrides :meth:`batches` (to cut
        its own steps, e.g. by time) is False unless it declares it.
    onset_tolerance
        Steps before a declared drift's start in which a retrain still counts as its
        detection: the onset of a change in real data is uncertain (the data may move a
        step before the declared date). Synthetic streams, whose drifts start at an
        exact sample, use 0. See :mod:`sim.metrics`, which judges false alarms only when
        ``ground_truth_complete``.

    The engine reads these three through one record, :meth:`__retrain_tags__`.
    """

    version = "1"
    task = "classification"
    ground_truth_complete = True
    rechunkable = True
    onset_tolerance = EARLY_STEPS

    def __init_subclass__(cls, **kwargs):
        """Make a stream that cuts its own steps non-rechunkable unless it says otherwise."""
        super().__init_subclass__(**kwargs)
        if "batches" in vars(cls) and "rechunkable" not in vars(cls):
            cls.rechunkable = False

    def __retrain_tags__(self) -> StreamTags:
        """Return the stream's declarations the engine reads (a wrapper's pass through)."""
        return StreamTags(bool(self.rechunkable), bool(self.ground_truth_complete),
                          int(self.onset_tolerance))

    def batches(self, seed: int, step_size: int | None = None) -> Iterator[Batch]:
        """Yield the stream's steps in order.

        Parameters
        ----------
        seed
            Seed of the stream; the same seed gives identical arrays whatever the
            ``step_size``.
        step_size
            Samples per step.
        """
        if not isinstance(step_size, (int, np.integer)) or step_size < 1:
            raise ValueError(
                f"The 'step_size' parameter must be an int >= 1. Got {step_size!r} instead."
            )
        return rechunk(self._blocks(seed), int(step_size))

    def _blocks(self, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        """Yield ``(X, y, concept)`` blocks of any length, in stream order."""
        raise NotImplementedError

    @property
    def drifts(self) -> tuple[Drift, ...]:
        """The true drifts, in sample indices (ground truth)."""
        return ()

    @property
    def incidents(self) -> tuple:
        """The :class:`~sim.types.Incident` of the stream (ground truth; none here)."""
        return ()

    def check_model(self, model) -> None:
        """Refuse, before a run starts, a model that cannot take this stream's data."""

    @property
    def n_features(self) -> int:
        """Number of features."""
        raise NotImplementedError

    @property
    def classes(self) -> np.ndarray | None:
        """The labels a classification stream can emit (None for regression)."""
        return None


class Wrapper(Stream):
    """Base of a stream that changes another one, held in ``self.stream``.

    :class:`~sim.streams.Injection` and :class:`~sim.streams.Incidents` are wrappers:
    the wrapped stream's task, features, classes, ground-truth declaration and row
    counts pass through.

    Examples
    --------
    >>> from sim.streams import SEA, Incidents
    >>> wrapped = Incidents(SEA(n_samples=1_000), events=[])
    >>> wrapped.n_features, wrapped.classes.tolist(), wrapped.ground_truth_complete
    (3, [0, 1], True)
    """

    @property
    def task(self) -> str:
        """The wrapped stream's task."""
        return getattr(self.stream, "task", "classification")

    @property
    def n_features(self) -> int:
        """The wrapped stream's number of features."""
        return self._inner().n_features

    @property
    def classes(self) -> np.ndarray | None:
        """The wrapped stream's classes."""
        return self._inner().classes

    @property
    def feature_names(self) -> list[str] | None:
        """The wrapped stream's feature names, if it has them."""
        return getattr(self._inner(), "feature_names", None)

    @property
    def categorical_features(self) -> list[int]:
        """The wrapped stream's categorical feature columns, if it has them."""
        return list(getattr(self._inner(), "categorical_features", []))

    @property
    def ground_truth_complete(self) -> bool:
        """Whether the drifts are all of them: the wrapped stream's declaration."""
        return bool(getattr(self._inner(), "ground_truth_complete", False))

    @property
    def rows_(self) -> dict:
        """The wrapped stream's count of rows read, replayed and skipped (if it keeps one)."""
        return self._inner().rows_

    def _parsed(self, name: str, what: str, parse) -> tuple:
        """Parse the list parameter ``name`` entry by entry, ``parse(i, raw, inner, n_samples)``.

        ``what`` says what the list must hold, for the error raised when it is no list;
        ``n_samples`` is the wrapped stream's, or None when it has no int one.
        """
        inner = self._inner()
        value = getattr(self, name)
        entries = value if value is not None else ()
        if not is_sequence(entries):
            raise param_error(type(self).__name__, name, what, value)
        n_samples = getattr(inner, "n_samples", None)
        n_samples = int(n_samples) if is_int(n_samples) else None
        return tuple(parse(i, raw, inner, n_samples) for i, raw in enumerate(entries))

    def _inner(self) -> Stream:
        if not isinstance(self.stream, Stream):
            raise param_error(type(self).__name__, "stream", "a Stream (Tabular, SEA, ...)",
                              self.stream)
        return self.stream


def seed_root(seed, owner: str) -> tuple[int, tuple[int, ...]]:
    """Return the entropy and spawn key of a stream's ``seed`` (an int >= 0 or a SeedSequence).

    ``owner`` names the stream in the error for any other seed.

    Examples
    --------
    >>> seed_root(7, "SEA")
    (7, ())
    >>> seed_root(np.random.SeedSequence(7).spawn(2)[1], "SEA")
    (7, (1,))
    >>> seed_root(-1, "SEA")
    Traceback (most recent call last):
    ...
    ValueError: The 'seed' argument of SEA.batches must be an int >= 0 or a numpy \
SeedSequence. Got -1 instead.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed.entropy, tuple(seed.spawn_key)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"The 'seed' argument of {owner}.batches must be an int >= 0 or a "
                         f"numpy SeedSequence. Got {seed!r} instead.")
    return int(seed), ()


def rechunk(blocks: Iterator[tuple], step_size: int) -> Iterator[Batch]:
    """Cut a sequence of ``(X, y, concept[, time])`` blocks into batches of ``step_size``.

    The last batch may be shorter. Blocks may be of any length; ``concept`` and ``time``
    may be None (the same in every block). Every stream with steps of a fixed number of
    samples is cut here.

    Examples
    --------
    >>> import numpy as np
    >>> blocks = iter([(np.zeros((5, 1)), np.arange(5), None),
    ...                (np.zeros((4, 1)), np.arange(5, 9), None)])
    >>> [b.y.tolist() for b in rechunk(blocks, 4)]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    """
    pending: list[tuple] = []
    n_pending = 0
    t = 0
    index = 0

    def emit(parts):
        if len(parts) == 1:
            return parts[0]
        return tuple(None if part[0] is None else np.concatenate(part)
                     for part in zip(*parts, strict=True))

    for block in blocks:
        start = 0
        n = len(block[1])
        while start < n:
            take = min(step_size - n_pending, n - start)
            sl = slice(start, start + take)
            pending.append(tuple(None if a is None else a[sl] for a in block))
            n_pending += take
            start += take
            if n_pending == step_size:
                yield _batch(t, index, emit(pending))
                t += 1
                index += step_size
                pending, n_pending = [], 0
    if n_pending:
        yield _batch(t, index, emit(pending))


def _batch(t: int, index: int, arrays: tuple) -> Batch:
    X, y, concept, *time = arrays
    return Batch(t=t, X=X, y=y, index=index, concept=concept, time=time[0] if time else None)

"""Replay a real data set as a stream: :class:`Tabular`.

A CSV file, a parquet file or a pandas DataFrame is replayed in its row order (or
sorted by a time column), numeric features as they are and categorical features as
integer codes, cut into steps of a fixed number of samples (the engine's ``step_size``)
or into time buckets (one day, one hour, one week of a time column).

A real data set has no known drifts: ``drifts == ()``, so the metrics that need ground
truth are reported as not available. To measure detection delays and false alarms on
real data, inject a declared drift with :class:`~sim.streams.Injection`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from sim.checks import is_int, is_real, param_error
from sim.streams.base import Stream
from sim.streams.schedule import is_sequence
from sim.types import TASKS as _TASKS
from sim.types import Batch, Drift

__all__ = ["Tabular"]

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".csv.zst", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _kind_of_path(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    return None


class Tabular(Stream):
    """Replay a CSV file, a parquet file or a DataFrame, in order, as a stream.

    The rows are replayed in their order, or sorted by the ``time`` column (a stable
    sort, so rows with equal times keep their order). Files are read lazily, in chunks
    of ``chunksize`` rows, when their rows are already in order; a file whose time
    column is out of order is read whole and sorted. The replay is deterministic: the
    seed is accepted for the stream interface and ignored.

    Steps: with ``step=None`` a step is ``step_size`` rows (the engine's protocol
    ``step_size``; e.g. 48 half-hours for one day of Elec2). With ``step`` set, the
    stream cuts its own steps by the ``time`` column and **ignores** ``step_size``: a
    step is one bucket (``"1D"``: one calendar day), ``Batch.t`` counts buckets from the
    first one, and a bucket without rows is skipped (``t`` then jumps, so a label delay
    of one step stays one bucket of time). Ground-truth metrics convert sample indices
    to steps with ``step_size``, so keep time buckets for streams without injected
    drifts, or use ``step=None``.

    Features: numeric columns become float64 columns of ``X``; the columns listed in
    ``categorical`` become integer codes (0, 1, 2, ... in order of first appearance,
    stable across chunks and runs), also stored as float64. Encode them in the model
    pipeline, e.g. a scikit-learn ``ColumnTransformer`` with a ``OneHotEncoder`` on
    :attr:`categorical_features` (see ``conf/model/elec2_pipeline.yaml``).

    Parameters
    ----------
    data
        A DataFrame; the path of a CSV file (``.csv``, ``.csv.gz``, ... ; ``.tsv``
        tab-separated) or a parquet file (``.parquet``, ``.pq``); or a callable without
        arguments returning either (called on use, e.g.
        ``functools.partial(sim.datasets.electricity, cache_dir=...)``), so that a
        config can name a data set without loading it.
    target
        Name of the target column (labels, or values for regression).
    features
        Names of the feature columns, in the order of ``X``'s columns (None: every
        column but ``target`` and ``time``).
    categorical
        Names of the features to integer-code (strings, categories, ...). A feature not
        listed here must be numeric (or boolean).
    time
        Name of a time column (datetimes, date strings or numbers): rows are replayed
        sorted by it and ``Batch.time`` holds it. Not a feature unless listed in
        ``features``.
    step
        None: steps of ``step_size`` rows. A pandas frequency (``"1D"``, ``"12h"``,
        ``"30min"``, or a calendar period ``"W"``, ``"M"``) to bucket a datetime
        ``time`` column; a positive number to bucket a numeric ``time`` column into
        ``floor(time / step)`` (e.g. ``86400`` for days of Unix seconds).
    n_samples
        Replay only the first ``n_samples`` rows (None: all).
    task
        ``"classification"`` (the target is a label) or ``"regression"`` (numeric).
    chunksize
        Rows read at a time from a file (memory, not results, depends on it).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "when": pd.date_range("2024-01-01", periods=6, freq="12h"),
    ...     "colour": ["red", "blue", "red", "green", "blue", "red"],
    ...     "size": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    ...     "label": ["a", "b", "a", "b", "b", "a"],
    ... })
    >>> stream = Tabular(frame, target="label", time="when", categorical=["colour"])
    >>> stream.feature_names, stream.categorical_features, stream.drifts
    (['colour', 'size'], [0], ())
    >>> for batch in stream.batches(seed=0, step_size=4):
    ...     print(batch.t, batch.X.tolist(), batch.y.tolist())
    0 [[0.0, 1.0], [1.0, 2.0], [0.0, 3.0], [2.0, 4.0]] ['a', 'b', 'a', 'b']
    1 [[1.0, 5.0], [0.0, 6.0]] ['b', 'a']

    With ``step="1D"`` a step is one day of ``when``, whatever ``step_size`` is:

    >>> daily = Tabular(frame, target="label", time="when", categorical=["colour"],
    ...                 step="1D")
    >>> [(b.t, len(b)) for b in daily.batches(seed=0, step_size=500)]
    [(0, 2), (1, 2), (2, 2)]
    """

    version = "1"

    def __init__(
        self,
        data: pd.DataFrame | str | os.PathLike | Callable[[], Any] | None = None,
        target: str | None = None,
        features: Sequence[str] | None = None,
        categorical: Sequence[str] = (),
        time: str | None = None,
        step: str | float | None = None,
        n_samples: int | None = None,
        task: str = "classification",
        chunksize: int = 16_384,
    ):
        self.data = data
        self.target = target
        self.features = features
        self.categorical = categorical
        self.time = time
        self.step = step
        self.n_samples = n_samples
        self.task = task
        self.chunksize = chunksize

    # ----- the public interface -------------------------------------------------------
    def batches(self, seed: Any = 0, step_size: int | None = None) -> Iterator[Batch]:
        """Yield the data's steps in order.

        Parameters are checked and the columns validated now; values (missing values,
        non-numeric features) are checked as the rows are read.

        Parameters
        ----------
        seed
            Accepted for the stream interface (an int >= 0 or a ``SeedSequence``);
            a replay does not depend on it.
        step_size
            Rows per step when ``step`` is None; ignored otherwise.
        """
        _check_seed(seed, type(self).__name__)
        spec = self._spec()
        if spec.step is None and (not is_int(step_size) or step_size < 1):
            raise ValueError(
                f"The 'step_size' parameter must be an int >= 1. Got {step_size!r} instead."
            )
        source = self._source(spec)
        columns = self._resolve(spec, source)
        return self._generate(spec, source, columns, step_size)

    @property
    def drifts(self) -> tuple[Drift, ...]:
        """No known drifts: real data has no ground truth (``()``)."""
        return ()

    @property
    def feature_names(self) -> list[str]:
        """Names of ``X``'s columns, in order (reads the header if ``features`` is None)."""
        spec = self._spec()
        if spec.features is not None:
            return list(spec.features)
        return self._resolve(spec, self._source(spec)).features

    @property
    def n_features(self) -> int:
        """Number of features."""
        return len(self.feature_names)

    @property
    def categorical_features(self) -> list[int]:
        """Column indices of the integer-coded categorical features in ``X``."""
        names = self.feature_names
        return [names.index(c) for c in self._spec().categorical]

    @property
    def classes(self) -> np.ndarray | None:
        """The sorted labels present in the target column (None for regression).

        Reads the target column of the whole data.
        """
        spec = self._spec()
        if spec.task != "classification":
            return None
        source = self._source(spec)
        self._resolve(spec, source)
        y = _read_column(source, spec.target)
        if y.isna().any():
            raise _missing_error(spec.target, int(np.flatnonzero(y.isna().to_numpy())[0]),
                                 _describe(source))
        return np.unique(_labels(y))

    # ----- validation -----------------------------------------------------------------
    def _spec(self) -> SimpleNamespace:
        owner = type(self).__name__
        data = self.data
        if data is None:
            raise param_error(owner, "data", "a DataFrame, a callable returning one, or the "
                              "path of a CSV or parquet file", data)
        if not isinstance(self.target, str) or not self.target:
            raise param_error(owner, "target", "the name of the target column (a str)",
                              self.target)
        features = self.features
        if features is not None:
            if (not is_sequence(features) or not len(features)
                    or not all(isinstance(f, str) for f in features)):
                raise param_error(owner, "features", "None or a non-empty list of column "
                                  "names", features)
            if len(set(features)) != len(features):
                raise param_error(owner, "features", "a list of distinct column names",
                                  features)
            features = list(features)
        categorical = self.categorical if self.categorical is not None else ()
        if not is_sequence(categorical) or not all(isinstance(c, str) for c in categorical):
            raise param_error(owner, "categorical", "a list of feature names", self.categorical)
        categorical = list(categorical)
        if features is not None:
            unknown = [c for c in categorical if c not in features]
            if unknown:
                raise param_error(owner, "categorical", f"a list of names among the features "
                                  f"{features}", self.categorical)
        if self.time is not None and not isinstance(self.time, str):
            raise param_error(owner, "time", "None or the name of a time column (a str)",
                              self.time)
        step = self.step
        if step is not None:
            if self.time is None:
                raise ValueError(f"The 'step' parameter of {owner} buckets rows by the "
                                 f"'time' column, which is None. Got step={step!r}; set "
                                 "'time', or step=None for steps of step_size rows.")
            if isinstance(step, str):
                try:
                    step = pd.tseries.frequencies.to_offset(step)
                except ValueError:
                    raise param_error(owner, "step", "None, a pandas frequency ('1D', '12h', "
                                      "'W', 'M') or a number > 0", self.step) from None
            elif not (is_real(step) and math.isfinite(step) and step > 0):
                raise param_error(owner, "step", "None, a pandas frequency ('1D', '12h', "
                                  "'W', 'M') or a number > 0", step)
        if self.n_samples is not None and (not is_int(self.n_samples) or self.n_samples < 1):
            raise param_error(owner, "n_samples", "None or an int >= 1", self.n_samples)
        if self.task not in _TASKS:
            raise param_error(owner, "task", "one of 'classification', 'regression'",
                              self.task)
        if not is_int(self.chunksize) or self.chunksize < 1:
            raise param_error(owner, "chunksize", "an int >= 1", self.chunksize)
        return SimpleNamespace(
            data=data, target=self.target, features=features, categorical=categorical,
            time=self.time, step=step, n_samples=self.n_samples, task=self.task,
            chunksize=int(self.chunksize),
        )

    def _source(self, spec) -> SimpleNamespace:
        """Open the data: a DataFrame, or a CSV or parquet path (after calling a callable)."""
        owner = type(self).__name__
        data = spec.data
        rule = ("a DataFrame, a callable returning one, or the path of a CSV (.csv, .csv.gz, "
                ".tsv) or parquet (.parquet, .pq) file")
        if callable(data) and not isinstance(data, pd.DataFrame):
            data = data()
            if callable(data) and not isinstance(data, pd.DataFrame):
                raise param_error(owner, "data", rule + " (the callable returned another "
                                  "callable)", data)
        if isinstance(data, pd.DataFrame):
            return SimpleNamespace(kind="frame", frame=data, path=None)
        if isinstance(data, (str, os.PathLike)):
            path = Path(data).expanduser()
            kind = _kind_of_path(path)
            if kind is None:
                raise param_error(owner, "data", rule, spec.data)
            if not path.is_file():
                raise FileNotFoundError(
                    f"The 'data' parameter of {owner} names a file that does not exist: "
                    f"'{path}' (relative paths are resolved from {Path.cwd()})."
                )
            return SimpleNamespace(kind=kind, frame=None, path=path)
        raise param_error(owner, "data", rule, spec.data)

    def _resolve(self, spec, source) -> SimpleNamespace:
        """Check the column names against the data's header; return the columns to read."""
        owner = type(self).__name__
        available = [str(c) for c in _header(source)]
        where = _describe(source)

        def unknown(name: str, value: Any, missing: list[str]) -> ValueError:
            return ValueError(
                f"The '{name}' parameter of {owner} names column(s) {missing} that {where} "
                f"does not have. Got {value!r}; the columns are {available}."
            )

        if spec.target not in available:
            raise unknown("target", spec.target, [spec.target])
        if spec.time is not None and spec.time not in available:
            raise unknown("time", spec.time, [spec.time])
        if spec.features is not None:
            missing = [f for f in spec.features if f not in available]
            if missing:
                raise unknown("features", spec.features, missing)
            if spec.target in spec.features:
                raise param_error(owner, "features", f"a list of columns without the target "
                                  f"{spec.target!r}", spec.features)
            features = list(spec.features)
        else:
            features = [c for c in available if c not in (spec.target, spec.time)]
            if not features:
                raise ValueError(f"{where} has no column besides the target and time; "
                                 f"{owner} needs at least one feature.")
        missing = [c for c in spec.categorical if c not in features]
        if missing:
            raise param_error(owner, "categorical", f"a list of names among the features "
                              f"{features}", spec.categorical)
        read = list(dict.fromkeys([*features, spec.target]
                                  + ([spec.time] if spec.time else [])))
        return SimpleNamespace(features=features, read=read)

    # ----- reading and cutting --------------------------------------------------------
    def _generate(self, spec, source, columns, step_size) -> Iterator[Batch]:
        """Read, convert and cut the rows (the lazy part of :meth:`batches`)."""
        arrays = _Converter(spec, columns, _describe(source))
        frames = _frames(source, spec, columns.read)
        blocks = (arrays(frame, start) for frame, start in frames)
        if spec.step is None:
            yield from _cut_by_size(blocks, int(step_size))
        else:
            yield from _cut_by_bucket(blocks, spec.step)


# ---------------------------------------------------------------------------------------
# helpers


def _check_seed(seed: Any, owner: str) -> None:
    if isinstance(seed, np.random.SeedSequence):
        return
    if not is_int(seed) or seed < 0:
        raise ValueError(
            f"The 'seed' argument of {owner}.batches must be an int >= 0 or a numpy "
            f"SeedSequence. Got {seed!r} instead."
        )


def _describe(source) -> str:
    return "the DataFrame" if source.kind == "frame" else f"'{source.path}'"


def _csv_options(path: Path) -> dict:
    return {"sep": "\t"} if path.name.lower().endswith(".tsv") else {}


def _header(source) -> list:
    if source.kind == "frame":
        return list(source.frame.columns)
    if source.kind == "csv":
        return list(pd.read_csv(source.path, nrows=0, **_csv_options(source.path)).columns)
    import pyarrow.parquet as pq

    return list(pq.ParquetFile(source.path).schema_arrow.names)


def _read_column(source, name: str) -> pd.Series:
    """Read one whole column (for the time order and the class list)."""
    if source.kind == "frame":
        return source.frame[name].reset_index(drop=True)
    if source.kind == "csv":
        return pd.read_csv(source.path, usecols=[name], **_csv_options(source.path))[name]
    return pd.read_parquet(source.path, columns=[name])[name]


def _labels(values: pd.Series) -> np.ndarray:
    """Labels as a numpy array: strings as a unicode array, numbers as they are."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(values.cat.categories.dtype)
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.to_numpy()
    return values.astype(str).to_numpy(dtype=str)


def _as_time(values: pd.Series, name: str, where: str) -> pd.Series:
    """Return a time column as datetimes (parsed if needed) or float numbers."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    try:
        return pd.to_datetime(values)
    except (ValueError, TypeError) as ex:
        raise ValueError(f"The time column {name!r} of {where} holds neither numbers nor "
                         f"dates: {ex}") from None


def _missing_error(column: str, row: int, where: str) -> ValueError:
    return ValueError(
        f"Column {column!r} of {where} has a missing value at row {row} (counted from 0). "
        "Tabular does not impute: drop or fill missing values first (e.g. "
        "DataFrame.dropna() or fillna())."
    )


def _frames(source, spec, read: list[str]) -> Iterator[tuple[pd.DataFrame, int]]:
    """Yield ``(frame, first row number)`` chunks in replay order, up to ``n_samples``."""
    size = spec.chunksize
    limit = spec.n_samples if spec.n_samples is not None else math.inf
    order = None
    if spec.time is not None:
        times = _as_time(_read_column(source, spec.time), spec.time, _describe(source))
        if times.isna().any():
            raise _missing_error(spec.time, int(np.flatnonzero(times.isna().to_numpy())[0]),
                                 _describe(source))
        if not times.is_monotonic_increasing:
            order = np.argsort(times.to_numpy(), kind="stable")
    if source.kind == "frame" or order is not None:
        if source.kind == "frame":
            frame = source.frame[read]
        elif source.kind == "csv":
            frame = pd.read_csv(source.path, usecols=read, dtype=_csv_dtypes(spec),
                                **_csv_options(source.path))
        else:
            frame = pd.read_parquet(source.path, columns=read)
        if order is not None:
            frame = frame.iloc[order]
        n = min(len(frame), limit)
        for start in range(0, n, size):
            yield frame.iloc[start:min(start + size, n)], start
        return
    if source.kind == "csv":
        chunks = pd.read_csv(source.path, usecols=read, chunksize=size,
                             dtype=_csv_dtypes(spec), **_csv_options(source.path))
        iterator = iter(chunks)
        close = chunks.close
    else:
        import pyarrow.parquet as pq

        file = pq.ParquetFile(source.path)
        iterator = (b.to_pandas() for b in file.iter_batches(batch_size=size, columns=read))
        close = file.close
    start = 0
    try:
        for frame in iterator:
            if start + len(frame) > limit:
                frame = frame.iloc[: int(limit - start)]
            if len(frame):
                yield frame, start
            start += len(frame)
            if start >= limit:
                break
    finally:
        close()


def _csv_dtypes(spec) -> dict[str, type]:
    """Read categorical columns of a CSV as strings, so every chunk codes them alike."""
    return dict.fromkeys(spec.categorical, str)


class _Converter:
    """Turn a chunk (DataFrame) into ``(X, y, time)`` arrays; codes categories across chunks."""

    def __init__(self, spec, columns, where: str):
        self.spec = spec
        self.features = columns.features
        self.categorical = set(spec.categorical)
        self.codes: dict[str, dict[Any, int]] = {c: {} for c in spec.categorical}
        self.where = where

    def __call__(self, frame: pd.DataFrame, start: int):
        spec = self.spec
        used = [*self.features, spec.target] + ([spec.time] if spec.time else [])
        na = frame[list(dict.fromkeys(used))].isna().to_numpy()
        if na.any():
            row, col = np.argwhere(na)[0]
            raise _missing_error(list(dict.fromkeys(used))[col], start + int(row), self.where)
        X = np.empty((len(frame), len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.features):
            values = frame[name]
            if name in self.categorical:
                X[:, j] = self._code(name, values)
            elif pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                X[:, j] = values.to_numpy(dtype=np.float64)
            else:
                raise ValueError(
                    f"Feature {name!r} of {self.where} is not numeric (dtype {values.dtype}, "
                    f"e.g. {values.iloc[0]!r}). List it in the 'categorical' parameter of "
                    "Tabular to integer-code it, or leave it out of 'features'."
                )
        target = frame[spec.target]
        if spec.task == "regression":
            if not pd.api.types.is_numeric_dtype(target):
                raise ValueError(
                    f"The target {spec.target!r} of {self.where} is not numeric (dtype "
                    f"{target.dtype}); a regression target must be. Use "
                    "task='classification' for labels."
                )
            y = target.to_numpy(dtype=np.float64)
        else:
            y = _labels(target)
        time = None
        if spec.time is not None:
            time = _as_time(frame[spec.time], spec.time, self.where).to_numpy()
        return X, y, time

    def _code(self, name: str, values: pd.Series) -> np.ndarray:
        mapping = self.codes[name]
        for value in pd.unique(values.to_numpy(dtype=object)):
            if value not in mapping:
                mapping[value] = len(mapping)
        return values.map(mapping).to_numpy(dtype=np.float64)


def _concat(parts: list[tuple]) -> tuple:
    if len(parts) == 1:
        return parts[0]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    time = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
    return X, y, time


def _cut_by_size(blocks, step_size: int) -> Iterator[Batch]:
    """Cut ``(X, y, time)`` blocks into batches of ``step_size`` rows (the last shorter)."""
    pending: list[tuple] = []
    n_pending = 0
    t = index = 0
    for X, y, time in blocks:
        start, n = 0, len(y)
        while start < n:
            take = min(step_size - n_pending, n - start)
            sl = slice(start, start + take)
            pending.append((X[sl], y[sl], None if time is None else time[sl]))
            n_pending += take
            start += take
            if n_pending == step_size:
                bX, by, btime = _concat(pending)
                yield Batch(t=t, X=bX, y=by, index=index, time=btime)
                t, index = t + 1, index + step_size
                pending, n_pending = [], 0
    if n_pending:
        bX, by, btime = _concat(pending)
        yield Batch(t=t, X=bX, y=by, index=index, time=btime)


def _bucket_ids(time: np.ndarray, step) -> np.ndarray:
    """Integer bucket of each time stamp: equal ids share a step; ids count buckets."""
    if isinstance(step, pd.offsets.BaseOffset):
        if not np.issubdtype(time.dtype, np.datetime64):
            raise ValueError(f"The 'step' parameter of Tabular is a frequency ({step.freqstr!r})"
                             " but the time column holds numbers; give a number of time "
                             "units instead, or a datetime column.")
        stamps = pd.DatetimeIndex(time)
        if isinstance(step, pd.offsets.Tick):
            width = pd.Timedelta(step).value
            return (stamps.as_unit("ns").asi8 // width).astype(np.int64)
        return stamps.to_period(step).asi8.astype(np.int64)
    if np.issubdtype(time.dtype, np.datetime64):
        raise ValueError(f"The 'step' parameter of Tabular is a number ({step!r}) but the time "
                         "column holds dates; give a pandas frequency such as '1D' instead.")
    return np.floor(time.astype(float) / float(step)).astype(np.int64)


def _cut_by_bucket(blocks, step) -> Iterator[Batch]:
    """Cut time-sorted ``(X, y, time)`` blocks into one batch per time bucket."""
    pending: tuple | None = None  # rows of the last, maybe unfinished, bucket
    first: int | None = None
    index = 0
    for block in blocks:
        X, y, time = block if pending is None else _concat([pending, block])
        if not len(y):
            continue
        ids = _bucket_ids(time, step)
        if first is None:
            first = int(ids[0])
        cuts = np.flatnonzero(np.diff(ids)) + 1
        bounds = [0, *cuts.tolist(), len(y)]
        for lo, hi in zip(bounds[:-2], bounds[1:-1], strict=True):
            yield Batch(t=int(ids[lo]) - first, X=X[lo:hi], y=y[lo:hi], index=index,
                        time=time[lo:hi])
            index += hi - lo
        lo = bounds[-2]
        pending = (X[lo:], y[lo:], time[lo:])
    if pending is not None and len(pending[1]):
        X, y, time = pending
        ids = _bucket_ids(time[:1], step)
        yield Batch(t=int(ids[0]) - first, X=X, y=y, index=index, time=time)

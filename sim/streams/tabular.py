"""Replay a real data set as a stream: :class:`Tabular`.

A CSV file (with or without a header, compressed or not), a parquet file or a pandas
DataFrame (with any column labels) is replayed in its row order (or sorted by a time
column), numeric features as they are and categorical features (text columns, or the
columns declared categorical) as integer codes, cut into steps of a fixed number of
samples (the engine's ``step_size``) or into time buckets (one day, one hour, one week
of a time column).

The data are checked whole before the first step is replayed, and read as written: a
column's type is decided over the whole column, not chunk by chunk (text labels such as
``01`` stay text in every chunk; a feature holding text in one chunk and numbers in
another is an error); ``NA``, ``null`` or ``nan`` in the target is a label, not a missing
value, unless declared in ``missing_labels``. A missing column, duplicate column names, a
first row that looks like data rather than a header, a column mixing numbers and text,
a missing label, an infinite number or an empty file is an error naming what is wrong
and what is allowed. Rows with missing or infinite values are either an error
(``missing="error"``) or skipped and counted (``missing="skip"``): :attr:`Tabular.rows_`
(and the run's summary) says how many rows were read, replayed and skipped, and why.

Known events (a published change point, a release date, a pricing change) are declared
with ``events``; they are the stream's :attr:`~Tabular.drifts`, the ground truth of the
drift metrics, and ``ground_truth_complete`` says whether they are all of them. To
measure detection on a change of known size, inject one with :class:`~sim.streams.Injection`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES  # pandas' default missing values of a CSV

from sim.cache import file_digest
from sim.checks import Interval, Options, check, is_int, is_real, param_error
from sim.streams.base import Stream, rechunk
from sim.streams.schedule import is_sequence
from sim.types import DRIFT_KINDS, DRIFT_SHAPES, Batch, Drift
from sim.types import TASKS as _TASKS

__all__ = ["EVENT_KINDS", "Tabular"]

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".csv.zst", ".tsv",
                 ".tsv.gz", ".txt", ".data")
_PARQUET_SUFFIXES = (".parquet", ".pq")

EVENT_KINDS = (*DRIFT_KINDS, "incident")
"""Kinds of a declared event: a drift kind, or ``"incident"`` (an outage, a bad batch)."""

_EVENT_KEYS = ("at", "kind", "shape", "width")


def _kind_of_path(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    return None


def _is_label(value: Any) -> bool:
    """Whether ``value`` can name a column: a non-empty str or an int."""
    return (isinstance(value, str) and bool(value)) or is_int(value)


class Tabular(Stream):
    """Replay a CSV file, a parquet file or a DataFrame, in order, as a stream.

    The rows are replayed in their order, or sorted by the ``time`` column (a stable
    sort, so rows with equal times keep their order). :meth:`batches` first reads the
    data once, chunk by chunk, to check it (columns, types, missing values, the declared
    events); the replay then reads it again lazily, so memory stays O(``chunksize``)
    for a file in order. The replay is deterministic: the seed is accepted for the
    stream interface and ignored.

    Steps: with ``step=None`` a step is ``step_size`` rows (the engine's protocol
    ``step_size``; e.g. 48 half-hours for one day of Elec2). With ``step`` set, the
    stream cuts its own steps by the ``time`` column and **ignores** ``step_size``: a
    step is one bucket (``"1D"``: one calendar day), ``Batch.t`` counts buckets from the
    first one, and a bucket without rows is skipped (``t`` then jumps, so a label delay
    of one step stays one bucket of time). Buckets may hold any number of rows; the
    metrics place a drift in the step whose rows hold its first sample.

    Features: numeric (and boolean) columns become float64 columns of ``X``. Text and
    pandas categorical columns, and the columns listed in ``categorical``, become
    integer codes (0, 1, 2, ... in order of first appearance, stable across chunks and
    runs), also stored as float64; :attr:`categorical_features` gives their columns
    of ``X``, for the model's encoder (``conf/model/one_hot_tree.yaml``) and the
    data-drift tests (``DataDrift(categorical=...)``, χ² on them). A column is text
    when none of its values reads as a number, numeric when all do: the first chunk
    proposes the type, every chunk is checked against it.

    Labels: a DataFrame's or parquet file's target keeps its type. A CSV's target is
    read as text and decided over the whole column: numbers (int, or float if any
    label has a fraction) when every label reads as a finite number and no number is
    written two ways, else the text as written (``01`` and ``1`` are two classes;
    ``True`` stays the text ``"True"``).

    Parameters
    ----------
    data
        A DataFrame; the path of a CSV file (``.csv``, ``.csv.gz``, ``.csv.bz2``, ...,
        ``.tsv``, ``.txt``, ``.data``) or a parquet file (``.parquet``, ``.pq``); or a
        callable without arguments returning either (called on use, e.g.
        ``functools.partial(sim.datasets.electricity, cache_dir=...)``), so that a
        config can name a data set without loading it.
    target
        The target column (labels, or values for regression): its name, or its number
        in a file read with ``header=None`` (``0`` is the first column), or any label
        of a DataFrame's columns (an int label matches ``33`` or ``"33"``).
    features
        The feature columns, in the order of ``X``'s columns (None: every column but
        ``target`` and ``time``).
    categorical
        Features to integer-code besides the text columns (e.g. a numeric code such as
        a weekday). A feature neither numeric nor listed here must hold text.
    time
        A time column (datetimes, date strings or numbers): rows are replayed sorted by
        it and ``Batch.time`` holds it. Not a feature unless listed in ``features``.
    step
        None: steps of ``step_size`` rows. A pandas frequency (``"1D"``, ``"12h"``,
        ``"30min"``, or a calendar period ``"W"``, ``"M"``) to bucket a datetime
        ``time`` column; a positive number to bucket a numeric ``time`` column into
        ``floor(time / step)`` (e.g. ``86400`` for days of Unix seconds).
    n_samples
        Replay only the first ``n_samples`` rows of the data (None: all).
    task
        ``"classification"`` (the target is a label) or ``"regression"`` (numeric).
    chunksize
        Rows read at a time from a file (memory, not results, depends on it).
    header
        For a CSV: ``"infer"`` (the first row is the header, unless ``names`` is
        given; a first row of numbers only is refused as probably data), ``None`` (no
        header: columns are numbered 0, 1, ... or named by ``names``) or the row
        number of the header (``0``: the first row, even if it holds numbers).
    names
        For a CSV: the column names, in order (with ``header=None`` or ``"infer"``, the
        file has no header row; with ``header=0``, they replace it).
    sep
        For a CSV: the field separator (None: ``","``, or a tab for ``.tsv``).
    missing
        ``"error"``: a missing value or an infinite number (``inf``, ``-inf``) in a used
        column is an error naming its row and column. ``"skip"``: such rows are
        skipped, counted in :attr:`rows_` (and the run's summary) by column and reason.
        Missing features are pandas' usual ones (an empty field, ``NA``, ``NaN``,
        ``null``, ...); missing labels are only those of ``missing_labels``.
    missing_labels
        The target values that mean "no label" (a list of strings; default ``[""]``:
        an empty CSV field). ``NA``, ``N/A``, ``null``, ``nan`` and the like are labels
        unless listed here, e.g. ``missing_labels=["", "NA"]``; ``[]`` makes an empty
        field the label ``""``. A null in a DataFrame or parquet file is always missing.
    events
        Known events, each a mapping ``{"at": ..., "kind": ..., "shape": "sudden",
        "width": 0}``: ``at`` is a row number of the data (counted from 0, in the
        file's order, header excluded) or, with a ``time`` column, a time stamp (a date
        string, a datetime or a number: the event starts at the first replayed row at or
        after it); ``kind`` one of :data:`EVENT_KINDS`; ``shape`` one of ``"sudden"``,
        ``"gradual"``, ``"incremental"``; ``width`` the rows the change takes (0 for a
        sudden one). They become :attr:`drifts`, in sample indices of the replay.
    ground_truth_complete
        Whether ``events`` lists every change of the data (default False: real data
        has changes nobody declared, so false alarms cannot be counted as such).

    Attributes
    ----------
    rows_
        Set by :meth:`batches`: ``{"rows_read": ..., "rows_replayed": ...,
        "rows_skipped": ..., "skipped_because": {reason: count}}`` (reasons such as
        ``"missing value in 'x'"``, ``"infinite value in 'x'"``); a replay's
        ``RunResult.summary`` carries them (:func:`sim.metrics.rows_summary`).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "when": pd.date_range("2024-01-01", periods=6, freq="12h"),
    ...     "colour": ["red", "blue", "red", "green", "blue", "red"],
    ...     "size": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    ...     "label": ["a", "b", "a", "b", "b", "a"],
    ... })
    >>> stream = Tabular(frame, target="label", time="when")
    >>> stream.feature_names, stream.categorical_features, stream.drifts
    (['colour', 'size'], [0], ())
    >>> for batch in stream.batches(seed=0, step_size=4):
    ...     print(batch.t, batch.X.tolist(), batch.y.tolist())
    0 [[0.0, 1.0], [1.0, 2.0], [0.0, 3.0], [2.0, 4.0]] ['a', 'b', 'a', 'b']
    1 [[1.0, 5.0], [0.0, 6.0]] ['b', 'a']

    With ``step="1D"`` a step is one day of ``when``, whatever ``step_size`` is:

    >>> daily = Tabular(frame, target="label", time="when", step="1D")
    >>> [(b.t, len(b)) for b in daily.batches(seed=0, step_size=500)]
    [(0, 2), (1, 2), (2, 2)]

    A known change, declared by its time stamp, is the stream's ground truth:

    >>> known = Tabular(frame, target="label", time="when",
    ...                 events=[{"at": "2024-01-02", "kind": "concept"}])
    >>> [(d.start, d.kind) for d in known.drifts], known.ground_truth_complete
    ([(2, 'concept')], False)

    A label ``NA`` is a class; only the labels in ``missing_labels`` are missing:

    >>> labelled = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["NA", "?", "b"]})
    >>> stream = Tabular(labelled, target="y", missing="skip", missing_labels=["?"])
    >>> [b.y.tolist() for b in stream.batches(seed=0, step_size=10)]
    [['NA', 'b']]
    >>> stream.rows_["skipped_because"]
    {"missing value in 'y'": 1}
    """

    version = "3"  # 3: whole-column types, NA-like labels kept (issue 22)

    _constraints = {
        "n_samples": Interval("int", 1, allow_none=True),
        "task": Options(_TASKS),
        "chunksize": Interval("int", 1),
        "missing": Options(("error", "skip")),
        "ground_truth_complete": Options((True, False)),
    }

    def __init__(
        self,
        data: pd.DataFrame | str | os.PathLike | Callable[[], Any] | None = None,
        target: str | int | None = None,
        features: Sequence[str | int] | None = None,
        categorical: Sequence[str | int] = (),
        time: str | int | None = None,
        step: str | float | None = None,
        n_samples: int | None = None,
        task: str = "classification",
        chunksize: int = 16_384,
        header: str | int | None = "infer",
        names: Sequence[str] | None = None,
        sep: str | None = None,
        missing: str = "error",
        missing_labels: Sequence[str] = ("",),
        events: Sequence[Mapping] = (),
        ground_truth_complete: bool = False,
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
        self.header = header
        self.names = names
        self.sep = sep
        self.missing = missing
        self.missing_labels = missing_labels
        self.events = events
        self.ground_truth_complete = ground_truth_complete

    # ----- the public interface -------------------------------------------------------
    def batches(self, seed: Any = 0, step_size: int | None = None) -> Iterator[Batch]:
        """Check the whole data, then yield its steps in order.

        Every error (parameters, columns, types, missing values, events) is raised by
        this call, before the first step; :attr:`rows_` is set.

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
        scan = self._scan()
        self.rows_ = scan.rows
        return self._generate(scan, step_size)

    @property
    def drifts(self) -> tuple[Drift, ...]:
        """The declared events, in sample indices of the replay (``()`` when none)."""
        if not self.events:
            return ()
        return self._scan().drifts

    @property
    def feature_names(self) -> list[str]:
        """Names of ``X``'s columns, in order (reads the header if ``features`` is None)."""
        features = self._spec().features
        return [str(c) for c in (features if features is not None
                                 else self._layout().features)]

    @property
    def n_features(self) -> int:
        """Number of features."""
        return len(self.feature_names)

    @property
    def categorical_features(self) -> list[int]:
        """Column indices of the integer-coded categorical features in ``X``."""
        layout = self._layout()
        return [layout.features.index(c) for c in layout.categorical]

    @property
    def classes(self) -> np.ndarray | None:
        """The sorted labels replayed (None for regression); checks the whole data."""
        if self._spec().task != "classification":
            return None
        return self._scan().classes

    def data_content(self) -> pd.DataFrame | Path:
        """Return what the stream reads: the file's path, or the DataFrame (a data function's).

        A cache key holds this content (a file's bytes, a frame's values), never the
        ``data`` parameter's name or path: see :func:`sim.cache.fingerprint`.

        Examples
        --------
        >>> import functools
        >>> frame = pd.DataFrame({"x": [0.0, 1.0], "y": ["a", "b"]})
        >>> Tabular(data=functools.partial(frame.copy), target="y").data_content().equals(frame)
        True
        """
        source = self._source(self._spec())
        return source.frame if source.kind == "frame" else source.path

    # ----- validation -----------------------------------------------------------------
    def _spec(self) -> SimpleNamespace:
        owner = type(self).__name__
        for name, rule in self._constraints.items():
            check(self, name, getattr(self, name), rule)
        if self.data is None:
            raise param_error(owner, "data", "a DataFrame, a callable returning one, or the "
                              "path of a CSV or parquet file", self.data)
        if not _is_label(self.target):
            raise param_error(owner, "target", "the name of the target column (a str, or "
                              "an int for a numbered column)", self.target)
        features = self.features
        if features is not None:
            if (not is_sequence(features) or not len(features)
                    or not all(_is_label(f) for f in features)):
                raise param_error(owner, "features", "None or a non-empty list of column "
                                  "names", features)
            if len(set(features)) != len(features):
                raise param_error(owner, "features", "a list of distinct column names",
                                  features)
            features = list(features)
        categorical = self.categorical if self.categorical is not None else ()
        if not is_sequence(categorical) or not all(_is_label(c) for c in categorical):
            raise param_error(owner, "categorical", "a list of feature names", self.categorical)
        if self.time is not None and not _is_label(self.time):
            raise param_error(owner, "time", "None or the name of a time column", self.time)
        step = self.step
        if step is not None:
            if self.time is None:
                raise ValueError(f"The 'step' parameter of {owner} buckets rows by the "
                                 f"'time' column, which is None. Got step={step!r}; set "
                                 "'time', or step=None for steps of step_size rows.")
            rule = "None, a pandas frequency ('1D', '12h', 'W', 'M') or a number > 0"
            if isinstance(step, str):
                try:
                    step = pd.tseries.frequencies.to_offset(step)
                except ValueError:
                    raise param_error(owner, "step", rule, self.step) from None
            elif not (is_real(step) and math.isfinite(step) and step > 0):
                raise param_error(owner, "step", rule, step)
        header = self.header
        if not (header is None or header == "infer" or (is_int(header) and header >= 0)):
            raise param_error(owner, "header", "'infer', None (no header row) or the row "
                              "number of the header (an int >= 0)", header)
        names = self.names
        if names is not None:
            if (not is_sequence(names) or not len(names) or not all(_is_label(n) for n in names)
                    or len(set(names)) != len(names)):
                raise param_error(owner, "names", "None or a list of distinct column names",
                                  names)
            names = list(names)
        if self.sep is not None and (not isinstance(self.sep, str) or not self.sep):
            raise param_error(owner, "sep", "None or a separator string", self.sep)
        labels = self.missing_labels
        if not is_sequence(labels) or not all(isinstance(v, str) for v in labels):
            raise param_error(owner, "missing_labels", "a list of strings (the target values "
                              "that mean no label; [] for none; on a command line quote "
                              "what Hydra reads as a number or null: '[\"nan\", \"null\"]')",
                              labels)
        events = self.events if self.events is not None else ()
        if not is_sequence(events) or not all(isinstance(e, Mapping) for e in events):
            raise param_error(owner, "events", "a list of mappings {at, kind, shape, width}",
                              self.events)
        return SimpleNamespace(
            data=self.data, target=self.target, features=features,
            categorical=list(categorical), time=self.time, step=step,
            n_samples=self.n_samples, task=self.task, chunksize=int(self.chunksize),
            header=header, names=names, sep=self.sep, missing=self.missing,
            missing_labels=tuple(labels), events=[dict(e) for e in events],
        )

    def _source(self, spec) -> SimpleNamespace:
        """Open the data: a DataFrame, or a CSV or parquet path (after calling a callable)."""
        owner = type(self).__name__
        data = spec.data
        rule = ("a DataFrame, a callable returning one, or the path of a CSV (.csv, .csv.gz, "
                ".tsv, ...) or parquet (.parquet, .pq) file")
        if callable(data) and not isinstance(data, pd.DataFrame):
            data = data()
            if callable(data) and not isinstance(data, pd.DataFrame):
                raise param_error(owner, "data", rule + " (the callable returned another "
                                  "callable)", data)
        if isinstance(data, pd.DataFrame):
            return SimpleNamespace(kind="frame", frame=data, path=None, options={})
        if isinstance(data, (str, os.PathLike)):
            path = Path(data).expanduser()
            if path.is_dir():
                found = sorted(p.name for p in path.iterdir() if _kind_of_path(p))
                holds = (f"; it holds {', '.join(found[:5])}{', ...' if len(found) > 5 else ''}"
                         if found else "")
                raise IsADirectoryError(
                    f"The 'data' parameter of {owner} names a directory, not a file: "
                    f"'{path}'{holds}. Give a CSV or Parquet file (relative paths are "
                    f"resolved from {Path.cwd()}).")
            kind = _kind_of_path(path)
            if kind is None:
                raise param_error(owner, "data", rule, spec.data)
            if not path.is_file():
                raise FileNotFoundError(
                    f"The 'data' parameter of {owner} names a file that does not exist: "
                    f"'{path}' (relative paths are resolved from {Path.cwd()})."
                )
            options = {}
            if kind == "csv":
                sep = spec.sep or ("\t" if ".tsv" in path.name.lower() else ",")
                header = spec.header
                if header == "infer":
                    header = None if spec.names is not None else 0
                options = {"sep": sep, "header": header, "names": spec.names}
            return SimpleNamespace(kind=kind, frame=None, path=path, options=options)
        raise param_error(owner, "data", rule, spec.data)

    def _layout(self) -> SimpleNamespace:
        """Check the columns against the data's header and first rows (not the whole data)."""
        spec = self._spec()
        source = self._source(spec)
        owner = type(self).__name__
        where = _describe(source)
        head = _head(source, spec.chunksize, owner)
        columns = list(head.columns)
        if spec.header == "infer" and spec.names is None and source.kind == "csv" \
                and _looks_like_data(columns):
            raise ValueError(
                f"The first row of {where} looks like data, not a header: its column names "
                f"are numbers ({_preview(columns)}). For a file without a header row pass "
                "header=None (the columns are then numbered 0, 1, ...: target=0 is the "
                "first) or names=[...] to name them; if that row is the header, pass "
                "header=0.")
        _refuse_duplicates(source, spec, columns, where)

        def find(name: str, label: Any) -> Any:
            exact = [c for c in columns if type(c) is type(label) and c == label]
            loose = exact or [c for c in columns if str(c) == str(label)]
            if len(loose) != 1:
                problem = "is ambiguous: several columns are" if loose else "is not a column of"
                raise ValueError(
                    f"The {name!r} parameter of {owner} names {label!r}, which {problem} "
                    f"{where}. Got {label!r}; the columns are {_preview(columns)}"
                    f"{'' if spec.header is None or source.kind != 'csv' else _header_hint()}.")
            return loose[0]

        target = find("target", spec.target)
        time = find("time", spec.time) if spec.time is not None else None
        if spec.features is not None:
            features = [find("features", f) for f in spec.features]
            if target in features:
                raise param_error(owner, "features", f"a list of columns without the target "
                                  f"{spec.target!r}", spec.features)
        else:
            features = [c for c in columns if c != target and c != time]
            if not features:
                raise ValueError(f"{where} has no column besides the target and time; "
                                 f"{owner} needs at least one feature. The columns are "
                                 f"{_preview(columns)}.")
        declared = [find("categorical", c) for c in spec.categorical]
        outside = [c for c in declared if c not in features]
        if outside:
            raise param_error(owner, "categorical", f"a list of names among the features "
                              f"{_preview(features)}", spec.categorical)
        inferred = [f for f in features if f not in declared and _is_text(head[f])]
        categorical = [f for f in features if f in declared or f in inferred]
        read = list(dict.fromkeys([*features, target] + ([time] if time is not None else [])))
        numeric = [f for f in features if f not in categorical]
        if spec.task == "regression":
            numeric.append(target)
        return SimpleNamespace(spec=spec, source=source, where=where, features=features,
                               categorical=categorical, inferred=inferred, numeric=numeric,
                               target=target, time=time, read=read,
                               # a CSV's labels are read as text, their type decided by _scan
                               numeric_target=(None if source.kind == "csv"
                                               else _is_number_column(head[target])))

    # ----- the whole-data check, and the replay ----------------------------------------
    def _scan(self) -> SimpleNamespace:
        """Read the data once: check every row, count skipped rows, place the events."""
        layout = self._layout()
        key = _scan_key(self, layout)
        cached = getattr(self, "_scanned", None)
        if key is not None and cached is not None and cached[0] == key:
            return cached[1]
        order = _order(layout)
        kept: list[np.ndarray] = []
        labels: set = set()
        reasons: dict[str, int] = {}
        n_read = 0
        in_memory = layout.source.kind == "frame"  # keep its arrays: the frame is in memory
        blocks = []
        for block in _blocks(layout, order, reasons):
            n_read = block.rows_read
            kept.append(block.rows)
            if in_memory:
                blocks.append(block)
            if layout.spec.task == "classification":
                labels.update(np.unique(block.y).tolist())
        if not n_read:
            raise ValueError(f"{layout.where} has no rows (only a header, or nothing): "
                             "Tabular needs at least one row to replay.")
        rows = np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)
        if not len(rows):
            raise ValueError(f"Every row of {layout.where} was skipped ({_reasons(reasons)}); "
                             "nothing is left to replay.")
        skipped = n_read - len(rows)
        classes, label_dtype = _label_type(layout, labels)
        result = SimpleNamespace(
            rows={"rows_read": int(n_read), "rows_replayed": int(len(rows)),
                  "rows_skipped": int(skipped), "skipped_because": dict(reasons)},
            classes=classes, label_dtype=label_dtype,
            drifts=_drifts(layout, rows, n_read),
            layout=layout, order=order, blocks=blocks if in_memory else None,
        )
        self._scanned = (key, result)
        return result

    def _generate(self, scan, step_size) -> Iterator[Batch]:
        """Read, convert and cut the rows (the lazy part of :meth:`batches`)."""
        layout = scan.layout
        read = scan.blocks if scan.blocks is not None else _blocks(layout, scan.order, {})
        dtype = scan.label_dtype
        blocks = ((b.X, b.y if dtype is None else _label_numbers(b.y, dtype), None, b.time)
                  for b in read)
        if layout.spec.step is None:
            yield from rechunk(blocks, int(step_size))
        else:
            yield from _cut_by_bucket(blocks, layout.spec.step)


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


def _preview(values: Sequence, n: int = 12) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:n])
    return f"[{shown}{', ...' if len(values) > n else ''}] ({len(values)} columns)"


def _header_hint() -> str:
    return ("; if the file has no header row, pass header=None (columns numbered 0, 1, ...) "
            "or names=[...]")


def _is_number(label: Any) -> bool:
    try:
        float(str(label))
    except ValueError:
        return False
    return True


def _looks_like_data(columns: list) -> bool:
    """Whether a header is probably a data row.

    Half its names or more are numbers, and not the column positions (``0,1,2,...`` is how
    a DataFrame with numbered columns is written).
    """
    numbers = [(i, float(str(c))) for i, c in enumerate(columns) if _is_number(c)]
    return 2 * len(numbers) >= len(columns) and any(i != value for i, value in numbers)


def _is_number_column(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def _is_text(values: pd.Series) -> bool:
    """Whether a column holds text (or pandas categories) and no value that reads as a number.

    A column mixing numbers and text is neither, and an error unless declared categorical.
    """
    if _is_number_column(values) or pd.api.types.is_datetime64_any_dtype(values):
        return False
    if isinstance(values.dtype, pd.CategoricalDtype):
        return True
    present = values.dropna()
    return not pd.to_numeric(present, errors="coerce").notna().any()


def _refuse_duplicates(source, spec, columns: list, where: str) -> None:
    """Raise naming the column names given twice (pandas would rename one ``x.1``)."""
    if source.kind == "csv":
        options = source.options
        if options["header"] is None or spec.names is not None:
            return  # numbered, or named by 'names' (distinct)
        names = pd.read_csv(source.path, header=None, skiprows=options["header"], nrows=1,
                            dtype=str, keep_default_na=False, sep=options["sep"]).iloc[0].tolist()
    elif source.kind == "parquet":
        import pyarrow.parquet as pq

        names = pq.ParquetFile(source.path).schema_arrow.names
    else:
        names = columns
    at: dict[Any, list[int]] = {}
    for i, name in enumerate(names):
        if name != "":  # unnamed columns are numbered by pandas, never merged
            at.setdefault(name, []).append(i)
    twice = [f"{name!r} (columns {', '.join(map(str, i[:-1]))} and {i[-1]})"
             for name, i in at.items() if len(i) > 1]
    if twice:
        raise ValueError(
            f"{where} has duplicate column names: {'; '.join(twice)}. Tabular refuses them "
            "rather than renaming one: rename them, or (for a CSV) pass names=[...] with "
            "header=0 to name every column.")


def _head(source, n: int, owner: str) -> pd.DataFrame:
    """Read the first ``n`` rows (the header and the column types)."""
    if source.kind == "frame":
        return source.frame.iloc[:n]
    if source.kind == "csv":
        try:
            return pd.read_csv(source.path, nrows=n, **source.options)
        except pd.errors.EmptyDataError:
            raise ValueError(f"{_describe(source)} is empty: no header and no rows. {owner} "
                             "needs a CSV with at least one row.") from None
    import pyarrow.parquet as pq

    file = pq.ParquetFile(source.path)
    batch = next(file.iter_batches(batch_size=n), None)
    return batch.to_pandas() if batch is not None else file.schema_arrow.empty_table().to_pandas()


def _scan_key(stream: Tabular, layout) -> tuple | None:
    """Return what the scan of a file depends on: the parameters and the file's bytes.

    None for a DataFrame (it may change in place; scanning one is fast).
    """
    source = layout.source
    if source.kind == "frame":
        return None
    params = {k: v for k, v in stream.get_params(deep=False).items() if k != "data"}
    return (repr(sorted(params.items(), key=lambda kv: kv[0])), str(source.path),
            file_digest(source.path))


def _read_column(layout, name) -> pd.Series:
    """Read one whole column (for the time order)."""
    source = layout.source
    if source.kind == "frame":
        return source.frame[name].reset_index(drop=True)
    if source.kind == "csv":
        return pd.read_csv(source.path, usecols=[name], **source.options)[name]
    return pd.read_parquet(source.path, columns=[name])[name]


def _as_time(values: pd.Series, name, where: str) -> pd.Series:
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


def _missing_error(column, row: int, where: str, labels: tuple | None = None) -> ValueError:
    """Return the error for a missing value (``labels``: the target's ``missing_labels``)."""
    hint = ("" if labels is None else " A missing label is a null or a value listed in "
            f"missing_labels (now {list(labels)}).")
    return ValueError(
        f"Column {column!r} of {where} has a missing value at row {row} (counted from 0, "
        "header excluded). Tabular does not impute: pass missing='skip' to skip such rows "
        f"(they are counted in the run's summary), or fill them first (DataFrame.fillna()).{hint}"
    )


def _infinite_error(column, row: int, value: float, where: str) -> ValueError:
    return ValueError(
        f"Column {column!r} of {where} has an infinite value ({value}) at row {row} (counted "
        "from 0, header excluded). Tabular refuses non-finite numbers: pass missing='skip' "
        "to skip such rows (they are counted in the run's summary), or replace them first."
    )


def _order(layout) -> np.ndarray | None:
    """Return the replay order of the rows when the time column is not sorted, else None."""
    if layout.time is None:
        return None
    times = _as_time(_read_column(layout, layout.time), layout.time, layout.where)
    if layout.spec.n_samples is not None:
        times = times.iloc[: layout.spec.n_samples]
    if times.isna().any() and layout.spec.missing == "error":
        raise _missing_error(layout.time, int(np.flatnonzero(times.isna().to_numpy())[0]),
                             layout.where)
    if times.dropna().is_monotonic_increasing:
        return None
    return np.argsort(times.to_numpy(), kind="stable")


def _frames(layout, order) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Yield ``(frame, row numbers)`` chunks in replay order, up to ``n_samples`` rows."""
    spec, source, read = layout.spec, layout.source, layout.read
    size = spec.chunksize
    limit = spec.n_samples if spec.n_samples is not None else math.inf
    if source.kind == "frame" or order is not None:
        if source.kind == "frame":
            frame = source.frame[read]
        elif source.kind == "csv":
            frame = pd.read_csv(source.path, **_csv_options(layout))
        else:
            frame = pd.read_parquet(source.path, columns=read)
        n = int(min(len(frame), limit))
        rows = np.arange(n) if order is None else order
        frame = frame.iloc[:n] if order is None else frame.iloc[:n].iloc[order]
        for start in range(0, n, size):
            yield frame.iloc[start:start + size], rows[start:start + size]
        return
    if source.kind == "csv":
        chunks = pd.read_csv(source.path, chunksize=size, **_csv_options(layout))
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
                yield frame, np.arange(start, start + len(frame))
            start += len(frame)
            if start >= limit:
                break
    finally:
        close()


def _blocks(layout, order, reasons: dict[str, int]) -> Iterator[SimpleNamespace]:
    """Yield the converted chunks (``X``, ``y``, ``time``, kept row numbers, rows read)."""
    convert = _Converter(layout)
    n_read = 0
    for frame, rows in _frames(layout, order):
        n_read += len(frame)
        X, y, time, keep = convert(frame, rows, reasons)
        yield SimpleNamespace(X=X, y=y, time=time, rows=rows[keep], rows_read=n_read)


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{n} {why}" for why, n in reasons.items()) or "none"


def _csv_options(layout) -> dict:
    """How every chunk of a CSV is read: each column's type and missing values alike.

    The categorical features and the target are read as text (so ``01`` stays ``01``);
    the target has no missing value at this stage (``missing_labels`` is applied by
    :class:`_Converter`), the other columns pandas' usual ones (an empty field, ``NA``, ...).
    """
    na = {c: STR_NA_VALUES for c in layout.read if c != layout.target} | {layout.target: []}
    text = dict.fromkeys(layout.categorical, str) | {layout.target: object}
    return {"usecols": layout.read, "dtype": text, "keep_default_na": False, "na_values": na,
            **layout.source.options}


class _Converter:
    """Turn a chunk into ``(X, y, time, kept)`` arrays; codes categories across chunks."""

    def __init__(self, layout):
        self.layout = layout
        self.codes: dict[Any, dict[Any, int]] = {c: {} for c in layout.categorical}

    def __call__(self, frame: pd.DataFrame, rows: np.ndarray, reasons: dict[str, int]):
        layout = self.layout
        spec, where, read = layout.spec, layout.where, layout.read
        for name in layout.inferred:
            _check_text(frame[name], name, rows, where)
        missing = frame[read].isna().to_numpy(copy=True)
        target = frame[layout.target]
        missing[:, read.index(layout.target)] |= _declared_missing(target, spec.missing_labels)
        numbers = {name: _numbers(frame[name], name, rows, where, missing[:, read.index(name)],
                                  name == layout.target)
                   for name in layout.numeric}
        infinite = np.zeros_like(missing)
        for name, values in numbers.items():
            infinite[:, read.index(name)] = np.isinf(values)
        keep = ~(missing | infinite).any(axis=1)
        if not keep.all():
            _drop(layout, missing, infinite, numbers, rows, reasons)
            frame, target = frame[keep], target[keep]
        X = np.empty((len(frame), len(layout.features)), dtype=np.float64)
        for j, name in enumerate(layout.features):
            X[:, j] = self._code(name, frame[name]) if name in self.codes else numbers[name][keep]
        if spec.task == "regression":
            y = numbers[layout.target][keep]
        elif layout.numeric_target is None:  # a CSV's labels: text, typed by _label_type
            y = target.to_numpy(dtype=str)
        else:
            y = _labels(target, layout, rows[keep])
        time = None
        if layout.time is not None:
            time = _as_time(frame[layout.time], layout.time, where).to_numpy()
        return X, y, time, keep

    def _code(self, name, values: pd.Series) -> np.ndarray:
        mapping = self.codes[name]
        for value in pd.unique(values.to_numpy(dtype=object)):
            if value not in mapping:
                mapping[value] = len(mapping)
        return values.map(mapping).to_numpy(dtype=np.float64)


def _drop(layout, missing: np.ndarray, infinite: np.ndarray, numbers: dict,
          rows: np.ndarray, reasons: dict[str, int]) -> None:
    """Raise on the first missing or infinite value (``missing="error"``), else count the rows.

    Each skipped row counts once, under its first bad column (in ``layout.read`` order).
    """
    bad = missing | infinite
    if layout.spec.missing == "error":
        row, col = np.argwhere(bad)[0]
        name = layout.read[col]
        if infinite[row, col]:
            raise _infinite_error(name, int(rows[row]), numbers[name][row], layout.where)
        labels = layout.spec.missing_labels if name == layout.target else None
        raise _missing_error(name, int(rows[row]), layout.where, labels)
    dropped = np.flatnonzero(bad.any(axis=1))
    first = np.argmax(bad[dropped], axis=1)
    why = 2 * first + infinite[dropped, first]
    for code, n in zip(*np.unique(why, return_counts=True), strict=True):
        kind = "infinite" if code % 2 else "missing"
        key = f"{kind} value in {layout.read[code // 2]!r}"
        reasons[key] = reasons.get(key, 0) + int(n)


def _declared_missing(values: pd.Series, labels: tuple) -> np.ndarray:
    """Where the target holds one of ``missing_labels`` (as numbers in a numeric column)."""
    if not labels:
        return np.zeros(len(values), dtype=bool)
    if _is_number_column(values):
        labels = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce").dropna()
    return values.isin(labels).to_numpy(dtype=bool)


def _check_text(values: pd.Series, name, rows: np.ndarray, where: str) -> None:
    """Raise if a feature that is text (by the first chunk) holds a number in this chunk."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return
    numbers = pd.to_numeric(values, errors="coerce").notna().to_numpy()
    if numbers.any():
        first = int(np.flatnonzero(numbers)[0])
        raise ValueError(
            f"Column {name!r} of {where} mixes numbers and text: row {int(rows[first])} "
            f"holds {values.iloc[first]!r} where the feature {name!r} is text elsewhere (a "
            "column's type is decided over the whole column); declare it in 'categorical' "
            "to read every value as a category, or clean that value.")


def _numbers(values: pd.Series, name, rows: np.ndarray, where: str, missing: np.ndarray,
             target: bool) -> np.ndarray:
    """Return a numeric column as float64 (NaN where missing); raise naming a text value."""
    if _is_number_column(values):
        return values.to_numpy(dtype=np.float64)
    parsed = pd.to_numeric(values.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(parsed) & ~missing)
    if not len(bad):  # numbers stored as objects or text
        return parsed
    first = int(bad[0])
    if target:
        raise ValueError(
            f"The target {name!r} of {where} is not numeric: row {int(rows[first])} holds "
            f"{values.iloc[first]!r}; a regression target must be numbers. Use "
            "task='classification' for labels, or list that value in missing_labels to read "
            "it as a missing label.")
    raise ValueError(
        f"Column {name!r} of {where} mixes numbers and text: row {int(rows[first])} holds "
        f"{values.iloc[first]!r} (dtype {values.dtype}) where the feature {name!r} is numeric "
        "elsewhere; declare it in 'categorical' if it is a category, or clean that value.")


def _labels(values: pd.Series, layout, rows: np.ndarray) -> np.ndarray:
    """Labels of a DataFrame or parquet file: strings as a unicode array, numbers as they are."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(values.cat.categories.dtype)
    if _is_number_column(values):
        if not layout.numeric_target:
            return values.astype(str).to_numpy(dtype=str)
        return values.to_numpy()
    if not layout.numeric_target and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values.to_numpy(dtype=str)
    kinds = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if layout.numeric_target or not kinds.all():
        first = int(np.flatnonzero(kinds if layout.numeric_target else ~kinds)[0])
        raise ValueError(
            f"The target {layout.target!r} of {layout.where} mixes numbers and text: row "
            f"{int(rows[first])} holds {values.iloc[first]!r} while other labels are "
            f"{'numbers' if layout.numeric_target else 'text'}. Labels must all be numbers "
            "or all text: clean that value.")
    return values.to_numpy(dtype=str)


def _label_type(layout, labels: set) -> tuple[np.ndarray | None, np.dtype | None]:
    """Return the sorted classes and the dtype a CSV's text labels become (None: they stay).

    Decided over the whole column: a CSV's labels are numbers when every one reads as a
    finite number and no number is spelled two ways (``1`` and ``01`` are two classes,
    kept as text), int64 unless one has a fraction; else text as written. The labels of
    a DataFrame or parquet file keep their type.
    """
    if layout.spec.task != "classification":
        return None, None
    classes = np.array(sorted(labels))
    if layout.numeric_target is not None:
        return classes, None
    parsed = pd.to_numeric(pd.Series(classes, dtype=object), errors="coerce")
    if not np.isfinite(parsed.to_numpy(dtype=np.float64)).all() \
            or parsed.nunique() < len(classes):
        return classes, None
    return np.unique(parsed.to_numpy()), parsed.dtype


def _label_numbers(labels: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Return a chunk of a CSV's text labels as the numbers :func:`_label_type` decided."""
    return pd.to_numeric(labels).astype(dtype)


def _drifts(layout, rows: np.ndarray, n_read: int) -> tuple[Drift, ...]:
    """Place the declared events at sample indices of the replay."""
    events = layout.spec.events
    if not events:
        return ()
    owner = "Tabular"
    times = None
    drifts = []
    n = len(rows)
    for i, raw in enumerate(events):
        def bad(rule: str, i=i, raw=raw) -> ValueError:
            return ValueError(f"Event {i} of the 'events' parameter of {owner} is invalid: "
                              f"{rule} Got {raw!r}.")

        unknown = sorted(set(map(str, raw)) - set(_EVENT_KEYS))
        if unknown:
            raise bad(f"unknown key(s) {unknown}; the keys are {list(_EVENT_KEYS)}.")
        if "at" not in raw or "kind" not in raw:
            raise bad("'at' and 'kind' are required.")
        kind, shape, width = raw["kind"], raw.get("shape", "sudden"), raw.get("width", 0)
        if kind not in EVENT_KINDS:
            raise bad(f"'kind' must be one of {', '.join(map(repr, EVENT_KINDS))}.")
        if shape not in DRIFT_SHAPES:
            raise bad(f"'shape' must be one of {', '.join(map(repr, DRIFT_SHAPES))}.")
        if not is_int(width) or width < 0 or (shape == "sudden") != (width == 0):
            raise bad("'width' must be an int >= 0: 0 for a sudden event, >= 1 otherwise.")
        at = raw["at"]
        if is_int(at):
            hit = np.flatnonzero(rows == at)
            if at < 0 or not len(hit):
                where = ("it was skipped (a missing value)" if 0 <= at < n_read
                         else f"the data has rows 0 to {n_read - 1}")
                raise bad(f"'at' must be a replayed row number; {where}.")
            start = int(hit[0])
        else:
            if layout.time is None:
                raise bad("'at' must be a row number (an int >= 0): a time stamp needs the "
                          "'time' parameter.")
            if times is None:
                column = _as_time(_read_column(layout, layout.time), layout.time, layout.where)
                times = column.to_numpy()[rows]
            try:
                stamp = (float(at) if np.issubdtype(times.dtype, np.number)
                         else np.datetime64(pd.Timestamp(at)))
            except (ValueError, TypeError):
                raise bad(f"'at' must be a row number or a time stamp of the time column "
                          f"{layout.time!r}.") from None
            start = int(np.searchsorted(times, stamp, side="left"))
            if start >= n:
                raise bad(f"'at' is after the last time stamp ({times[-1]}).")
        if start + width > n:
            raise bad(f"the event must end by the end of the replay ({n} rows).")
        drifts.append(Drift(start=start, end=start + int(width), kind=kind, shape=shape))
    return tuple(sorted(drifts, key=lambda d: (d.start, d.end)))


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


def _concat(parts: list[tuple]) -> tuple:
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))


def _cut_by_bucket(blocks, step) -> Iterator[Batch]:
    """Cut time-sorted ``(X, y, None, time)`` blocks into one batch per time bucket."""
    pending: tuple | None = None  # rows of the last, maybe unfinished, bucket
    first: int | None = None
    index = 0
    for X, y, _, time in blocks:
        X, y, time = (X, y, time) if pending is None else _concat([pending, (X, y, time)])
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

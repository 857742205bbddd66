"""Caches of fitted models and of their predictions, shared by the replays of a sweep.

In a sweep, runs that train on the same labeled window of the same stream train the
same model, and a deployed model predicts the same thing on a step whatever trigger
deployed it. :func:`~sim.replay` and :func:`~sim.compare` take a ``cache`` argument so
that such work is done once:

- ``cache=None`` (the default): no cache, every fit and prediction is computed.
- ``cache="memory"`` or a :class:`MemoryCache`: in this process (``compare`` shares
  one across the triggers it replays).
- a directory (``str`` or ``os.PathLike``, e.g. ``"results/.cache"``) or a
  :class:`DiskCache`: on disk, shared by the jobs of a Hydra multirun, also when they run
  in parallel (every file is written to a temporary file and renamed into place with
  ``os.replace``, so a reader sees a whole entry or none).

What is cached, and under which key
-----------------------------------
A **fit** is keyed by everything that determines the training set and the fit: the
stream (class, parameters, ``version``, and the *content* of the data it reads: the
SHA-256 of a file's bytes, or of the arrays a data function returns, never a name, a
path or a modification time; see :func:`file_digest`), the stream's seed, the label
mask (all labeled, or the labels seed, ``label_rate`` and the first scored sample), the
training window (first and last sample index and the number of samples), the model
(class and parameters, nested estimators included, with the ``random_state`` the engine
gave it) and the versions of scikit-learn, numpy and
Python. Any change to one of them misses. Components whose parameters cannot be
fingerprinted (an unnamed function, an object that cannot be pickled) make the run
uncacheable: it computes everything, and :attr:`Cache.stats` counts it.

**Predictions** are keyed by the fit's key and the range of samples predicted.

**Step results** of a trigger (e.g. :class:`~strategies.DataDrift`'s two-sample test of a
step's inputs against the deployed model's training inputs) are kept in a
:class:`ReferenceMemo`, one per deployed model's *reference* (its training inputs), keyed
by :meth:`RunKeys.reference` (the fit's key and the number of reference rows) and, inside
it, by whatever the trigger names (for ``DataDrift``: the test's class and parameters
and the current window's first sample and length). The runs of a sweep deploy the same
model until their decisions diverge, so they compute each of these results once. The
engine hands the memo to the trigger as :attr:`~sim.types.Observation.memo` (None when
the run has no cache).

A cache hit returns the stored model and the CPU seconds of the *original* fit: the
events' ``fit_seconds`` (and the summary's) report what the retrain costs, whether or
not this run paid it, so results are the same with and without a cache. How much was
reused is in :attr:`Cache.stats`.

Cached models and prediction arrays are shared, not copied: predictions are stored
read-only, and a trigger or gate must not modify a model it is shown (none does).
Nothing is evicted; delete the directory to reclaim the space.

What a disk cache stores, and why loading it cannot run code
------------------------------------------------------------
Every entry is signed with HMAC-SHA256 under a per-user secret key
(:func:`cache_key_file`, created on first use, readable by its owner only) over its kind,
its key and its bytes. An entry is parsed only once its signature verifies, so a file
planted in the directory, or one moved from another key, is ignored with a
:class:`CacheEntryWarning` and recomputed. Predictions are ``.npy`` arrays read with
``allow_pickle=False`` (an array of Python objects is kept in memory only); fitted
models and step results are pickles, unpickled only after their signature verifies
(scikit-learn has no pickle-free format for a fitted model).

Examples
--------
>>> from sklearn.linear_model import LogisticRegression
>>> from sim import compare
>>> from sim.streams import SEA
>>> from sim.scripted import AtSteps
>>> cache = MemoryCache()
>>> table = compare(SEA(n_samples=20_000), LogisticRegression(),
...                 {"at 19": AtSteps([19]), "at 19 and 29": AtSteps([19, 29])},
...                 cache=cache)
>>> cache.stats["fit_hits"] > 0
True
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import platform
import secrets
import stat
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, clone

from sim.files import atomic_write

try:
    import resource as _resource
except ImportError:  # pragma: no cover (Windows)
    _resource = None

__all__ = ["CACHE_KEY_ENV", "Cache", "CacheEntryWarning", "DiskCache", "MemoryCache", "NoCache",
           "ReferenceMemo", "RunCache", "as_cache", "cache_key_file", "default_cache_dir",
           "file_digest", "fingerprint", "run_cache"]

#: bumped whenever what the cache stores, or how keys are made, changes
FORMAT = "2"

#: the environment variable naming the file of the secret key that signs disk entries
CACHE_KEY_ENV = "RETRAIN_SIM_CACHE_KEY"

_MAGIC = b"retrain-sim cache " + FORMAT.encode() + b"\n"
_BLOCK = 1 << 20


class CacheEntryWarning(UserWarning):
    """A disk cache entry was ignored (unsigned, signed with another key, or damaged)."""


class Uncacheable(Exception):
    """A component's parameters cannot be fingerprinted reliably."""


_digests: dict[tuple, str] = {}


def file_digest(path: str | os.PathLike) -> str:
    r"""Return the SHA-256 of a file's bytes (hex), read in blocks of 1 MiB.

    The digest is what identifies a data file in a cache key: a copy of the file
    elsewhere has the same, a file whose bytes changed has another, whatever its name,
    size or modification time. Within one process the digest is remembered by the
    file's device, inode, size, modification time and *change* time, so a file is read
    once per process; the change time is set by the system on every write or
    ``os.utime``, so an edited file is read again even when its size and modification
    time are restored.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "data.csv"
    >>> _ = path.write_text("x,y\n1,a\n")
    >>> file_digest(path) == hashlib.sha256(b"x,y\n1,a\n").hexdigest()
    True
    """
    st = os.stat(path)
    memo = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    found = _digests.get(memo)
    if found is None:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(_BLOCK), b""):
                digest.update(block)
        found = _digests[memo] = digest.hexdigest()
    return found


def _stream_params(obj: BaseEstimator) -> dict[str, Any]:
    """Return a stream's parameters, its ``data`` replaced by the content it reads.

    A stream that reads data (e.g. :class:`~sim.streams.Tabular`) has a
    ``data_content()`` method returning it: a DataFrame (what a data function returned)
    or the path of a file, fingerprinted by content (:func:`file_digest`).
    """
    params = obj.get_params(deep=False)
    if callable(getattr(obj, "data_content", None)):
        params["data"] = ("content", obj.data_content())
    return params


def _canonical(obj: Any, stream: bool = False) -> Any:
    """Return a nested tuple of plain values, equal to another's iff the objects are the same."""
    if isinstance(obj, BaseEstimator):
        cls = type(obj)
        is_stream = stream or hasattr(obj, "batches")
        params = _stream_params(obj) if hasattr(obj, "batches") else obj.get_params(deep=False)
        return ("estimator", cls.__module__, cls.__qualname__, str(getattr(obj, "version", "")),
                tuple((k, _canonical(v, is_stream)) for k, v in sorted(params.items())))
    if obj is None or isinstance(obj, (bool, int, float, complex, bytes)):
        return (type(obj).__name__, repr(obj))
    if isinstance(obj, str):
        if stream and os.path.isfile(obj):  # a data file: its bytes, not its name
            return ("file", file_digest(obj))
        return ("str", obj)
    if isinstance(obj, os.PathLike):
        return ("path", _canonical(os.fspath(obj), stream))
    if isinstance(obj, np.generic):
        return ("numpy", obj.dtype.str, repr(obj.item()))
    if isinstance(obj, np.ndarray):
        data = np.ascontiguousarray(obj)
        if data.dtype.hasobject:
            raise Uncacheable("an object array")
        return ("ndarray", data.dtype.str, data.shape, hashlib.sha256(data.view(np.uint8)
                                                                        .ravel()).hexdigest())
    if isinstance(obj, Mapping):
        return ("mapping", tuple(sorted((repr(k), _canonical(v, stream))
                                        for k, v in obj.items())))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(_canonical(v, stream) for v in obj))
    if isinstance(obj, (set, frozenset)):
        return ("set", tuple(sorted(repr(_canonical(v, stream)) for v in obj)))
    if isinstance(obj, type):
        return ("class", obj.__module__, obj.__qualname__)
    try:
        import pandas as pd

        if isinstance(obj, (pd.DataFrame, pd.Series)):
            hashed = pd.util.hash_pandas_object(obj, index=True).to_numpy()
            columns = list(obj.columns) if isinstance(obj, pd.DataFrame) else [obj.name]
            dtypes = [str(d) for d in np.atleast_1d(obj.dtypes)]
            # pandas hashes an object column's values as text (1 and "1" alike): add their types
            frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
            objects = frame.iloc[:, [i for i, d in enumerate(frame.dtypes) if d == np.dtype("O")]]
            types = pd.util.hash_pandas_object(
                objects.apply(lambda c: c.map(lambda v: type(v).__qualname__)),
                index=False).to_numpy() if objects.shape[1] else np.empty(0, np.uint64)
            return ("pandas", repr(columns), repr(dtypes), hashlib.sha256(hashed).hexdigest(),
                    hashlib.sha256(types).hexdigest())
    except ImportError:  # pragma: no cover
        pass
    if callable(obj) and hasattr(obj, "__qualname__"):
        name = obj.__qualname__
        if "<lambda>" in name or "<locals>" in name:
            raise Uncacheable(f"an unnamed function ({name})")
        return ("callable", getattr(obj, "__module__", ""), name)
    try:
        return ("pickle", type(obj).__qualname__,
                hashlib.sha256(pickle.dumps(obj, protocol=5)).hexdigest())
    except Exception as error:
        raise Uncacheable(f"an object that cannot be pickled ({type(obj).__name__})") from error


def fingerprint(*parts: Any) -> str:
    """Hex digest identifying ``parts`` (estimators by class and parameters).

    Raises :class:`Uncacheable` when a part cannot be fingerprinted reliably.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> fingerprint(LogisticRegression(C=1.0)) == fingerprint(LogisticRegression())
    True
    >>> fingerprint(LogisticRegression(C=0.5)) == fingerprint(LogisticRegression())
    False
    """
    text = repr(tuple(_canonical(p) for p in parts))
    return hashlib.sha256(text.encode()).hexdigest()


def _environment() -> tuple[str, ...]:
    return (FORMAT, sklearn.__version__, np.__version__, platform.python_version())


class RunKeys:
    """Builds the keys of one replay's fits and predictions (used by the engine).

    Parameters
    ----------
    stream
        The replayed stream.
    stream_seed
        The seed its batches are generated with.
    model
        The model as the engine fits it (cloned, ``random_state`` set).
    mask
        Identity of the label mask: ``("all",)`` when every label arrives, else the
        labels seed, ``label_rate`` and the first scored sample index.
    """

    def __init__(self, stream, stream_seed: int, model, mask: tuple):
        self._base = fingerprint(("stream", stream), ("seed", int(stream_seed)),
                                 ("model", model), ("mask", mask), ("env", _environment()))

    def fit(self, start: int, end: int, n: int) -> str:
        """Key of a model trained on the labeled samples with index in ``[start, end)``."""
        return _digest(self._base, "fit", int(start), int(end), int(n))

    @staticmethod
    def predictions(fit_key: str, start: int, stop: int) -> str:
        """Key of a model's predictions on the samples with index in ``[start, stop)``."""
        return _digest(fit_key, "predictions", int(start), int(stop))

    @staticmethod
    def reference(fit_key: str, n_rows: int) -> str:
        """Key of a model's reference: the last ``n_rows`` inputs of its training window.

        The fit's key fixes the training window's inputs (stream, seed, label mask,
        window), so this fixes the reference whatever ``train_window`` cut it.
        """
        return _digest(fit_key, "reference", int(n_rows))


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class ReferenceMemo:
    """Step results that depend only on a reference and a step's inputs, shared by runs.

    A trigger reads it as :attr:`~sim.types.Observation.memo`: ``get(key)`` returns what
    some run stored under ``key`` for this reference (None if nothing), ``put(key,
    value)`` stores it. ``key`` must name everything the result depends on besides the
    reference (the stream, its seed and the label mask are in the reference's key): for a
    two-sample test, the test's class and parameters and the current window's samples.
    Only results that are a pure function of those may be stored, and values are shared,
    not copied: do not modify them.

    Examples
    --------
    >>> memo = MemoryCache().reference_memo("a reference key")
    >>> memo.get(("KS", 1000, 500)) is None
    True
    >>> memo.put(("KS", 1000, 500), 0.25)
    >>> memo.get(("KS", 1000, 500)), memo.get(("KS", 1500, 500))
    (0.25, None)
    """

    __slots__ = ("key", "_table", "_cache", "dirty")

    def __init__(self, cache: Cache, key: str, table: dict):
        self.key = key
        self._table = table
        self._cache = cache
        self.dirty = False

    def get(self, key) -> Any:
        """Return the value stored under ``key`` for this reference, or None."""
        value = self._table.get(key)
        self._cache.stats["result_hits" if value is not None else "result_misses"] += 1
        return value

    def put(self, key, value) -> None:
        """Store ``value`` under ``key`` for this reference."""
        self._table[key] = value
        self.dirty = True

    def flush(self) -> None:
        """Write what was stored since the last flush (a disk cache; no-op in memory)."""
        if self.dirty:
            self._cache._flush_table(self.key, self._table)
            self.dirty = False


class Cache:
    """Base class of the caches: fitted models and prediction arrays by key.

    Subclasses implement :meth:`_load` and :meth:`_store` (and, for step results kept
    beyond the process, :meth:`_load_table` and :meth:`_flush_table`). :attr:`stats`
    counts hits, misses and uncacheable runs.
    """

    def __init__(self):
        self.stats = {"fit_hits": 0, "fit_misses": 0, "prediction_hits": 0,
                      "prediction_misses": 0, "result_hits": 0, "result_misses": 0,
                      "uncacheable_runs": 0}
        self._tables: dict[str, dict] = {}

    def reference_memo(self, key: str) -> ReferenceMemo:
        """Return the :class:`ReferenceMemo` of the reference with key ``key`` (see RunKeys)."""
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = self._load_table(key)
        return ReferenceMemo(self, key, table)

    def _load_table(self, key: str) -> dict:
        return {}

    def _flush_table(self, key: str, table: dict) -> None:
        pass

    def get_fit(self, key: str):
        """Return ``(estimator, fit_seconds)`` stored under ``key``, or None."""
        value = self._load("fit", key)
        self.stats["fit_hits" if value is not None else "fit_misses"] += 1
        return value

    def put_fit(self, key: str, estimator, fit_seconds: float) -> None:
        """Store a fitted model and the CPU seconds its fit took."""
        self._store("fit", key, (estimator, float(fit_seconds)))

    def get_predictions(self, key: str) -> np.ndarray | None:
        """Return the predictions stored under ``key`` (read-only), or None."""
        value = self._load("predictions", key)
        self.stats["prediction_hits" if value is not None else "prediction_misses"] += 1
        return value

    def put_predictions(self, key: str, predictions: np.ndarray) -> None:
        """Store a model's predictions on a range of samples (made read-only)."""
        predictions.flags.writeable = False
        self._store("predictions", key, predictions)

    def _load(self, kind: str, key: str):
        raise NotImplementedError

    def _store(self, kind: str, key: str, value) -> None:
        raise NotImplementedError


class MemoryCache(Cache):
    """A cache in this process's memory (what ``cache="memory"`` makes).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from sim.scripted import AtSteps
    >>> every_5 = AtSteps([14, 19, 24, 29, 34, 39])
    >>> cache = MemoryCache()
    >>> first = replay(SEA(n_samples=20_000), LogisticRegression(), every_5,
    ...                cache=cache)
    >>> again = replay(SEA(n_samples=20_000), LogisticRegression(), every_5,
    ...                cache=cache)
    >>> cache.stats["fit_hits"], cache.stats["fit_misses"]
    (7, 7)
    >>> first.timeline.equals(again.timeline)
    True
    """

    def __init__(self):
        super().__init__()
        self._entries: dict[tuple[str, str], Any] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _load(self, kind, key):
        return self._entries.get((kind, key))

    def _store(self, kind, key, value):
        self._entries[(kind, key)] = value


def cache_key_file() -> Path:
    """Return the file of the secret key that signs this user's disk cache entries.

    ``$RETRAIN_SIM_CACHE_KEY`` when set, else ``$XDG_CONFIG_HOME/retrain-sim/cache-key``
    (``~/.config/retrain-sim/cache-key`` without ``XDG_CONFIG_HOME``). It is created on
    first use, holding 32 random bytes, readable and writable by its owner only; the jobs
    of a sweep on other machines (a cluster) read the same file through a shared home.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {CACHE_KEY_ENV: "/srv/keys/retrain-sim"}):
    ...     print(cache_key_file().as_posix())
    /srv/keys/retrain-sim
    """
    named = os.environ.get(CACHE_KEY_ENV)
    if named:
        return Path(named).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "retrain-sim" / "cache-key"


def _secret(path: Path) -> bytes:
    """Read the key in ``path``, creating it (mode 0600) if absent; refuse one others can read."""
    if not path.exists():
        try:
            _create_secret(path)
        except OSError as error:
            raise PermissionError(
                f"The cache key file '{path}' could not be created ({error}). Set "
                f"{CACHE_KEY_ENV} to a file in a directory of yours that you can write.") \
                from error
    st = path.stat()
    posix = hasattr(os, "getuid")  # Windows has neither owners nor modes to check here
    if not stat.S_ISREG(st.st_mode) or posix and (st.st_mode & 0o077 or st.st_uid != os.getuid()):
        raise PermissionError(
            f"The cache key file '{path}' (the '{CACHE_KEY_ENV}' variable, or its default) "
            f"must be a file of yours readable and writable by you only (mode 0600): with it "
            f"anyone can sign cache entries that run code. Got mode {stat.filemode(st.st_mode)} "
            f"and owner uid {st.st_uid} instead. Run `chmod 600 {path}`, or delete it to make "
            "a new one (the entries signed with it are then recomputed).")
    key = path.read_bytes()
    if len(key) < 32:
        raise ValueError(f"The cache key file '{path}' must hold at least 32 bytes. Got "
                         f"{len(key)} instead; delete it to make a new one.")
    return key


def _create_secret(path: Path) -> None:
    """Write 32 random bytes to ``path``, mode 0600, unless another process got there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another job created
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


class DiskCache(Cache):
    """A cache in a directory, safe for parallel jobs (e.g. a Hydra multirun).

    Each entry is one file, ``<path>/<kind>/<key[:2]>/<key>.<ext>``: the format's first
    line, an HMAC-SHA256 signature (under this user's key, :func:`cache_key_file`) of
    the entry's kind, key and body, then the body: an array in numpy's ``.npy`` format
    for predictions (``.npy`` files, read with ``allow_pickle=False``), a pickle for a fit
    (``.fit``) and for a reference's step results (``.results``). An entry is parsed
    only once its signature verifies: a file that does not (planted, damaged, moved from
    another key, written under another user's key) is ignored with a
    :class:`CacheEntryWarning` and recomputed. Predictions of Python objects (an
    ``object`` array, which ``.npy`` could only hold as a pickle) stay in memory.

    Files are written to a temporary file in the same directory and renamed into place
    (``os.replace``), so concurrent jobs never read a partial entry; two jobs computing
    the same entry write the same content. Entries read or written are also kept in
    memory for this process. The step results of a reference (see
    :class:`ReferenceMemo`) are one file per reference, read when a run first deploys a
    model with that reference and written (merged with the file's current content) at
    the end of the run.

    Parameters
    ----------
    path
        The cache directory (created when needed), e.g. ``results/.cache``.
    predictions
        Also store predictions on disk (about 8 bytes per predicted sample and model);
        fits are always stored.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> from sim.scripted import AtSteps
    >>> every_5 = AtSteps([14, 19, 24, 29, 34, 39])
    >>> path = tempfile.mkdtemp()
    >>> first = replay(SEA(n_samples=20_000), LogisticRegression(), every_5,
    ...                cache=path)
    >>> cache = DiskCache(path)  # e.g. another job of the sweep
    >>> again = replay(SEA(n_samples=20_000), LogisticRegression(), every_5,
    ...                cache=cache)
    >>> cache.stats["fit_hits"], cache.stats["fit_misses"]
    (7, 0)
    >>> first.events.equals(again.events)  # fit_seconds too: a hit reports the original's
    True
    """

    _EXTENSIONS = {"fit": "fit", "predictions": "npy", "results": "results"}

    def __init__(self, path: str | os.PathLike, predictions: bool = True):
        super().__init__()
        self.path = Path(path)
        self.predictions = predictions
        self._key = _secret(cache_key_file())
        self._memory: dict[tuple[str, str], Any] = {}

    def _file(self, kind: str, key: str) -> Path:
        return self.path / kind / key[:2] / f"{key}.{self._EXTENSIONS[kind]}"

    def _signature(self, kind: str, key: str, body: bytes) -> bytes:
        message = b"\0".join((kind.encode(), key.encode(), body))
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _read(self, kind: str, key: str) -> Any:
        """Return the entry's value, or None: missing, or ignored with a warning."""
        file = self._file(kind, key)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            return _ignored(file, f"it cannot be read ({error})")
        head = len(_MAGIC) + hashlib.sha256().digest_size
        body = data[head:]
        if not data.startswith(_MAGIC):
            return _ignored(file, "it is not a signed entry of this cache format")
        if not hmac.compare_digest(data[len(_MAGIC):head], self._signature(kind, key, body)):
            return _ignored(file, f"its signature does not match this user's key "
                                  f"({cache_key_file()}): it was written with another key, "
                                  "or changed since")
        try:
            if kind == "predictions":
                value = np.load(io.BytesIO(body), allow_pickle=False)
                value.flags.writeable = False
                return value
            return pickle.loads(body)
        except Exception as error:  # signed by us, yet unreadable: another library version
            return _ignored(file, f"it cannot be parsed ({type(error).__name__})")

    def _write(self, kind: str, key: str, value) -> None:
        if kind == "predictions":
            if value.dtype.hasobject:
                return  # np.save would pickle it: kept in memory only
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            body = buffer.getvalue()
        else:
            body = pickle.dumps(value, protocol=5)
        signed = _MAGIC + self._signature(kind, key, body) + body
        atomic_write(self._file(kind, key), lambda tmp: tmp.write_bytes(signed))

    def _load_table(self, key):
        table = self._read("results", key)
        return table if isinstance(table, dict) else {}

    def _flush_table(self, key, table):
        """Merge the table with what other jobs stored meanwhile and write it atomically.

        Two jobs flushing at once may each miss the other's new entries (the last rename
        wins); those are then recomputed by a later run: a lost entry costs time, never a
        wrong result, since every job stores the same value under the same key.
        """
        for k, v in self._load_table(key).items():
            table.setdefault(k, v)
        self._write("results", key, table)

    def _load(self, kind, key):
        value = self._memory.get((kind, key))
        if value is not None or (kind == "predictions" and not self.predictions):
            return value
        value = self._read(kind, key)
        if value is not None:
            self._memory[(kind, key)] = value
        return value

    def _store(self, kind, key, value):
        self._memory[(kind, key)] = value
        if kind == "predictions" and not self.predictions:
            return
        self._write(kind, key, value)


def _ignored(file: Path, why: str) -> None:
    warnings.warn(f"Ignored the cache entry {file}: {why}. It is recomputed and replaced.",
                  CacheEntryWarning, stacklevel=4)


def default_cache_dir(results: str | os.PathLike = "results") -> Path:
    """Return the on-disk cache directory of a results directory: ``<results>/.cache``.

    Examples
    --------
    >>> default_cache_dir().as_posix()
    'results/.cache'
    """
    return Path(results) / ".cache"


def as_cache(cache) -> Cache | None:
    """Turn a ``cache`` argument into a :class:`Cache` (or None).

    Parameters
    ----------
    cache
        None or ``False`` (no cache), ``"memory"`` (a new :class:`MemoryCache`),
        ``"disk"`` (a :class:`DiskCache` in :func:`default_cache_dir`), a directory path,
        or a :class:`Cache` (returned as is).

    Examples
    --------
    >>> type(as_cache("memory")).__name__, as_cache(None)
    ('MemoryCache', None)
    """
    if cache is None or cache is False:
        return None
    if isinstance(cache, Cache):
        return cache
    if isinstance(cache, str) and cache == "memory":
        return MemoryCache()
    if isinstance(cache, str) and cache == "disk":
        return DiskCache(default_cache_dir())
    if isinstance(cache, (str, os.PathLike)) and os.fspath(cache):
        return DiskCache(cache)
    raise ValueError("The 'cache' parameter must be None, 'memory', 'disk', a directory path "
                     f"or a Cache. Got {cache!r} instead.")


# ---------------------------------------------------------------------------------------
# one run's view of a cache: what the engine calls, with or without a cache


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process so far.

    ``getrusage`` where there is one: it reads the same accounting as
    ``time.process_time`` (they agree to about 0.05 ms) at about 1 us a call, where
    ``process_time``'s ``clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`` took 0.1-5 ms a call
    on the shared 2-core VM of benchmarks/README.md, i.e. more than a small fit.
    """
    if _resource is None:  # pragma: no cover (Windows)
        return time.process_time()
    usage = _resource.getrusage(_resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed_fit(seeded, X, y):
    t0 = cpu_seconds()
    estimator = clone(seeded).fit(X, y)
    return estimator, cpu_seconds() - t0


class NoCache:
    """A run without a cache: every fit and prediction is computed, nothing is shared.

    It has the interface of :class:`RunCache`, so the engine's loop never asks whether
    there is a cache. A model's ``key`` is None.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.arange(8.0).reshape(-1, 1), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> estimator, seconds, key = NoCache().fit(LogisticRegression(), X, y, 0, 8)
    >>> estimator.predict(X[:2]).tolist(), key
    ([0, 0], None)
    """

    def fit(self, seeded, X, y, start: int, end: int):
        """Fit ``clone(seeded)`` on the samples ``[start, end)``: (estimator, seconds, key)."""
        return (*_timed_fit(seeded, X, y), None)

    def predict(self, estimator, key: str | None, X, start: int, stop: int) -> np.ndarray:
        """Predictions of ``estimator`` (whose fit has ``key``) on samples ``[start, stop)``."""
        return estimator.predict(X)

    def memo(self, key: str | None, n_reference: int) -> ReferenceMemo | None:
        """Return the memo of a deployed model's reference (None: nothing is shared)."""
        return None

    def close(self) -> None:
        """Write what the run stored (nothing without a cache)."""


class RunCache(NoCache):
    """One run's fits, predictions and reference memos, shared through a :class:`Cache`.

    Parameters
    ----------
    cache
        The shared cache.
    keys
        The run's :class:`RunKeys`.
    """

    def __init__(self, cache: Cache, keys: RunKeys):
        self.cache = cache
        self.keys = keys
        self._memos: list[ReferenceMemo] = []

    def fit(self, seeded, X, y, start, end):
        """Take the fit from the cache, or fit and store it: (estimator, seconds, key)."""
        key = self.keys.fit(start, end, len(y))
        found = self.cache.get_fit(key)
        if found is None:
            found = _timed_fit(seeded, X, y)
            self.cache.put_fit(key, *found)
        return (*found, key)

    def predict(self, estimator, key, X, start, stop):
        """Take the predictions from the cache, or predict and store them."""
        pkey = RunKeys.predictions(key, start, stop)
        found = self.cache.get_predictions(pkey)
        if found is None:
            found = estimator.predict(X)
            self.cache.put_predictions(pkey, found)
        return found

    def memo(self, key, n_reference):
        """Return the memo of a deployed model's reference, to flush at :meth:`close`."""
        memo = self.cache.reference_memo(RunKeys.reference(key, n_reference))
        self._memos.append(memo)
        return memo

    def close(self):
        """Flush the reference memos the run used."""
        for memo in self._memos:
            memo.flush()


def run_cache(cache: Cache | None, stream, stream_seed: int, model, mask: tuple) -> NoCache:
    """Return one run's :class:`RunCache`, or a :class:`NoCache` without a cache.

    A run whose components cannot be fingerprinted computes everything (counted in
    ``cache.stats["uncacheable_runs"]``).
    """
    if cache is None:
        return NoCache()
    try:
        return RunCache(cache, RunKeys(stream, stream_seed, model, mask))
    except Uncacheable:
        cache.stats["uncacheable_runs"] += 1
        return NoCache()

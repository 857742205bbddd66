"""Real data sets and their reference baselines.

- :func:`electricity`: Elec2 (Harries, 1999), from a local copy, the cache, or OpenML.
- :func:`electricity_stream`: Elec2 as a :class:`~sim.streams.Tabular` stream.
- :func:`persistence`: the accuracy of predicting each label as the previous one, the
  baseline every Elec2 result must be read against (Žliobaitė, 2013: 85.3 %).
- :func:`baselines`: the baselines of a replay, over the very samples it scored.

Data files are never part of the repository. One environment variable names the
directory of local copies, for the loaders, the presets, the tests and the notebooks:
``RETRAIN_SIM_DATA`` (:data:`DATA_ENV`; e.g. ``export RETRAIN_SIM_DATA=../shared/data``).
:func:`electricity` reads a path you give, else ``$RETRAIN_SIM_DATA/electricity.csv``,
else its cache, and fetches from OpenML into the cache (at most one retry) only
when none exists.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from sim.files import atomic_write

__all__ = [
    "DATA_ENV",
    "ELECTRICITY_COLUMNS",
    "ELECTRICITY_FEATURES",
    "ELECTRICITY_SOURCE",
    "baselines",
    "data_dir",
    "electricity",
    "electricity_stream",
    "locate_electricity",
    "persistence",
]

DATA_ENV = "RETRAIN_SIM_DATA"
"""The environment variable naming the directory of local data copies."""

ELECTRICITY_SOURCE = (
    "OpenML data set 151 (https://www.openml.org/d/151: 'Download', CSV), saved as "
    "electricity.csv")
"""Where to get Elec2 by hand."""

ELECTRICITY_COLUMNS = ("date", "day", "period", "nswprice", "nswdemand", "vicprice",
                       "vicdemand", "transfer", "class")
"""Elec2's columns, in the order of the widely redistributed CSV."""

ELECTRICITY_FEATURES = ("day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand",
                        "transfer")
"""The features used for Elec2: every column but ``date`` (a normalised row counter a model
would extrapolate) and the label ``class``."""

_OPENML_NAME = "electricity"
_OPENML_ID = 151
_N_ROWS = 45_312
_CACHE_FILE = "electricity.csv"
_FETCH_TIMEOUT = 3.0  # seconds per network operation: offline fails fast


def data_dir() -> Path | None:
    """Return the directory named by ``$RETRAIN_SIM_DATA`` (None when it is unset or empty).

    Examples
    --------
    >>> import os
    >>> os.environ["RETRAIN_SIM_DATA"] = "/data/copies"
    >>> str(data_dir())
    '/data/copies'
    >>> del os.environ["RETRAIN_SIM_DATA"]
    >>> data_dir() is None
    True
    """
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else None


def _cache_path(cache_dir: str | os.PathLike | None) -> Path:
    from sklearn.datasets import get_data_home

    return Path(get_data_home(cache_dir)) / "retrain_sim" / _CACHE_FILE


def locate_electricity(path: str | os.PathLike | None = None,
                       cache_dir: str | os.PathLike | None = None) -> Path | None:
    """Return the file :func:`electricity` would read without the network, or None.

    ``path`` when given (whether or not it exists), else ``$RETRAIN_SIM_DATA/electricity.csv``
    if it exists, else the cached copy if it exists.
    """
    if path is not None:
        return Path(path).expanduser()
    directory = data_dir()
    if directory is not None and (directory / _CACHE_FILE).is_file():
        return directory / _CACHE_FILE
    cached = _cache_path(cache_dir)
    return cached if cached.is_file() else None


def electricity(path: str | os.PathLike | None = None,
                cache_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load Elec2, the New South Wales electricity market data set.

    45,312 rows, one per half hour from 7 May 1996 to 5 December 1998, normalised to
    [0, 1] as in the concept-drift literature: ``date``, ``day`` (1-7), ``period``
    (0, 1/47, ..., 1: the half hour), ``nswprice``, ``nswdemand``, ``vicprice``,
    ``vicdemand``, ``transfer`` and the label ``class`` (``"UP"`` / ``"DOWN"``: the
    price against its moving average over the last 24 hours).

    Parameters
    ----------
    path
        A local copy (CSV with the columns above, e.g. ``../shared/data/electricity.csv``).
        When given it is read and nothing is fetched; a missing file is an error. None:
        ``$RETRAIN_SIM_DATA/electricity.csv`` if it exists, else the cache.
    cache_dir
        Where a fetched copy is kept: ``<cache_dir>/retrain_sim/electricity.csv``
        (None: scikit-learn's data home, ``~/scikit_learn_data`` or
        ``$SCIKIT_LEARN_DATA``). Read if present; otherwise OpenML's ``electricity``
        (id 151) is fetched with :func:`sklearn.datasets.fetch_openml` (at most one
        retry, 0.1 s after the first attempt) and written there.

    Returns
    -------
    pandas.DataFrame
        The columns above in that order: ``day`` as int, ``class`` as str, the others
        as float.

    References
    ----------
    M. Harries, "Splice-2 comparative evaluation: electricity pricing", 1999.
    I. Žliobaitė, "How good is the Electricity benchmark for evaluating concept drift
    adaptation", arXiv:1301.3524, 2013.

    Examples
    --------
    >>> frame = electricity(path="../shared/data/electricity.csv")  # doctest: +SKIP
    >>> frame.shape, round(persistence(frame["class"]), 4)  # doctest: +SKIP
    ((45312, 9), 0.8533)

    A path that does not exist is an error, not a silent download:

    >>> electricity(path="no/such/electricity.csv")
    Traceback (most recent call last):
    ...
    FileNotFoundError: The 'path' parameter of electricity names a file that does not exist: ...
    """
    found = locate_electricity(path, cache_dir)
    if found is not None:
        if not found.is_file():
            raise FileNotFoundError(
                f"The 'path' parameter of electricity names a file that does not exist: "
                f"'{found}' (relative paths are resolved from {Path.cwd()}). Give the path "
                f"of a local copy, or path=None to use ${DATA_ENV}/electricity.csv, the "
                "cache or OpenML."
            )
        return _normalise(pd.read_csv(found), str(found))
    cached = _cache_path(cache_dir)
    frame = _fetch(cache_dir)
    atomic_write(cached, lambda tmp: frame.to_csv(tmp, index=False))
    return frame


def _fetch(cache_dir) -> pd.DataFrame:
    """Fetch OpenML's ``electricity`` (id 151): at most one retry, a short timeout, no warnings."""
    import socket
    import warnings

    from sklearn.datasets import fetch_openml

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_FETCH_TIMEOUT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bunch = fetch_openml(data_id=_OPENML_ID, data_home=cache_dir, as_frame=True,
                                 parser="auto", n_retries=1, delay=0.1)
    except Exception as ex:  # network errors come in many types
        reason = " ".join(f"{type(ex).__name__}: {ex}".split())
        raise RuntimeError(
            f"Could not fetch the Elec2 data set ({_OPENML_NAME!r}, id {_OPENML_ID}) from "
            f"OpenML ({reason}). Get {ELECTRICITY_SOURCE} and set {DATA_ENV} to its "
            "directory, or give its path."
        ) from ex
    finally:
        socket.setdefaulttimeout(previous)
    frame = bunch.frame
    if frame is None:  # pragma: no cover - as_frame=True always gives a frame
        frame = pd.concat([bunch.data, bunch.target], axis=1)
    return _normalise(frame, f"OpenML data set {_OPENML_ID}")


def _normalise(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check the columns and give them the CSV's dtypes (OpenML has categories)."""
    missing = [c for c in ELECTRICITY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{where} is not Elec2: it lacks the column(s) {missing}; the "
                         f"columns are {list(frame.columns)}.")
    frame = frame[list(ELECTRICITY_COLUMNS)].copy()
    frame["day"] = pd.to_numeric(frame["day"].astype(str)).astype(np.int64)
    frame["class"] = frame["class"].astype(str)
    for c in ELECTRICITY_COLUMNS:
        if c not in ("day", "class"):
            frame[c] = frame[c].astype(np.float64)
    if frame.isna().any().any():
        raise ValueError(f"{where} has missing values; Elec2 has none.")
    if len(frame) != _N_ROWS:
        raise ValueError(f"{where} has {len(frame)} rows; Elec2 has {_N_ROWS}.")
    return frame.reset_index(drop=True)


def electricity_stream(path: str | os.PathLike | None = None,
                       cache_dir: str | os.PathLike | None = None, **params):
    """Return Elec2 as a :class:`~sim.streams.Tabular` stream (loaded on first use).

    The features are :data:`ELECTRICITY_FEATURES` with ``day`` categorical (column 0 of
    ``X``), the target ``class``; replay it with ``step_size=48`` for one step a day.

    Parameters
    ----------
    path, cache_dir
        As for :func:`electricity`.
    **params
        Other parameters of :class:`~sim.streams.Tabular` (``n_samples``, ...).

    Examples
    --------
    >>> stream = electricity_stream(path="electricity.csv")  # nothing is read yet
    >>> stream.features[:3], stream.categorical
    (['day', 'period', 'nswprice'], ['day'])
    """
    from sim.streams.tabular import Tabular

    data = functools.partial(electricity, path=path, cache_dir=cache_dir)
    return Tabular(data=data, target="class", features=list(ELECTRICITY_FEATURES),
                   categorical=["day"], **params)


def persistence(y, lag: int = 1) -> float:
    """Accuracy of predicting each label as the one ``lag`` samples before it.

    Scored over samples ``lag .. n-1`` (the first ``lag`` have no predecessor). On Elec2
    it is 0.8533: a model that does not beat it has learned less than the labels'
    autocorrelation.

    Parameters
    ----------
    y
        Labels in stream order.
    lag
        How far back the copied label is.

    Examples
    --------
    >>> persistence(["UP", "UP", "DOWN", "DOWN", "DOWN", "UP"])
    0.6
    """
    y = np.asarray(y)
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 1:
        raise ValueError(f"The 'lag' parameter of persistence must be an int >= 1. "
                         f"Got {lag!r} instead.")
    if len(y) <= lag:
        raise ValueError(f"persistence needs more than lag={lag} labels. Got {len(y)}.")
    return float(np.mean(y[lag:] == y[:-lag]))


def baselines(stream, result) -> dict[str, float]:
    """Baselines of a replay, scored on the same samples as the replay.

    The engine scores every sample after its initial training segment; the baselines
    are scored on those samples too (each predicted from the sample before it, which
    for the first is the last sample of the training segment). The stream is replayed
    again with the run's stream seed, so an injected or synthetic stream gives the same
    samples.

    Parameters
    ----------
    stream
        The stream that was replayed.
    result
        Its :class:`~sim.types.RunResult`.

    Returns
    -------
    dict
        ``{"persistence_accuracy": ...}`` for a classification stream (the label of the
        previous sample, available only with labels at once: a reference point from the
        literature, not a policy under the run's label delay); ``{}`` for regression.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.dummy import DummyClassifier
    >>> from sim import replay
    >>> from sim.streams import Tabular
    >>> from sim.scripted import AtSteps
    >>> frame = pd.DataFrame({"x": range(12), "y": [0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1]})
    >>> stream = Tabular(frame, target="y")
    >>> result = replay(stream, DummyClassifier(), AtSteps([]), step_size=3, initial_train=6)
    >>> result.summary["n_samples"], round(baselines(stream, result)["persistence_accuracy"], 3)
    (6, 0.667)
    """
    if getattr(stream, "task", "classification") != "classification":
        return {}
    from sim.protocol import child_seeds

    protocol = result.config["protocol"]
    seed = child_seeds(result.config["seed"])["stream"]
    batches = stream.batches(seed, protocol["step_size"])
    y = np.concatenate([b.y for b in batches])
    n_scored = int(result.summary["n_samples"])
    first = len(y) - n_scored
    if n_scored < 1 or first < 1:
        return {"persistence_accuracy": float("nan")}
    return {"persistence_accuracy": persistence(y[first - 1:])}

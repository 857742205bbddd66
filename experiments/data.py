"""Data parameters and data files checked once, before any job of a sweep launches.

:func:`check_data_parameters` refuses a data parameter (a stream's ``data``) that is a
``_target_`` node other than the project's own loader (:data:`DATA_LOADERS`): a config
naming ``pandas.read_pickle``, ``joblib.load`` or ``numpy.load`` there would run what
the file holds. :func:`experiments.run.build` calls it before it instantiates anything,
so a refused config runs no code, in the checks before launch as in a job.

:func:`check_before_launch` composes the configs a command line would run (one per value
of a swept ``stream``/``experiment`` key), finds every data file their streams read
(a :class:`~sim.streams.Tabular` path, the Elec2 loader) and makes sure it is on the
machine and that a table reads (columns, types, missing and infinite values): a missing
or bad file is one paragraph naming the override to set and what is wrong, and
``retrain-sim`` exits with status 2 before launching anything. A data set that
is fetched (Elec2 from OpenML) is fetched here, once, into its cache, so the jobs read
the cache and never touch the network.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from experiments import CONF_DIR, errors

__all__ = ["DATA_LOADERS", "check_before_launch", "check_data_parameters"]

_LOADER = "sim.datasets.electricity"

#: the functions a data parameter may name as its ``_target_`` (with plain parameters)
DATA_LOADERS = (_LOADER,)

_DATA_RULE = (
    "the path of a CSV or parquet file (e.g. stream.data: my.csv), or a node of the "
    "project's data loader {loaders} whose parameters are plain values (stream=elec2); "
    "it is refused as a `_target_` node calling anything else, since loading data through "
    "an arbitrary function runs code (pandas.read_pickle, joblib.load or numpy.load with "
    "allow_pickle run whatever the file holds)")
_TABULAR = ("sim.streams.Tabular", "sim.streams.tabular.Tabular")


def _targets_in(node: Any) -> list[str]:
    """Return every ``_target_`` inside ``node`` (nested mappings and lists included)."""
    if isinstance(node, dict):
        own = [str(node["_target_"])] if "_target_" in node else []
        return own + [t for v in node.values() for t in _targets_in(v)]
    if isinstance(node, list):
        return [t for v in node for t in _targets_in(v)]
    return []


def _bad_data(value: Any) -> bool:
    """Whether a data parameter's value would call anything but an allowed loader."""
    if isinstance(value, dict) and value.get("_target_") in DATA_LOADERS:
        return bool(_targets_in({k: v for k, v in value.items() if k != "_target_"}))
    return bool(_targets_in(value))


def check_data_parameters(stream: Any, path: str = "stream") -> tuple[str, Exception] | None:
    """Return ``(config key, error)`` for a refused data parameter of a stream config, or None.

    ``stream`` is the stream's config as plain containers (resolved). Every ``data``
    key in it (nested streams included, e.g. ``stream.stream.data``) must be a path, a
    table's path, or a node of one of :data:`DATA_LOADERS` with plain parameters.

    Examples
    --------
    >>> check_data_parameters({"_target_": "sim.streams.Tabular", "data": "my.csv"}) is None
    True
    >>> where, error = check_data_parameters(
    ...     {"_target_": "sim.streams.Tabular",
    ...      "data": {"_target_": "pandas.read_pickle", "filepath_or_buffer": "x.pkl"}})
    >>> where, type(error).__name__, str(error)[:52]
    ('stream.data', 'ParamError', "The 'data' parameter of Tabular must be the path of ")
    """
    from sim.checks import param_error

    if isinstance(stream, list):
        for i, value in enumerate(stream):
            found = check_data_parameters(value, f"{path}[{i}]")
            if found:
                return found
        return None
    if not isinstance(stream, dict):
        return None
    for key, value in stream.items():
        where = f"{path}.{key}"
        if key == "data" and _bad_data(value):
            owner = str(stream.get("_target_", "the stream")).rpartition(".")[2]
            rule = _DATA_RULE.format(loaders=", ".join(DATA_LOADERS))
            return where, param_error(owner, "data", rule, value)
        found = check_data_parameters(value, where)
        if found:
            return found
    return None


def _is_data_key(key: str) -> bool:
    return key in ("stream", "experiment") or key.startswith("stream.")


def _variants(argv: list[str]) -> list[list[str]]:
    """Return the override lists to compose: swept data keys expanded, other sweeps dropped."""
    fixed, swept = [], []
    for arg in errors._overrides(argv):
        parsed = errors._parse(arg)
        if parsed is None:
            return []  # Hydra reports the syntax error itself
        key = parsed.get_key_element()
        if key.startswith("hydra"):
            continue
        if not parsed.is_sweep_override():
            fixed.append(arg)
        elif _is_data_key(key.lstrip("+~")):
            values = errors._values(parsed)
            swept.append([f"{key}={v}" for v in values])
    return [fixed + list(combo) for combo in itertools.product(*swept)]


def _compose(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides, return_hydra_config=True)


def _configs(argv: list[str]) -> list[dict]:
    """Return the stream configs the command would run (unresolvable ones left to the jobs)."""
    from omegaconf import OmegaConf

    out = []
    for overrides in _variants(argv):
        try:
            cfg = _compose(overrides)
        except Exception:  # a bad override: Hydra's own error comes next
            return []
        params = OmegaConf.to_container(cfg.hydra.sweeper, resolve=False).get("params") or {}
        swept = [[f"{k}={v}" for v in str(values).split(",")] for k, values in params.items()
                 if _is_data_key(str(k))]
        extra = [[*overrides, *combo] for combo in itertools.product(*swept)] if swept else []
        for each in ([_compose(o) for o in extra] if extra else [cfg]):
            try:
                out.append({"stream": OmegaConf.to_container(each.stream, resolve=True,
                                                             throw_on_missing=False)})
            except Exception:
                continue
    return out


def _nodes(node: Any, path: str):
    """Yield ``(config path, mapping)`` for every mapping with a ``_target_``."""
    if isinstance(node, dict):
        if "_target_" in node:
            yield path, node
        for key, value in node.items():
            yield from _nodes(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nodes(value, f"{path}[{i}]")


def _check_elec2(path: str, node: dict) -> str | None:
    from sim import datasets

    where = f"{path}.path"
    try:
        found = datasets.locate_electricity(node.get("path"), node.get("cache_dir"))
    except Exception:
        found = None
    env = datasets.data_dir()
    env_text = (f"{datasets.DATA_ENV} is not set" if env is None
                else f"no electricity.csv in {datasets.DATA_ENV}={env}")
    how = (f"Get {datasets.ELECTRICITY_SOURCE}, then either set {datasets.DATA_ENV}=<the "
           f"directory holding it> or pass {where}=<the file>. No job was launched.")
    if found is not None:
        if found.is_file():
            return None
        return (f"retrain-sim: the Elec2 file given by {where} does not exist: '{found}' "
                f"(relative paths are resolved from {Path.cwd()}). {how}")
    try:
        datasets.electricity(cache_dir=node.get("cache_dir"))  # one download, into the cache
    except Exception as ex:
        reason = " ".join(str(ex.__cause__ or ex).split())
        return (f"retrain-sim: the Elec2 data set is not on this machine and could not be "
                f"downloaded: {where} is null, {env_text}, the cache holds no copy, and "
                f"fetching it from OpenML failed ({type(ex.__cause__ or ex).__name__}: "
                f"{reason[:200]}). {how}")
    return None


def _check_table(path: str, node: dict, cfg: dict) -> str | None:
    data = node.get("data")
    if data is None or node.get("target") is None:
        key = f"{path}.data" if data is None else f"{path}.target"
        return (f"retrain-sim: {key} is not set: the table stream needs the file to replay "
                f"and its target column, e.g. stream=table {path}.data=my.csv "
                f"{path}.target=label. No job was launched.")
    if not isinstance(data, (str, os.PathLike)):
        return None
    file = Path(data).expanduser()
    if file.is_dir():
        return (f"retrain-sim: {path}.data names a directory, not a file: '{file}'. Give a "
                f"CSV or Parquet file (e.g. {path}.data={file / 'my.csv'}). No job was "
                "launched.")
    if file.is_file():
        return _check_rows(path, node, cfg)
    return (f"retrain-sim: the data file given by {path}.data does not exist: '{file}' "
            f"(relative paths are resolved from {Path.cwd()}). Pass {path}.data=<your CSV "
            "or parquet file> (e.g. stream=table stream.data=my.csv stream.target=label). "
            "No job was launched.")


def _check_rows(path: str, node: dict, cfg: dict) -> str | None:
    """Read the table once as its jobs will: a bad column, type or value stops the launch.

    The stream's own check (:meth:`~sim.streams.Tabular.batches` reads the whole table
    before its first step); its error is reported here, once, instead of by every job.
    """
    from hydra.utils import instantiate

    try:
        instantiate(node).batches(seed=0, step_size=1)
    except (ValueError, OSError) as ex:
        text = (errors.describe_job_error(ex, cfg) if errors._named_parameter(ex)
                else f"the table given by {path}.data cannot be replayed: "
                     f"{' '.join(str(ex).split())}")
        return f"retrain-sim: {text} No job was launched."
    return None


def check_before_launch(argv: list[str]) -> str | None:
    """Return a one-paragraph message when a data file of the command is missing or bad.

    Composes the command's configs, refuses a data parameter that would call code
    (:func:`check_data_parameters`), checks every data file their streams read (a table
    is read once, as its stream will read it: its columns, types, missing and infinite
    values), and downloads a fetchable data set once into its cache. A
    command that picks no stream and no experiment runs the default synthetic stream:
    nothing to check, nothing composed.
    """
    keys = [arg.partition("=")[0].lstrip("+~") for arg in errors._overrides(argv)]
    if not any(_is_data_key(k.split("@")[0]) for k in keys):
        return None
    seen = set()
    for cfg in _configs(argv):
        refused = check_data_parameters(cfg["stream"])
        if refused:
            where, error = refused
            return f"retrain-sim: Invalid value for {where}: {error} No job was launched."
        for path, node in _nodes(cfg["stream"], "stream"):
            target = node["_target_"]
            key = (path, repr(sorted((k, repr(v)) for k, v in node.items())))
            if key in seen:
                continue
            seen.add(key)
            problem = (_check_elec2(path, node) if target == _LOADER
                       else _check_table(path, node, cfg) if target in _TABULAR else None)
            if problem:
                return problem
    return None

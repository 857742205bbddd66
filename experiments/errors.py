"""One-paragraph messages for configuration mistakes, instead of tracebacks.

Each message names the key, the value given and what is allowed:

- an unknown option of a group (``trigger=perfomance``): the group's options;
- an unknown parameter (``trigger.evry=5``): the parameters of the chosen option;
- a value out of range (``trigger.every=-1``): the component's own rule.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from experiments import CONF_DIR, GROUPS
from sim.checks import ParamError

__all__ = ["InvalidSweep", "JobFailed", "Terminated", "check_added_keys", "check_overrides",
           "check_runtime_keys", "describe_job_error", "explain", "options"]

SELECTABLE = (*GROUPS, "experiment")
"""Groups whose option is chosen on the command line (``trigger=periodic``)."""

# Hydra flags that take a value (the value is not an override)
_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name",
                     "-cn", "--config-dir", "-cd", "--experimental-rerun", "--info", "-i"}


class JobFailed(RuntimeError):
    """A single run failed; the message says why and where its record is."""


class InvalidSweep(ValueError):
    """A job of a sweep has a bad value, found before any job ran; the message says which."""


class Terminated(KeyboardInterrupt):
    """``retrain-sim`` received SIGTERM: handled as Ctrl-C is, with its own exit status."""


def options(group: str, conf_dir: Path = CONF_DIR) -> list[str]:
    """Return the options of a config group: the names of its YAML files.

    Examples
    --------
    >>> "periodic" in options("trigger")
    True
    """
    return sorted(p.stem for p in (Path(conf_dir) / group).glob("*.yaml"))


def _overrides(argv: list[str]) -> list[str]:
    """Return the overrides among command-line arguments (not flags or their values)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            if arg.startswith("-") or "=" not in arg:
                continue
        if arg.startswith("-"):
            skip = arg in _FLAGS_WITH_VALUE
            continue
        if "=" in arg:
            out.append(arg)
    return out


def _parse(override: str):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_overrides([override])[0]
    except Exception:  # Hydra reports syntax errors itself
        return None


def _values(parsed) -> list[str]:
    if parsed.is_sweep_override():
        try:
            return [str(v) for v in parsed.sweep_string_iterator()]
        except Exception:
            return []
    return [parsed.get_value_element_as_str()]


def check_overrides(argv: list[str], conf_dir: Path = CONF_DIR) -> str | None:
    """Return a message if an override picks an option a group does not have, else None.

    Examples
    --------
    >>> print(check_overrides(["trigger=perfomance"]))  # doctest: +ELLIPSIS
    Unknown option 'perfomance' for the config group 'trigger' (in 'trigger=perfomance'). \
Did you mean 'performance'? Allowed: adwin, ...
    """
    for arg in _overrides(argv):
        parsed = _parse(arg)
        if parsed is None:
            continue
        key = parsed.get_key_element().lstrip("+~")
        if key not in SELECTABLE or parsed.is_delete():
            continue
        allowed = options(key, conf_dir)
        for value in _values(parsed):
            if value in allowed or (key == "experiment" and value == "null"):
                continue
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            return (f"Unknown option '{value}' for the config group '{key}' (in '{arg}')."
                    f"{hint} Allowed: {', '.join(allowed)}. Each option is a file "
                    f"conf/{key}/<option>.yaml.")
    return None


_RUNTIME_VALUES = {"resume": ("auto", "true", "false")}


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    """Return ``{dotted key: value}`` of every entry of nested mappings (mappings too)."""
    out = {}
    for key, value in (node or {}).items():
        path = f"{prefix}{key}"
        out[path] = value
        if isinstance(value, dict):
            out |= _flat(value, f"{path}.")
    return out


def _top_keys(argv: list[str], conf_dir: Path) -> dict[str, Any]:
    """Return the top-level settings a command line can set: ``{dotted key: default}``.

    The primary config's keys (not ``defaults`` or ``hydra``) and those of the
    ``experiment=`` preset the command line picks.
    """
    configs = [Path(conf_dir) / "config.yaml"]
    for arg in _overrides(argv):
        key, _, value = arg.partition("=")
        if key.lstrip("+~") == "experiment" and value not in ("", "null"):
            configs.append(Path(conf_dir) / "experiment" / f"{value}.yaml")
    out: dict[str, Any] = {}
    for path in configs:
        cfg = _load(path)
        if cfg is not None:
            node = OmegaConf.to_container(cfg, resolve=False)
            out |= _flat({k: v for k, v in node.items() if k not in ("defaults", "hydra")})
    return out


def check_runtime_keys(argv: list[str], conf_dir: Path = CONF_DIR) -> str | None:
    """Return a message if ``resume`` or a true/false setting gets another value.

    The true/false settings are the top-level keys whose default is ``true`` or
    ``false`` in ``conf/config.yaml`` (``progress``, ``fail_fast``, ``baselines``,
    ``oracle.enabled``); Hydra reads ``no`` or ``1`` as a string or a number, which the
    run would take as true.

    Examples
    --------
    >>> print(check_runtime_keys(["fail_fast=maybe"]))
    Invalid value for fail_fast ('maybe' in 'fail_fast=maybe'): allowed: true, false.
    >>> print(check_runtime_keys(["-m", "oracle.enabled=true,no"]))
    Invalid value for oracle.enabled ('no' in 'oracle.enabled=true,no'): allowed: true, false.
    >>> check_runtime_keys(["resume=true", "fail_fast=false", "baselines=True"]) is None
    True
    """
    allowed = dict(_RUNTIME_VALUES)
    allowed |= {k: ("true", "false") for k, v in _top_keys(argv, conf_dir).items()
                if isinstance(v, bool)}
    for arg in _overrides(argv):
        parsed = _parse(arg)
        if parsed is None or parsed.is_delete():
            continue
        key = parsed.get_key_element().lstrip("+~")
        if key not in allowed:
            continue
        for value in _values(parsed):
            if value.strip().lower() not in allowed[key]:
                return (f"Invalid value for {key} ('{value}' in '{arg}'): allowed: "
                        f"{', '.join(allowed[key])}.")
    return None


def check_added_keys(argv: list[str], conf_dir: Path = CONF_DIR) -> str | None:
    """Return a message if an override adds (``+key=...``) a top-level key nothing reads.

    ``+`` may add a config group's option (``+experiment=elec2``) or a parameter of a
    component (``+trigger.min_samples=30``, checked by the component), not a new
    setting: the run would ignore it.

    Examples
    --------
    >>> print(check_added_keys(["+sede=3"]))  # doctest: +ELLIPSIS
    Unknown key 'sede' (in '+sede=3'): the config has no such key, and nothing reads \
a key added with '+'. Nearest known keys: seed...
    >>> check_added_keys(["+trigger.every=5", "++seed=2", "+experiment=elec2"]) is None
    True
    """
    known = None
    for arg in _overrides(argv):
        parsed = _parse(arg)
        if parsed is None or not (parsed.is_add() or parsed.is_force_add()):
            continue
        key = parsed.get_key_element().lstrip("+~")
        root = key.split(".")[0].split("@")[0]
        if root == "hydra" or root in SELECTABLE:
            continue
        if known is None:
            known = [*_top_keys(argv, conf_dir), *SELECTABLE]
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
        hint = f" Nearest known keys: {', '.join(close)}." if close else ""
        return (f"Unknown key '{key}' (in '{arg}'): the config has no such key, and nothing "
                f"reads a key added with '+'.{hint} Top-level keys: "
                f"{', '.join(k for k in known if '.' not in k)}; a component's parameters go "
                "under its group (e.g. trigger.every=5).")
    return None


# --------------------------------------------------------------------------------------
# unknown parameters


def _load(path: Path):
    try:
        return OmegaConf.load(path)
    except Exception:
        return None


def _default_choice(cfg, group: str) -> str | None:
    for entry in (cfg or {}).get("defaults", []) or []:
        if isinstance(entry, str) or entry is None:
            continue
        for k, v in entry.items():
            if str(k).replace("override ", "").strip().lstrip("/") == group:
                return None if v is None else str(v)
    return None


def _sweep_choices(cfg, group: str) -> list[str] | None:
    params = OmegaConf.select(cfg, "hydra.sweeper.params") if cfg is not None else None
    if params is None or group not in params:
        return None
    parsed = _parse(f"{group}={params[group]}")
    return _values(parsed) if parsed is not None else None


def _choices(group: str, argv: list[str], conf_dir: Path) -> list[str]:
    """Return the options of ``group`` a command line runs (over all jobs of its sweep)."""
    primary = _load(Path(conf_dir) / "config.yaml")
    preset = None
    for arg in _overrides(argv):
        parsed = _parse(arg)
        if parsed is None:
            continue
        key = parsed.get_key_element().lstrip("+~")
        if key == group:
            return _values(parsed)
        if key == "experiment":
            values = _values(parsed)
            if values and values[0] != "null":
                preset = _load(Path(conf_dir) / "experiment" / f"{values[0]}.yaml")
    for cfg in (preset, primary):
        found = _sweep_choices(cfg, group)
        if found:
            return found
    for cfg in (preset, primary):
        found = _default_choice(cfg, group)
        if found:
            return [found]
    return []


def _keys(node) -> list[str]:
    return [str(k) for k in node.keys() if not str(k).startswith("_")] if hasattr(
        node, "keys") else []


def _unknown_key(full_key: str, argv: list[str], conf_dir: Path) -> str | None:
    group, _, rest = full_key.partition(".")
    if group not in GROUPS or not rest:
        return None
    override = next((a for a in _overrides(argv) if a.lstrip("+~").split("=")[0] == full_key),
                    full_key)
    parent, _, leaf = rest.rpartition(".")
    lines, suggestion = [], None
    choices = _choices(group, argv, conf_dir)
    for choice in choices:
        cfg = _load(Path(conf_dir) / group / f"{choice}.yaml")
        if cfg is None:
            continue
        node = OmegaConf.select(cfg, parent) if parent else cfg
        if node is not None and hasattr(node, "keys") and leaf in node:
            continue
        target = OmegaConf.select(cfg, "_target_") or "?"
        allowed = _keys(node) if node is not None else _keys(cfg)
        where = f"{group}={choice} ({target})" + (f" at '{parent}'" if parent else "")
        lines.append(f"{where} takes {', '.join(allowed) if allowed else 'no parameters'}.")
        close = difflib.get_close_matches(leaf, allowed, n=1)
        if close and suggestion is None:
            suggestion = f"{group}.{parent + '.' if parent else ''}{close[0]}"
    if not lines:
        return None
    text = f"Unknown parameter '{full_key}' (in '{override}'): " + " ".join(lines)
    if suggestion:
        text += f" Did you mean '{suggestion}'?"
    if len(choices) > 1:
        example = next((c for c in choices if c not in ("never", "drift_aware")), choices[0])
        text += (f" This command runs {group}={','.join(choices)} (a sweep); pick the option "
                 f"whose parameter you set, e.g. `{group}={example} {full_key}=...`.")
    return text


def _unknown_top_key(key: str, argv: list[str], conf_dir: Path) -> str | None:
    """Message for an unknown top-level key (``sede=3``): the keys the config has."""
    if "." in key:
        return None
    primary = _load(Path(conf_dir) / "config.yaml")
    if primary is None:
        return None
    allowed = [k for k in primary.keys() if k not in ("defaults", "hydra")]
    allowed += [g for g in (*GROUPS, "experiment") if g not in allowed]
    override = next((a for a in _overrides(argv) if a.lstrip("+~").split("=")[0] == key), key)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (f"Unknown key '{key}' (in '{override}').{hint} Top-level keys: "
            f"{', '.join(allowed)}; a component's parameters go under its group "
            "(e.g. trigger.every=5).")


# --------------------------------------------------------------------------------------
# errors raised while instantiating or running


def _signature_keys(target: str) -> list[str] | None:
    module, _, name = target.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), name)
        return [p for p in inspect.signature(obj).parameters if p not in ("args", "kwargs")]
    except Exception:
        return None


def _find(config: Any, owner: str, param: str, path: str = "") -> str | None:
    """Path of the config node whose ``_target_`` class is ``owner`` and has ``param``."""
    if isinstance(config, dict):
        target = config.get("_target_")
        if isinstance(target, str) and target.rpartition(".")[2] == owner and param in config:
            return f"{path}.{param}" if path else param
        for k, v in config.items():
            found = _find(v, owner, param, f"{path}.{k}" if path else str(k))
            if found:
                return found
    elif isinstance(config, list):
        for i, v in enumerate(config):
            found = _find(v, owner, param, f"{path}[{i}]")
            if found:
                return found
    return None


def _find_key(config: Any, key: str, path: str = "") -> str | None:
    """Path of the first scalar entry named ``key`` in nested dicts (depth first)."""
    if isinstance(config, dict):
        if key in config and not isinstance(config[key], (dict, list)):
            return f"{path}.{key}" if path else key
        for k, v in config.items():
            found = _find_key(v, key, f"{path}.{k}" if path else str(k))
            if found:
                return found
    return None


def _get(config: Any, path: str, default: Any = None) -> Any:
    """Return the value at ``path`` (``a.b[0].c``) of nested dicts and lists, or ``default``."""
    node = config
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            return default
    return node


# the wording of a parameter error without attributes (scikit-learn's InvalidParameterError)
_WORDED_PARAM = re.compile(r"'(\w+)' parameter of (\w+)")


def _named_parameter(ex: BaseException | None) -> tuple[str, str] | None:
    """Return ``(owner, parameter)`` of the parameter error behind ``ex``, if any.

    Our components raise :class:`~sim.checks.ParamError` (itself or a cause of ``ex``),
    whose attributes say it. Only errors without them are read from their wording:
    scikit-learn's ``InvalidParameterError`` (a model's parameter), and the streams not
    converted to ParamError yet (``Tabular``'s column checks).
    """
    seen, first = set(), ex
    while ex is not None and id(ex) not in seen:
        if isinstance(ex, ParamError):
            return ex.owner, ex.parameter
        seen.add(id(ex))
        ex = ex.__cause__ or ex.__context__
    match = _WORDED_PARAM.search(" ".join(str(first).split()))
    return (match.group(2), match.group(1)) if match else None


def describe_job_error(ex: BaseException, config: dict | None) -> str:
    """Say which config key a component's error is about, with the component's message.

    Examples
    --------
    >>> from sim.checks import param_error
    >>> ex = param_error("Periodic", "every", "an int >= 1", -1)
    >>> config = {"trigger": {"_target_": "strategies.Periodic", "every": -1}}
    >>> print(describe_job_error(ex, config))  # doctest: +ELLIPSIS
    Invalid value for trigger.every (-1): The 'every' parameter of Periodic must be an int >= 1...
    """
    message = " ".join(str(ex).split())
    named = _named_parameter(ex)
    if named is not None and config is not None:
        owner, parameter = named
        path = _find(config, owner, parameter)
        if path is None and not isinstance(_get(config, parameter, {}), (dict, list)):
            path = parameter  # a top-level setting, e.g. seed or oracle.enabled
        if path is not None:
            value = _get(config, path)
            shown = f" ({value!r})" if isinstance(value, str) else (
                f" ({value})" if isinstance(value, (int, float)) else "")
            return f"Invalid value for {path}{shown}: {message}"
    named = re.search(r"\b(\w+)=(\S+?)[:;,]?(?:\s|$)", message)
    if named and config is not None:
        path = _find_key(config, named.group(1))
        if path is not None:
            return f"Invalid value for {path} ({named.group(2)}): {message}"
    unexpected = re.search(r"unexpected keyword argument '(\w+)'", message)
    target = re.search(r"target '([\w.]+)'", message)
    if unexpected and target:
        allowed = _signature_keys(target.group(1))
        return (f"{target.group(1)} has no parameter '{unexpected.group(1)}'. Allowed: "
                f"{', '.join(allowed) if allowed else 'none'}.")
    return f"{type(ex).__name__}: {message}"


def explain(ex: BaseException, argv: list[str], conf_dir: Path = CONF_DIR) -> str:
    """Return a one-paragraph message for an error that ended ``retrain-sim``."""
    if isinstance(ex, JobFailed):
        return f"The run failed. {ex}"
    chain = []
    cur: BaseException | None = ex
    while cur is not None and len(chain) < 5:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    text = " ".join(" ".join(str(e).split()) for e in chain)
    found = re.search(r"Could not (?:override|append to) '([^']+)'", text) or re.search(
        r"full_key: (\S+)", text)
    if found and "not in struct" in text or found and "Could not override" in text:
        message = _unknown_key(found.group(1), argv, conf_dir) or _unknown_top_key(
            found.group(1), argv, conf_dir)
        if message:
            return message
    missing = re.search(r"Could not find '([\w/]+)/([^'/]+)'", text)
    if missing:
        group, value = missing.groups()
        allowed = options(group, conf_dir)
        return (f"Unknown option '{value}' for the config group '{group}'. Allowed: "
                f"{', '.join(allowed) if allowed else '(none found)'}.")
    if "Error in call to target" in text or "Error locating target" in text:
        described = describe_job_error(ex, None)
        if not described.startswith(type(ex).__name__):
            return described
    first = " ".join(str(ex).split())
    return (f"retrain-sim could not start: {first} (Set HYDRA_FULL_ERROR=1 for the full "
            "traceback.)")

"""A job's components and settings from its config: built and checked, nothing run.

:func:`build` instantiates the config groups, :func:`check_settings` checks the
top-level keys. Shared by the job (:mod:`experiments.run`) and the launcher's
pre-launch check (:mod:`hydra_plugins.retrain_sim.launcher`), below both.
"""

from __future__ import annotations

from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from experiments import GROUPS, data

__all__ = ["build", "check_settings"]


def build(cfg: DictConfig) -> dict[str, Any]:
    """Instantiate the components of a config: ``{group: object}`` for every group.

    Lists and mappings in the YAML reach the constructors as plain ``list`` and
    ``dict`` (``_convert_="all"``), as scikit-learn's ``clone`` expects. A data
    parameter that would call code is refused before anything is instantiated
    (:func:`experiments.data.check_data_parameters`).
    """
    if cfg.get("stream") is not None:
        refused = data.check_data_parameters(OmegaConf.to_container(cfg.stream, resolve=True))
        if refused:
            raise refused[1]
    return {
        group: instantiate(cfg[group], _convert_="all") if cfg.get(group) is not None else None
        for group in GROUPS
    }


def check_settings(resolved: dict) -> None:
    """Check the run's own settings (the top-level keys) as a job does, or raise ParamError.

    ``seed`` is an int >= 0; ``baselines``, ``oracle.enabled``, ``progress`` and
    ``fail_fast`` are true or false (a string such as ``"no"`` would read as true).

    Examples
    --------
    >>> check_settings({"seed": 0, "baselines": False, "oracle": {"enabled": True}})
    >>> check_settings({"seed": 0, "oracle": {"enabled": "no"}})
    Traceback (most recent call last):
    ...
    sim.checks.ParamError: The 'oracle.enabled' parameter of the run must be one of False, \
True. Got 'no' instead.
    """
    from sim.checks import Interval, Options, check

    check("the run", "seed", resolved.get("seed"), Interval("int", 0))
    flags = {"baselines": resolved.get("baselines", False),
             "oracle.enabled": (resolved.get("oracle") or {}).get("enabled", False),
             "progress": resolved.get("progress", True),
             "fail_fast": resolved.get("fail_fast", False)}
    for name, value in flags.items():
        check("the run", name, value, Options((False, True)))

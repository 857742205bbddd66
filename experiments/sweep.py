"""Sweep bookkeeping shared by the sweep's callback and its report: how many jobs it has.

Below :mod:`experiments.callbacks` (which sizes the progress bar and the outcome) and
:mod:`experiments.report` (which tells a partial sweep from a whole one), so that
neither imports the other for it.
"""

from __future__ import annotations

from omegaconf import DictConfig

__all__ = ["count_jobs"]


def count_jobs(config: DictConfig) -> int | None:
    """Count the jobs a multirun launches: the sweeper's params and the command line.

    Later overrides of a key replace earlier ones, as in Hydra's basic sweeper. None
    when they cannot be counted (a custom sweeper's params).

    Examples
    --------
    >>> from omegaconf import OmegaConf
    >>> count_jobs(OmegaConf.create({"hydra": {
    ...     "sweeper": {"params": {"seed": "0,1,2", "trigger": "a,b"}},
    ...     "overrides": {"task": ["trigger=a"]}}}))
    3
    """
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        from experiments.hydra_internals import split_sweep

        params = config.hydra.sweeper.get("params") or {}
        args = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
        return split_sweep(OverridesParser.create().parse_overrides(args))
    except Exception:  # a custom sweeper: no total
        return None

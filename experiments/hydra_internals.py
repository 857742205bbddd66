"""Every use of Hydra's private API, in one module, for the hydra-core versions tested.

retrain-sim leans on four pieces of Hydra that are not its public API:

- ``BasicSweeper`` (``hydra._internal.core_plugins.basic_sweeper``): the base of
  the checked sweeper, and its ``split_arguments`` that counts a sweep's jobs
  (:func:`split_sweep`);
- ``get_overrides_dirname`` (``hydra._internal.config_loader_impl``): a job's
  ``hydra.job.override_dirname``, as Hydra's own launchers set it;
- ``Hydra.get_mode`` (``hydra._internal.hydra``), replaced for the duration of a
  command whose mode is known (:func:`known_mode`);
- ``process_joblib_cfg`` (the joblib launcher's ``_core``): ``joblib.Parallel``'s
  arguments as Hydra's joblib launcher passes them (:func:`joblib_arguments`).

Importing this module checks once that the installed hydra-core is in
:data:`TESTED_HYDRA` (the range of ``pyproject.toml``), and raises ImportError naming
the installed version otherwise: a private API may change in any release. No other
module imports ``hydra._internal`` or a plugin's ``_core`` (``tests/test_layers.py``
checks it).

Examples
--------
>>> from hydra.core.override_parser.overrides_parser import OverridesParser
>>> split_sweep(OverridesParser.create().parse_overrides(["seed=0,1,2", "x=a,b"]))
6
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

__all__ = ["TESTED_HYDRA", "Hydra", "check_version", "get_overrides_dirname",
           "joblib_arguments", "known_mode", "split_sweep"]

TESTED_HYDRA = ">=1.3,<1.4"
"""The hydra-core versions retrain-sim was tested on (``pyproject.toml`` pins them)."""


def check_version(installed: str, tested: str = TESTED_HYDRA) -> None:
    """Raise ImportError unless hydra-core ``installed`` is in the ``tested`` range.

    Examples
    --------
    >>> check_version("1.3.2")
    >>> check_version("1.4.0")
    Traceback (most recent call last):
    ...
    ImportError: The installed hydra-core must be >=1.3,<1.4 (the versions retrain-sim \
uses the private API of). Got 1.4.0 instead. Install a tested version: pip install \
'hydra-core>=1.3,<1.4'.
    """
    if Version(installed) not in SpecifierSet(tested):
        raise ImportError(
            f"The installed hydra-core must be {tested} (the versions retrain-sim uses the "
            f"private API of). Got {installed} instead. Install a tested version: "
            f"pip install 'hydra-core{tested}'.")


check_version(metadata.version("hydra-core"))

from hydra._internal.config_loader_impl import get_overrides_dirname  # noqa: E402
from hydra._internal.hydra import Hydra  # noqa: E402


def __getattr__(name: str) -> Any:
    """Look ``BasicSweeper`` up at each import (:pep:`562`).

    Hydra's plugin scan (the first ``Plugins.instance()``) executes its core plugin
    modules again, which makes a new ``BasicSweeper`` class; the checked sweeper, whose
    module the scan executes again too, must subclass that one (else its ``__init__``
    fails: ``super(type, obj): obj must be an instance or subtype of type``), as it did
    when it imported the class from Hydra directly.
    """
    if name == "BasicSweeper":
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

        return BasicSweeper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def split_sweep(overrides: list) -> int:
    """Return the number of jobs parsed sweep ``overrides`` make, as the basic sweeper does.

    Later overrides of a key replace earlier ones.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return len(BasicSweeper.split_arguments(overrides, None)[0])


@contextmanager
def known_mode(mode: Any) -> Iterator[None]:
    """Let Hydra take the run mode ``mode`` instead of composing the config to find it.

    Hydra 1.3 composes the whole config once only to read ``hydra.mode`` (its
    ``Hydra.get_mode``, which returns None on any error), then again to run: ~0.25 s of
    every command. With a ``mode`` (a ``hydra.types.RunMode``) that first composition is
    skipped; the run's own composition still reports every error. None: Hydra's own way.
    """
    if mode is None:
        yield
        return
    original = Hydra.get_mode
    Hydra.get_mode = lambda self, config_name, overrides: mode
    try:
        yield
    finally:
        Hydra.get_mode = original


def joblib_arguments(joblib_cfg: dict[str, Any]) -> dict[str, Any]:
    """Convert the joblib launcher's settings in place to ``joblib.Parallel``'s arguments.

    As Hydra's joblib launcher does (``n_jobs`` of -1 and such, ``null`` values); returns
    ``joblib_cfg``.
    """
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    process_joblib_cfg(joblib_cfg)
    return joblib_cfg

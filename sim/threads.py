"""How many BLAS and OpenMP threads a replay may use.

numpy's and scipy's OpenBLAS and scikit-learn's OpenMP start one thread per core by
default. A replay's fits and predictions are small (thousands of rows), where extra
threads only spin, and the jobs of a sweep run side by side, each starting its own
all-core pools: on a loaded 2-core machine one logistic-regression fit took 15.2 s of
CPU with the default threads and 0.29 s with one. So every :func:`~sim.replay` (hence
every :func:`~sim.compare`) and every ``retrain-sim`` job runs under a limit
(threadpoolctl): its share of the cores, which is one core, since a replay's steps run
one after another and a sweep runs one job per core.

Change it with ``replay(..., threads=n)``, the ``RETRAIN_SIM_THREADS`` environment
variable, or ``retrain-sim threads=n``; ``threads=0`` lifts the limit (the libraries'
own defaults, or ``OMP_NUM_THREADS`` and the like).
"""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager

from sim.checks import Interval, check

__all__ = ["ENV", "LIBRARY_ENV", "export", "limit", "limited", "resolve"]

ENV = "RETRAIN_SIM_THREADS"
"""The environment variable that sets the default limit (an int >= 0; 0: no limit)."""

LIBRARY_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
"""The variables the numerical libraries read when they load."""


def resolve(threads: int | None = None) -> int:
    """Return the limit ``threads`` means: itself, else ``RETRAIN_SIM_THREADS``, else 1.

    Raises a ValueError unless it is an int >= 0 (a string of digits counts).

    Examples
    --------
    >>> resolve(2)
    2
    >>> resolve(-1)
    Traceback (most recent call last):
    ...
    sim.checks.ParamError: The 'threads' parameter of replay must be an int >= 0. Got -1 instead.
    """
    value = os.environ.get(ENV, 1) if threads is None else threads
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return check("replay", "threads", value, Interval("int", 0))


@contextmanager
def limit(threads: int | None = None):
    """Run the block with at most ``threads`` BLAS and OpenMP threads per pool.

    Parameters
    ----------
    threads
        An int >= 1, 0 for no limit, or None for the default (:func:`resolve`).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with limit(1):
    ...     all(pool["num_threads"] == 1 for pool in threadpool_info())
    True
    """
    n = resolve(threads)
    if n == 0:
        yield
        return
    import scipy.linalg  # noqa: F401  (load numpy's and SciPy's BLAS, to limit them too)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n):
        yield


def limited(func):
    """Decorate ``func`` to run under :func:`limit`; it gains a ``threads`` keyword.

    Examples
    --------
    >>> @limited
    ... def work(x):
    ...     return x + 1
    >>> work(1, threads=1)
    2
    """

    @functools.wraps(func)
    def wrapper(*args, threads: int | None = None, **kwargs):
        with limit(threads):
            return func(*args, **kwargs)

    return wrapper


def export(threads: int | None = None) -> None:
    """Set the libraries' variables (``OMP_NUM_THREADS``, ...) to the limit in this process.

    Libraries loaded afterwards, here or in worker processes started from here, read
    them when they load; ``threads=0`` leaves them as they are.
    """
    n = resolve(threads)
    if n == 0:
        return
    os.environ[ENV] = str(n)
    for name in LIBRARY_ENV:
        os.environ[name] = str(n)

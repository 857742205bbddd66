"""Shared set-up of the performance benchmarks (floor, vs_river, sweep, linearity).

BLAS is limited to one thread: on a small shared machine OpenBLAS threads on the tiny
matrices of these fits only add contention (a 5,000 x 3 logistic regression fit took a
median 4.5 ms with one thread, 13-120 ms with the default threads while other jobs ran;
scipy's L-BFGS-B step took 1.5 ms instead of 3 us). Every side of every comparison runs
under the same limit. Import this module before numpy: numpy and scipy each load their
own OpenBLAS, which reads the limit when it loads.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import scipy.optimize  # noqa: E402, F401  (load scipy's BLAS now, to limit it too)
import sklearn.linear_model  # noqa: E402, F401
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

threadpool_limits(1)


def versions() -> str:
    """One line: machine, load and library versions."""
    import numpy
    import pandas
    import scipy
    import sklearn

    try:
        import river

        river_version = river.__version__
    except ImportError:  # pragma: no cover
        river_version = "not installed"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores, load average "
            f"{load}; Python {platform.python_version()}, numpy {numpy.__version__}, scipy "
            f"{scipy.__version__}, pandas {pandas.__version__}, scikit-learn "
            f"{sklearn.__version__}, river {river_version}; BLAS threads "
            f"{sorted({p['num_threads'] for p in threadpool_info()})}")


def median_time(work, repeats: int = 3) -> tuple[float, object]:
    """Median wall seconds of ``repeats`` calls of ``work`` and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def sea(n_samples: int):
    """The benchmark stream: SEA with a sudden concept drift halfway."""
    from sim.streams import SEA

    return SEA(n_samples=n_samples, schedule=[{"at": n_samples // 2, "to": 3}])

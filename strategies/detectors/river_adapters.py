"""ADWIN and KSWIN: adapters around River's implementations (optional extra ``river``).

Neither can be vectorised exactly over a chunk (ADWIN's bucket compression and KSWIN's
random subsample of its window are sequential), so rather than a per-sample Python loop
of our own these wrap River 0.26 (ADWIN's core is compiled Rust). River is imported
lazily, at ``reset``; without it a clear ImportError names the extra to install.
"""

from __future__ import annotations

from operator import length_hint

import numpy as np

from sim.checks import Interval, param_error, validate

from .streaming import _Stream

__all__ = ["ADWIN", "KSWIN"]


def _river_drift():
    try:
        from river import drift
    except ImportError as error:
        raise ImportError(
            "ADWIN and KSWIN wrap River's implementations; install the optional extra with "
            "`pip install retrain-sim[river]` (or `pip install river==0.26.*`)."
        ) from error
    return drift


class _RiverAdapter(_Stream):
    """Feeds each value to a River detector and records where it fires."""

    def _make(self):
        raise NotImplementedError

    def _restart(self) -> None:
        self._river = self._make()

    def _process(self, values: np.ndarray) -> None:
        detector, start = self._river, self._n_seen
        fired = []
        for i, value in enumerate(values.tolist()):
            detector.update(value)
            if detector.drift_detected:
                fired.append(i)
        # River restarts by itself at the update after a detection.
        self._drift_indices.extend(start + i for i in fired)


class ADWIN(_RiverAdapter):
    """ADWIN: adaptive windowing (Bifet and Gavalda, 2007), River's implementation.

    Keeps a variable-length window of recent values, compressed in exponential
    histograms, and drops its older part whenever two sub-windows have means that
    differ by more than a Hoeffding-style bound at confidence ``delta``. Defaults are
    River's (``delta`` 0.002 as in the paper's experiments; checks every 32 samples).
    It reports no change point: at its first detection the window it keeps after the
    cut still reaches far back (on 0.1 -> 0.4 error streams changing at sample 3,000, it
    began between samples 1,024 and 2,688 over five seeds), so training on it would be
    training mostly on the old concept.

    Parameters
    ----------
    delta
        Confidence of the test, in (0, 1).
    clock
        Check for a change every ``clock`` samples.
    max_buckets
        Buckets of each size kept before merging.
    min_window_length
        Smallest sub-window considered.
    grace_period
        Samples before the first check.

    References
    ----------
    Bifet, A., Gavalda, R. (2007). Learning from time-changing data with adaptive
    windowing. SIAM International Conference on Data Mining, 443-448.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> errors = np.concatenate([rng.random(1000) < 0.2, rng.random(1000) < 0.5])
    >>> ADWIN().reset().update(errors).drift_indices
    [1055]
    """

    _constraints = {
        "delta": Interval("float", 0.0, 1.0, closed="neither"),
        "clock": Interval("int", 1, None),
        "max_buckets": Interval("int", 1, None),
        "min_window_length": Interval("int", 1, None),
        "grace_period": Interval("int", 1, None),
    }

    def __init__(self, delta: float = 0.002, clock: int = 32, max_buckets: int = 5,
                 min_window_length: int = 5, grace_period: int = 10):
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period

    def _make(self):
        return _river_drift().ADWIN(
            delta=self.delta, clock=self.clock, max_buckets=self.max_buckets,
            min_window_length=self.min_window_length, grace_period=self.grace_period,
        )

    def _process(self, values: np.ndarray) -> None:
        """Feed River's compiled ADWIN core directly, without a Python loop per sample.

        River's ``ADWIN.update(x)`` resets itself when the previous update detected a
        drift and then calls its Rust helper, ``_helper.update(x)``, which returns the
        drift flag. Here ``any(map(helper.update, values))`` runs that loop in C and stops
        at the first detection; the helper is then replaced by a fresh one (what River's
        reset at the next update does), and the rest is fed to it. Same detections as
        the per-sample loop (tests/test_detectors.py cross-checks against River). River
        builds without the compiled helper fall back to the per-sample loop.
        """
        river = self._river
        if not hasattr(river, "_helper") or not hasattr(river, "_reset"):
            super()._process(values)
            return
        if river.drift_detected:  # River's own restart, due at this update
            river._reset()
        remaining = values.tolist()
        done = 0  # values of this update consumed so far
        while remaining:
            it = iter(remaining)
            found = any(map(river._helper.update, it))
            consumed = len(remaining) - length_hint(it)
            if not found:
                break
            done += consumed
            self._drift_indices.append(self._n_seen + done - 1)
            river._reset()  # River restarts at the update after a detection
            remaining = remaining[consumed:]


class KSWIN(_RiverAdapter):
    """KSWIN: Kolmogorov-Smirnov windowing (Raab et al., 2020), River's implementation.

    Keeps the last ``window_size`` values; compares its newest ``stat_size`` values with
    ``stat_size`` values drawn from the rest by a KS test, and signals a drift when the
    p-value is at most ``alpha`` (and the statistic above 0.1). Defaults are River's
    (0.005, 100, 30). On 0/1 error streams the KS test sees two values only: prefer
    a detector made for error rates there.

    Parameters
    ----------
    alpha
        Level of the KS test, in (0, 1).
    window_size
        Length of the sliding window.
    stat_size
        Length of the recent part, at most ``window_size / 2``.
    seed
        Seed of the subsampling (None: fresh entropy).

    References
    ----------
    Raab, C., Heusinger, M., Schleif, F.-M. (2020). Reactive soft prototype computing for
    concept drift streams. Neurocomputing 416, 340-351.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = np.concatenate([rng.normal(0, 1, 500), rng.normal(2, 1, 500)])
    >>> KSWIN(seed=1).reset().update(values).drift_indices
    [517]
    """

    _constraints = {
        "alpha": Interval("float", 0.0, 1.0, closed="neither"),
        "window_size": Interval("int", 2, None),
        "stat_size": Interval("int", 1, None),
        "seed": Interval("int", 0, None, allow_none=True),
    }

    def __init__(self, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30,
                 seed: int | None = None):
        self.alpha = alpha
        self.window_size = window_size
        self.stat_size = stat_size
        self.seed = seed

    def _check_params(self) -> None:
        validate(self)
        if 2 * self.stat_size > self.window_size:
            raise param_error(self, "stat_size",
                              f"an int <= window_size / 2 ({self.window_size / 2:g})",
                              self.stat_size)

    def _make(self):
        return _river_drift().KSWIN(alpha=self.alpha, window_size=self.window_size,
                                    stat_size=self.stat_size, seed=self.seed)

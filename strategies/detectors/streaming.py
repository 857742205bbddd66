"""Detectors on the 0/1 error stream: DDM, EDDM, Page-Hinkley, CUSUM, HDDM-A (native).

Each statistic is cumulative between detections, so a chunk of values is processed with
cumulative sums, running minima and linear filters over the chunk; Python loops run over
blocks and detections, never over samples. After a detection the detector restarts at
the next sample, as River does, and the detection and warning indices equal River
0.26's on identical inputs (see tests/test_detectors.py).

ADWIN and KSWIN cannot be vectorised exactly; they are adapters around River
(:mod:`strategies.detectors.river_adapters`).
"""

from __future__ import annotations

import numpy as np

from sim.checks import Interval, Options, param_error, validate

from .base import StreamingDetector

__all__ = ["CUSUM", "DDM", "EDDM", "HDDMA", "PageHinkley"]

_MIN_BLOCK = 512
_MAX_BLOCK = 1 << 16


def _as_stream(x) -> np.ndarray:
    values = np.asarray(x, dtype=float)
    if values.ndim == 0:
        values = values.reshape(1)
    if values.ndim != 1:
        raise ValueError(f"update() takes a scalar or a 1-D array. Got a {values.ndim}-D array.")
    if not np.all(np.isfinite(values)):
        raise ValueError("update() got NaN or infinite values.")
    return values


class _Stream(StreamingDetector):
    """Bookkeeping shared by every streaming detector: indices, warnings, restarts.

    Subclasses implement ``_restart()`` (clear the statistics) and ``_process(values)``,
    which calls ``_record`` for every run of samples it consumed.
    """

    _constraints: dict = {}

    # -- public state -------------------------------------------------------------------
    @property
    def drift_detected(self) -> bool:
        """True when a drift was signalled within the last update."""
        return bool(getattr(self, "_drift_indices", ()))

    @property
    def drift_indices(self) -> list[int]:
        """Positions (from the last reset) of the drifts signalled in the last update."""
        return list(getattr(self, "_drift_indices", ()))

    @property
    def warning_detected(self) -> bool:
        """True when the detector is in its warning zone after the last update."""
        return bool(getattr(self, "_warning", False))

    @property
    def warning_start(self) -> int | None:
        """Start of the current warning zone, else of the one that led into the last drift."""
        if getattr(self, "_warning", False):
            return self._run_start
        return getattr(self, "_drift_warning_start", None)

    @property
    def n_seen(self) -> int:
        """Number of values consumed since the last reset."""
        return getattr(self, "_n_seen", 0)

    # -- driving ------------------------------------------------------------------------
    def _check_params(self) -> None:
        validate(self)

    def reset(self) -> _Stream:
        """Validate the parameters and clear the state."""
        self._check_params()
        self._n_seen = 0
        self._drift_indices: list[int] = []
        self._warning = False
        self._run_start: int | None = None
        self._drift_warning_start: int | None = None
        self._restart()
        return self

    def update(self, x) -> _Stream:
        """Consume one value or a 1-D array of values, in order."""
        values = _as_stream(x)
        if not hasattr(self, "_n_seen"):
            self.reset()
        self._drift_indices = []
        self._drift_warning_start = None
        self._process(values)
        self._n_seen += values.size
        return self

    def _record(self, start: int, warnings: np.ndarray | None, drift: int = -1) -> None:
        """Account for consumed samples.

        ``start`` is the position of the first one (from the last reset), ``warnings`` the
        warning flags of the samples before the drift (or of all of them; None for a
        detector without warnings), and ``drift`` the offset from ``start`` of the
        detection that ends them (-1 if none).
        """
        if warnings is not None and warnings.size:
            if warnings[-1]:
                off = np.flatnonzero(~warnings)
                if off.size:
                    self._run_start = start + int(off[-1]) + 1
                elif not self._warning:
                    self._run_start = start
                self._warning = True
            else:
                self._warning = False
                self._run_start = None
        if drift >= 0:
            self._drift_indices.append(start + drift)
            self._drift_warning_start = self._run_start if self._warning else None
            self._warning = False
            self._run_start = None
            self._restart()


class _Chunked(_Stream):
    """Native detectors: ``_scan(block)`` returns ``(k, warnings)``.

    ``k`` is the offset of the first detection in ``block`` (-1 if none) and
    ``warnings`` the per-sample warning flags of ``block[:k]`` (or of the whole block);
    without a detection the scan must leave the statistics at the end of the block.
    Blocks start small after a detection and double up to 65,536 samples, so the work
    wasted after a detection stays bounded.
    """

    def reset(self) -> _Chunked:
        """Validate the parameters and clear the state."""
        self._block = _MIN_BLOCK
        return super().reset()

    def _process(self, values: np.ndarray) -> None:
        pos, size = 0, values.size
        block = getattr(self, "_block", _MIN_BLOCK)
        while pos < size:
            chunk = values[pos : pos + block]
            k, warnings = self._scan(chunk)
            if k >= 0:
                self._record(self._n_seen + pos, None if warnings is None else warnings[:k], k)
                pos += k + 1
                block = _MIN_BLOCK
            else:
                self._record(self._n_seen + pos, warnings)
                pos += chunk.size
                block = min(2 * block, _MAX_BLOCK)
        self._block = block

    @staticmethod
    def _first(mask: np.ndarray) -> int:
        return int(np.argmax(mask)) if mask.any() else -1


def _last_index(mask: np.ndarray) -> np.ndarray:
    """For each position, the index of the last True at or before it (-1 if none)."""
    return np.maximum.accumulate(np.where(mask, np.arange(mask.size), -1))


class DDM(_Chunked):
    """Drift Detection Method (Gama et al., 2004).

    With ``p`` the error rate since the last restart and ``s = sqrt(p (1 - p) / n)``,
    DDM records ``p_min`` and ``s_min`` where ``p + s`` was lowest, warns while
    ``p + s > p_min + warning_threshold * s_min`` and signals a drift when
    ``p + s > p_min + drift_threshold * s_min``, after more than ``warm_start``
    samples. Defaults are the paper's (2 and 3 standard deviations: 95% / 99%
    confidence; 30 samples) and River's.

    Parameters
    ----------
    warm_start
        Samples before a warning or drift can be signalled.
    warning_threshold
        Standard deviations above the minimum for the warning zone.
    drift_threshold
        Standard deviations above the minimum for a drift.

    References
    ----------
    Gama, J., Medas, P., Castillo, G., Rodrigues, P. (2004). Learning with drift
    detection. SBIA 2004, LNCS 3171, 286-295.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> errors = np.concatenate([rng.random(1000) < 0.2, rng.random(1000) < 0.5])
    >>> ddm = DDM().reset()
    >>> for step in range(20):  # 20 steps of 100 labeled samples
    ...     _ = ddm.update(errors[100 * step : 100 * (step + 1)])
    ...     if ddm.drift_detected:
    ...         print(f"step {step}: drift at {ddm.drift_indices}", end=", ")
    ...         print(f"warned from {ddm.warning_start}")
    step 10: drift at [1067], warned from 1026
    """

    has_warning = True
    _constraints = {
        "warm_start": Interval("int", 0, None),
        "warning_threshold": Interval("float", 0.0, None, closed="neither"),
        "drift_threshold": Interval("float", 0.0, None, closed="neither"),
    }

    def __init__(self, warm_start: int = 30, warning_threshold: float = 2.0,
                 drift_threshold: float = 3.0):
        self.warm_start = warm_start
        self.warning_threshold = warning_threshold
        self.drift_threshold = drift_threshold

    def _restart(self) -> None:
        self._n = 0
        self._errors = 0.0
        self._ps_min = np.inf
        self._p_min = 0.0
        self._s_min = 0.0

    def _scan(self, block: np.ndarray):
        n = self._n + np.arange(1, block.size + 1)
        errors = self._errors + np.cumsum(block)
        p = errors / n
        s = np.sqrt(p * (1.0 - p) / n)
        ps = p + s
        active = n > self.warm_start
        candidate = np.where(active, ps, np.inf)
        running = np.minimum.accumulate(np.concatenate([[self._ps_min], candidate]))
        is_new_min = active & (candidate <= running[:-1])
        last = _last_index(is_new_min)
        p_min = np.where(last >= 0, p[last], self._p_min)
        s_min = np.where(last >= 0, s[last], self._s_min)
        warnings = active & (ps > p_min + self.warning_threshold * s_min)
        k = self._first(active & (ps > p_min + self.drift_threshold * s_min))
        if k < 0:
            self._n, self._errors = int(n[-1]), float(errors[-1])
            self._ps_min, self._p_min, self._s_min = running[-1], p_min[-1], s_min[-1]
        return k, warnings


class EDDM(_Chunked):
    """Early Drift Detection Method (Baena-Garcia et al., 2006).

    Tracks the distance between consecutive errors: its running mean ``p'`` and standard
    deviation ``s'``, and the maximum of ``p' + 2 s'``. After more than ``warm_start``
    samples and errors, at each error, it warns when ``(p' + 2 s') / max < alpha`` and
    signals a drift when the ratio is below ``beta``. Defaults are the paper's
    (alpha 0.95, beta 0.9, 30 errors) and River's.

    Parameters
    ----------
    warm_start
        Samples and errors needed before a warning or drift.
    alpha
        Warning level of the ratio, in (0, 1], >= ``beta``.
    beta
        Drift level of the ratio, in (0, 1].

    References
    ----------
    Baena-Garcia, M., del Campo-Avila, J., Fidalgo, R., Bifet, A., Gavalda, R.,
    Morales-Bueno, R. (2006). Early drift detection method. Fourth International
    Workshop on Knowledge Discovery from Data Streams.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> errors = np.concatenate([rng.random(1000) < 0.2, rng.random(1000) < 0.5])
    >>> eddm = EDDM(alpha=0.8, beta=0.75).reset()
    >>> for step in range(20):
    ...     _ = eddm.update(errors[100 * step : 100 * (step + 1)])
    ...     if eddm.drift_detected:
    ...         print(f"step {step}: drift at {eddm.drift_indices}", end=", ")
    ...         print(f"warned from {eddm.warning_start}")
    step 11: drift at [1190], warned from 1094
    """

    has_warning = True
    _constraints = {
        "warm_start": Interval("int", 0, None),
        "alpha": Interval("float", 0.0, 1.0, closed="right"),
        "beta": Interval("float", 0.0, 1.0, closed="right"),
    }

    def __init__(self, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9):
        self.warm_start = warm_start
        self.alpha = alpha
        self.beta = beta

    def _check_params(self) -> None:
        validate(self)
        if self.alpha < self.beta:
            raise param_error(self, "alpha", f">= beta ({self.beta!r})", self.alpha)

    def _restart(self) -> None:
        self._n = 0
        self._last_error = 0
        self._n_errors = 0
        self._sum = 0.0
        self._sum_sq = 0.0
        self._max = -1.0

    def _scan(self, block: np.ndarray):
        at = np.flatnonzero(block == 1)
        warnings = np.zeros(block.size, dtype=bool)
        if at.size == 0:
            warnings[:] = self._warning
            self._n += block.size
            return -1, warnings
        n = self._n + at + 1  # sample count at each error
        distance = np.diff(np.concatenate([[self._last_error], n])).astype(float)
        count = self._n_errors + np.arange(1, at.size + 1)
        total = self._sum + np.cumsum(distance)
        total_sq = self._sum_sq + np.cumsum(distance**2)
        mean = total / count
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(count > 1, (total_sq - total * mean) / (count - 1), 0.0)
        level = mean + 2.0 * np.sqrt(np.maximum(var, 0.0))
        active = n > self.warm_start
        running = np.maximum.accumulate(
            np.concatenate([[self._max], np.where(active, level, -np.inf)]))
        previous = running[:-1]
        checked = active & ~(level > previous) & (count > self.warm_start)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = level / previous
        drift = checked & (ratio < self.beta)
        j = self._first(drift)
        stop = at.size if j < 0 else j  # error events before the drift
        # Warning state changes only at checked errors; carry it forward between them.
        sets = checked[:stop]
        value = np.concatenate([[self._warning], (ratio[:stop] < self.alpha)[sets]])
        setters = np.concatenate([[-1], at[:stop][sets]])
        which = np.searchsorted(setters, np.arange(block.size), side="right") - 1
        warnings = value[which]
        if j >= 0:
            k = int(at[j])
            return k, warnings[:k]
        self._n += block.size
        self._last_error = int(n[-1])
        self._n_errors = int(count[-1])
        self._sum, self._sum_sq, self._max = float(total[-1]), float(total_sq[-1]), running[-1]
        return -1, warnings


class PageHinkley(_Chunked):
    """Page-Hinkley test (Page, 1954) with a fading factor, as in River and MOA.

    With ``m`` the mean since the last restart, ``S_t = alpha S_{t-1} + (x_t - m_t) -
    delta`` (and a mirrored sum with ``+ delta`` for decreases); a drift is signalled
    when ``S_t - min S > threshold`` (increase) or ``max S' - S'_t > threshold``
    (decrease), after ``min_instances`` samples. Defaults are River's and MOA's
    ``PageHinkleyDM`` (30, 0.005, 50, 1 - 1e-4). With ``alpha=1`` and ``mode="up"`` it
    signals exactly where :class:`CUSUM` does.

    Parameters
    ----------
    min_instances
        Samples before a drift can be signalled.
    delta
        Magnitude of change tolerated.
    threshold
        Detection threshold (lambda).
    alpha
        Forgetting factor of the cumulative sums, in (0, 1].
    mode
        ``"up"`` (increases only), ``"down"`` or ``"both"``.

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> errors = np.concatenate([rng.random(1000) < 0.2, rng.random(1000) < 0.5])
    >>> PageHinkley().reset().update(errors).drift_indices
    [1156]
    """

    _constraints = {
        "min_instances": Interval("int", 0, None),
        "delta": Interval("float", 0.0, None),
        "threshold": Interval("float", 0.0, None, closed="neither"),
        "alpha": Interval("float", 0.0, 1.0, closed="right"),
        "mode": Options(("up", "down", "both")),
    }

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "both"):
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode

    def _restart(self) -> None:
        self._n = 0
        self._total = 0.0
        self._sum_increase = 0.0
        self._sum_decrease = 0.0
        self._min_increase = np.inf
        self._max_decrease = -1.0  # River's initial value

    def _scan(self, block: np.ndarray):
        n = self._n + np.arange(1, block.size + 1)
        total = self._total + np.cumsum(block)
        deviation = block - total / n
        from scipy.signal import lfilter  # here: scipy.signal costs 0.15 s of every start-up

        a = [1.0, -self.alpha]
        inc, _ = lfilter([1.0], a, deviation - self.delta, zi=[self.alpha * self._sum_increase])
        dec, _ = lfilter([1.0], a, deviation + self.delta, zi=[self.alpha * self._sum_decrease])
        min_inc = np.minimum.accumulate(np.concatenate([[self._min_increase], inc]))[1:]
        max_dec = np.maximum.accumulate(np.concatenate([[self._max_decrease], dec]))[1:]
        up = inc - min_inc > self.threshold
        down = max_dec - dec > self.threshold
        fire = up if self.mode == "up" else down if self.mode == "down" else up | down
        k = self._first(fire & (n >= self.min_instances))
        if k < 0:
            self._n, self._total = int(n[-1]), float(total[-1])
            self._sum_increase, self._sum_decrease = float(inc[-1]), float(dec[-1])
            self._min_increase, self._max_decrease = float(min_inc[-1]), float(max_dec[-1])
        return k, None


class CUSUM(_Chunked):
    """One-sided CUSUM (Page, 1954) on the error rate, as MOA's ``CusumDM``.

    ``S_t = max(0, S_{t-1} + x_t - m_t - delta)`` with ``m_t`` the mean since the last
    restart (including ``x_t``): the sum grows while errors come faster than the rate
    seen so far by more than ``delta``. A drift is signalled when ``S_t > threshold``,
    from the ``min_instances``-th sample on. Defaults are MOA's ``CusumDM`` (30, 0.005,
    50; MOA starts checking one sample earlier). Only increases of the error rate are
    detected. Not in River; tested against a plain loop.

    Parameters
    ----------
    min_instances
        Samples before a drift can be signalled.
    delta
        Slack subtracted at each step (the allowance ``k`` of the CUSUM chart).
    threshold
        Decision threshold ``h``.

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. Biometrika 41(1/2), 100-115.
    Bifet, A., Holmes, G., Kirkby, R., Pfahringer, B. (2010). MOA: Massive Online
    Analysis. JMLR 11, 1601-1604.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> errors = np.concatenate([rng.random(1000) < 0.2, rng.random(1000) < 0.5])
    >>> CUSUM().reset().update(errors).drift_indices
    [1156]
    >>> CUSUM(threshold=20.0).reset().update(errors).drift_indices  # faster, less robust
    [1049, 1887]
    """

    _constraints = {
        "min_instances": Interval("int", 0, None),
        "delta": Interval("float", 0.0, None),
        "threshold": Interval("float", 0.0, None, closed="neither"),
    }

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0):
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold

    def _restart(self) -> None:
        self._n = 0
        self._total = 0.0
        self._sum = 0.0

    def _scan(self, block: np.ndarray):
        n = self._n + np.arange(1, block.size + 1)
        total = self._total + np.cumsum(block)
        steps = np.cumsum(block - total / n - self.delta)
        # Lindley recursion S_t = max(0, S_{t-1} + u_t) in closed form.
        floor = np.minimum.accumulate(np.concatenate([[-self._sum], steps]))[1:]
        s = steps - floor
        k = self._first((s > self.threshold) & (n >= self.min_instances))
        if k < 0:
            self._n, self._total, self._sum = int(n[-1]), float(total[-1]), float(s[-1])
        return k, None


class HDDMA(_Chunked):
    """HDDM-A: drift detection with Hoeffding bounds on moving averages.

    Keeps the cut point where ``mean + eps`` (Hoeffding bound at confidence
    ``drift_confidence``) was lowest; signals a drift when the mean since then exceeds
    the mean before by a Hoeffding margin at confidence ``drift_confidence``, and warns at
    ``warning_confidence``. ``two_sided_test`` also watches decreases. Defaults are
    the paper's, MOA's and River's (0.001, 0.005, one-sided).

    Parameters
    ----------
    drift_confidence
        Confidence level of the drift test, in (0, 1).
    warning_confidence
        Confidence level of the warning test, in (0, 1).
    two_sided_test
        Also detect decreases of the mean.

    References
    ----------
    Frias-Blanco, I., del Campo-Avila, J., Ramos-Jimenez, G., Morales-Bueno, R.,
    Ortiz-Diaz, A., Caballero-Mota, Y. (2015). Online and non-parametric drift detection
    methods based on Hoeffding's bounds. IEEE TKDE 27(3), 810-823.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> errors = np.concatenate([rng.random(1000) < 0.2, rng.random(1000) < 0.5])
    >>> hddm = HDDMA().reset()
    >>> for step in range(20):
    ...     _ = hddm.update(errors[100 * step : 100 * (step + 1)])
    ...     if hddm.drift_detected:
    ...         print(f"step {step}: drift at {hddm.drift_indices}", end=", ")
    ...         print(f"warned from {hddm.warning_start}")
    step 10: drift at [1014], warned from 1010
    """

    has_warning = True
    _constraints = {
        "drift_confidence": Interval("float", 0.0, 1.0, closed="neither"),
        "warning_confidence": Interval("float", 0.0, 1.0, closed="neither"),
        "two_sided_test": Options((False, True)),
    }

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005,
                 two_sided_test: bool = False):
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.two_sided_test = two_sided_test

    def _restart(self) -> None:
        self._n = 0
        self._total = 0.0
        self._low = (np.inf, 0, 0.0)  # (mean + eps, n, mean) at the cut for increases
        self._high = (-np.inf, 0, 0.0)  # (mean - eps, n, mean) at the cut for decreases

    def _cut(self, value, cummulate, state, n, mean, better):
        running = cummulate(np.concatenate([[state[0]], value]))
        last = _last_index(better(value, running[:-1]))
        cut_n = np.where(last >= 0, n[np.maximum(last, 0)], state[1])
        cut_mean = np.where(last >= 0, mean[np.maximum(last, 0)], state[2])
        return running, cut_n, cut_mean

    def _exceeds(self, n, cut_n, gap, confidence):
        with np.errstate(divide="ignore", invalid="ignore"):
            m = (n - cut_n) / cut_n * (1.0 / n)
            eps = np.sqrt(m / 2 * np.log(2.0 / confidence))
        return (cut_n != n) & (gap >= eps)

    def _scan(self, block: np.ndarray):
        n = self._n + np.arange(1, block.size + 1)
        total = self._total + np.cumsum(block)
        mean = total / n
        eps = np.sqrt(1.0 / (2 * n) * np.log(1.0 / self.drift_confidence))
        low, low_n, low_mean = self._cut(mean + eps, np.minimum.accumulate, self._low, n, mean,
                                         np.less_equal)
        drift = self._exceeds(n, low_n, mean - low_mean, self.drift_confidence)
        warn = ~drift & self._exceeds(n, low_n, mean - low_mean, self.warning_confidence)
        if self.two_sided_test:
            high, high_n, high_mean = self._cut(mean - eps, np.maximum.accumulate, self._high,
                                                n, mean, np.greater_equal)
            down = self._exceeds(n, high_n, high_mean - mean, self.drift_confidence)
            warn |= ~down & self._exceeds(n, high_n, high_mean - mean, self.warning_confidence)
            drift |= down
        k = self._first(drift)
        if k < 0:
            self._n, self._total = int(n[-1]), float(total[-1])
            self._low = (low[-1], int(low_n[-1]), float(low_mean[-1]))
            if self.two_sided_test:
                self._high = (high[-1], int(high_n[-1]), float(high_mean[-1]))
        return k, warn

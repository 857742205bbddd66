"""The two detector families: two-sample tests on features, and detectors on error streams.

- :class:`TwoSampleTest`: compares a reference sample (the deployed model's training
  window) with a current one (recent inputs), for every feature at once. ``fit`` once
  per reference, ``test`` every step.
- :class:`StreamingDetector`: consumes the 0/1 error stream of labeled samples in arrival
  order and signals drifts (and, for some, warnings).

:func:`adjust_p_values` applies a multiple-testing correction across features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator

__all__ = ["CORRECTIONS", "StreamingDetector", "TestResult", "TwoSampleTest", "adjust_p_values"]

CORRECTIONS = ("none", "bonferroni", "holm", "bh")


@dataclass(frozen=True)
class TestResult:
    """Per-feature outcome of a two-sample test.

    Parameters
    ----------
    statistic
        One statistic per feature, shape ``(n_features,)`` (shape ``(1,)`` for a
        multivariate test).
    p_value
        Matching p-values, or None where the test has none (then a threshold on the
        statistic decides).
    """

    __test__ = False  # not a pytest test class

    statistic: np.ndarray
    p_value: np.ndarray | None = None


class TwoSampleTest(BaseEstimator):
    """Base class of two-sample tests between a reference and a current sample.

    Subclasses implement :meth:`fit` (precompute what depends on the reference only,
    e.g. sort it once) and :meth:`test`. Class attributes say how the result is read:

    Attributes
    ----------
    multivariate
        True when the test returns one statistic for all features together.
    has_p_value
        True when :meth:`test` returns p-values (decide with ``alpha``); otherwise
        decide with a threshold on the statistic.
    default_threshold
        The threshold used when a test without p-values is given none.
    """

    __test__ = False

    multivariate = False
    has_p_value = True
    default_threshold: float | None = None

    def fit(self, reference: np.ndarray) -> TwoSampleTest:
        """Store what the test needs of the reference sample, shape ``(n, n_features)``."""
        raise NotImplementedError

    def test(self, current: np.ndarray) -> TestResult:
        """Compare ``current`` (shape ``(m, n_features)``) with the fitted reference."""
        raise NotImplementedError

    def score(self, reference: np.ndarray, current: np.ndarray) -> TestResult:
        """Fit on ``reference`` and test ``current`` in one call."""
        return self.fit(reference).test(current)


class StreamingDetector(BaseEstimator):
    """Base class of detectors on a stream of 0/1 errors (or bounded losses).

    ``reset()`` validates the parameters and builds the state; ``update(x)`` consumes
    one value or a 1-D array of values in order. After each update:

    Attributes
    ----------
    drift_detected
        True when a drift was signalled within the last update.
    drift_indices
        Positions (counted from the last ``reset``, 0-based) of every sample at which a
        drift was signalled during the last update; the detector restarts after each.
    warning_detected
        True when the detector is in its warning zone after the last update.
    warning_start
        Position (counted from the last ``reset``) where the current warning zone, or
        the one that preceded the last drift, began; None if there was none.
    n_seen
        Number of values consumed since the last reset.
    """

    has_warning = False

    def reset(self) -> StreamingDetector:
        """Validate the parameters and clear the state."""
        raise NotImplementedError

    def update(self, x) -> StreamingDetector:
        """Consume one value or a 1-D array of values, in order."""
        raise NotImplementedError


def adjust_p_values(p_values: np.ndarray, correction: str) -> np.ndarray:
    """Adjust per-feature p-values for multiple testing.

    Parameters
    ----------
    p_values
        Raw p-values, shape ``(n_features,)``.
    correction
        ``"none"``, ``"bonferroni"``, ``"holm"`` (step-down, controls the family-wise
        error rate) or ``"bh"`` (Benjamini-Hochberg, controls the false discovery rate).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, to compare with ``alpha`` directly.

    Examples
    --------
    >>> adjust_p_values(np.array([0.01, 0.04, 0.03]), "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if correction == "none":
        return p
    if correction == "bonferroni":
        return np.minimum(p * m, 1.0)
    if correction == "holm":
        order = np.argsort(p)
        stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
        return adjusted
    if correction == "bh":
        return stats.false_discovery_control(p, method="bh")
    raise ValueError(
        f"The 'correction' parameter must be one of {CORRECTIONS}. Got {correction!r} instead."
    )

"""Drift detectors: two-sample tests on features and detectors on error streams.

Two-sample tests (:class:`TwoSampleTest`): :class:`KS`, :class:`PSI`, :class:`ChiSquare`,
:class:`Wasserstein`, :class:`JensenShannon`, :class:`MMD`, :class:`DomainClassifier`.

Error-stream detectors (:class:`StreamingDetector`): :class:`DDM`, :class:`EDDM`,
:class:`PageHinkley`, :class:`CUSUM`, :class:`HDDMA` (native, vectorised) and
:class:`ADWIN`, :class:`KSWIN` (adapters around River, optional extra ``river``).
"""

from .base import CORRECTIONS, StreamingDetector, TestResult, TwoSampleTest, adjust_p_values
from .river_adapters import ADWIN, KSWIN
from .streaming import CUSUM, DDM, EDDM, HDDMA, PageHinkley
from .two_sample import KS, MMD, PSI, ChiSquare, DomainClassifier, JensenShannon, Wasserstein

__all__ = [
    "ADWIN",
    "CORRECTIONS",
    "CUSUM",
    "DDM",
    "EDDM",
    "HDDMA",
    "KS",
    "KSWIN",
    "MMD",
    "PSI",
    "ChiSquare",
    "DomainClassifier",
    "JensenShannon",
    "PageHinkley",
    "StreamingDetector",
    "TestResult",
    "TwoSampleTest",
    "Wasserstein",
    "adjust_p_values",
]

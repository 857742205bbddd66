"""Two-sample (data-drift) tests: every feature of a current sample against a reference.

Each test is fitted once per reference (the deployed model's training window): what
depends on the reference only (its sorted columns, quantile bin edges, category
counts, a subsample) is computed in :meth:`~TwoSampleTest.fit` and reused by every
:meth:`~TwoSampleTest.test`. The univariate tests work on all features at once, without
a Python loop over features.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats
from sklearn.exceptions import NotFittedError

from sim.checks import Instance, Interval, validate

from .base import TestResult, TwoSampleTest

__all__ = [
    "KS",
    "MMD",
    "PSI",
    "ChiSquare",
    "DomainClassifier",
    "JensenShannon",
    "Wasserstein",
]


def _as_2d(X, what: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"The {what} sample must be 2-D (n_samples, n_features). Got {X.ndim}-D.")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"The {what} sample is empty (shape {X.shape}).")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"The {what} sample contains NaN or infinite values.")
    return X


class _Fitted(TwoSampleTest):
    """Shared input handling: validation at fit, feature-count check at test."""

    _constraints: dict = {}
    #: True only for a test whose ``test(current)`` is a pure function of the fitted
    #: reference, ``current`` and the parameters (no random state advanced between
    #: calls): its results may then be shared between runs (see DataDrift and
    #: sim.cache.ReferenceMemo). A subclass declares it; the default is not to share.
    _memoisable = False

    def _start_fit(self, reference) -> np.ndarray:
        validate(self)
        X = _as_2d(reference, "reference")
        self._n_features = X.shape[1]
        self._n_reference = X.shape[0]
        return X

    def _start_test(self, current) -> np.ndarray:
        if not hasattr(self, "_n_features"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted; call fit(reference).")
        X = _as_2d(current, "current")
        if X.shape[1] != self._n_features:
            raise ValueError(
                f"The current sample has {X.shape[1]} features; the reference had "
                f"{self._n_features}."
            )
        return X


def _pooled_ecdfs(ref_sorted: np.ndarray, current: np.ndarray):
    """ECDF counts of both samples at every pooled point, all columns at once.

    The reference columns are already sorted, so the stable merge sort of the
    concatenation mostly merges two runs. Returns the pooled sorted values, the number of
    reference and current points ``<=`` each pooled point (valid at the last of a run of
    ties) and the mask of those last-of-tie positions.
    """
    n = ref_sorted.shape[0]
    pooled = np.concatenate([ref_sorted, np.sort(current, axis=0)])
    order = np.argsort(pooled, axis=0, kind="stable")
    values = np.take_along_axis(pooled, order, axis=0)
    cum_ref = np.cumsum(order < n, axis=0)
    cum_cur = np.arange(1, pooled.shape[0] + 1)[:, None] - cum_ref
    last_of_tie = np.ones(values.shape, dtype=bool)
    last_of_tie[:-1] = values[1:] != values[:-1]
    return values, cum_ref, cum_cur, last_of_tie


_MEMO_SIZE = 100_000
_SF_MEMO: dict[tuple[float, float], float] = {}  # KS._p_values: (en, statistic) -> p-value

try:  # the function behind scipy.stats.kstwo.sf (private; the public path is the fallback)
    from scipy.stats._ksstats import kolmogn as _kolmogn
except ImportError:  # pragma: no cover
    _kolmogn = None


def _kstwo_sf(x: np.ndarray, en: float) -> np.ndarray:
    """``scipy.stats.kstwo.sf(x, en)`` for integer ``en >= 1``, without its dispatch.

    ``rv_continuous.sf`` checks the arguments, returns 1 at or below the support's lower
    end (0), 0 at or above its upper end (1) and ``kolmogn(en, x, cdf=False)`` inside,
    which is what this does: the same values (checked on the whole statistic lattice
    of several sample sizes), at about a third of the cost per call for the few
    values a KS check needs (the argument handling took ~0.14 ms a call).
    """
    if _kolmogn is None or not (en >= 1 and en == np.round(en)):  # scipy gives NaN there
        return stats.kstwo.sf(x, en)
    out = np.zeros(x.shape)
    out[x <= 0.0] = 1.0
    inside = (x > 0.0) & (x < 1.0)
    if inside.any():
        out[inside] = _kolmogn(en, x[inside], cdf=False)
    return out


def _ks_statistic(ref_rows: np.ndarray, cur_sorted: np.ndarray) -> np.ndarray:
    """Largest distance between the two ECDFs of each feature.

    ``ref_rows`` holds each feature's sorted reference values as a contiguous row;
    ``cur_sorted`` is the current sample sorted along axis 0. Between two consecutive
    distinct current values the current ECDF is constant and the reference ECDF rises,
    so the distance is largest at a current value (both ECDFs taken at it) or just below
    one (both taken below it). Those pairs of counts are a subset, holding the maximum,
    of the pooled points :func:`_pooled_ecdfs` evaluates, and the distance is computed
    with the same arithmetic, so the statistic is identical; ranks are found by binary
    search (O(m log n) per feature, one ``searchsorted`` per side and feature) instead
    of merging the samples (O(n + m) with a larger constant).
    """
    d, n = ref_rows.shape
    m = cur_sorted.shape[0]
    cur = np.ascontiguousarray(cur_sorted.T)
    at_or_below = np.empty((d, m), dtype=np.intp)
    below = np.empty((d, m), dtype=np.intp)
    last = n - 1
    for f in range(d):  # no vectorised searchsorted across rows in numpy
        row, values = ref_rows[f], cur[f]
        below[f] = left = np.searchsorted(row, values, side="left")
        # "<=" counts differ from "<" counts only where a current value occurs in the
        # reference (then row[left] equals it); otherwise they are the same array
        if (row[np.minimum(left, last)] == values).any():
            at_or_below[f] = np.searchsorted(row, values, side="right")
        else:
            at_or_below[f] = left
    at = np.abs(at_or_below / n - np.arange(1, m + 1) / m)
    before = np.abs(below / n - np.arange(m) / m)
    tie = cur[:, 1:] == cur[:, :-1]  # ties: only the last (at) / first (before) counts
    if tie.any():
        at[:, :-1][tie] = 0.0
        before[:, 1:][tie] = 0.0
    return np.maximum(at.max(axis=1), before.max(axis=1))


class KS(_Fitted):
    """Two-sample Kolmogorov-Smirnov test on every feature.

    The statistic is the largest distance between the two empirical CDFs. It equals
    ``scipy.stats.ks_2samp(ref, cur).statistic``; the p-value equals scipy's
    ``method="asymp"`` (Smirnov's limiting distribution, ``kstwo`` at
    ``round(n m / (n + m))``), which needs no per-feature loop and is accurate at the
    sample sizes drift monitoring uses. With ties (discrete features) it is conservative.

    The reference is sorted once in :meth:`fit`; :meth:`test` sorts the current sample
    and finds its values' ranks in the reference by binary search. P-values already
    computed by the test object are remembered (the statistic takes few distinct values).

    References
    ----------
    Smirnov, N. (1948). Table for estimating the goodness of fit of empirical
    distributions. Annals of Mathematical Statistics 19(2), 279-281.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(2000, 3))
    >>> current = rng.normal(size=(300, 3)) + [0.0, 0.0, 0.5]
    >>> result = KS().fit(reference).test(current)
    >>> (result.p_value < 0.01).tolist()
    [False, False, True]
    """

    _memoisable = True  # pure: test(current) advances no random state

    def fit(self, reference) -> KS:
        """Sort the reference once."""
        X = self._start_fit(reference)
        self._ref_sorted = np.sort(X, axis=0)
        self._ref_rows = np.ascontiguousarray(self._ref_sorted.T)
        return self

    def test(self, current) -> TestResult:
        """KS statistic and asymptotic p-value of each feature."""
        X = self._start_test(current)
        n, m = self._n_reference, X.shape[0]
        statistic = _ks_statistic(self._ref_rows, np.sort(X, axis=0))
        big, small = max(n, m), min(n, m)
        en = np.round(big * small / (big + small))
        return TestResult(statistic=statistic, p_value=self._p_values(statistic, en))

    def _p_values(self, statistic: np.ndarray, en: float) -> np.ndarray:
        """``clip(kstwo.sf(statistic, en), 0, 1)``, remembering values already computed.

        The statistic takes few distinct values (differences of multiples of 1/n and
        1/m), and scipy's ``kstwo.sf`` costs about 0.1-0.25 ms per value, so each
        ``(en, statistic)`` is computed once per process (``sf`` is elementwise, so the
        values are those of one call on the whole array): the runs of a sweep or a
        ``compare`` see the same pairs (a trigger's own reference after an alarm grows
        through the same sizes in every run that fired there).
        """
        memo = _SF_MEMO
        en = float(en)
        values = statistic.tolist()
        missing = [v for v in dict.fromkeys(values) if (en, v) not in memo]
        if missing:
            if len(memo) > _MEMO_SIZE:
                memo.clear()
            computed = np.clip(_kstwo_sf(np.array(missing), en), 0.0, 1.0)
            memo.update(zip(((en, v) for v in missing), computed.tolist(), strict=True))
        return np.array([memo[(en, v)] for v in values])


class Wasserstein(_Fitted):
    """First Wasserstein (earth mover's) distance per feature, scaled by the reference spread.

    The statistic is ``scipy.stats.wasserstein_distance(ref, cur) / std(ref)`` (population
    standard deviation, ``ddof=0``), so one threshold means the same on every feature:
    0.1 is a shift of a tenth of a standard deviation's worth of mass. A feature that is
    constant in the reference gets 0 if it is still that constant and ``inf`` otherwise.
    No p-value: decide with a threshold (default 0.1, Evidently's default for its
    normed Wasserstein distance).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(2000, 2))
    >>> current = rng.normal(size=(500, 2)) + [0.0, 0.5]
    >>> Wasserstein().fit(reference).test(current).statistic.round(1).tolist()
    [0.1, 0.5]
    """

    _memoisable = True  # pure: test(current) advances no random state

    has_p_value = False
    default_threshold = 0.1

    def fit(self, reference) -> Wasserstein:
        """Sort the reference once and store its standard deviation."""
        X = self._start_fit(reference)
        self._ref_sorted = np.sort(X, axis=0)
        self._scale = X.std(axis=0)
        return self

    def test(self, current) -> TestResult:
        """Scaled Wasserstein-1 distance of each feature."""
        X = self._start_test(current)
        n, m = self._n_reference, X.shape[0]
        values, cum_ref, cum_cur, _ = _pooled_ecdfs(self._ref_sorted, X)
        widths = np.diff(values, axis=0)
        gaps = np.abs(cum_ref[:-1] / n - cum_cur[:-1] / m)
        distance = np.sum(gaps * widths, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = np.where(
                self._scale > 0, distance / np.where(self._scale > 0, self._scale, 1.0),
                np.where(distance > 0, np.inf, 0.0),
            )
        return TestResult(statistic=statistic)


class _Binned(_Fitted):
    """Bins from reference quantiles; shared by PSI and Jensen-Shannon."""

    _constraints = {"n_bins": Interval("int", 2, None)}

    def _fit_bins(self, reference) -> None:
        X = self._start_fit(reference)
        quantiles = np.linspace(0.0, 1.0, self.n_bins + 1)[1:-1]
        self._edges = np.quantile(X, quantiles, axis=0)  # (n_bins - 1, n_features)
        self._ref_props = self._proportions(X)

    def _proportions(self, X: np.ndarray) -> np.ndarray:
        """Share of rows in each bin, shape ``(n_features, n_bins)``; bins are ``[e_k, e_k+1)``."""
        n, d = X.shape
        n_edges = self._edges.shape[0]
        block = max(1, (1 << 22) // max(1, d * n_edges))
        counts = np.zeros(d * self.n_bins, dtype=np.int64)
        offsets = np.arange(d) * self.n_bins
        for start in range(0, n, block):  # blocks of rows bound the memory, not a feature loop
            rows = X[start : start + block]
            bins = np.sum(rows[:, None, :] >= self._edges[None, :, :], axis=1)
            counts += np.bincount((bins + offsets).ravel(), minlength=d * self.n_bins)
        return counts.reshape(d, self.n_bins) / n


class PSI(_Binned):
    """Population stability index per feature, on bins from reference quantiles.

    ``PSI = sum_k (c_k - r_k) ln(c_k / r_k)`` over ``n_bins`` bins whose edges are the
    reference's quantiles (so each holds about ``1 / n_bins`` of the reference), with
    ``r_k`` / ``c_k`` the reference / current shares. An empty bin would make the
    logarithm infinite, so shares below ``floor`` are raised to ``floor`` (1e-4, as
    Evidently does) before the sum; with tied reference values several edges coincide and
    the bins between them are empty in both samples, contributing 0.

    No p-value: decide with a threshold. The default 0.2 is the common rule of thumb from
    credit scoring (below 0.1: no change; 0.1-0.25: some change; above 0.25: a shift;
    Siddiqi 2006; Yurdakul 2018), where 0.2 is the usual single cut-off. PSI grows with
    ``n_bins`` and, on small current samples, from sampling noise alone: check the
    false-positive rate at your window size (see docs/detectors.md).

    Parameters
    ----------
    n_bins
        Number of quantile bins, >= 2.
    floor
        Smallest share used in the logarithm, in (0, 1).

    References
    ----------
    Siddiqi, N. (2006). Credit Risk Scorecards. Wiley.
    Yurdakul, B. (2018). Statistical properties of population stability index.
    Dissertation, Western Michigan University.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(5000, 2))
    >>> current = rng.normal(size=(1000, 2)) + [0.0, 0.5]
    >>> psi = PSI().fit(reference).test(current).statistic
    >>> (psi > PSI.default_threshold).tolist()
    [False, True]
    """

    _memoisable = True  # pure: test(current) advances no random state

    has_p_value = False
    default_threshold = 0.2
    _constraints = {
        "n_bins": Interval("int", 2, None),
        "floor": Interval("float", 0.0, 1.0, closed="neither"),
    }

    def __init__(self, n_bins: int = 10, floor: float = 1e-4):
        self.n_bins = n_bins
        self.floor = floor

    def fit(self, reference) -> PSI:
        """Compute the quantile bin edges and the reference shares."""
        self._fit_bins(reference)
        return self

    def test(self, current) -> TestResult:
        """PSI of each feature."""
        X = self._start_test(current)
        ref = np.maximum(self._ref_props, self.floor)
        cur = np.maximum(self._proportions(X), self.floor)
        return TestResult(statistic=np.sum((cur - ref) * np.log(cur / ref), axis=1))


class JensenShannon(_Binned):
    """Jensen-Shannon distance per feature, on bins from reference quantiles.

    The statistic equals ``scipy.spatial.distance.jensenshannon(r, c, base=base)`` of the
    binned shares (the square root of the divergence; in ``[0, 1]`` for base 2). No
    p-value: decide with a threshold (default 0.1, Evidently's default).

    Parameters
    ----------
    n_bins
        Number of quantile bins, >= 2.
    base
        Base of the logarithm, > 1.

    References
    ----------
    Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE Transactions
    on Information Theory 37(1), 145-151.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(5000, 2))
    >>> current = rng.normal(size=(1000, 2)) + [0.0, 1.0]
    >>> (JensenShannon().fit(reference).test(current).statistic > 0.1).tolist()
    [False, True]
    """

    _memoisable = True  # pure: test(current) advances no random state

    has_p_value = False
    default_threshold = 0.1
    _constraints = {
        "n_bins": Interval("int", 2, None),
        "base": Interval("float", 1.0, None, closed="neither"),
    }

    def __init__(self, n_bins: int = 10, base: float = 2.0):
        self.n_bins = n_bins
        self.base = base

    def fit(self, reference) -> JensenShannon:
        """Compute the quantile bin edges and the reference shares."""
        self._fit_bins(reference)
        return self

    def test(self, current) -> TestResult:
        """Jensen-Shannon distance of each feature."""
        X = self._start_test(current)
        p, q = self._ref_props, self._proportions(X)
        mid = (p + q) / 2.0
        divergence = np.sum(special.rel_entr(p, mid) + special.rel_entr(q, mid), axis=1)
        divergence /= np.log(self.base)
        return TestResult(statistic=np.sqrt(np.maximum(divergence, 0.0) / 2.0))


class ChiSquare(_Fitted):
    """Pearson chi-square test of homogeneity per categorical feature.

    Features are integer codes (any integers; ``|code| < 2**40``). For each feature the
    2 x K table of reference and current counts over the K categories seen in either
    sample gives the statistic and p-value of
    ``scipy.stats.chi2_contingency(table, correction=False)`` (no Yates correction, also
    for K = 2), with K - 1 degrees of freedom. A feature with one category has statistic
    0 and p-value 1. The chi-square approximation needs expected counts of about 5 or
    more per cell; rare categories make the p-value unreliable.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.integers(0, 4, size=(2000, 2))
    >>> current = np.column_stack([rng.integers(0, 4, 500), rng.integers(0, 3, 500)])
    >>> (ChiSquare().fit(reference).test(current).p_value < 0.01).tolist()
    [False, True]
    """

    _memoisable = True  # pure: test(current) advances no random state

    _max_code = 2**40

    def _codes(self, X: np.ndarray, what: str) -> np.ndarray:
        if not np.all(X == np.round(X)) or np.any(np.abs(X) >= self._max_code):
            raise ValueError(
                f"ChiSquare needs integer-coded categorical features; the {what} sample has "
                "non-integer values or codes beyond 2**40."
            )
        d = X.shape[1]
        return (X.astype(np.int64) * d + np.arange(d)).ravel()  # one key per (code, feature)

    def fit(self, reference) -> ChiSquare:
        """Count the reference categories of every feature."""
        X = self._start_fit(reference)
        self._ref_keys, self._ref_counts = np.unique(self._codes(X, "reference"),
                                                     return_counts=True)
        return self

    def test(self, current) -> TestResult:
        """Chi-square statistic and p-value of each feature."""
        X = self._start_test(current)
        d, n, m = self._n_features, self._n_reference, X.shape[0]
        cur_keys, cur_counts = np.unique(self._codes(X, "current"), return_counts=True)
        keys, inverse = np.unique(np.concatenate([self._ref_keys, cur_keys]),
                                  return_inverse=True)
        observed_ref = np.bincount(inverse[: self._ref_keys.size], self._ref_counts,
                                   minlength=keys.size)
        observed_cur = np.bincount(inverse[self._ref_keys.size :], cur_counts,
                                   minlength=keys.size)
        total = observed_ref + observed_cur
        expected_ref, expected_cur = total * (n / (n + m)), total * (m / (n + m))
        cells = ((observed_ref - expected_ref) ** 2 / expected_ref
                 + (observed_cur - expected_cur) ** 2 / expected_cur)
        feature = np.mod(keys, d)
        statistic = np.bincount(feature, cells, minlength=d)
        dof = np.bincount(feature, minlength=d) - 1
        with np.errstate(invalid="ignore"):
            p_value = np.where(dof > 0, stats.chi2.sf(statistic, np.maximum(dof, 1)), 1.0)
        return TestResult(statistic=statistic, p_value=p_value)


class MMD(_Fitted):
    """Maximum mean discrepancy test on all features together (multivariate).

    Features are standardised with the reference mean and standard deviation. The kernel
    is ``exp(-||x - y||^2 / (2 s^2))`` with ``s`` the median distance between the pooled
    points (the median heuristic, Gretton et al. 2012), the statistic the (biased)
    squared MMD, and the p-value ``(1 + #{permuted >= observed}) / (1 + n_permutations)``
    over random reassignments of the pooled points to the two samples. To stay fast the
    reference is subsampled once, in :meth:`fit`, to ``max_samples`` rows (and so is a
    larger current sample at each test); the permutation test stays exact.

    Parameters
    ----------
    n_permutations
        Number of permutations; the smallest attainable p-value is
        ``1 / (1 + n_permutations)``.
    max_samples
        Largest number of rows of each sample used; the cost of a test grows with
        ``(2 max_samples)^2 n_permutations``.
    seed
        Seed of the subsampling and the permutations (None: fresh entropy). The random
        stream starts at :meth:`fit` and advances with each test.

    References
    ----------
    Gretton, A., Borgwardt, K., Rasch, M., Schoelkopf, B., Smola, A. (2012). A kernel
    two-sample test. Journal of Machine Learning Research 13, 723-773.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(500, 3))
    >>> mmd = MMD(n_permutations=100, seed=0).fit(reference)
    >>> float(mmd.test(rng.normal(size=(100, 3))).p_value[0]) > 0.05
    True
    >>> float(mmd.test(rng.normal(size=(100, 3)) + 0.7).p_value[0])
    0.0099...
    """

    multivariate = True
    _constraints = {
        "n_permutations": Interval("int", 1, None),
        "max_samples": Interval("int", 2, None),
        "seed": Interval("int", 0, None, allow_none=True),
    }

    def __init__(self, n_permutations: int = 200, max_samples: int = 1000,
                 seed: int | None = None):
        self.n_permutations = n_permutations
        self.max_samples = max_samples
        self.seed = seed

    def fit(self, reference) -> MMD:
        """Standardise and subsample the reference; start the random stream."""
        X = self._start_fit(reference)
        self._rng = np.random.default_rng(self.seed)
        self._mean = X.mean(axis=0)
        scale = X.std(axis=0)
        self._scale = np.where(scale > 0, scale, 1.0)
        self._ref = self._subsample((X - self._mean) / self._scale)
        return self

    def _subsample(self, X: np.ndarray) -> np.ndarray:
        if X.shape[0] <= self.max_samples:
            return X
        return X[self._rng.choice(X.shape[0], self.max_samples, replace=False)]

    def test(self, current) -> TestResult:
        """Squared MMD and its permutation p-value (arrays of shape ``(1,)``)."""
        X = self._start_test(current)
        cur = self._subsample((X - self._mean) / self._scale)
        pooled = np.concatenate([self._ref, cur])
        n, m = self._ref.shape[0], cur.shape[0]
        norms = np.einsum("ij,ij->i", pooled, pooled)
        sq = np.maximum(norms[:, None] + norms[None, :] - 2.0 * pooled @ pooled.T, 0.0)
        off_diagonal = sq[np.triu_indices(n + m, k=1)]
        median = np.median(off_diagonal) if off_diagonal.size else 0.0
        if median <= 0:
            positive = off_diagonal[off_diagonal > 0]
            median = np.median(positive) if positive.size else 1.0
        kernel = np.exp(-sq / (2.0 * median))
        weights = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)])
        shuffled = self._rng.permuted(np.tile(weights, (self.n_permutations, 1)), axis=1)
        all_weights = np.vstack([weights, shuffled]).T  # (n + m, 1 + n_permutations)
        mmd2 = np.einsum("ij,ij->j", all_weights, kernel @ all_weights)
        observed = mmd2[0]
        exceed = np.sum(mmd2[1:] >= observed - 1e-12 * abs(observed))
        p_value = (1.0 + exceed) / (1.0 + self.n_permutations)
        return TestResult(statistic=np.array([observed]), p_value=np.array([p_value]))


class DomainClassifier(_Fitted):
    """Domain classifier: how well a classifier tells current rows from reference rows.

    A scikit-learn classifier is trained to separate the reference (label 0) from the
    current sample (label 1); the statistic is the ROC AUC of its out-of-fold scores
    (stratified ``n_splits``-fold cross-validation). 0.5 means indistinguishable, 1
    perfectly separable. It sees all features together, including interactions the
    univariate tests miss. No p-value: decide with a threshold on the AUC (default 0.55;
    the AUC's spread under no drift shrinks with the sample sizes, see
    docs/detectors.md). The reference is subsampled once to ``max_samples`` rows.

    Parameters
    ----------
    estimator
        Unfitted classifier (cloned for each test; its ``random_state``, if any, is set
        from ``seed``). None: ``RandomForestClassifier(n_estimators=50, max_depth=6)``
        (single-threaded, so parallel sweeps do not oversubscribe the cores).
    n_splits
        Number of cross-validation folds, >= 2.
    max_samples
        Largest number of reference rows used.
    seed
        Seed of the subsample, the folds and the classifier (None: fresh entropy).

    References
    ----------
    Rabanser, S., Guennemann, S., Lipton, Z. (2019). Failing loudly: an empirical study
    of methods for detecting dataset shift. NeurIPS.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(1000, 2))
    >>> current = rng.normal(size=(200, 2)) * [1.0, 3.0]  # variance change only
    >>> auc = DomainClassifier(seed=0).fit(reference).test(current).statistic[0]
    >>> bool(auc > DomainClassifier.default_threshold)
    True
    """

    multivariate = True
    has_p_value = False
    default_threshold = 0.55
    _constraints = {
        "estimator": Instance("a scikit-learn classifier", methods=("fit",),
                              any_of=("predict_proba", "decision_function"), allow_none=True),
        "n_splits": Interval("int", 2, None),
        "max_samples": Interval("int", 2, None),
        "seed": Interval("int", 0, None, allow_none=True),
    }

    def __init__(self, estimator=None, n_splits: int = 5, max_samples: int = 2000,
                 seed: int | None = None):
        self.estimator = estimator
        self.n_splits = n_splits
        self.max_samples = max_samples
        self.seed = seed

    def fit(self, reference) -> DomainClassifier:
        """Subsample the reference and start the random stream."""
        X = self._start_fit(reference)
        self._rng = np.random.default_rng(self.seed)
        if X.shape[0] > self.max_samples:
            X = X[self._rng.choice(X.shape[0], self.max_samples, replace=False)]
        self._ref = X
        return self

    def test(self, current) -> TestResult:
        """Cross-validated ROC AUC (array of shape ``(1,)``)."""
        from sklearn.base import clone
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        X = self._start_test(current)
        data = np.concatenate([self._ref, X])
        labels = np.concatenate([np.zeros(self._ref.shape[0]), np.ones(X.shape[0])])
        n_splits = min(self.n_splits, self._ref.shape[0], X.shape[0])
        if n_splits < 2:
            raise ValueError("DomainClassifier needs at least 2 rows in each sample.")
        seed = int(self._rng.integers(2**31 - 1))
        model = (RandomForestClassifier(n_estimators=50, max_depth=6) if self.estimator is None
                 else clone(self.estimator))
        if "random_state" in model.get_params():
            model.set_params(random_state=seed)
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        method = "predict_proba" if hasattr(model, "predict_proba") else "decision_function"
        scores = cross_val_predict(model, data, labels, cv=folds, method=method)
        if scores.ndim == 2:
            scores = scores[:, 1]
        return TestResult(statistic=np.array([roc_auc_score(labels, scores)]))

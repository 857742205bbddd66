"""Detector library: contract suite, scipy and River cross-checks, golden behaviour.

Statistical calibration, power and delay checks are in test_detectors_calibration.py.
"""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import strategies.detectors as det
from strategies.detectors import (
    CUSUM,
    DDM,
    EDDM,
    HDDMA,
    KS,
    KSWIN,
    PSI,
    ChiSquare,
    JensenShannon,
    PageHinkley,
    StreamingDetector,
    TwoSampleTest,
    Wasserstein,
)

river_drift = pytest.importorskip("river.drift")


def _members(base):
    found = []
    for name in det.__all__:
        obj = getattr(det, name)
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base:
            found.append(obj)
    return found


TWO_SAMPLE = _members(TwoSampleTest)
STREAMING = _members(StreamingDetector)


def test_every_member_is_exported():
    assert {c.__name__ for c in TWO_SAMPLE} == {
        "KS", "PSI", "ChiSquare", "Wasserstein", "JensenShannon", "MMD", "DomainClassifier"}
    assert {c.__name__ for c in STREAMING} == {
        "DDM", "EDDM", "PageHinkley", "ADWIN", "KSWIN", "CUSUM", "HDDMA"}
    for name in ("TwoSampleTest", "StreamingDetector", "adjust_p_values", "TestResult"):
        assert name in det.__all__


def _make(cls, **extra):
    params = {"seed": 0} if "seed" in inspect.signature(cls).parameters else {}
    if cls.__name__ == "MMD":
        params["n_permutations"] = 50
    params.update(extra)
    return cls(**params)


def _samples(seed=0, n=300, m=80, d=3, shift=0.0):
    rng = np.random.default_rng(seed)
    # Integer-valued data is valid for every test, including the categorical one.
    reference = rng.integers(0, 5, size=(n, d)).astype(float)
    current = rng.integers(0, 5, size=(m, d)).astype(float)
    current[:, 0] = np.minimum(current[:, 0] + shift, 6)
    return reference, current


def _same(a, b):
    np.testing.assert_array_equal(a.statistic, b.statistic)
    if a.p_value is None:
        assert b.p_value is None
    else:
        np.testing.assert_array_equal(a.p_value, b.p_value)


# --------------------------------------------------------------------------- contract
@pytest.mark.parametrize("cls", TWO_SAMPLE, ids=lambda c: c.__name__)
class TestTwoSampleContract:
    def test_params_round_trip(self, cls):
        est = _make(cls)
        params = est.get_params()
        again = type(est)(**params)
        assert again.get_params() == params
        assert clone(est).get_params() == params
        assert repr(est).startswith(cls.__name__)

    def test_init_stores_arguments_unchanged(self, cls):
        signature = inspect.signature(cls)
        est = cls()
        for name, parameter in signature.parameters.items():
            assert getattr(est, name) is parameter.default

    def test_result_shape_and_p_values(self, cls):
        reference, current = _samples()
        result = _make(cls).fit(reference).test(current)
        expected = (1,) if cls.multivariate else (reference.shape[1],)
        assert result.statistic.shape == expected
        assert np.all(np.isfinite(result.statistic))
        if cls.has_p_value:
            assert result.p_value.shape == expected
            assert np.all((result.p_value >= 0) & (result.p_value <= 1))
        else:
            assert result.p_value is None
            assert cls.default_threshold is not None

    def test_clone_gives_fresh_state(self, cls):
        reference, current = _samples()
        est = _make(cls).fit(reference)
        fresh = clone(est)
        assert not [k for k in vars(fresh) if k.startswith("_")]
        with pytest.raises(NotFittedError):
            fresh.test(current)
        _same(fresh.fit(reference).test(current), clone(est).fit(reference).test(current))

    def test_pickle_keeps_fitted_state(self, cls):
        reference, current = _samples()
        est = _make(cls).fit(reference)
        copy = pickle.loads(pickle.dumps(est))
        _same(est.test(current), copy.test(current))

    def test_same_seed_same_result(self, cls):
        reference, current = _samples(n=2500)  # above max_samples: subsampling is seeded
        first = _make(cls).fit(reference)
        second = _make(cls).fit(reference)
        for _ in range(2):
            _same(first.test(current), second.test(current))

    def test_refit_restores(self, cls):
        reference, current = _samples()
        est = _make(cls).fit(reference)
        before = est.test(current)
        est.fit(reference + 1.0).test(current)
        _same(est.fit(reference).test(current), before)

    def test_score_is_fit_then_test(self, cls):
        reference, current = _samples()
        _same(_make(cls).score(reference, current), _make(cls).fit(reference).test(current))

    def test_bad_parameters_name_the_parameter(self, cls):
        reference, _ = _samples()
        for name, constraint in cls._constraints.items():
            est = _make(cls, **{name: constraint.invalid_example()})
            with pytest.raises(ValueError, match=f"The '{name}' parameter of {cls.__name__}"):
                est.fit(reference)

    def test_bad_inputs(self, cls):
        reference, current = _samples()
        est = _make(cls).fit(reference)
        with pytest.raises(ValueError, match="features"):
            est.test(current[:, :2])
        bad = current.copy()
        bad[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            est.test(bad)


def _errors(seed, n=2000, before=0.2, after=0.5, change=1000):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.random(change) < before, rng.random(n - change) < after]).astype(
        float)


def _feed(detector, values, sizes):
    """Feed ``values`` in chunks of the given sizes; collect drift indices."""
    found, pos = [], 0
    for size in sizes:
        detector.update(values[pos : pos + size])
        found += detector.drift_indices
        pos += size
    return found


@pytest.mark.parametrize("cls", STREAMING, ids=lambda c: c.__name__)
class TestStreamingContract:
    def test_params_round_trip(self, cls):
        est = _make(cls)
        params = est.get_params()
        assert type(est)(**params).get_params() == params
        assert clone(est).get_params() == params

    def test_init_stores_arguments_unchanged(self, cls):
        est = cls()
        for name, parameter in inspect.signature(cls).parameters.items():
            assert getattr(est, name) is parameter.default

    def test_clone_gives_fresh_state(self, cls):
        est = _make(cls).reset().update(_errors(0))
        assert est.n_seen == 2000
        fresh = clone(est)
        assert not [k for k in vars(fresh) if k.startswith("_")]
        assert fresh.n_seen == 0 and not fresh.drift_detected and fresh.drift_indices == []
        assert not fresh.warning_detected and fresh.warning_start is None

    def test_update_without_reset_starts_fresh(self, cls):
        values = _errors(1)
        assert _make(cls).update(values).drift_indices == _make(cls).reset().update(
            values).drift_indices

    def test_chunking_does_not_change_decisions(self, cls):
        values = _errors(2, n=6000, change=3000)
        whole = _feed(_make(cls).reset(), values, [values.size])
        rng = np.random.default_rng(0)
        sizes = rng.integers(1, 400, size=100)
        sizes = np.append(sizes, values.size)
        assert _feed(_make(cls).reset(), values, sizes.tolist()) == whole
        assert _feed(_make(cls).reset(), values[:300], [1] * 300) == [i for i in whole if i < 300]

    def test_pickle_mid_stream(self, cls):
        values = _errors(3)
        est = _make(cls).reset().update(values[:1010])
        copy = pickle.loads(pickle.dumps(est))
        assert est.update(values[1010:]).drift_indices == copy.update(values[1010:]).drift_indices

    def test_same_seed_same_decisions_and_reset_restores(self, cls):
        values = _errors(4)
        est = _make(cls).reset()
        first = _feed(est, values, [100] * 20)
        assert _feed(est.reset(), values, [100] * 20) == first
        assert _feed(_make(cls).reset(), values, [100] * 20) == first
        assert est.n_seen == values.size

    def test_bad_parameters_name_the_parameter(self, cls):
        for name, constraint in cls._constraints.items():
            est = _make(cls, **{name: constraint.invalid_example()})
            with pytest.raises(ValueError, match=f"The '{name}' parameter of {cls.__name__}"):
                est.reset()

    def test_bad_inputs(self, cls):
        est = _make(cls).reset()
        with pytest.raises(ValueError, match="1-D"):
            est.update(np.zeros((2, 2)))
        with pytest.raises(ValueError, match="NaN"):
            est.update([0.0, np.nan])
        assert est.update(1).n_seen == 1  # scalars are fine

    def test_warning_attributes(self, cls):
        est = _make(cls).reset().update(_errors(5))
        if not cls.has_warning:
            assert not est.warning_detected and est.warning_start is None


def test_cross_parameter_rules():
    with pytest.raises(ValueError, match="'alpha' parameter of EDDM must be >= beta"):
        EDDM(alpha=0.5, beta=0.9).reset()
    with pytest.raises(ValueError, match="'stat_size' parameter of KSWIN"):
        KSWIN(window_size=50, stat_size=30).reset()


def test_error_message_format():
    with pytest.raises(ValueError) as info:
        PSI(n_bins=1).fit(np.zeros((10, 1)))
    assert str(info.value) == "The 'n_bins' parameter of PSI must be an int >= 2. Got 1 instead."


# ------------------------------------------------------------------ scipy cross-checks
def _scipy_cases():
    rng = np.random.default_rng(42)
    yield rng.normal(size=(500, 4)), rng.normal(0.1, 1.2, size=(120, 4))
    yield rng.normal(size=(37, 3)), rng.normal(size=(300, 3))  # current larger
    yield np.round(rng.normal(size=(400, 3)), 1), np.round(rng.normal(size=(90, 3)), 1)  # ties
    yield rng.integers(0, 3, size=(200, 2)).astype(float), rng.integers(0, 3, size=(50, 2)) * 1.0
    yield rng.exponential(size=(5000, 10)), rng.exponential(size=(500, 10))


@pytest.mark.parametrize("case", range(5))
def test_ks_matches_scipy_asymp(case):
    reference, current = list(_scipy_cases())[case]
    result = KS().fit(reference).test(current)
    for j in range(reference.shape[1]):
        expected = stats.ks_2samp(reference[:, j], current[:, j], method="asymp")
        assert result.statistic[j] == pytest.approx(expected.statistic, abs=1e-9)
        assert result.p_value[j] == pytest.approx(expected.pvalue, abs=1e-9)
        # The statistic does not depend on the p-value method.
        assert result.statistic[j] == pytest.approx(
            stats.ks_2samp(reference[:, j], current[:, j]).statistic, abs=1e-9)


@pytest.mark.parametrize("case", range(5))
def test_wasserstein_matches_scipy(case):
    reference, current = list(_scipy_cases())[case]
    result = Wasserstein().fit(reference).test(current)
    for j in range(reference.shape[1]):
        expected = stats.wasserstein_distance(reference[:, j], current[:, j])
        assert result.statistic[j] == pytest.approx(expected / reference[:, j].std(), abs=1e-9)


def test_wasserstein_constant_reference_feature():
    reference = np.column_stack([np.ones(50), np.arange(50.0)])
    result = Wasserstein().fit(reference).test(np.column_stack([np.ones(5), np.arange(5.0)]))
    assert result.statistic[0] == 0.0
    assert Wasserstein().fit(reference).test(reference + 1).statistic[0] == np.inf


def _binned_shares(reference, current, n_bins):
    """Straightforward per-feature loop: quantile edges, bins [e_k, e_k+1)."""
    ref_shares, cur_shares = [], []
    for j in range(reference.shape[1]):
        edges = np.quantile(reference[:, j], np.linspace(0, 1, n_bins + 1)[1:-1])
        ref_bins = np.searchsorted(edges, reference[:, j], side="right")
        cur_bins = np.searchsorted(edges, current[:, j], side="right")
        ref_shares.append(np.bincount(ref_bins, minlength=n_bins) / len(ref_bins))
        cur_shares.append(np.bincount(cur_bins, minlength=n_bins) / len(cur_bins))
    return np.array(ref_shares), np.array(cur_shares)


@pytest.mark.parametrize("case", range(5))
def test_jensen_shannon_matches_scipy(case):
    reference, current = list(_scipy_cases())[case]
    result = JensenShannon(n_bins=7).fit(reference).test(current)
    ref_shares, cur_shares = _binned_shares(reference, current, 7)
    for j in range(reference.shape[1]):
        expected = jensenshannon(ref_shares[j], cur_shares[j], base=2)
        assert result.statistic[j] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("case", range(5))
def test_psi_matches_loop(case):
    reference, current = list(_scipy_cases())[case]
    result = PSI(n_bins=10, floor=1e-4).fit(reference).test(current)
    ref_shares, cur_shares = _binned_shares(reference, current, 10)
    r, c = np.maximum(ref_shares, 1e-4), np.maximum(cur_shares, 1e-4)
    expected = [sum((c[j] - r[j]) * np.log(c[j] / r[j])) for j in range(reference.shape[1])]
    np.testing.assert_allclose(result.statistic, expected, rtol=0, atol=1e-9)


def test_psi_identical_samples_is_zero_and_shift_is_large():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(5000, 2))
    assert np.allclose(PSI().fit(reference).test(reference).statistic, 0.0, atol=1e-12)
    shifted = PSI().fit(reference).test(reference + [0.0, 1.0]).statistic
    assert shifted[1] > 0.2 > shifted[0]


def test_chi_square_matches_scipy():
    rng = np.random.default_rng(7)
    reference = np.column_stack([rng.integers(0, 4, 600), rng.integers(-3, 2, 600),
                                 rng.integers(0, 2, 600), np.full(600, 5)])
    current = np.column_stack([rng.integers(0, 6, 150), rng.integers(-3, 2, 150),
                               rng.integers(0, 2, 150), np.full(150, 5)])
    result = ChiSquare().fit(reference).test(current)
    for j in range(3):
        categories = np.union1d(reference[:, j], current[:, j])
        table = np.array([[np.sum(reference[:, j] == c) for c in categories],
                          [np.sum(current[:, j] == c) for c in categories]])
        expected = stats.chi2_contingency(table, correction=False)
        assert result.statistic[j] == pytest.approx(expected.statistic, abs=1e-9)
        assert result.p_value[j] == pytest.approx(expected.pvalue, abs=1e-9)
    assert result.statistic[3] == 0.0 and result.p_value[3] == 1.0  # a single category


def test_chi_square_rejects_non_integer_codes():
    with pytest.raises(ValueError, match="integer-coded"):
        ChiSquare().fit(np.array([[0.5], [1.0]]))


def test_multivariate_tests_see_a_shift():
    rng = np.random.default_rng(3)
    reference = rng.normal(size=(800, 4))
    current = rng.normal(size=(200, 4)) + [0.6, 0, 0, 0]
    assert det.MMD(n_permutations=100, seed=0).score(reference, current).p_value[0] < 0.05
    auc = det.DomainClassifier(seed=0).score(reference, current).statistic[0]
    assert auc > det.DomainClassifier.default_threshold


# ------------------------------------------------------------------ River cross-checks
RIVER_PAIRS = [
    (DDM, lambda: river_drift.binary.DDM(), {}),
    (EDDM, lambda: river_drift.binary.EDDM(), {}),
    (EDDM, lambda: river_drift.binary.EDDM(alpha=0.8, beta=0.75), {"alpha": 0.8, "beta": 0.75}),
    (HDDMA, lambda: river_drift.binary.HDDMA(), {}),
    (HDDMA, lambda: river_drift.binary.HDDMA(two_sided_test=True), {"two_sided_test": True}),
    (PageHinkley, lambda: river_drift.PageHinkley(), {}),
    (PageHinkley, lambda: river_drift.PageHinkley(threshold=10.0, mode="up"),
     {"threshold": 10.0, "mode": "up"}),
    (PageHinkley, lambda: river_drift.PageHinkley(threshold=5.0, mode="down", alpha=0.99),
     {"threshold": 5.0, "mode": "down", "alpha": 0.99}),
    (det.ADWIN, lambda: river_drift.ADWIN(), {}),
    (det.ADWIN, lambda: river_drift.ADWIN(clock=1, delta=0.01), {"clock": 1, "delta": 0.01}),
]

STREAMS = [(0.2, 0.5), (0.2, 0.2), (0.5, 0.1), (0.05, 0.3)]


def _river_indices(river_detector, values):
    drifts, warnings = [], []
    for i, value in enumerate(values.tolist()):
        river_detector.update(value)
        if river_detector.drift_detected:
            drifts.append(i)
        elif getattr(river_detector, "warning_detected", False):
            warnings.append(i)
    return drifts, warnings


@pytest.mark.parametrize("pair", RIVER_PAIRS, ids=lambda p: f"{p[0].__name__}{p[2] or ''}")
def test_matches_river(pair):
    cls, make_river, params = pair
    for seed in range(6):
        for before, after in STREAMS:
            values = _errors(seed, n=3000, before=before, after=after, change=1500)
            drifts, warnings = _river_indices(make_river(), values)
            ours = cls(**params).reset().update(values)
            assert ours.drift_indices == drifts, (seed, before, after)
            if seed < 2:  # sample by sample: the warning flag after every update
                ours.reset()
                our_drifts, our_warnings = [], []
                for i, value in enumerate(values):
                    ours.update(value)
                    if ours.drift_detected:
                        our_drifts.append(i)
                    if ours.warning_detected:
                        our_warnings.append(i)
                assert our_drifts == drifts and our_warnings == warnings, (seed, before, after)


def test_kswin_matches_river():
    rng = np.random.default_rng(0)
    for seed in range(3):
        values = np.concatenate([rng.normal(0, 1, 700), rng.normal(1.5, 1, 700)])
        drifts, _ = _river_indices(river_drift.KSWIN(seed=seed), values)
        assert KSWIN(seed=seed).reset().update(values).drift_indices == drifts


# ------------------------------------------------------------------------ CUSUM, warnings
def _cusum_loop(values, min_instances=30, delta=0.005, threshold=50.0):
    drifts, n, mean, s = [], 0, 0.0, 0.0
    for i, x in enumerate(values):
        n += 1
        mean += (x - mean) / n
        s = max(0.0, s + x - mean - delta)
        if n >= min_instances and s > threshold:
            drifts.append(i)
            n, mean, s = 0, 0.0, 0.0
    return drifts


@pytest.mark.parametrize("params", [{}, {"threshold": 10.0}, {"threshold": 3.0, "delta": 0.1},
                                    {"min_instances": 0, "threshold": 1.0}])
def test_cusum_matches_plain_loop(params):
    for seed in range(10):
        for before, after in STREAMS:
            values = _errors(seed, n=4000, before=before, after=after, change=2000)
            expected = _cusum_loop(values, **params)
            assert CUSUM(**params).reset().update(values).drift_indices == expected
    rng = np.random.default_rng(0)
    losses = rng.random(3000) * np.r_[np.ones(1500), np.full(1500, 2.0)]  # bounded losses
    assert CUSUM(threshold=5.0).reset().update(losses).drift_indices == _cusum_loop(
        losses, threshold=5.0)


def test_page_hinkley_up_without_fading_equals_cusum():
    values = _errors(0, n=5000, change=2500)
    ph = PageHinkley(alpha=1.0, mode="up", threshold=10.0).reset().update(values)
    assert ph.drift_indices == CUSUM(threshold=10.0).reset().update(values).drift_indices


def test_warning_start_marks_the_zone_that_led_to_the_drift():
    values = _errors(0)
    ddm = DDM().reset()
    flags = []
    for value in values:
        ddm.update(value)
        if ddm.drift_detected:
            drift, start = ddm.drift_indices[0], ddm.warning_start
            break
        flags.append(ddm.warning_detected)
    # The zone is the run of warnings that reaches the sample before the drift.
    assert flags[-1] and all(flags[start:drift]) and not flags[start - 1]
    chunked = DDM().reset().update(values[: drift + 1])
    assert chunked.drift_indices == [drift] and chunked.warning_start == start
    assert not chunked.warning_detected
    # Without a drift in the last update, warning_start is the current zone or None.
    assert chunked.update(values[drift + 1 : drift + 2]).warning_start is None or \
        chunked.warning_detected


def test_adapters_need_river(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("river"):
            raise ImportError("no river")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"retrain-sim\[river\]"):
        det.ADWIN().reset()


def test_only_tests_that_declare_themselves_pure_share_results():
    from strategies.detectors.two_sample import _Fitted

    class Custom(_Fitted):  # a new test must opt in before its results are shared
        pass

    assert not Custom._memoisable
    assert not det.MMD._memoisable and not det.DomainClassifier._memoisable
    assert all(cls._memoisable for cls in (KS, Wasserstein, PSI, JensenShannon, ChiSquare))

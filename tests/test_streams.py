"""Tests of the synthetic stream generators (sim.streams)."""

from __future__ import annotations

import inspect
import pickle
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import sim.streams as streams
from sim.checks import ParamError
from sim.contracts import check_stream
from sim.streams import SEA, Gaussian, PriorShift, RotatingHyperplane, Stagger, Stream
from sim.streams.hyperplane import drift_path
from sim.streams.schedule import BLOCK_SIZE, SyntheticStream, gradual_probability
from sim.types import DRIFT_KINDS, DRIFT_SHAPES, Batch, Drift

# ---------------------------------------------------------------------------------------
# helpers

N = 40_000  # > 2 internal blocks, so block boundaries are exercised


def collect(stream, seed=0, step_size=1000):
    """Concatenate a stream into (X, y, concept, batches)."""
    batches = list(stream.batches(seed=seed, step_size=step_size))
    X = np.concatenate([b.X for b in batches])
    y = np.concatenate([b.y for b in batches])
    c = np.concatenate([b.concept for b in batches])
    return X, y, c, batches


def assert_same(a, b):
    """Assert that two collected streams have identical X, y and concept arrays."""
    for u, v in zip(a[:3], b[:3], strict=True):
        np.testing.assert_array_equal(u, v)


def binomial_tol(p, n, z=4.0):
    return z * np.sqrt(p * (1 - p) / n)


def gaussian_bayes(X, knee=3.0, bend=-0.5):
    """The documented Gaussian rule, written independently of the generator."""
    return (X[:, 1] > bend * np.maximum(X[:, 0] - knee, 0.0)).astype(int)


# ---------------------------------------------------------------------------------------
# the contract suite, over every public member

MEMBERS = [  # the synthetic generators; every stream passes test_stream_contract below
    getattr(streams, name)
    for name in streams.__all__
    if inspect.isclass(getattr(streams, name))
    and issubclass(getattr(streams, name), SyntheticStream)
]
ALL_STREAMS = [
    name for name in streams.__all__
    if inspect.isclass(getattr(streams, name)) and getattr(streams, name) is not Stream
]


def _example(name):
    """A small instance of any public stream (wrappers and replays need arguments)."""
    if name == "Tabular":
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.integers(0, 3, 3000)})
        frame["y"] = (frame["a"] > 0).astype(int)
        return streams.Tabular(frame, target="y")
    if name == "Injection":
        return streams.Injection(streams.SEA(n_samples=3000),
                                 schedule=[{"kind": "covariate", "at": 1500, "features": [0],
                                            "shift": 2.0}])
    if name == "BlockBootstrap":
        return streams.BlockBootstrap(streams.SEA(n_samples=3000, schedule=[
            {"at": 1500, "to": 1}]), block=500, replicate=3)
    if name == "Incidents":
        return streams.Incidents(streams.SEA(n_samples=3000), events=[
            {"cause": "labels", "start": 500, "end": 1300, "fraction": 0.5},
            {"cause": "stuck", "start": 1000, "end": 2000, "features": [1]},
            {"cause": "spike", "start": 2100, "end": 2900, "segment": {0: [None, 3.0]},
             "share": 0.4}])
    return getattr(streams, name)(n_samples=3000)


@pytest.mark.parametrize("name", ALL_STREAMS)
def test_stream_contract(name):
    """What the engine relies on (sim.contracts.check_stream), for every public stream."""
    stream = _example(name)
    check_stream(stream)
    assert bool(stream.incidents) == (name == "Incidents")

# small instances with drifts that straddle a block boundary (16384)
SMALL = {
    "SEA": dict(
        n_samples=N,
        schedule=[
            {"at": 12_000, "to": 1, "shape": "gradual", "width": 8_000},
            {"at": 30_000, "to": 0},
        ],
    ),
    "Stagger": dict(
        n_samples=N,
        schedule=[
            {"at": 15_000, "to": 1, "shape": "gradual", "width": 4_000},
            {"at": 30_000, "to": 2},
        ],
    ),
    "RotatingHyperplane": dict(
        n_samples=N,
        mag_change=0.001,
        n_concepts=2,
        schedule=[{"at": 15_000, "to": 1, "shape": "incremental", "width": 5_000}],
    ),
    "Gaussian": dict(
        n_samples=N,
        n_features=3,
        schedule=[
            {"at": 15_000, "to": 2, "shape": "incremental", "width": 5_000},
            {"at": 30_000, "to": 3},
        ],
    ),
    "PriorShift": dict(
        n_samples=N, schedule=[{"at": 15_000, "to": 1, "shape": "gradual", "width": 6_000}]
    ),
    "Friedman": dict(
        n_samples=N, schedule=[{"at": 15_000, "to": 1, "shape": "incremental", "width": 5_000}]
    ),
}

BAD_COMMON = [
    ("n_samples", 0),
    ("n_samples", 2.5),
    ("concept", 99),
    ("concept", -1),
    ("schedule", [{"at": 10, "to": 99}]),
    ("schedule", "sudden"),
]
BAD = {
    "SEA": [("noise", 1.5), ("noise", -0.1), ("thresholds", []), ("thresholds", ["a"])],
    "Stagger": [("balance_classes", "yes"), ("noise", 1.0)],
    "RotatingHyperplane": [
        ("n_features", 0),
        ("n_drift_features", 11),
        ("mag_change", -1.0),
        ("sigma", 2.0),
        ("noise", 1.0),
        ("n_concepts", 0),
    ],
    "Gaussian": [
        ("noise", 1.0),
        ("n_features", 1),
        ("knee", float("nan")),
        ("bend", "x"),
        ("concepts", []),
        ("concepts", [{"scale": (0.0, 1.0)}]),
        ("concepts", [{"colour": 1}]),
        ("concepts", [{"correlation": 1.0}]),
    ],
    "PriorShift": [
        ("priors", [(0.5, 0.6)]),
        ("priors", [(1.0,)]),
        ("priors", [(0.5, 0.5), (1.0, 0.0, 0.0)]),
        ("n_features", 1),
        ("separation", -1.0),
    ],
    "Friedman": [("noise", -1.0), ("coefficients", []), ("coefficients", [(1.0, 2.0)])],
}


def small(cls):
    return cls(**SMALL.get(cls.__name__, {"n_samples": N}))


@pytest.fixture(params=MEMBERS, ids=lambda c: c.__name__)
def member(request):
    return request.param


def test_members_discovered():
    assert {c.__name__ for c in MEMBERS} >= {
        "SEA",
        "Stagger",
        "RotatingHyperplane",
        "Gaussian",
        "PriorShift",
    }


def test_n_samples_parameter(member):
    assert "n_samples" in inspect.signature(member).parameters


def test_params_round_trip(member):
    stream = small(member)
    params = stream.get_params()
    other = member().set_params(**params)
    assert other.get_params() == params
    assert member.__name__ in repr(stream)


def test_clone_equals(member):
    stream = small(member)
    copy = clone(stream)
    assert copy is not stream
    assert copy.get_params() == stream.get_params()
    assert_same(collect(stream, seed=3), collect(copy, seed=3))


def test_pickle(member):
    stream = small(member)
    again = pickle.loads(pickle.dumps(stream))
    assert again.get_params() == stream.get_params()
    np.testing.assert_array_equal(collect(stream, 1)[0], collect(again, 1)[0])


def test_same_seed_same_arrays(member):
    stream = small(member)
    assert_same(collect(stream, 7), collect(stream, 7))


def test_seed_sequence_is_accepted(member):
    stream = small(member)
    a = collect(stream, 5)[0]
    b = np.concatenate([b.X for b in stream.batches(np.random.SeedSequence(5), 1000)])
    np.testing.assert_array_equal(a, b)


def test_different_seed_different_arrays(member):
    stream = small(member)
    assert not np.array_equal(collect(stream, 0)[0], collect(stream, 1)[0])


@pytest.mark.parametrize("step_size", [1, 777, BLOCK_SIZE, N])
def test_step_size_independence(member, step_size):
    stream = small(member)
    if step_size == 1:
        stream.set_params(n_samples=3_000, schedule=[])
    assert_same(collect(stream, 11, step_size=1000), collect(stream, 11, step_size=step_size))


def test_batches_are_consecutive(member):
    stream = small(member)
    batches = collect(stream, 0, step_size=3_000)[3]
    assert all(isinstance(b, Batch) for b in batches)
    assert [b.t for b in batches] == list(range(len(batches)))
    assert [b.index for b in batches] == [3_000 * t for t in range(len(batches))]
    assert [len(b) for b in batches[:-1]] == [3_000] * (len(batches) - 1)
    assert sum(len(b) for b in batches) == N


def test_shapes_and_labels(member):
    stream = small(member)
    X, y, concept, _ = collect(stream, 0)
    assert X.shape == (N, stream.n_features)
    assert X.dtype == np.float64 and np.isfinite(X).all()
    assert y.shape == (N,) and concept.shape == (N,)
    if stream.task == "regression":
        assert stream.classes is None and y.dtype == np.float64 and np.isfinite(y).all()
    else:
        assert np.isin(y, stream.classes).all() and stream.task == "classification"
    assert isinstance(stream.version, str)


def test_drifts_ground_truth(member):
    stream = small(member)
    drifts = stream.drifts
    assert isinstance(drifts, tuple) and drifts
    assert all(isinstance(d, Drift) for d in drifts)
    assert list(drifts) == sorted(drifts, key=lambda d: (d.start, d.end))
    for d in drifts:
        assert 0 <= d.start <= d.end <= N
        assert d.kind in DRIFT_KINDS and d.shape in DRIFT_SHAPES
        assert (d.shape == "sudden") == (d.start == d.end)


def test_init_stores_arguments_unchanged(member):
    for name, value in BAD_COMMON + BAD.get(member.__name__, []):
        stream = member(**{name: value})  # no validation in __init__
        assert stream.get_params()[name] is value


@pytest.mark.parametrize("where", ["batches", "drifts"])
def test_bad_parameters_raise(member, where):
    cases = BAD_COMMON + BAD.get(member.__name__, [])
    for name, value in cases:
        stream = small(member).set_params(**{name: value})
        with pytest.raises(ValueError, match=f"'{name}'"):
            if where == "batches":
                stream.batches(seed=0, step_size=100)  # raises at the call, not lazily
            else:
                stream.drifts  # noqa: B018


def test_bad_seed_and_step_size(member):
    stream = small(member)
    with pytest.raises(ValueError, match="'seed'"):
        stream.batches(seed=-1, step_size=10)
    with pytest.raises(ValueError, match="'step_size'"):
        stream.batches(seed=0, step_size=0)


# ---------------------------------------------------------------------------------------
# the schedule


def test_error_message_format():
    with pytest.raises(ValueError) as err:
        SEA(noise=1.5).batches(0, 10)
    expected = "The 'noise' parameter of SEA must be a float in [0, 1). Got 1.5 instead."
    assert str(err.value) == expected


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ([{"at": 100, "to": 4}], r"Event 0 .*'to' must be a concept index.*\[0, 3\]. Got 4"),
        ([{"at": 1000, "to": 1}], r"Event 0 .*'at' must be an int in \[0, n_samples\).*Got 1000"),
        ([{"at": 900, "to": 1, "shape": "gradual", "width": 200}], r"Event 0 .*end by n_samples"),
        (
            [{"at": 100, "to": 1, "shape": "abrupt"}],
            r"Event 0 .*'sudden', 'gradual', 'incremental'. Got 'abrupt'",
        ),
        ([{"at": 100, "to": 1}, {"at": 50, "to": 2}], r"Event 1 .*must not overlap"),
        (
            [{"at": 100, "to": 1, "shape": "gradual", "width": 100}, {"at": 150, "to": 2}],
            r"Event 1 .*starts at 150, before event 0 .* ends at 200",
        ),
        ([{"at": 100, "to": 1}, {"at": 100, "to": 2}], r"Event 1 .*must not overlap"),
        ([{"at": 100, "to": 0}], r"Event 0 .*already in"),
        ([{"at": 100, "to": 1, "width": 5}], r"Event 0 .*'width' must be 0 for a sudden"),
        ([{"at": 100, "to": 1, "shape": "gradual"}], r"Event 0 .*'width' must be an int >= 1"),
        ([{"to": 1}], r"Event 0 .*required key 'at'"),
        ([{"at": 1, "to": 1, "when": 3}], r"Event 0 .*unknown key\(s\) \['when'\]"),
        ([5], r"Event 0 .*must be a mapping"),
    ],
)
def test_schedule_errors(schedule, message):
    stream = SEA(n_samples=1000, schedule=schedule)
    with pytest.raises(ValueError, match=message):
        stream.drifts  # noqa: B018
    with pytest.raises(ValueError, match="'schedule'"):
        stream.batches(0, 10)


def test_identical_concepts_are_no_drift():
    with pytest.raises(ValueError, match="identical"):
        SEA(n_samples=1000, thresholds=(8, 8), schedule=[{"at": 10, "to": 1}]).drifts  # noqa: B018


def test_adjacent_events_and_none_schedule():
    sched = [{"at": 100, "to": 1, "shape": "gradual", "width": 100}, {"at": 200, "to": 2}]
    assert [d.end for d in SEA(n_samples=1000, schedule=sched).drifts] == [200, 200]
    assert SEA(n_samples=1000, schedule=None).drifts == ()


def test_recurring_flag():
    sched = [
        {"at": 100, "to": 1},
        {"at": 200, "to": 0},
        {"at": 300, "to": 2},
        {"at": 400, "to": 1, "shape": "gradual", "width": 50},
    ]
    drifts = SEA(n_samples=1000, schedule=sched).drifts
    assert [d.recurring for d in drifts] == [False, True, False, True]
    assert [(d.source, d.target) for d in drifts] == [(0, 1), (1, 0), (0, 2), (2, 1)]
    # starting in another concept counts as having been there
    start2 = SEA(n_samples=1000, concept=2, schedule=[{"at": 10, "to": 0}, {"at": 20, "to": 2}])
    assert [d.recurring for d in start2.drifts] == [False, True]


def test_sudden_concept_array():
    stream = SEA(n_samples=N, noise=0.0, schedule=[{"at": 20_000, "to": 3}])
    X, y, c, _ = collect(stream)
    assert (c[:20_000] == 0).all() and (c[20_000:] == 3).all()
    np.testing.assert_array_equal(y[:20_000], X[:20_000, 0] + X[:20_000, 1] > 8)
    np.testing.assert_array_equal(y[20_000:], X[20_000:, 0] + X[20_000:, 1] > 9.5)


def test_gradual_probability_endpoints():
    p = gradual_probability(np.array([-5, 1000, 1500, 2000, 2500]), at=1000, width=1000)
    assert p.tolist()[:2] == [0.0, 0.0] and p[3:].tolist() == [1.0, 1.0]
    assert p[2] == pytest.approx(0.5)


def test_gradual_mixing_follows_sigmoid():
    at, width, n = 10_000, 40_000, 60_000
    stream = SEA(
        n_samples=n, noise=0.0, schedule=[{"at": at, "to": 1, "shape": "gradual", "width": width}]
    )
    X, y, c, _ = collect(stream, seed=2)
    assert (c[:at] == 0).all() and (c[at + width :] == 1).all()
    assert set(np.unique(c)) == {0.0, 1.0}
    # each sample's label follows the concept it was drawn from
    theta = np.where(c == 1, 9.0, 8.0)
    np.testing.assert_array_equal(y, X[:, 0] + X[:, 1] > theta)
    p = gradual_probability(np.arange(n), at, width)
    for lo in range(at, at + width, 2_000):
        sl = slice(lo, lo + 2_000)
        expected = p[sl].mean()
        assert abs(c[sl].mean() - expected) < binomial_tol(max(expected, 0.01), 2_000) + 1e-3


def test_incremental_interpolation():
    at, width = 10_000, 20_000
    stream = SEA(
        n_samples=N,
        noise=0.0,
        schedule=[{"at": at, "to": 1, "shape": "incremental", "width": width}],
    )
    X, y, c, _ = collect(stream)
    lam = np.clip((np.arange(N) - at) / width, 0, 1)
    np.testing.assert_allclose(c, lam)  # concept 0 -> 1: the fraction itself
    theta = (1 - lam) * 8.0 + lam * 9.0
    np.testing.assert_array_equal(y, X[:, 0] + X[:, 1] > theta)


def test_incremental_gaussian_mean_moves_linearly():
    at, width = 5_000, 30_000
    stream = Gaussian(
        n_samples=N,
        noise=0.0,
        schedule=[{"at": at, "to": 1, "shape": "incremental", "width": width}],
    )
    X, _, c, _ = collect(stream)
    lam = np.clip((np.arange(N) - at) / width, 0, 1)
    z = X[:, 0] - (-3.0 * lam)  # standardised around the interpolated mean
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    np.testing.assert_allclose(c, lam)


def test_incremental_to_a_non_neighbour_concept():
    stream = SEA(
        n_samples=1000,
        noise=0.0,
        schedule=[{"at": 0, "to": 3, "shape": "incremental", "width": 1000}],
    )
    c = collect(stream, step_size=100)[2]
    np.testing.assert_allclose(c, 3 * np.arange(1000) / 1000)  # fractional 0 .. 3


# ---------------------------------------------------------------------------------------
# SEA


def test_sea_true_rule_scores_one_minus_noise():
    n = 100_000
    X, y, _, _ = collect(SEA(n_samples=n), seed=4, step_size=10_000)
    agreement = np.mean(y == (X[:, 0] + X[:, 1] > 8.0))
    assert abs(agreement - 0.9) < binomial_tol(0.9, n)
    assert X.min() >= 0 and X.max() < 10
    assert abs(X.mean(axis=0) - 5).max() < 0.05


# ---------------------------------------------------------------------------------------
# Stagger


def stagger_rule(X, concept):
    size, colour, shape = X.T
    return [
        (size == 0) & (colour == 0),
        (colour == 2) | (shape == 0),
        (size == 1) | (size == 2),
    ][concept].astype(int)


@pytest.mark.parametrize("concept", [0, 1, 2])
@pytest.mark.parametrize("balance", [False, True])
def test_stagger_rules(concept, balance):
    stream = Stagger(n_samples=N, concept=concept, balance_classes=balance)
    X, y, _, _ = collect(stream)
    np.testing.assert_array_equal(y, stagger_rule(X, concept))
    assert set(np.unique(X)) == {0.0, 1.0, 2.0}
    if balance:
        np.testing.assert_array_equal(y, 1 - np.arange(N) % 2)
    else:
        # features uniform and independent: each of the 27 objects about 1/27
        codes = (X @ [9, 3, 1]).astype(int)
        counts = np.bincount(codes, minlength=27)
        assert stats.chisquare(counts).pvalue > 1e-4


def test_stagger_rejects_incremental():
    stream = Stagger(
        n_samples=1000, schedule=[{"at": 10, "to": 1, "shape": "incremental", "width": 10}]
    )
    with pytest.raises(ValueError, match="'incremental' is not supported by Stagger"):
        stream.batches(0, 10)


def test_stagger_drift_features():
    stream = Stagger(n_samples=100, schedule=[{"at": 10, "to": 2}, {"at": 20, "to": 1}])
    assert [d.features for d in stream.drifts] == [(0, 1), (0, 1, 2)]


# ---------------------------------------------------------------------------------------
# RotatingHyperplane


def reference_path(direction, flips, mag):
    """Per-sample loop of MOA's weight drift (the definition)."""
    direction = direction.copy()
    offset = np.zeros(len(direction))
    out = []
    for flip in flips:
        out.append(offset.copy())
        offset = offset + direction * mag
        direction = np.where(flip, -direction, direction)
    return np.array(out), offset, direction


def test_drift_path_matches_loop_and_carries_state():
    rng = np.random.default_rng(0)
    flips = rng.random((1000, 3)) < 0.1
    ref, ref_off, ref_dir = reference_path(np.ones(3, dtype=int), flips, 0.01)
    path, off, d = drift_path(np.zeros(3), np.ones(3, dtype=int), flips, 0.01)
    np.testing.assert_allclose(path, ref, atol=1e-12)
    np.testing.assert_allclose(off, ref_off, atol=1e-12)
    np.testing.assert_array_equal(d, ref_dir)
    # split in two blocks, carrying the state
    p1, o1, d1 = drift_path(np.zeros(3), np.ones(3, dtype=int), flips[:377], 0.01)
    p2, o2, d2 = drift_path(o1, d1, flips[377:], 0.01)
    np.testing.assert_allclose(np.concatenate([p1, p2]), ref, atol=1e-12)
    np.testing.assert_array_equal(d2, ref_dir)


def test_hyperplane_labels_follow_drifting_weights():
    # sigma=0: no reversals, so sample j sees w0 + j * mag on the drifting features
    mag = 1e-5
    stream = RotatingHyperplane(
        n_samples=N, n_features=5, n_drift_features=2, mag_change=mag, sigma=0.0, noise=0.0
    )
    X, y, c, _ = collect(stream, seed=3)
    # concept 0's initial weights, drawn as documented: from the seed and the concept index
    seq = np.random.SeedSequence(3, spawn_key=(2, 0))
    w0 = np.random.Generator(np.random.PCG64(seq)).random(5)
    w = np.tile(w0, (N, 1))
    w[:, :2] += mag * np.arange(N)[:, None]
    score = (X * w).sum(axis=1) - 0.5 * w.sum(axis=1)
    clear = np.abs(score) > 1e-9
    np.testing.assert_array_equal(y[clear], (score >= 0)[clear])
    assert (c == 0).all()
    assert stream.drifts == (Drift(0, N, "concept", "incremental", features=(0, 1)),)


def test_hyperplane_balanced_and_stationary_without_mag_change():
    stream = RotatingHyperplane(n_samples=N, noise=0.0)
    assert stream.drifts == ()
    X, y, _, _ = collect(stream)
    assert abs(y.mean() - 0.5) < binomial_tol(0.5, N)
    model = LogisticRegression(C=100.0, max_iter=1000).fit(X[:20_000], y[:20_000])
    assert model.score(X[20_000:], y[20_000:]) > 0.97


def test_hyperplane_rotation_degrades_an_old_model():
    stream = RotatingHyperplane(n_samples=N, mag_change=5e-5, sigma=0.0, noise=0.0)
    X, y, _, _ = collect(stream)
    model = LogisticRegression(C=100.0, max_iter=1000).fit(X[:5_000], y[:5_000])
    assert model.score(X[:5_000], y[:5_000]) > 0.95
    assert model.score(X[-5_000:], y[-5_000:]) < 0.85


# ---------------------------------------------------------------------------------------
# Gaussian


def shift_accuracies(to, n=120_000, seed=0):
    """Accuracy before/after a sudden shift at n/2 for a pre-shift LR and the Bayes rule."""
    half = n // 2
    stream = Gaussian(n_samples=n, schedule=[{"at": half, "to": to}])
    X, y, _, _ = collect(stream, seed=seed, step_size=10_000)
    model = LogisticRegression().fit(X[: half // 2], y[: half // 2])
    pre, post = slice(half // 2, half), slice(half, n)
    acc = {
        "lr": (model.score(X[pre], y[pre]), model.score(X[post], y[post])),
        "bayes": (
            np.mean(gaussian_bayes(X[pre]) == y[pre]),
            np.mean(gaussian_bayes(X[post]) == y[post]),
        ),
    }
    return X, acc, stream


def test_gaussian_harmless_shift():
    X, acc, stream = shift_accuracies(to=1)
    (drift,) = stream.drifts
    assert (drift.kind, drift.features) == ("covariate", (0,))
    half = len(X) // 2
    moved = X[half:, :2].mean(axis=0) - X[:half, :2].mean(axis=0)
    np.testing.assert_allclose(moved, [-3.0, 0.0], atol=0.03)
    for before, after in acc.values():
        assert abs(after - before) < 0.01
    assert abs(acc["bayes"][0] - 0.95) < 0.01


def test_gaussian_harmful_shift():
    X, acc, stream = shift_accuracies(to=2)
    assert stream.drifts[0].kind == "covariate"
    half = len(X) // 2
    np.testing.assert_allclose(X[half:, :2].mean(axis=0), [4.5, -0.75], atol=0.03)
    before, after = acc["lr"]
    assert before - after >= 0.10
    assert abs(acc["bayes"][1] - acc["bayes"][0]) < 0.01


def test_gaussian_default_experiment_covariate_then_concept():
    n = 30_000
    stream = Gaussian(n_samples=n, schedule=[{"at": n // 3, "to": 2}, {"at": 2 * n // 3, "to": 3}])
    assert [d.kind for d in stream.drifts] == ["covariate", "concept"]
    X, y, c, _ = collect(stream)
    third = slice(n // 3, 2 * n // 3), slice(2 * n // 3, n)
    bayes_mid = np.mean(gaussian_bayes(X[third[0]]) == y[third[0]])
    bayes_end = np.mean(gaussian_bayes(X[third[1]]) == y[third[1]])
    assert bayes_mid > 0.93 and bayes_end < 0.07  # labels reversed by the concept drift
    # P(X) unchanged by the concept drift
    np.testing.assert_allclose(X[third[0]].mean(axis=0), X[third[1]].mean(axis=0), atol=0.05)


def test_gaussian_scale_correlation_and_rotation():
    concepts = [{}, {"mean": (1.0, 2.0), "scale": (2.0, 0.5), "correlation": 0.6}, {"angle": 90.0}]
    stream = Gaussian(
        n_samples=N,
        concepts=concepts,
        noise=0.0,
        n_features=4,
        schedule=[{"at": 10_000, "to": 1}, {"at": 25_000, "to": 2}],
    )
    assert [(d.kind, d.features) for d in stream.drifts] == [
        ("covariate", (0, 1)),
        ("concept", (0, 1)),
    ]
    X, y, _, _ = collect(stream)
    seg = X[10_000:25_000]
    np.testing.assert_allclose(seg[:, :2].mean(axis=0), [1, 2], atol=0.05)
    np.testing.assert_allclose(seg[:, :2].std(axis=0), [2, 0.5], rtol=0.03)
    assert abs(np.corrcoef(seg[:, 0], seg[:, 1])[0, 1] - 0.6) < 0.03
    np.testing.assert_allclose(X[:, 2:].std(axis=0), 1, rtol=0.03)
    # rotated by 90 degrees: the point rotated by -90 is (x2, -x1), so y = 1[-x1 > h(x2)]
    late = X[25_000:]
    expected = -late[:, 0] > -0.5 * np.maximum(late[:, 1] - 3.0, 0)
    np.testing.assert_array_equal(y[25_000:], expected)


# ---------------------------------------------------------------------------------------
# PriorShift


def test_prior_shift_proportions_and_fixed_conditionals():
    priors = ((0.5, 0.5), (0.8, 0.2))
    n, at = 80_000, 40_000
    stream = PriorShift(n_samples=n, priors=priors, schedule=[{"at": at, "to": 1}])
    (drift,) = stream.drifts
    assert (drift.kind, drift.features) == ("prior", ())
    X, y, _, _ = collect(stream, seed=5)
    for seg, p in ((slice(0, at), priors[0]), (slice(at, n), priors[1])):
        share = np.bincount(y[seg], minlength=2) / at
        np.testing.assert_allclose(share, p, atol=binomial_tol(0.25, at))
    for k in (0, 1):
        before, after = X[:at][y[:at] == k], X[at:][y[at:] == k]
        assert stats.ks_2samp(before[:, 0], after[:, 0]).pvalue > 1e-3
        assert stats.ks_2samp(before[:, 1], after[:, 1]).pvalue > 1e-3
        np.testing.assert_allclose(after.mean(axis=0), [1.0 - 2 * k, 0.0], atol=0.05)


def test_prior_shift_three_classes_incremental():
    priors = ((1 / 3, 1 / 3, 1 / 3), (0.7, 0.2, 0.1))
    stream = PriorShift(
        n_samples=N,
        priors=priors,
        n_features=3,
        schedule=[{"at": 0, "to": 1, "shape": "incremental", "width": N}],
    )
    np.testing.assert_array_equal(stream.classes, [0, 1, 2])
    X, y, c, _ = collect(stream)
    lam = np.arange(N) / N
    expected = (1 - lam)[:, None] * np.array(priors[0]) + lam[:, None] * np.array(priors[1])
    for lo in range(0, N, 10_000):
        seg = slice(lo, lo + 10_000)
        share = np.bincount(y[seg], minlength=3) / 10_000
        np.testing.assert_allclose(share, expected[seg].mean(axis=0), atol=0.02)


# ---------------------------------------------------------------------------------------
# laziness, speed, determinism across step sizes


def test_memory_stays_bounded():
    stream = Gaussian(
        n_samples=2_000_000,
        n_features=10,
        schedule=[{"at": 500_000, "to": 2, "shape": "gradual", "width": 1_000_000}],
    )
    tracemalloc.start()
    try:
        n = 0
        for batch in stream.batches(seed=0, step_size=5_000):
            n += len(batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 2_000_000
    assert peak < 50 * 2**20  # the whole stream would be 2e6 * 10 * 8 B = 160 MB


@settings(max_examples=25, deadline=None)
@given(step_size=st.integers(min_value=50, max_value=50_000), seed=st.integers(0, 2**32))
def test_any_step_size_gives_the_same_stream(step_size, seed):
    stream = SEA(
        n_samples=N, schedule=[{"at": 16_000, "to": 1, "shape": "gradual", "width": 1_000}]
    )
    ref = collect(stream, seed, step_size=N)
    got = collect(stream, seed, step_size=step_size)
    assert_same(ref, got)
    assert all(len(b) == step_size for b in got[3][:-1])


@pytest.mark.parametrize("cls", [SEA, Gaussian, PriorShift, RotatingHyperplane, Stagger])
def test_every_declared_constraint_is_checked_before_generating(cls):
    """Streams validate at one point (``batches``) with the ``_constraints`` vocabulary."""
    assert "n_samples" in cls._constraints
    for name, constraint in cls._constraints.items():
        bad = cls(n_samples=1000).set_params(**{name: constraint.invalid_example()})
        with pytest.raises(ParamError) as info:
            next(iter(bad.batches(seed=0, step_size=100)))
        assert (info.value.owner, info.value.parameter) == (cls.__name__, name)
        assert info.value.rule == constraint.describe()

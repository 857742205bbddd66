"""The hindsight oracle: the engine's rules of information, brute force, the cache, regret."""

import itertools
import os

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from sim import Cost, Protocol, replay
from sim.oracle import (
    AccuracyMatrix,
    Frontier,
    accuracy_matrix,
    cache_key,
    hindsight,
    regret,
)
from sim.streams import SEA
from sim.types import Decision
from strategies import DriftAware, ErrorDetector, Holdout, Periodic, Trigger
from strategies.detectors import DDM


class AtSteps(Trigger):
    """Retrains exactly at the given steps."""

    def __init__(self, steps=()):
        self.steps = steps

    def update(self, obs):
        if obs.t in set(self.steps):
            return Decision(True, "scheduled")
        return Decision(False)


STREAM = SEA(n_samples=12_000, schedule=[{"at": 6_000, "to": 3}])
HARD = dict(step_size=400, initial_train=1000, label_delay=2, label_rate=0.6,
            train_window=1500, min_train=300, deploy_latency=1)


def _frontier_for_run(run, stream, model, seed, protocol, gate=None, every=3):
    return hindsight(stream, model, seed=seed, protocol=protocol, gate=gate, every=every,
                     extra_steps=run.events, cost=Cost(per_retrain=1.0))


@pytest.mark.parametrize("window", ["sliding", "expanding", "since_retrain", "since_change"])
def test_candidates_are_the_engines_retrains(window):
    """A candidate at step t trains on the engine's window at t and predicts the same."""
    protocol = Protocol(window=window, **HARD)
    model = LogisticRegression()
    run = replay(STREAM, model, Periodic(every=4), seed=3, protocol=protocol)
    events = run.events
    assert len(events) >= 4
    # the grid Periodic(every=4) uses: the candidates at its steps are its models
    m = accuracy_matrix(STREAM, model, seed=3, protocol=protocol, every=4)
    f = Frontier(m)
    own = f.evaluate(events["step"].tolist())
    rows = [f._row(p, c) for p, c in zip((0,) + own.candidates[:-1], own.candidates,
                                         strict=True)]
    assert m.row_train_start[rows].tolist() == events["train_start"].tolist()
    assert m.row_train_end[rows].tolist() == events["train_end"].tolist()
    assert m.row_n_train[rows].tolist() == events["n_train"].tolist()
    # identical predictions: the same accuracy at every step, hence the same mean
    timeline = f.timeline(own)
    np.testing.assert_array_equal(timeline["step"], run.timeline["step"])
    n = run.timeline["n_samples"].to_numpy()
    np.testing.assert_array_equal(np.rint(timeline["accuracy"] * n),
                                  np.rint(run.timeline["accuracy"] * n))
    assert own.accuracy == pytest.approx(run.summary["mean_accuracy"], abs=1e-12)
    assert own.cost == run.summary["cost_retrain"]


def test_gate_holds_out_the_same_labels():
    protocol = Protocol(window="sliding", **HARD)
    gate = Holdout(n_val=200, margin=-1.0)  # accepts everything, holds 200 labels out
    run = replay(STREAM, GaussianNB(), Periodic(every=3), gate=gate, seed=5, protocol=protocol)
    m = accuracy_matrix(STREAM, GaussianNB(), seed=5, protocol=protocol, gate=gate, every=3)
    f = Frontier(m)
    last = run.timeline["step"].iloc[-1]
    served = run.events[run.events["step"] + 1 + HARD["deploy_latency"] <= last]
    assert len(served) < len(run.events)  # the last retrain never serves: not a candidate
    own = f.evaluate(served["step"].tolist())
    assert m.row_n_train[list(m.cand_row[list(own.candidates)])].tolist() == \
        served["n_train"].tolist()
    assert own.accuracy == pytest.approx(run.summary["mean_accuracy"], abs=1e-12)



class HeldOut(Periodic):
    """Periodic, holding the newest 300 labels out of every fit (as a label-free trigger)."""

    n_holdout = 300


@pytest.mark.parametrize("window", ["sliding", "expanding"])
def test_a_triggers_holdout_is_held_out_of_the_same_fits(window):
    """With the trigger's n_holdout, the oracle's models are the run's, the initial one too."""
    protocol = Protocol(window=window, **HARD)
    run = replay(STREAM, GaussianNB(), HeldOut(every=3), seed=4, protocol=protocol)
    last = run.timeline["step"].iloc[-1]
    served = run.events[run.events["step"] + 1 + HARD["deploy_latency"] <= last]
    steps = served["step"].tolist()
    m = accuracy_matrix(STREAM, GaussianNB(), seed=4, protocol=protocol, every=3,
                        n_holdout=300)
    held = Frontier(m)
    own = held.evaluate(steps)
    assert m.row_n_train[0] == 3 * 400 - 300  # the initial segment: 3 steps, 300 held out
    assert m.row_n_train[list(m.cand_row[list(own.candidates)])].tolist() == \
        served["n_train"].tolist()
    assert own.accuracy == pytest.approx(run.summary["mean_accuracy"], abs=1e-12)
    blind = Frontier(accuracy_matrix(STREAM, GaussianNB(), seed=4, protocol=protocol, every=3))
    assert blind.evaluate(steps).accuracy != pytest.approx(run.summary["mean_accuracy"],
                                                           abs=1e-12)
    assert cache_key(STREAM, GaussianNB(), seed=4, n_holdout=300) != \
        cache_key(STREAM, GaussianNB(), seed=4)

def test_model_random_state_is_the_runs():
    protocol = Protocol(window="sliding", **HARD)
    model = DecisionTreeClassifier(max_depth=4, max_features=1)  # random_state None: seeded
    run = replay(STREAM, model, Periodic(every=5), seed=2, protocol=protocol)
    f = hindsight(STREAM, model, seed=2, protocol=protocol, every=5)
    assert f.evaluate(run.events["step"].tolist()).accuracy == pytest.approx(
        run.summary["mean_accuracy"], abs=1e-12)


def test_no_label_before_it_arrives():
    """Labels of the last label_delay steps before t are not in a candidate's window."""
    protocol = Protocol(window="expanding", **HARD)
    m = accuracy_matrix(STREAM, LogisticRegression(), seed=0, protocol=protocol, every=2)
    for c in range(1, m.n_candidates):
        t = int(m.cand_step[c])
        end = int(m.row_train_end[m.cand_row[c]])
        # labels of step t - label_delay arrive at t: nothing from a later step
        assert end <= (t - HARD["label_delay"] + 1) * HARD["step_size"]
        assert m.cand_col[c] + m.first_step == t + 1 + HARD["deploy_latency"]


# --- brute force ------------------------------------------------------------------------


def _all_schedules(f: Frontier):
    m = f.matrix
    cands = [c for c in range(1, m.n_candidates)]
    for k in range(len(cands) + 1):
        for combo in itertools.combinations(cands, k):
            steps = m.cand_step[list(combo)]
            if len(set(steps.tolist())) < k:
                continue
            try:
                yield f.evaluate(candidates=combo)
            except ValueError:  # a candidate with nothing to train on
                continue


@pytest.mark.parametrize("window", ["sliding", "since_retrain"])
@pytest.mark.parametrize("per_sample", [0.0, 0.002])
def test_dp_matches_enumeration(window, per_sample):
    protocol = Protocol(window=window, step_size=300, initial_train=900, label_delay=1,
                        label_rate=0.7, train_window=900, min_train=200, deploy_latency=1)
    stream = SEA(n_samples=6_000, schedule=[{"at": 2_400, "to": 3}, {"at": 4_200, "to": 1}])
    f = hindsight(stream, GaussianNB(), seed=4, protocol=protocol, every=2,
                  extra_steps=[6, 13], cost=Cost(per_retrain=1.0, per_sample=per_sample))
    assert (f.matrix.cand_row is None) == (window == "since_retrain")
    schedules = list(_all_schedules(f))
    assert len(schedules) > 200
    table = f.frontier
    assert table["accuracy"].is_monotonic_increasing
    for k in range(f.max_retrains + 1):
        best = max(s.accuracy for s in schedules if s.n_retrains <= k)
        assert f.best(k).accuracy == pytest.approx(best, abs=1e-12)
        assert f.best(k).n_retrains <= k
        cheapest = min(s.cost for s in schedules if s.n_retrains <= k
                       and s.accuracy == pytest.approx(best, abs=1e-12))
        assert f.best(k).cost == pytest.approx(cheapest)
    n = f.matrix.n_samples
    for lam in (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 1.0):
        def score(s, lam=lam):
            return s.accuracy - lam * 1e4 * s.cost / n
        got = f.best_for_cost_weight(lam)
        assert score(got) == pytest.approx(max(score(s) for s in schedules), abs=1e-12)


@pytest.mark.slow
def test_dp_matches_brute_force_replays():
    """The DP's optimum equals the best of replays of every schedule of the grid."""
    protocol = Protocol(window="since_retrain", step_size=250, initial_train=500,
                        label_delay=1, label_rate=0.8, train_window=750, min_train=200)
    stream = SEA(n_samples=3_000, schedule=[{"at": 1_250, "to": 3}])
    grid = [3, 5, 7, 9]
    f = hindsight(stream, LogisticRegression(), seed=7, protocol=protocol, every=2)
    assert [int(s) for s in f.matrix.cand_step[1:]] == grid
    results = {}
    for k in range(len(grid) + 1):
        for steps in itertools.combinations(grid, k):
            run = replay(stream, LogisticRegression(), AtSteps(list(steps)), seed=7,
                         protocol=protocol)
            results[steps] = run.summary["mean_accuracy"]
            assert f.evaluate(list(steps)).accuracy == pytest.approx(results[steps], abs=1e-12)
    for k in range(len(grid) + 1):
        best = max(v for s, v in results.items() if len(s) <= k)
        assert f.best(k).accuracy == pytest.approx(best, abs=1e-12)


# --- since_change, events and regret ----------------------------------------------------


@pytest.mark.parametrize("trigger", [DriftAware(refit_after=3),
                                     ErrorDetector(DDM(), refit_after=None)])
def test_a_runs_own_models_make_regret_non_negative(trigger):
    protocol = Protocol(window="since_change", **HARD)
    stream = SEA(n_samples=16_000, schedule=[{"at": 6_000, "to": 3}, {"at": 11_000, "to": 2}])
    run = replay(stream, LogisticRegression(), trigger, seed=1, protocol=protocol)
    assert run.summary["n_accepted"] >= 1
    f = _frontier_for_run(run, stream, LogisticRegression(), 1, protocol)
    events = [c for c in range(f.matrix.n_candidates) if f.matrix.cand_origin[c] == 3]
    trained = run.events[run.events["model_id"] >= 0]
    served = trained[trained["step"] + 1 + HARD["deploy_latency"]
                     < run.timeline["step"].iloc[-1] + 1]
    assert len(events) == len(served)
    own = f.evaluate(candidates=events)
    assert own.accuracy == pytest.approx(run.summary["mean_accuracy"], abs=1e-12)
    r = regret(run.summary, f)
    assert r["regret"] >= -1e-12
    assert r["optimal_accuracy_same_retrains"] == f.best(run.summary["n_accepted"]).accuracy


def test_events_from_another_run_are_rejected():
    protocol = Protocol(window="since_change", **HARD)
    run = replay(STREAM, LogisticRegression(), DriftAware(), seed=1, protocol=protocol)
    with pytest.raises(ValueError, match="different run"):
        hindsight(STREAM, LogisticRegression(), seed=2, protocol=protocol,
                  extra_steps=run.events)


# --- cache ------------------------------------------------------------------------------


def test_cache_round_trip_and_reuse(tmp_path):
    protocol = Protocol(window="since_change", **HARD)
    model = LogisticRegression()
    run = replay(STREAM, model, DriftAware(), seed=1, protocol=protocol)
    plain = hindsight(STREAM, model, seed=1, protocol=protocol, every=3, extra_steps=run.events)
    cached = hindsight(STREAM, model, seed=1, protocol=protocol, every=3,
                       extra_steps=run.events, cache_dir=tmp_path)
    files = [f for f in os.listdir(tmp_path) if f.startswith("oracle-")]
    assert sorted(f.rsplit(".", 1)[1] for f in files) == ["lock", "npz"]
    key = cache_key(STREAM, model, seed=1, protocol=protocol, every=3)
    grid = AccuracyMatrix.load(tmp_path / f"oracle-{key}.npz")
    assert grid.key == key and (grid.cand_origin != 3).all()
    again = hindsight(STREAM, model, seed=1, protocol=protocol, every=3,
                      extra_steps=run.events, cache_dir=tmp_path)
    for f in (cached, again):
        assert f.frontier["accuracy"].tolist() == plain.frontier["accuracy"].tolist()
        np.testing.assert_array_equal(f.matrix.cand_step, plain.matrix.cand_step)
    # a grid-only request is served from the cache, untouched
    assert hindsight(STREAM, model, seed=1, protocol=protocol, every=3,
                     cache_dir=tmp_path).matrix.key == key


def test_cache_key_separates_what_matters():
    p = Protocol(**HARD)
    base = cache_key(STREAM, LogisticRegression(), seed=0, protocol=p, every=3)
    assert base == cache_key(STREAM, LogisticRegression(), seed=0,
                             protocol=p.set_params(min_benefit=0.5), every=3)
    others = [
        cache_key(STREAM, LogisticRegression(), seed=1, protocol=p, every=3),
        cache_key(STREAM, LogisticRegression(), seed=0, protocol=Protocol(**HARD | {
            "label_delay": 0}), every=3),
        cache_key(STREAM, LogisticRegression(), seed=0, protocol=p, every=4),
        cache_key(SEA(n_samples=12_000), LogisticRegression(), seed=0, protocol=p, every=3),
        cache_key(STREAM, GaussianNB(), seed=0, protocol=p, every=3),
        cache_key(STREAM, LogisticRegression(), seed=0, protocol=p, every=3, gate=Holdout()),
    ]
    assert len({base, *others}) == len(others) + 1


def test_cache_key_covers_every_rule_of_time_and_no_evaluation_setting():
    """The key is built from Protocol.rules(): a new rule is covered without editing it."""
    p = Protocol(**HARD)
    base = cache_key(STREAM, LogisticRegression(), seed=0, protocol=p, every=3)
    changed = {"step_size": 250, "initial_train": 3000, "label_delay": 1, "label_rate": 0.7,
               "window": "expanding", "train_window": 2500, "min_train": 400,
               "deploy_latency": 2}
    assert set(changed) == set(p.rules())
    for name, value in changed.items():
        other = Protocol(**HARD | {name: value})
        assert cache_key(STREAM, LogisticRegression(), seed=0, protocol=other,
                         every=3) != base, name
    for name in Protocol._evaluation:
        other = Protocol(**HARD).set_params(**{name: 7})
        assert cache_key(STREAM, LogisticRegression(), seed=0, protocol=other,
                         every=3) == base, name


# --- parameters -------------------------------------------------------------------------


def test_errors_name_the_parameter():
    with pytest.raises(ValueError, match="'every' parameter"):
        hindsight(STREAM, LogisticRegression(), every=0)
    f = hindsight(STREAM, LogisticRegression(), every=4, max_retrains=2,
                  protocol=Protocol(**HARD))
    with pytest.raises(ValueError, match="'max_retrains' parameter of Frontier.best"):
        f.best(5)
    with pytest.raises(ValueError, match="'cost_weight' parameter"):
        f.best_for_cost_weight(-1)
    with pytest.raises(ValueError, match="'extra_steps' parameter"):
        hindsight(STREAM, LogisticRegression(), extra_steps=[10_000])


# --- every window a policy can make (windows="all") ---------------------------------------


class AtWindows(Trigger):
    """Retrains at the given steps, each on the window since the given sample."""

    def __init__(self, windows=None):
        self.windows = windows

    def update(self, obs):
        if obs.t in self.windows:
            return Decision(True, "scheduled", since=self.windows[obs.t])
        return Decision(False)


TINY = dict(step_size=300, initial_train=900, label_delay=1, label_rate=0.8,
            train_window=900, min_train=200)
TINY_STREAM = SEA(n_samples=3_600, schedule=[{"at": 1_800, "to": 3}])


@pytest.mark.parametrize("window", ["since_change", "since_retrain", "sliding"])
def test_all_windows_are_every_window_a_step_start_can_make(window):
    """The candidates at a step: one per distinct window starting at any step's first sample."""
    protocol = Protocol(window=window, **TINY)
    m = accuracy_matrix(TINY_STREAM, GaussianNB(), seed=2, protocol=protocol, every=1,
                        windows="all")
    assert m.cand_row is not None  # every window is fixed: one DP over the candidates
    steps = sorted(set(m.cand_step[1:].tolist()))
    for t in (steps[1], steps[-1]):
        got = {(int(m.row_train_start[r]), int(m.row_train_end[r]))
               for r in m.cand_row[m.cand_step == t] if r >= 0}
        want = set()
        if window == "since_retrain":  # the window after a previous retrain at any step
            scripts = [{t: None}] + [{p: None, t: None} for p in range(m.first_step, t)]
        else:  # the window since any step's first sample, or the policy's own
            scripts = [{t: since} for since in [None, *range(0, (t + 1) * 300, 300)]]
        for script in scripts:
            run = replay(TINY_STREAM, GaussianNB(), AtWindows(script), seed=2,
                         protocol=protocol)
            ev = run.events.iloc[-1]
            want.add((int(ev["train_start"]), int(ev["train_end"])))
        # since_retrain: a superset (the schedules may pick any of them at every retrain)
        assert want <= got if window == "since_retrain" else got == want, t
    assert (window == "sliding") == (m.n_candidates == len(set(m.cand_step.tolist())))


@pytest.mark.parametrize("window", ["since_change", "since_retrain"])
def test_all_windows_dp_matches_enumeration(window):
    """The frontier over every window is the best of every schedule of the candidates."""
    protocol = Protocol(window=window, **TINY)
    stream = SEA(n_samples=2_400, schedule=[{"at": 1_500, "to": 3}])  # 4 candidate steps
    f = hindsight(stream, GaussianNB(), seed=2, protocol=protocol, every=1,
                  windows="all", cost=Cost(per_retrain=1.0))
    m = f.matrix
    by_step = {}
    for c in range(1, m.n_candidates):
        if m.cand_row[c] >= 0:
            by_step.setdefault(int(m.cand_step[c]), []).append(c)
    schedules = []
    for picks in itertools.product(*[[None, *cs] for cs in by_step.values()]):
        schedules.append(f.evaluate(candidates=[c for c in picks if c is not None]))
    assert len(schedules) > 300
    for k in range(f.max_retrains + 1):
        best = max(s.accuracy for s in schedules if s.n_retrains <= k)
        assert f.best(k).accuracy == pytest.approx(best, abs=1e-12), k


@pytest.mark.parametrize("seed", [0, 1])
def test_no_schedule_of_step_start_windows_beats_the_all_windows_optimum(seed):
    """Replays of random schedules, each retrain on a window since a random step, stay below.

    Also the policy-window frontier (since_retrain's exact pair DP) stays below it.
    """
    protocol = Protocol(window="since_change", **TINY)
    f = hindsight(TINY_STREAM, LogisticRegression(), seed=seed, protocol=protocol, every=1,
                  windows="all")
    rng = np.random.default_rng(seed)
    last = int(f.matrix.first_step + f.matrix.n_steps - 1)
    for _ in range(4):
        steps = sorted(rng.choice(np.arange(f.matrix.first_step, last), size=rng.integers(
            1, 5), replace=False).tolist())
        windows = {t: int(rng.integers(0, t + 1)) * 300 for t in steps}
        run = replay(TINY_STREAM, LogisticRegression(), AtWindows(windows), seed=seed,
                     protocol=protocol)
        own = f.evaluate(run.events)
        assert own.accuracy == pytest.approx(run.summary["mean_accuracy"], abs=1e-12)
        r = regret(run.summary, f)
        assert r["regret"] >= -1e-12 and r["oracle_own_windows"] == 0
    policy = hindsight(TINY_STREAM, LogisticRegression(), seed=seed, every=1,
                       protocol=Protocol(window="since_retrain", **TINY))
    wide = hindsight(TINY_STREAM, LogisticRegression(), seed=seed, every=1, windows="all",
                     protocol=Protocol(window="since_retrain", **TINY))
    assert (wide.frontier["accuracy"] >= policy.frontier["accuracy"] - 1e-12).all()


def test_a_window_inside_a_step_joins_as_the_runs_own():
    """A change point inside a step is no step start: the run's event adds its window."""
    protocol = Protocol(window="since_change", **TINY)
    run = replay(TINY_STREAM, LogisticRegression(), AtWindows({5: 1_050, 8: 1_930}), seed=0,
                 protocol=protocol)
    shared = hindsight(TINY_STREAM, LogisticRegression(), seed=0, protocol=protocol,
                       every=1, windows="all")
    f = hindsight(TINY_STREAM, LogisticRegression(), seed=0, protocol=protocol, every=1,
                  windows="all", extra_steps=run.events)
    r = regret(run.summary, f)
    assert r["oracle_own_windows"] == 2 and r["regret"] >= -1e-12
    assert regret(run.summary, shared)["oracle_own_windows"] == 0
    assert f.evaluate(run.events).accuracy == pytest.approx(run.summary["mean_accuracy"],
                                                            abs=1e-12)


def test_the_shared_matrix_is_kept_in_memory_and_on_disk(tmp_path):
    protocol = Protocol(window="since_change", **TINY)
    kw = dict(seed=0, protocol=protocol, every=1, windows="all", cache_dir=tmp_path)
    first = accuracy_matrix(TINY_STREAM, LogisticRegression(), **kw)
    (path,) = tmp_path.glob("*.npz")
    assert accuracy_matrix(TINY_STREAM, LogisticRegression(), **kw) is first  # memory
    assert first.key == cache_key(TINY_STREAM, LogisticRegression(), seed=0,
                                  protocol=protocol, every=1, windows="all")
    assert first.key != cache_key(TINY_STREAM, LogisticRegression(), seed=0,
                                  protocol=protocol, every=1)
    from sim import oracle
    oracle._MEMORY.clear()
    again = accuracy_matrix(TINY_STREAM, LogisticRegression(), **kw)  # from disk, no pickle
    assert again is not first
    np.testing.assert_array_equal(again.correct, first.correct)


def test_runs_outside_the_optimum_are_not_bounded():
    from sim.learning import Online
    from sim.oracle import not_bounded
    from strategies import Canary, Rollback, Shadow

    protocol = Protocol(window="sliding", **TINY)
    for gate in (Canary(), Shadow(), Rollback()):
        assert not_bounded(gate) is not None
        run = replay(TINY_STREAM, LogisticRegression(), Periodic(every=3), gate=gate,
                     seed=0, protocol=protocol)
        r = regret(run.summary, None, not_bounded(gate))
        assert r["oracle_bounded"] is False
        assert np.isnan(r["regret"]) and np.isnan(r["optimal_accuracy_same_retrains"])
    assert not_bounded(Holdout(), Online()) is not None
    assert not_bounded(Holdout()) is None
    with pytest.raises(ValueError, match="'frontier' parameter of regret"):
        regret({"mean_accuracy": 0.5}, None)
    with pytest.raises(ValueError, match="'windows' parameter"):
        hindsight(TINY_STREAM, LogisticRegression(), windows="every")


def test_the_report_prints_not_bounded_instead_of_a_number():
    import pandas as pd

    from experiments.report import _display_table

    configs = pd.DataFrame({
        "regret_mean": [0.01, float("nan")], "regret_ci95": [0.002, float("nan")],
        "optimal_accuracy_same_retrains_mean": [0.93, float("nan")],
        "optimal_accuracy_same_retrains_ci95": [0.001, float("nan")],
        "regret_lo": [0.008, float("nan")], "regret_hi": [0.012, float("nan")],
        "optimal_accuracy_same_retrains_lo": [0.929, float("nan")],
        "optimal_accuracy_same_retrains_hi": [0.931, float("nan")],
        "oracle_bounded_mean": [1.0, 0.0]}, index=["holdout", "canary"])
    table = _display_table(configs, "classification",
                           ["regret", "optimal_accuracy_same_retrains"])
    assert table.loc["canary"].tolist() == ["not bounded", "not bounded"]
    assert table.loc["holdout"].tolist() == ["0.010 [0.008, 0.012]", "0.930 [0.929, 0.931]"]
    only = _display_table(configs.iloc[1:], "classification", ["regret"])
    assert only.loc["canary", only.columns[0]] == "not bounded"


def test_the_cache_key_reads_a_data_file_by_content_not_by_path(tmp_path):
    """A table replaced by another of the same size and mtime gets another matrix key."""
    from sim.streams import Tabular

    path = tmp_path / "t.csv"
    rows = "".join(f"{i % 7},{i % 3}\n" for i in range(600))
    path.write_text("x,y\n" + rows)
    stat = path.stat()
    key = cache_key(Tabular(data=str(path), target="y"), LogisticRegression(), seed=0)
    path.write_text("x,y\n" + rows.replace(",2\n", ",1\n", 5).replace(",1\n", ",2\n", 5))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert cache_key(Tabular(data=str(path), target="y"), LogisticRegression(), seed=0) != key
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    assert cache_key(Tabular(data=str(copy), target="y"), LogisticRegression(), seed=0) == \
        cache_key(Tabular(data=str(path), target="y"), LogisticRegression(), seed=0)


def test_a_frontier_solved_once_is_read_back_not_solved_again(tmp_path, monkeypatch):
    """The jobs sharing a matrix share its frontier: solved once per matrix, cost and K."""
    protocol = Protocol(window="since_change", **TINY)
    kw = dict(seed=0, protocol=protocol, every=1, windows="all")
    plain = hindsight(TINY_STREAM, LogisticRegression(), cost=Cost(per_retrain=2.0), **kw)
    first = hindsight(TINY_STREAM, LogisticRegression(), cost=Cost(per_retrain=2.0),
                      cache_dir=tmp_path, **kw)
    (saved,) = tmp_path.glob("frontier-*.npz")

    def unsolvable(self, eps):
        raise AssertionError("solved again")

    monkeypatch.setattr(Frontier, "_chain_frontier", unsolvable)
    again = hindsight(TINY_STREAM, LogisticRegression(), cost=Cost(per_retrain=2.0),
                      cache_dir=tmp_path, **kw)
    for f in (first, again):
        assert f.frontier.equals(plain.frontier)
    # another cost, a damaged file or a run's own windows: solved, never a wrong read
    with pytest.raises(AssertionError, match="solved again"):
        hindsight(TINY_STREAM, LogisticRegression(), cost=Cost(per_retrain=3.0),
                  cache_dir=tmp_path, **kw)
    saved.write_bytes(b"not an npz")
    with pytest.raises(AssertionError, match="solved again"):
        hindsight(TINY_STREAM, LogisticRegression(), cost=Cost(per_retrain=2.0),
                  cache_dir=tmp_path, **kw)
    run = replay(TINY_STREAM, LogisticRegression(), AtWindows({5: 1_050}), seed=0,
                 protocol=protocol)  # a window starting inside a step: the run's own matrix
    with pytest.raises(AssertionError, match="solved again"):
        hindsight(TINY_STREAM, LogisticRegression(), cost=Cost(per_retrain=2.0),
                  extra_steps=run.events, cache_dir=tmp_path, **kw)

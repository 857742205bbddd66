"""Contract tests every trigger and gate passes, and the behaviour of each member."""

import inspect

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import strategies
from sim import replay
from sim.contracts import check_gate, check_trigger
from sim.streams import SEA
from strategies import (
    AllOf,
    AnyOf,
    Approval,
    Budget,
    Cooldown,
    DataDrift,
    DriftAware,
    ErrorDetector,
    Gate,
    Holdout,
    KOfN,
    LabelCheck,
    LiveGate,
    Never,
    Performance,
    Periodic,
    PredictionDrift,
    Rollback,
    Shadow,
    Trigger,
    TriggerTags,
    Uncertainty,
    Warmup,
)
from strategies.detectors import DDM, PSI

# members that cannot be built from their defaults alone get an example here
EXAMPLES = {
    "AnyOf": AnyOf([Periodic(every=6), Performance()]),
    "AllOf": AllOf([Periodic(every=3), Performance(drop=0.03)], within=4),
    "KOfN": KOfN([Periodic(every=4), Periodic(every=6), Performance()], k=2, within=2),
    "Cooldown": Cooldown(Periodic(every=1), min_gap=3),
    "Warmup": Warmup(Periodic(every=2), n_steps=5),
    "Budget": Budget(Periodic(every=2), max_retrains=3),
    "Approval": Approval(Performance(drop=0.03), latency=2, budget=2, period=10),
    "ErrorDetector": ErrorDetector(DDM()),
}

TRIGGERS = sorted(
    name for name in strategies.__all__
    if inspect.isclass(getattr(strategies, name))
    and issubclass(getattr(strategies, name), Trigger) and name != "Trigger"
)
GATES = sorted(
    name for name in strategies.__all__
    if inspect.isclass(getattr(strategies, name))
    and issubclass(getattr(strategies, name), Gate) and name not in ("Gate", "LiveGate")
)
LIVE_GATES = [name for name in GATES if issubclass(getattr(strategies, name), LiveGate)]


def make(name):
    return clone(EXAMPLES[name]) if name in EXAMPLES else getattr(strategies, name)()


def stream():
    return SEA(n_samples=15_000, schedule=[{"at": 7_500, "to": 3}])


def decisions(trigger, seed=0):
    result = replay(stream(), LogisticRegression(), trigger, seed=seed, step_size=250)
    return result.events["step"].tolist(), result.events["reason"].tolist()


@pytest.mark.parametrize("name", TRIGGERS)
def test_trigger_contract(name):
    """Every trigger keeps the contract of sim.contracts.check_trigger."""
    check_trigger(make(name))


@pytest.mark.parametrize("name", GATES)
def test_gate_contract(name):
    """Every gate keeps the contract of sim.contracts.check_gate (a live gate's too)."""
    check_gate(getattr(strategies, name)())


def test_wrappers_combine_their_childrens_tags_once():
    """A vote needs what any child needs and holds out the most any child holds out; a
    filter (Cooldown, Approval) needs what its child needs; the engine reads only tags."""
    vote = AnyOf([PredictionDrift(n_holdout=300), DriftAware(), Periodic(every=3)]).reset(0)
    assert vote.__retrain_tags__() == TriggerTags(requires_ground_truth=True,
                                                  needs_scores=True, n_holdout=300)
    nested = Approval(Cooldown(Uncertainty(n_holdout=700)), latency=1).reset(0)
    assert nested.__retrain_tags__() == TriggerTags(needs_scores=True, n_holdout=700)
    result = replay(SEA(n_samples=12_000), LogisticRegression(), nested, step_size=250)
    assert result.events["n_train"].le(5000 - 700).all()  # the holdout left every fit


def test_the_live_gates_are_checked_as_live():
    assert LIVE_GATES and all(getattr(strategies, name)().check().__retrain_tags__().live
                              for name in LIVE_GATES)


def test_holdout_rejects_a_worse_challenger():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] > 0).astype(int)
    good = LogisticRegression().fit(X, y)
    bad = LogisticRegression().fit(X, 1 - y)
    verdict = Holdout(margin=0.01).check().accept(good, bad, X, y)
    assert not verdict.retrain and "challenger accuracy" in verdict.reason
    with pytest.raises(ValueError, match="'n_val' parameter of Holdout"):
        Holdout(n_val=0).check()


CLEAN = {0: 360, 1: 640}  # SEA's class mix (0.644 class 1)
BUGGED = {0: 936, 1: 64}  # 90% of the labels written as class 0


def test_label_check_rejects_shifted_training_labels_and_says_why():
    gate = LabelCheck().check()
    verdict = gate.accept(None, None, None, None, champion_labels=CLEAN,
                          challenger_labels=BUGGED)
    assert not verdict.retrain
    assert verdict.reason.startswith("training labels shifted: challenger {0: 0.936, 1: 0.064} "
                                     "against the reference {0: 0.360, 1: 0.640}, total "
                                     "variation 0.576 > max_shift 0.1, chi-square p ")
    assert verdict.stats["label_shift"] == pytest.approx(0.576)
    assert verdict.stats["label_p"] < 1e-100
    same = gate.accept(None, None, None, None, champion_labels=CLEAN,
                       challenger_labels={0: 352, 1: 648})
    assert same.retrain and same.reason.startswith("training labels pass")
    # a class the champion never saw counts as a shift of its share
    new = gate.accept(None, None, None, None, champion_labels=CLEAN,
                      challenger_labels={0: 300, 1: 500, 2: 200})
    assert not new.retrain and "2: 0.200" in new.reason and "2: 0.000" in new.reason
    with pytest.raises(ValueError, match="The 'max_shift' parameter of LabelCheck"):
        LabelCheck(max_shift=1.0).check()


def test_label_check_needs_a_material_shift_as_well_as_a_significant_one():
    """A million labels make a 0.04 move highly significant; ``max_shift`` keeps it."""
    big = {0: 360_000, 1: 640_000}
    moved = {0: 400_000, 1: 600_000}
    verdict = LabelCheck(max_shift=0.1).check().accept(
        None, None, None, None, champion_labels=big, challenger_labels=moved)
    assert verdict.retrain and verdict.stats["label_p"] < 1e-100
    assert "total variation 0.040 <= max_shift 0.1" in verdict.reason
    assert not LabelCheck(max_shift=0.03).check().accept(
        None, None, None, None, champion_labels=big, challenger_labels=moved).retrain
    # a large move on a few labels is not significant
    few = LabelCheck().check().accept(None, None, None, None, champion_labels={0: 4, 1: 6},
                                      challenger_labels={0: 7, 1: 3})
    assert few.retrain and few.stats["label_shift"] == pytest.approx(0.3)


def test_label_check_wraps_a_holdout_and_a_live_gate_wraps_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] > 0).astype(int)
    good, bad = LogisticRegression().fit(X, y), LogisticRegression().fit(X, 1 - y)
    gate = LabelCheck(gate=Holdout(margin=0.01, n_val=300)).check()
    assert gate.__retrain_tags__().n_val == 300
    same = {"champion_labels": CLEAN, "challenger_labels": CLEAN}
    verdict = gate.accept(good, bad, X, y, **same)  # labels agree: the holdout decides
    assert not verdict.retrain and "training labels pass" in verdict.reason
    assert "challenger accuracy" in verdict.reason and "challenger" in verdict.stats
    assert gate.accept(bad, good, X, y, **same).retrain
    shifted = gate.accept(bad, good, X, y, champion_labels=CLEAN, challenger_labels=BUGGED)
    assert not shifted.retrain and "accuracy" not in shifted.reason  # the holdout not asked
    live = Rollback(gate=LabelCheck()).check()
    assert live.__retrain_tags__().needs_training_labels
    assert not Rollback().check().__retrain_tags__().needs_training_labels
    assert not live.accept(bad, good, X, y, champion_labels=CLEAN,
                           challenger_labels=BUGGED).retrain
    with pytest.raises(ValueError, match="The 'gate' parameter of LabelCheck must be"):
        LabelCheck(gate=Shadow()).check()


def test_periodic_golden_steps():
    steps, reasons = decisions(Periodic(every=10))
    assert steps == [29, 39, 49, 59]
    assert reasons[0] == "10 steps since the last retrain"


def test_combinators_combine():
    every3 = set(decisions(Periodic(every=3))[0])
    assert set(decisions(AnyOf([Periodic(every=3), Never()]))[0]) == every3
    assert decisions(AllOf([Periodic(every=3), Never()]))[0] == []
    assert decisions(Budget(Periodic(every=3), max_retrains=2))[0] == sorted(every3)[:2]
    cooled = decisions(Cooldown(Periodic(every=1), min_gap=4))[0]
    assert np.all(np.diff(cooled) >= 4)
    warm = decisions(Warmup(Periodic(every=1), n_steps=20))[0]
    assert warm[0] == 20 + 20  # the first scored step is 20 (initial_train 5000 / 250)
    rolling = decisions(Budget(Periodic(every=1), max_retrains=2, period=10))[0]
    assert all(np.sum((np.array(rolling) > s - 10) & (np.array(rolling) <= s)) <= 2
               for s in rolling)


def test_kofn_needs_k_votes():
    # Periodic(2) keeps asking from its 2nd step on; Periodic(3) joins it at the 3rd
    steps = decisions(KOfN([Periodic(every=2), Periodic(every=3), Never()], k=2))[0]
    assert steps == decisions(Periodic(every=3))[0]
    assert decisions(KOfN([Periodic(every=2), Never(), Never()], k=2))[0] == []
    with pytest.raises(ValueError, match="'k' parameter of KOfN"):
        decisions(KOfN([Periodic(), Never()], k=3))


def test_oracle_fires_at_the_true_drifts_only():
    steps, reasons = decisions(DriftAware(delay=2, refit_after=None))
    assert steps == [7_500 // 250 + 2]
    assert reasons == ["true drift at sample 7500"]
    steps, reasons = decisions(DriftAware(delay=0, refit_after=3))
    assert steps == [30, 33]
    assert reasons[1] == "refit on the new concept since sample 7500"
    # the oracle waits for labels of the new concept to arrive
    late = replay(stream(), LogisticRegression(), DriftAware(refit_after=None),
                  step_size=250, label_delay=3).events["step"].tolist()
    assert late == [33]
    # inside a combinator the ground truth is passed on
    steps = decisions(Cooldown(DriftAware(delay=0), min_gap=1))[0]
    assert steps == [30, 34]


def test_only_the_oracle_sees_the_ground_truth():
    class Nosy(Periodic):
        def reveal(self, drifts, step_size):
            raise AssertionError("the ground truth leaked to a non-oracle trigger")

    decisions(AnyOf([Nosy(every=5), DriftAware()]))
    decisions(Nosy(every=5))


def test_data_drift_records_why_it_fired():
    result = replay(stream(), LogisticRegression(), DataDrift(test=PSI(), window=4),
                    seed=0, step_size=250)
    stats = [c for c in result.timeline.columns if c.startswith("stat_")]
    assert {"stat_statistic_0", "stat_statistic_2", "stat_n_drifted"} <= set(stats)


def test_performance_needs_a_rule_and_estimates_the_change():
    with pytest.raises(ValueError, match="Performance needs a rule"):
        decisions(Performance(threshold=None, drop=None))
    seen = []

    class Recorder(Performance):
        def update(self, obs):
            decision = super().update(obs)
            if decision.retrain:
                seen.append(decision.since)
            return decision

    replay(SEA(n_samples=40_000, schedule=[{"at": 20_000, "to": 3}]), LogisticRegression(),
           Recorder(drop=0.05), seed=0, step_size=500)
    assert seen and abs(seen[0] - 20_000) < 500


def test_tail_keeps_the_newest_values_like_a_slice():
    from strategies.triggers import _Tail

    rng = np.random.default_rng(0)
    tail, naive = _Tail(50, np.int64), np.empty(0, dtype=np.int64)
    for _ in range(300):
        chunk = rng.integers(0, 1000, rng.integers(0, 80))
        tail.extend(chunk)
        naive = np.concatenate([naive, chunk])
        np.testing.assert_array_equal(tail.values, naive[-50:])
        assert tail.dropped == len(naive) - len(tail)
    tail.clear()
    assert len(tail) == 0 and tail.dropped == 0

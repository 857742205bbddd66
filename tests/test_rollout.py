"""Validating a retrain in production: shadow, canary and rollback gates, end to end.

The scenario is the ``rollout_validation`` preset's: SEA with two concept drifts and
three label-pipeline incidents (``conf/stream/sea_label_corruption.yaml``), a retrain
every 10 steps, labels 2 steps late, a 2,500-label sliding window, so that the retrains
at steps 29, 59 and 89 train mostly on wrong labels. Measured over seeds 0, 1, 2 (one
core, under load): mean accuracy always_accept 0.674, holdout 0.847, shadow 0.854,
canary 0.849, rollback 0.803; shadow and canary reject all three corrupted retrains in
every seed (holdout accepts two of them: its held-out labels are wrong too); exposure
(share of samples served by a model worse than the one it challenged) always_accept
0.485, canary 0.106, with extra errors served 10,100 against 357; rollback brings the
previous model back 3 steps after each corrupted deployment (5 rollbacks per seed: the
drifts right after a switch look like bad deployments too). The preset's figure:
``retrain-sim -m experiment=rollout_validation`` (accuracy_over_time.png: shadow and
canary trials drawn as bars, rollbacks as red triangles).
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf
from sklearn.linear_model import LinearRegression, LogisticRegression

import sim.rollout as rollout_module
from sim import Cost, Replay, replay
from sim.checks import ParamError
from sim.contracts import check_rollout
from sim.rollout import CanaryRollout, RollbackWatch, ShadowRollout
from sim.scripted import AtSteps
from sim.streams import SEA, Stream
from strategies import AlwaysAccept, Canary, Holdout, Periodic, Rollback, Shadow, StagedCanary

CONF = Path(__file__).parents[1] / "conf"
SEEDS = (0, 1, 2)
CORRUPTED = (29, 59, 89)  # the retrains that train mostly on wrong labels
PROTOCOL = {"label_delay": 2, "window": "sliding", "train_window": 2500, "exposure": True}


def corrupted_stream():
    return instantiate(OmegaConf.load(CONF / "stream" / "sea_label_corruption.yaml"))


def gate_of(name):
    return instantiate(OmegaConf.load(CONF / "gate" / f"{name}.yaml"))


def run(gate, seed, stream=None, **kw):
    return replay(stream or corrupted_stream(), LogisticRegression(), Periodic(every=10),
                  gate=gate, seed=seed, **(PROTOCOL | kw))


@pytest.fixture(scope="module")
def results():
    names = ("always_accept", "holdout", "shadow", "canary", "rollback")
    return {name: [run(gate_of(name), seed) for seed in SEEDS] for name in names}


def mean(results, name, key):
    return float(np.mean([r.summary[key] for r in results[name]]))


@pytest.mark.slow
def test_shadow_and_canary_reject_the_corrupted_retrains_and_beat_always_accept(results):
    for name in ("shadow", "canary"):
        for result in results[name]:
            events = result.events.set_index("step")
            rejected = [not events.loc[t, "accepted"] for t in CORRUPTED]
            assert sum(rejected) >= 2, (name, events.loc[list(CORRUPTED), "gate_reason"])
        assert mean(results, name, "mean_accuracy") > mean(
            results, "always_accept", "mean_accuracy") + 0.1
    for result in results["always_accept"]:
        assert result.events.set_index("step").loc[list(CORRUPTED), "accepted"].all()


@pytest.mark.slow
def test_canary_exposure_is_a_fraction_of_always_accepts(results):
    assert mean(results, "always_accept", "exposed_share") > 0.3
    assert mean(results, "canary", "exposed_share") < 0.5 * mean(
        results, "always_accept", "exposed_share")
    assert mean(results, "canary", "exposed_errors") < 0.1 * mean(
        results, "always_accept", "exposed_errors")


@pytest.mark.slow
def test_rollback_restores_the_previous_model_within_its_window(results):
    steps = gate_of("rollback").steps
    for result in results["rollback"]:
        events, timeline = result.events, result.timeline.set_index("step")
        retrains = events[events["kind"] == "retrain"].set_index("step")
        rollbacks = events[events["kind"] == "rollback"]
        for t in CORRUPTED:
            bad = retrains.loc[t]
            deployed = int(bad["deploy_step"])
            previous = int(timeline.loc[deployed - 1, "model_id"])
            back = rollbacks[(rollbacks["step"] >= deployed)
                             & (rollbacks["step"] < deployed + steps)]
            assert len(back) == 1, (t, events)
            restored = int(back["deploy_step"].iloc[0])
            assert int(back["model_id"].iloc[0]) == previous
            assert timeline.loc[restored, "model_id"] == previous
            assert back["cost"].iloc[0] == 0 and bad["trial_end"] == back["step"].iloc[0]
        # rollbacks are no retrains: not counted, not scored as detections
        assert result.summary["n_retrains"] == len(retrains) == 11
        assert result.summary["n_rollbacks"] == len(rollbacks)
    assert mean(results, "rollback", "mean_accuracy") > mean(
        results, "always_accept", "mean_accuracy") + 0.1


@pytest.mark.parametrize("gate", [Shadow(steps=4), Canary(fraction=0.3, steps=4),
                                  Rollback(steps=4), StagedCanary([0.1, 0.4], steps=3)])
@pytest.mark.parametrize("delay,rate", [(0, 1.0), (3, 1.0), (2, 0.4)])
def test_no_label_reaches_a_live_gate_before_it_arrives(gate, delay, rate):
    """Every look counts exactly the labels of the trial's steps up to t - label_delay."""
    size = 250
    trial_log = []
    live = type("Spy" + type(gate).__name__, (type(gate),), {
        "judge": lambda self, trial: trial_log.append(trial) or type(gate).judge(self, trial),
    })(**gate.get_params())
    run = Replay(SEA(n_samples=20_000, schedule=[{"at": 10_000, "to": 3}]),
                 LogisticRegression(), Periodic(every=6), gate=live, seed=3, step_size=size,
                 label_delay=delay, label_rate=rate).reset()
    looks = 0
    while not run.done:
        before = len(trial_log)
        trial = run._trial
        # a stage's looks count from the stage's first step
        first = getattr(trial, "stage_start", getattr(trial, "start", None))
        outcome = run.step()
        if len(trial_log) == before:
            continue
        looks += 1
        t, evidence = outcome.observation.t, trial_log[-1]
        assert t - evidence.look + 1 == first
        arrived = size * max(0, t - delay - trial.start + 1)
        seen = evidence.n_challenger if not isinstance(trial, CanaryRollout) else (
            evidence.n_challenger + evidence.n_champion)
        assert seen <= arrived and (seen == arrived or rate < 1), (t, seen, arrived)
        if isinstance(trial, RollbackWatch):  # the previous model's window, before the switch
            since = max(trial.start - gate.window, run._first_step)
            assert evidence.n_champion <= size * max(0, min(trial.start - 1, t - delay)
                                                     - since + 1)
        if isinstance(trial, ShadowRollout):  # its predictions are kept until labels arrive
            assert all(s > t - delay for s in trial.predictions)
    assert looks > 5


def test_canary_serves_its_fraction_and_labels_name_the_serving_model():
    seen = []
    run = Replay(SEA(n_samples=20_000), LogisticRegression(), Periodic(every=8),
                 gate=Canary(fraction=0.25, steps=6), seed=1, label_delay=1).reset()
    while not run.done:
        labels = run.step().observation.labels
        seen.append(np.unique(labels.model_id).tolist())
    timeline = run.result().timeline
    share = timeline.loc[timeline["challenger_share"] > 0, "challenger_share"]
    assert len(share) and abs(share.mean() - 0.25) < 0.03
    assert any(len(ids) == 2 for ids in seen)  # the labels of a canary step: both models
    again = replay(SEA(n_samples=20_000), LogisticRegression(), Periodic(every=8),
                   gate=Canary(fraction=0.25, steps=6), seed=1, label_delay=1)
    assert again.timeline.drop(columns="challenger_share").equals(
        timeline.drop(columns="challenger_share"))
    assert again.timeline["challenger_share"].equals(timeline["challenger_share"])


def test_shadow_predictions_cost_their_own_column():
    cost = Cost(per_retrain=1.0, per_shadow_sample=0.001)
    result = replay(SEA(n_samples=20_000), LogisticRegression(), Periodic(every=8),
                    gate=Shadow(steps=3), cost=cost, seed=0)
    events, summary = result.events, result.summary
    trial_steps = (result.timeline["challenger_id"] >= 0).sum()
    assert summary["cost_shadow"] == pytest.approx(0.5 * trial_steps)
    assert summary["cost_shadow"] == pytest.approx(events["cost_shadow"].sum())
    assert summary["total_cost"] == pytest.approx(summary["n_retrains"] + summary["cost_shadow"])
    assert result.timeline["cost"].iloc[-1] == pytest.approx(summary["total_cost"])


def test_rollback_composes_with_an_offline_gate():
    gate = Rollback(gate=Holdout(margin=0.01, n_val=500))
    result = run(gate, 0)
    events = result.events
    offline = events["gate_reason"].str.startswith("challenger accuracy")
    assert offline.any() and not events.loc[offline, "accepted"].any()  # never deployed
    assert (events["n_val"][events["kind"] == "retrain"] == 500).all()
    # every challenger the holdout let through was deployed and watched
    watched = events.loc[events["accepted"] & (events["kind"] == "retrain"), "gate_reason"]
    assert len(watched) and watched.str.startswith("rollback").all()


class Linear(Stream):
    """A small regression stream (live gates compare accuracy: they refuse it)."""

    task = "regression"

    def __init__(self, n_samples=12_000):
        self.n_samples = n_samples

    @property
    def n_features(self):
        return 2

    def _blocks(self, seed):
        X = np.random.default_rng(seed).normal(size=(self.n_samples, 2))
        yield X, X.sum(axis=1), None


def test_exposure_is_opt_in_and_a_live_gate_needs_classification():
    plain = replay(SEA(n_samples=12_000), LogisticRegression(), Periodic(every=5), seed=0)
    assert "exposed_share" not in plain.summary and "challenger_share" not in plain.timeline
    measured = replay(SEA(n_samples=12_000), LogisticRegression(), Periodic(every=5), seed=0,
                      exposure=True)
    assert measured.timeline.equals(plain.timeline)
    assert 0 <= measured.summary["exposed_share"] <= 1
    with pytest.raises(ValueError, match="needs a classification stream"):
        replay(Linear(), LinearRegression(), Periodic(every=5), gate=Canary())
    assert AlwaysAccept().accept(None, None, None, None).retrain


# ---------------------------------------------------------------------------------------
# the staged canary: a live pattern added as a rollout class and a config, no engine edit

STAGED_SEEDS = range(5)


@pytest.fixture(scope="module")
def staged():
    """The rollout_validation scenario over five seeds, the staged and the plain canary."""
    return {name: [run(gate_of(name), seed) for seed in STAGED_SEEDS]
            for name in ("staged_canary", "canary")}


def challenger_samples(result, steps):
    """Samples served by the challengers of the retrains decided at ``steps``."""
    ids = result.events.set_index("step").loc[list(steps), "model_id"]
    line = result.timeline
    served = line["challenger_share"] * line["n_samples"]
    return float(served[line["challenger_id"].isin(ids)].sum())


@pytest.mark.slow
def test_staged_canary_stops_a_bad_challenger_at_its_first_stage(staged):
    stopped = np.zeros(len(CORRUPTED), dtype=int)  # seeds stopping each one at stage 1
    for result in staged["staged_canary"]:
        bad = result.events.set_index("step").loc[list(CORRUPTED)]
        assert not bad["accepted"].any()
        stopped += ((bad["stage"] == 1) & (bad["served_stage_2"] == 0)).to_numpy()
    # measured: 5, 4 and 4 of 5 seeds (the other two at the 10% stage's first look)
    assert (stopped >= 4).all(), stopped


@pytest.mark.slow
def test_staged_canary_exposes_far_fewer_users_to_a_bad_challenger(staged):
    served = {name: sum(challenger_samples(r, CORRUPTED) for r in results)
              for name, results in staged.items()}
    assert served["staged_canary"] < 0.25 * served["canary"], served
    events = pd.concat([r.events for r in staged["staged_canary"]])
    bad = events[(events["kind"] == "retrain") & events["step"].isin(CORRUPTED)]
    per_stage = bad[["served_stage_1", "served_stage_2", "served_stage_3"]].to_numpy()
    assert served["staged_canary"] == pytest.approx(per_stage.sum())


def test_staged_canary_promotes_a_better_challenger_through_every_stage():
    """A retrain after a concept drift beats the old model: it ramps 1% -> 10% -> 50% -> all."""
    promoted = 0
    for seed in STAGED_SEEDS:
        result = replay(SEA(n_samples=20_000, schedule=[{"at": 8_000, "to": 3}]),
                        LogisticRegression(), AtSteps([22]), gate=StagedCanary(), seed=seed,
                        label_delay=1, window="sliding", train_window=2500)
        event, line = result.events.iloc[0], result.timeline.set_index("step")
        if event["accepted"] and event["stage"] == 3:
            promoted += 1
            assert (line.loc[event["trial_end"] + 1:, "model_id"] == event["model_id"]).all()
        counts = [event[f"served_stage_{k}"] for k in (1, 2, 3)]
        trial = line[line["challenger_id"] == event["model_id"]]
        assert sum(counts) == round((trial["challenger_share"] * trial["n_samples"]).sum())
        shares = trial["challenger_share"].to_numpy()
        assert shares[0] < 0.05 and shares.max() > 0.4  # the ramp
    assert promoted >= 4


@pytest.mark.parametrize("shares", [[0.1, 0.01], [0.1, 0.1], [0.5, 1.0], [0.0, 0.5]])
def test_staged_canary_shares_must_ramp_up_within_0_and_1(shares):
    with pytest.raises(ParamError, match=r"The 'shares' parameter of StagedCanary must be a "
                                         r"strictly increasing list of floats in \(0, 1\)\."):
        replay(SEA(n_samples=10_000), LogisticRegression(), Periodic(every=5),
               gate=StagedCanary(shares=shares))


def test_the_engine_names_no_rollout_pattern():
    """Shadow, canary, rollback and staged canary are rollouts: the engine knows none."""
    source = (Path(__file__).parents[1] / "sim" / "engine.py").read_text().lower()
    for word in ("shadow", "canary", "rollback", "mode =="):
        assert word not in source, word


class Undecided(Canary):
    """A live gate that never decides, not even at its trial's last look."""

    def judge(self, trial):
        return None


def test_a_live_gate_must_decide_at_the_last_look_and_name_its_rollout():
    with pytest.raises(TypeError, match=r"Undecided.judge must answer True or False at a "
                                        r"trial's last look .* Got None"):
        replay(SEA(n_samples=10_000), LogisticRegression(), Periodic(every=5),
               gate=Undecided(steps=2))
    patternless = type("Patternless", (Canary,), {"rollout": None})
    with pytest.raises(TypeError, match=r"Patternless.rollout must be a subclass of "
                                        r"sim.rollout.Rollout .* Got None instead"):
        replay(SEA(n_samples=10_000), LogisticRegression(), Periodic(every=5),
               gate=patternless())


# ---------------------------------------------------------------------------------------
# the rollout contract: every live pattern of sim.rollout


ROLLOUTS = [cls for cls in vars(rollout_module).values() if isinstance(cls, type)
            and issubclass(cls, rollout_module.Rollout) and cls is not rollout_module.Rollout
            and cls.__name__ in rollout_module.__all__]


@pytest.mark.parametrize("cls", ROLLOUTS, ids=lambda cls: cls.__name__)
def test_rollout_contract(cls):
    """Every rollout keeps sim.contracts.check_rollout: serves a whole step read-only,
    counts no label it was not given, ends on a verdict, a new retrain or the run's end
    with a reason in its event row."""
    assert len(ROLLOUTS) >= 4
    check_rollout(cls, SimpleNamespace(steps=3, fraction=0.3, shares=(0.1, 0.5), window=4))

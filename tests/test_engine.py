"""The replay engine: the rules of time and information, windows, gates, cost."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).parent / "pins"))

from make_pins import LinearDrift  # noqa: E402  (a regression stream with ground truth)

from sim import Cost, Protocol, Replay, compare, replay
from sim.scripted import AtSteps
from sim.streams import SEA
from sim.streams.base import Stream
from sim.types import Decision
from strategies import (
    AnyOf,
    DataDrift,
    EstimatedPerformance,
    Holdout,
    Never,
    Performance,
    Periodic,
    PredictionDrift,
    Trigger,
    Uncertainty,
)


class FlipAfter(Stream):
    """A stream whose labels from sample ``at`` on are all flipped (for the leak test)."""

    def __init__(self, stream=None, at=0):
        self.stream = stream
        self.at = at

    @property
    def n_features(self):
        return self.stream.n_features

    @property
    def drifts(self):
        return self.stream.drifts

    def _blocks(self, seed):
        start = 0
        for batch in self.stream.batches(seed, 1000):
            y = batch.y.copy()
            idx = np.arange(start, start + len(y))
            y[idx >= self.at] = 1 - y[idx >= self.at]
            start += len(y)
            yield batch.X, y, batch.concept


class Spy(Trigger):
    """Records what it is shown; retrains every ``every`` steps."""

    def __init__(self, every=3):
        self.every = every

    def reset(self, seed=None):
        self.seen_ = []
        return self

    def update(self, obs):
        self.seen_.append(obs)
        if obs.t % self.every == 0:
            return Decision(True, "spy", since=obs.sample_index - 700)
        return Decision(False)


def sea(n=20_000, at=10_000, **kw):
    return SEA(n_samples=n, schedule=[{"at": at, "to": 3}], **kw)


def run(stream=None, trigger=None, **kw):
    return replay(stream or sea(), LogisticRegression(), trigger or Never(), **kw)


FITS = []  # (n, sum of y) of every training set, in order: the spy model writes here
GATES = []  # (n, sum of y_val) of every validation set


class SpyModel(ClassifierMixin, BaseEstimator):
    """Logistic regression that logs the labels it is trained on."""

    def fit(self, X, y):
        FITS.append((len(y), int(np.sum(y))))
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class SpyGate(Holdout):
    def accept(self, champion, challenger, X_val, y_val):
        GATES.append((len(y_val), int(np.sum(y_val))))
        return super().accept(champion, challenger, X_val, y_val)


class SpyTrigger(Trigger):
    """Wraps a trigger and logs the labels each observation (and its holdout) carries."""

    def __init__(self, trigger=None):
        self.trigger = trigger

    @property
    def needs_scores(self):
        return self.trigger.needs_scores

    @property
    def n_holdout(self):
        return self.trigger.n_holdout

    def reset(self, seed=None):
        self._child = clone(self.trigger).reset(seed)
        self.log_ = []
        return self

    def update(self, obs):
        held = None if obs.holdout is None else (len(obs.holdout), int(np.sum(obs.holdout.y)))
        SEEN.append((obs.t, len(obs.labels), int(np.sum(obs.labels.y)), held))
        return self._child.update(obs)

    def on_retrain(self, t, accepted):
        self._child.on_retrain(t, accepted)


SEEN = []


def _spied_run(stream, trigger, **kw):
    FITS.clear(), GATES.clear(), SEEN.clear()
    result = replay(stream, SpyModel(), SpyTrigger(trigger), gate=SpyGate(n_val=300), **kw)
    return result, list(FITS), list(GATES), list(SEEN)


@pytest.mark.parametrize("label_delay", [0, 3])
@pytest.mark.parametrize("label_rate", [1.0, 0.3])
@pytest.mark.parametrize(
    "trigger",
    [Periodic(every=2), Performance(drop=0.02, min_labels=100, window=100),
     AnyOf([DataDrift(alpha=0.2), Performance(threshold=0.95, min_labels=50)]),
     AnyOf([PredictionDrift(alpha=0.2, n_holdout=400, refit_labels=800),
            EstimatedPerformance(drop=0.01, n_holdout=400, refit_labels=800),
            Uncertainty(alpha=0.2, n_holdout=400, refit_labels=800)])],
    ids=["periodic", "performance", "anyof", "label_free"],
)
def test_no_label_is_used_before_it_arrives(label_delay, label_rate, trigger):
    """Flip every label from step ``cut`` on: nothing may change before they arrive.

    Spies log the labels every training set, validation set and observation holds; all
    must be identical up to the step before the first flipped label arrives.
    """
    step, cut = 500, 24
    base = sea(n=20_000)
    flipped = FlipAfter(base, at=cut * step)
    kw = dict(seed=3, step_size=step, label_delay=label_delay, label_rate=label_rate,
              window="sliding", train_window=1500)
    a, fits_a, gates_a, seen_a = _spied_run(base, trigger, **kw)
    b, fits_b, gates_b, seen_b = _spied_run(flipped, trigger, **kw)
    horizon = cut + label_delay  # the first step at which a flipped label arrives
    ta, tb = a.timeline, b.timeline
    before = ta["step"] < horizon
    decisions = [c for c in ta.columns if c not in ("accuracy", "cost")]
    # values, not dtypes: a statistic column is float when a later step has none (NaN)
    pd.testing.assert_frame_equal(ta.loc[before, decisions], tb.loc[before, decisions],
                                  check_dtype=False)
    scored_clean = ta["step"] < cut
    np.testing.assert_array_equal(ta.loc[scored_clean, "accuracy"],
                                  tb.loc[scored_clean, "accuracy"])
    # between cut and horizon the models are the same, so every prediction is now wrong
    # exactly where it was right
    window = (ta["step"] >= cut) & before
    np.testing.assert_allclose(ta.loc[window, "accuracy"], 1 - tb.loc[window, "accuracy"])
    ea, eb = a.events, b.events
    cols = ["step", "reason", "accepted", "train_start", "train_end", "n_train", "n_val"]
    pd.testing.assert_frame_equal(ea.loc[ea["step"] < horizon, cols],
                                  eb.loc[eb["step"] < horizon, cols])
    n_early = 1 + int((ea["step"] < horizon).sum())  # the initial fit and the early retrains
    assert fits_a[:n_early] == fits_b[:n_early]
    n_gated = int(((ea["step"] < horizon) & (ea["n_val"] > 0)).sum())
    assert gates_a[:n_gated] == gates_b[:n_gated]
    assert [s for s in seen_a if s[0] < horizon] == [s for s in seen_b if s[0] < horizon]
    # and the flipped labels do change what is seen once they arrive (the test can fail)
    assert [s for s in seen_a if s[0] == horizon] != [s for s in seen_b if s[0] == horizon]


@pytest.mark.parametrize("label_delay", [0, 2, 5])
def test_labels_arrive_after_the_delay_at_the_rate(label_delay):
    seen = []

    class Recorder(Spy):
        def update(self, obs):
            seen.append(obs)
            return Decision(False)

    result = run(trigger=Recorder(), label_delay=label_delay, label_rate=0.25, seed=1)
    for obs in seen:
        assert np.all(obs.labels.step == obs.t - label_delay)
        assert np.all(obs.labels.index < obs.sample_index + len(obs.X) - label_delay * 500)
        assert obs.labels.X.shape[0] == len(obs.labels.y)
    counts = np.array([len(o.labels) for o in seen if o.t - label_delay >= seen[0].t])
    assert abs(counts.mean() / 500 - 0.25) < 0.03
    assert result.timeline["n_labels"].sum() == sum(len(o.labels) for o in seen)
    # the labels of the last label_delay steps never arrive
    assert len(seen[0].labels) == (len(seen[0].labels) if label_delay == 0 else 0)


def test_same_seed_same_result_and_different_seed_differs():
    trigger = AnyOf([Periodic(every=7), Performance()])
    a, b = run(trigger=trigger, seed=5), run(trigger=trigger, seed=5)
    pd.testing.assert_frame_equal(a.timeline, b.timeline)
    pd.testing.assert_frame_equal(a.events.drop(columns="fit_seconds"),
                                  b.events.drop(columns="fit_seconds"))
    c = run(trigger=trigger, seed=6)
    assert not np.array_equal(a.timeline["accuracy"], c.timeline["accuracy"])


@pytest.mark.parametrize("latency", [0, 2])
def test_a_model_serves_from_t_plus_one_plus_latency(latency):
    result = run(trigger=Periodic(every=5), deploy_latency=latency)
    tl = result.timeline.set_index("step")
    for _, event in result.events.iterrows():
        serve = event["step"] + 1 + latency
        assert event["deploy_step"] == serve
        if serve in tl.index:
            assert tl.loc[serve, "model_id"] == event["model_id"]
            assert tl.loc[serve - 1, "model_id"] != event["model_id"]


def test_training_windows():
    kw = dict(trigger=Spy(every=4), seed=0, step_size=500, train_window=2500, min_train=400)
    sliding = run(window="sliding", **kw).events
    assert (sliding["n_train"] == 2500).all()
    assert (sliding["train_end"] == (sliding["step"] + 1) * 500).all()
    expanding = run(window="expanding", **kw).events
    assert (expanding["train_start"] == 0).all()
    assert (np.diff(expanding["n_train"]) > 0).all()
    since = run(window="since_retrain", **kw).events
    # after the first retrain, the window starts right after the previous decision's step
    assert (since["train_start"].iloc[1:].to_numpy()
            == (since["step"].iloc[:-1].to_numpy() + 1) * 500).all()
    assert (since["n_train"].iloc[1:] == 2000).all()
    change = run(window="since_change", **kw).events
    # Spy estimates the change 700 samples before the current step
    assert (change["train_start"] == change["step"] * 500 - 700).all()
    assert (change["n_train"] == 1200).all()


def test_since_change_reaches_back_to_min_train():
    class Late(Spy):
        def update(self, obs):
            if obs.t % self.every == 0:
                return Decision(True, "late", since=obs.sample_index + 400)
            return Decision(False)

    events = run(trigger=Late(every=4), window="since_change", min_train=300).events
    assert (events["n_train"] == 300).all()


def test_holdout_gate_rejects_bad_challengers_and_they_still_cost():
    kw = dict(trigger=Periodic(every=2), seed=2, window="sliding", train_window=30,
              min_train=10, cost=Cost(per_retrain=2.0, per_sample=0.01))
    gated = run(gate=Holdout(margin=0.01, n_val=500), **kw)
    ungated = run(**kw)
    s = gated.summary
    assert s["n_rejected"] > 0
    assert s["n_accepted"] + s["n_rejected"] == s["n_retrains"]
    rejected = gated.events[~gated.events["accepted"]]
    assert (rejected["cost"] == 2.0 + 0.01 * 30).all()
    assert (rejected["deploy_step"] == -1).all()
    assert s["total_cost"] == pytest.approx(gated.events["cost"].sum())
    assert s["mean_accuracy"] >= ungated.summary["mean_accuracy"] - 0.002


def test_cost_terms_and_cumulative_cost():
    cost = Cost(per_retrain=1.5, per_sample=0.001, per_label=0.01)
    result = run(trigger=Periodic(every=5), cost=cost, label_rate=0.5)
    s = result.summary
    assert s["cost_retrain"] == pytest.approx(1.5 * s["n_retrains"])
    assert s["cost_samples"] == pytest.approx(0.001 * result.events["n_train"].sum())
    assert s["cost_labels"] == pytest.approx(0.01 * result.timeline["n_labels"].sum())
    assert s["total_cost"] == pytest.approx(result.timeline["cost"].iloc[-1])
    assert (np.diff(result.timeline["cost"]) >= 0).all()
    assert s["fit_seconds"] > 0


def test_single_class_window_is_skipped_and_recorded():
    class OnlyOnes(Stream):
        def __init__(self, n_samples=6000):
            self.n_samples = n_samples

        @property
        def n_features(self):
            return 2

        def _blocks(self, seed):
            X = np.random.default_rng(seed).normal(size=(self.n_samples, 2))
            y = np.ones(self.n_samples, dtype=int)
            y[:500:2] = 0  # only the initial segment has both classes
            yield X, y, None

    result = replay(OnlyOnes(), LogisticRegression(), Periodic(every=3), window="sliding",
                    initial_train=500, train_window=500, min_train=100)
    events = result.events
    assert (events["skipped"].str.contains("single class")).all()
    assert result.summary["n_retrains"] == 0
    assert result.summary["n_skipped"] == len(events) > 0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="'label_rate' parameter of Protocol"):
        run(label_rate=1.5)
    with pytest.raises(ValueError, match="'window' parameter of Protocol must be one of"):
        run(window="sliding_window")
    with pytest.raises(ValueError, match="initial_train"):
        run(stream=sea(n=800, at=400), initial_train=1000)
    with pytest.raises(ValueError, match="'every' parameter of Periodic"):
        run(trigger=Periodic(every=0))


def test_summary_counts_false_and_missed_drifts():
    result = run(trigger=Periodic(every=4), seed=0)
    s = result.summary
    drift_step = 10_000 // 500
    steps = result.events["step"].to_numpy()
    previous = np.concatenate([[1], steps[:-1]])
    expected_false = int(np.sum(~((previous < drift_step) & (steps >= drift_step))))
    assert s["false_retrains"] == expected_false
    assert s["missed_drifts"] == 0 and s["n_drifts"] == 1
    assert s["drifts"][0]["detection_delay"] == steps[steps >= drift_step][0] - drift_step
    never = run(trigger=Never()).summary
    assert never["missed_drifts"] == 1 and never["false_retrains"] == 0
    assert never["drifts"][0]["detection_delay"] is None


def test_compare_replays_the_same_samples_for_every_trigger():
    table = compare(sea(), LogisticRegression(),
                    {"never": Never(), "periodic": Periodic(every=3)}, seed=4).summary
    assert list(table.index) == ["never", "periodic"]
    assert table["n_samples"].nunique() == 1
    assert table["accuracy_gap"].min() == 0.0


def test_protocol_object_and_overrides():
    protocol = Protocol(step_size=250, label_delay=1)
    result = run(protocol=protocol, label_delay=2, trigger=Periodic(every=10))
    assert result.config["protocol"]["step_size"] == 250
    assert result.config["protocol"]["label_delay"] == 2
    assert protocol.label_delay == 1  # the caller's object is untouched


def test_a_gate_checking_class_counts_refuses_a_regression_stream():
    from sklearn.linear_model import LinearRegression

    from strategies import LabelCheck

    with pytest.raises(ValueError, match="checks the class counts of the training labels: "
                                         "it needs a classification stream"):
        replay(LinearDrift(n_samples=8_000, at=4_000), LinearRegression(), Periodic(every=2),
               gate=LabelCheck())


def test_regression_streams_are_scored_by_absolute_error():
    from sklearn.linear_model import LinearRegression

    stream = LinearDrift(n_samples=40_000, at=20_000)
    never = replay(stream, LinearRegression(), Never(), seed=0)
    assert {"mae", "rmse"} <= set(never.timeline.columns)
    assert "accuracy" not in never.timeline.columns
    s = never.summary
    assert s["metric"] == "mae" and "mean_accuracy" not in s
    assert s["rmse"] >= s["mean_mae"] > 0
    assert s["drifts"][0]["pre_mae"] == pytest.approx(0.08, abs=0.01)  # noise sd 0.1
    assert s["drifts"][0]["mae_lost"] > 1  # error rose after the drift
    perf = replay(stream, LinearRegression(), Performance(drop=0.1), seed=0)
    assert perf.events["step"].iloc[0] == 20_000 // 500
    assert perf.summary["mean_mae"] < s["mean_mae"] / 5
    assert perf.summary["drifts"][0]["recovery_steps"] is not None
    assert perf.events["benefit"].iloc[0] > 1  # absolute error saved
    gated = replay(stream, LinearRegression(), Periodic(every=3), seed=0,
                   gate=Holdout(margin=0.01))
    assert gated.events["gate_reason"].str.contains("mean absolute error").all()
    table = compare(stream, LinearRegression(), {"never": Never(), "perf": Performance()},
                    oracle=False).summary
    assert table.loc["perf", "mae_gap"] == 0.0


def test_follow_up_refits_are_not_false_retrains():
    result = run(trigger=Performance(refit_after=3), seed=0)
    events = result.events
    assert events["follow_up"].tolist() == [False, True]
    assert events["reason"].iloc[1].startswith("refit")
    s = result.summary
    assert s["n_follow_ups"] == 1
    assert s["false_retrains"] == 0 and s["precision"] == 1.0


def test_drifts_map_to_the_step_that_holds_them_when_steps_are_time_buckets():
    from sim.streams import Injection, Tabular

    rng = np.random.default_rng(0)
    n = 12_000
    days = np.sort(rng.integers(0, 60, n))  # days of uneven size
    frame = pd.DataFrame({"time": pd.to_datetime("2024-01-01") + pd.to_timedelta(days, "D")
                          + pd.to_timedelta(rng.uniform(0, 23, n), "h"),
                          "a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame = frame.sort_values("time", ignore_index=True)
    frame["y"] = (frame["a"] + frame["b"] > 0).astype(int)
    stream = Injection(Tabular(frame, target="y", time="time", step="1D"),
                       schedule=[{"kind": "concept", "at": 7_100, "mode": "flip"}])
    result = replay(stream, LogisticRegression(), Never(), initial_train=2000)
    tl = result.timeline
    holder = tl.loc[tl["sample_index"] <= 7_100, "step"].iloc[-1]
    assert tl.loc[tl["step"] == holder, "sample_index"].iloc[0] + \
        tl.loc[tl["step"] == holder, "n_samples"].iloc[0] > 7_100
    drift = result.summary["drifts"][0]
    assert drift["start_step"] == holder == days[7_100]
    assert drift["start_step"] != 7_100 // 500  # what a fixed step size would have said


def test_nested_random_states_are_seeded():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    model = make_pipeline(StandardScaler(), DecisionTreeClassifier(max_features=1))
    first = replay(sea(), model, Periodic(every=5), seed=3).timeline["accuracy"]
    second = replay(sea(), model, Periodic(every=5), seed=3).timeline["accuracy"]
    pd.testing.assert_series_equal(first, second)


# ---------------------------------------------------------------------------------------
# the stepper


@pytest.mark.parametrize("kwargs", [
    {"trigger": Performance(), "label_delay": 2, "label_rate": 0.5},
    {"trigger": Periodic(every=4), "gate": Holdout(margin=0.01, n_val=300), "deploy_latency": 2,
     "cache": "memory"},
])
def test_stepping_by_hand_gives_the_same_result_as_replay(kwargs):
    kwargs = dict(kwargs)
    trigger = kwargs.pop("trigger")
    stream = SEA(n_samples=12_000, schedule=[{"at": 6_000, "to": 3}])
    whole = replay(stream, LogisticRegression(), trigger, seed=3, step_size=250,
                   initial_train=2_000, **kwargs)
    run = Replay(stream, LogisticRegression(), trigger, seed=3, step_size=250,
                 initial_train=2_000, **kwargs)
    assert run.done  # nothing to step before reset
    run.reset()
    steps, retrains = [], []
    while not run.done:
        outcome = run.step()
        steps.append(run.t)
        assert outcome.observation.t == run.t
        assert outcome.observation.model_id == run.model_id
        if outcome.event is not None:
            retrains.append(outcome.event["step"])
    by_hand = run.result()
    assert steps == whole.timeline["step"].tolist()
    assert retrains == whole.events["step"].tolist()
    pd.testing.assert_frame_equal(by_hand.timeline, whole.timeline)
    pd.testing.assert_frame_equal(by_hand.events.drop(columns="fit_seconds"),
                                  whole.events.drop(columns="fit_seconds"))
    assert {k: v for k, v in by_hand.summary.items() if "seconds" not in k} == {
        k: v for k, v in whole.summary.items() if "seconds" not in k}
    with pytest.raises(RuntimeError, match="done"):
        run.step()


def test_the_agenda_shows_a_scheduled_deployment_until_it_is_due():
    run = Replay(sea(), LogisticRegression(), AtSteps([12]), deploy_latency=3).reset()
    while run.t < 12:
        run.step()
    assert run.agenda.pending() == [(16, "benefit"), (16, "deploy")]
    while run.t < 15:
        run.step()
        assert run.model_id == 0
    run.step()
    assert run.t == 16 and run.model_id == 1 and run.agenda.pending() == []
    with pytest.raises(RuntimeError, match="not done"):
        run.result()


class Vandal(Trigger):
    """Writes into what it is shown (``target``: which array)."""

    needs_scores = True  # scores and a holdout to write into too
    n_holdout = 300

    def __init__(self, target="X"):
        self.target = target

    def update(self, obs):
        array = {"X": obs.X, "y_pred": obs.y_pred, "reference": obs.reference,
                 "labels.y": obs.labels.y, "labels.X": obs.labels.X,
                 "labels.index": obs.labels.index, "scores": obs.scores,
                 "holdout.X": obs.holdout.X, "holdout.y": obs.holdout.y,
                 "holdout.scores": obs.holdout.scores}[self.target]
        array[...] = 0
        return Decision(False)


@pytest.mark.parametrize("label_rate", [1.0, 0.5])
@pytest.mark.parametrize("target", ["X", "y_pred", "reference", "labels.y", "labels.X",
                                    "labels.index", "scores", "holdout.X", "holdout.y",
                                    "holdout.scores"])
def test_a_trigger_cannot_write_into_what_it_is_shown(target, label_rate):
    with pytest.raises(ValueError, match="read-only"):
        replay(sea(), LogisticRegression(), Vandal(target), label_rate=label_rate)


def test_the_observation_arrays_are_views_not_copies():
    obs = Replay(sea(), LogisticRegression(), Never()).reset().step().observation
    assert obs.X.base is not None and not obs.X.flags.writeable  # a view of the chunk
    assert obs.labels.X is obs.X and obs.labels.y_pred is obs.y_pred  # delay 0, rate 1

"""Property-based tests over random valid configurations (hypothesis).

Whatever the stream, step size, label delay and rate, window policy, trigger, gate and
seed: accuracy stays in [0, 1], the cumulative cost never decreases, there are no more
retrains than steps, no label reaches the trigger, a training set or an online update
(:class:`~sim.learning.Online`) before it arrives, and the same seed gives the same
results.
"""

import os

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, SGDClassifier

from sim import replay
from sim.learning import Online
from sim.streams import SEA, Gaussian, PriorShift, Stagger
from sim.types import Decision
from strategies import (
    CARA,
    AnyOf,
    Approval,
    Canary,
    Cooldown,
    CostAware,
    DataAmount,
    DataDrift,
    DataLatency,
    ErrorDetector,
    Forecast,
    Holdout,
    LabelCheck,
    Never,
    Performance,
    Periodic,
    Rollback,
    Shadow,
    Trigger,
)
from strategies.detectors import DDM


class Log:
    """A shared, append-only log that survives ``clone`` (deepcopy returns it)."""

    def __init__(self):
        self.rows: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.shown: dict[int, np.ndarray] = {}  # step -> features of the labels shown
        self.updates: list[tuple[int, np.ndarray]] = []  # (step, features) of an update

    def __deepcopy__(self, memo):
        return self


class Spy(Trigger):
    """Wraps a trigger and logs, at every step, the labels it was shown."""

    def __init__(self, inner: Trigger, log: Log):
        self.inner = inner
        self.log = log

    def reset(self, seed=None):
        self.inner.reset(seed)
        return self

    def update(self, obs) -> Decision:
        self.log.rows.append((obs.t, np.asarray(obs.labels.step).copy(),
                              np.asarray(obs.labels.index).copy()))
        self.log.shown[obs.t] = np.array(obs.labels.X)
        return self.inner.update(obs)

    def on_retrain(self, t, accepted):
        self.inner.on_retrain(t, accepted)


class SpySGD(SGDClassifier):
    """An SGD classifier that logs the features of every online update, with its step.

    The step is the last one the :class:`Spy` trigger sharing the log was shown (the
    engine updates after the trigger's decision, within the same step).
    """

    def __init__(self, log: Log | None = None, random_state=None):
        super().__init__(random_state=random_state)
        self.log = log

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        self.log.updates.append((self.log.rows[-1][0], np.array(X)))
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


STREAMS = {
    "gaussian": lambda n: Gaussian(n_samples=n, schedule=[{"at": n // 2, "to": 3}]),
    "sea": lambda n: SEA(n_samples=n, schedule=[{"at": n // 2, "to": 2}]),
    "stagger": lambda n: Stagger(n_samples=n, schedule=[{"at": n // 2, "to": 1}]),
    "prior": lambda n: PriorShift(n_samples=n, priors=[[0.5, 0.5], [0.8, 0.2]],
                                  schedule=[{"at": n // 2, "to": 1}]),
}
TRIGGERS = {
    "never": lambda: Never(),
    "periodic": lambda: Periodic(every=3),
    "performance": lambda: Performance(drop=0.05, window=200, min_labels=100),
    "data_drift": lambda: DataDrift(alpha=0.01),
    "ddm": lambda: ErrorDetector(DDM()),
    "combined": lambda: Cooldown(AnyOf([DataDrift(alpha=0.01), Performance(drop=0.05)]),
                                 min_gap=3),
    # a person in the loop: retrains start 3 steps after their alert
    "approval": lambda: Approval(Performance(drop=0.05, window=200, min_labels=100),
                                 latency=3, budget=2, period=6),
    # the cost-aware triggers of strategies/cost_aware.py (small starts: short streams)
    "cara_threshold": lambda: CARA(variant="threshold", window=100, min_labels=100),
    "cara_cumulative": lambda: CARA(variant="cumulative", window=100, min_labels=100),
    "cara_periodic": lambda: CARA(variant="periodic", window=100, min_labels=100),
    "forecast": lambda: Forecast(min_labels=100, horizon=5),
    "cost_aware": lambda: CostAware(min_labels=100, cost_weight=0.01),
    "data_amount": lambda: DataAmount(n_labels=300),
    "data_latency": lambda: DataLatency(latency_per_cost=2_000),
}

# the live gates too: their trials read labels only as they arrive (a look's exact
# counts are checked in tests/test_rollout.py)
GATES = {
    "none": lambda: None,
    "holdout": lambda: Holdout(margin=0.0, n_val=100),
    "shadow": lambda: Shadow(steps=3),
    "canary": lambda: Canary(fraction=0.3, steps=3),
    "rollback": lambda: Rollback(steps=3, gate=Holdout(n_val=100)),
    "label_check": lambda: LabelCheck(max_shift=0.05, gate=Holdout(n_val=100)),
    "canary_label_check": lambda: Canary(fraction=0.3, steps=3, gate=LabelCheck()),
}


@st.composite
def configurations(draw):
    step_size = draw(st.sampled_from([100, 200, 250]))
    n_steps = draw(st.integers(8, 30))
    initial_steps = draw(st.integers(1, 3))
    n_samples = step_size * (n_steps + initial_steps)
    return {
        "stream": draw(st.sampled_from(sorted(STREAMS))),
        "n_samples": n_samples,
        "trigger": draw(st.sampled_from(sorted(TRIGGERS))),
        "gate": draw(st.sampled_from(sorted(GATES))),
        "online": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31 - 1)),
        "protocol": {
            "step_size": step_size,
            "initial_train": step_size * initial_steps,
            "label_delay": draw(st.integers(0, 5)),
            "label_rate": draw(st.sampled_from([0.05, 0.3, 1.0])),
            "window": draw(st.sampled_from(["sliding", "expanding", "since_retrain",
                                            "since_change"])),
            "train_window": draw(st.sampled_from([w for w in (200, 600, 1500)
                                                  if w <= n_samples])),
            "min_train": 100,
            "benefit_window": 3,
        },
    }


def _run(config):
    log = Log()
    trigger = Spy(TRIGGERS[config["trigger"]](), log)
    gate = GATES[config["gate"]]()
    online = config["online"]
    model = SpySGD(log) if online else LogisticRegression(max_iter=200)
    result = replay(STREAMS[config["stream"]](config["n_samples"]), model, trigger,
                    gate=gate, seed=config["seed"], learning=Online() if online else None,
                    **config["protocol"])
    return result, log


def _without_timing(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if "seconds" in c])


@settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", 25)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(configurations())
def test_invariants_of_any_valid_configuration(config):
    result, log = _run(config)
    timeline, events, summary = result.timeline, result.events, result.summary
    delay = config["protocol"]["label_delay"]
    step_size = config["protocol"]["step_size"]

    assert timeline["accuracy"].between(0, 1).all()
    assert 0 <= summary["mean_accuracy"] <= 1
    assert np.all(np.diff(timeline["cost"].to_numpy()) >= 0), "cost went down"
    assert summary["n_retrains"] <= len(timeline)
    assert len(events) <= len(timeline)

    # no leak: at step t the trigger has seen labels of steps <= t - label_delay only
    assert [t for t, _, _ in log.rows] == timeline["step"].tolist()
    for t, steps, index in log.rows:
        assert np.all(steps <= t - delay), (t, steps.max(), delay)
        assert np.all(index < (t - delay + 1) * step_size)
    # ... and no model trains on a sample whose label had not arrived when it was decided
    trained = events[events["n_train"] > 0]
    for t, end in zip(trained["step"], trained["train_end"], strict=True):
        arrived = max(config["protocol"]["initial_train"], (t - delay + 1) * step_size)
        assert end <= arrived, (t, end, arrived)
    # ... and an online update at step t learns exactly the labels that arrived at t (the
    # ones the trigger was shown, checked above), the serving model's counted in the timeline
    for t, X in log.updates:
        np.testing.assert_array_equal(X, log.shown[t])
    if config["online"]:
        n_arrived = timeline["n_labels"].to_numpy()
        np.testing.assert_array_equal(timeline["n_updated"].to_numpy(), n_arrived)
        assert {t for t, _ in log.updates} == set(timeline["step"][n_arrived > 0])

    # same seed, same results (measured CPU seconds aside)
    again, _ = _run(config)
    pd.testing.assert_frame_equal(_without_timing(again.timeline), _without_timing(timeline))
    pd.testing.assert_frame_equal(_without_timing(again.events), _without_timing(events))

"""The central types that flow between streams, the engine and the strategies.

All are frozen dataclasses: a value, once made, is never changed; the arrays the engine
hands a trigger (an :class:`Observation`'s and its :class:`Labels`') are read-only views,
so a trigger cannot tamper with what the engine keeps (writing into one raises).

- :class:`Drift`: one true drift of a stream (ground truth; never shown to a trigger
  except :class:`~strategies.DriftAware`).
- :class:`Incident`: one incident of a stream, a drop in performance that is not a drift
  (ground truth, never shown to a trigger).
- :class:`Batch`: the samples of one step, as a stream yields them.
- :class:`Labels`: labels that arrive at a step, with what the deployed model predicted.
- :class:`Holdout`: labeled samples held out of the deployed model's fit (calibration).
- :class:`Observation`: everything a trigger may see at one step.
- :class:`Decision`: a trigger's (or a gate's) answer.
- :class:`Trial`: the live evidence a live gate judges a challenger on.
- :class:`RunResult`: the outcome of one replay.
- :class:`Evaluation`: the settings the metrics judge a run with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TASKS", "Batch", "Decision", "Drift", "Evaluation", "Holdout", "Incident",
           "Labels", "Observation", "RunResult", "Trial", "sample_loss"]

DRIFT_KINDS = ("concept", "covariate", "prior")
DRIFT_SHAPES = ("sudden", "gradual", "incremental")
TASKS = ("classification", "regression")


def sample_loss(y: np.ndarray, y_pred: np.ndarray, task: str = "classification") -> np.ndarray:
    """Per-sample loss: 0/1 error for classification, absolute error for regression.

    Examples
    --------
    >>> sample_loss(np.array([1, 0, 1]), np.array([1, 1, 1])).tolist()
    [0.0, 1.0, 0.0]
    >>> sample_loss(np.array([1.0, 2.0]), np.array([1.5, 1.0]), "regression").tolist()
    [0.5, 1.0]
    """
    if task == "regression":
        return np.abs(np.asarray(y, dtype=float) - y_pred)
    return (y_pred != y).astype(float)


@dataclass(frozen=True)
class Drift:
    """One true drift of a stream, in sample indices (ground truth).

    Parameters
    ----------
    start
        Index of the first sample that may come from the new concept.
    end
        Index of the first sample fully from the new concept (``end == start`` for a
        sudden drift).
    kind
        ``"concept"`` (P(y|X) changes), ``"covariate"`` (only P(X) changes) or
        ``"prior"`` (only P(y) changes).
    shape
        ``"sudden"``, ``"gradual"`` (old and new concept mixed with a rising
        probability) or ``"incremental"`` (the concept's parameters move continuously).
    source, target
        Concept indices before and after, where the stream has numbered concepts.
    recurring
        True when ``target`` is a concept the stream has been in before.
    features
        Indices of the features whose distribution or role changes (empty when not
        meaningful, e.g. a pure prior shift).

    Examples
    --------
    >>> drift = Drift(start=10_000, end=12_000, kind="concept", shape="gradual")
    >>> drift.end - drift.start
    2000
    """

    start: int
    end: int
    kind: str
    shape: str
    source: int | None = None
    target: int | None = None
    recurring: bool = False
    features: tuple[int, ...] = ()


INCIDENT_CAUSES = ("stuck", "missing", "unit", "swap", "labels", "spike")


@dataclass(frozen=True)
class Incident:
    """One incident of a stream, in sample indices (ground truth): a break, not a drift.

    During ``[start, end)`` the data the system receives is broken (a sensor stuck, a
    unit changed, a label pipeline bug, ...; see :class:`~sim.streams.Incidents`); from
    ``end`` on it is whole again, and the concept never changed. The metrics keep
    incidents apart from drifts (:func:`sim.metrics.incident_scores`).

    Parameters
    ----------
    start
        Index of the first broken sample.
    end
        Index of the first sample after the incident (``end > start``).
    cause
        One of ``"stuck"``, ``"missing"``, ``"unit"``, ``"swap"``, ``"labels"``,
        ``"spike"``.
    features
        Indices of the features it breaks (empty for ``"labels"``; for ``"spike"`` the
        features that define the over-represented segment).
    kind
        Always ``"incident"`` (beside a drift's ``kind`` in tables of events).

    Examples
    --------
    >>> Incident(start=20_000, end=23_000, cause="labels").kind
    'incident'
    """

    start: int
    end: int
    cause: str
    features: tuple[int, ...] = ()
    kind: str = "incident"


@dataclass(frozen=True)
class Batch:
    """The samples of one step.

    Parameters
    ----------
    t
        Step index, counted from the first sample of the stream.
    X
        Features, shape ``(n, n_features)``.
    y
        Labels (or regression targets), shape ``(n,)``.
    index
        Index of the first sample of this batch in the stream.
    time
        Optional per-sample time stamps (tabular data with a time column).
    concept
        Optional per-sample ground truth for the metrics: the concept index, or a
        fractional value between two concepts during an incremental drift. Never shown
        to a trigger.
    delivered
        Optional labels as the system receives them, when they differ from ``y`` (a
        label-corruption incident, see :class:`~sim.streams.Incidents`): the labeled
        history, the triggers, the gates and the training sets get these, while the
        engine scores predictions against ``y``, the truth. None: ``y``.

    Examples
    --------
    >>> batch = Batch(t=3, X=np.zeros((4, 2)), y=np.array([0, 1, 1, 0]), index=12)
    >>> len(batch), batch.X.shape
    (4, (4, 2))
    """

    t: int
    X: np.ndarray
    y: np.ndarray
    index: int = 0
    time: np.ndarray | None = None
    concept: np.ndarray | None = None
    delivered: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Labels:
    """Labels that arrive at one step, in arrival order.

    Parameters
    ----------
    X
        Features of the labeled samples, shape ``(m, n_features)``.
    y
        Their labels as delivered (the true labels, unless a label-corruption incident
        changed them: :attr:`Batch.delivered`).
    y_pred
        What the model deployed at the time predicted for them.
    model_id
        Id of that model, per sample.
    index
        Sample indices in the stream.
    step
        Step in which each sample was predicted.

    Examples
    --------
    >>> labels = Labels(X=np.zeros((3, 1)), y=np.array([1, 0, 1]),
    ...                 y_pred=np.array([1, 1, 1]), model_id=np.zeros(3, dtype=int),
    ...                 index=np.array([7, 8, 9]), step=np.array([2, 2, 2]))
    >>> sample_loss(labels.y, labels.y_pred).tolist()
    [0.0, 1.0, 0.0]
    """

    X: np.ndarray
    y: np.ndarray
    y_pred: np.ndarray
    model_id: np.ndarray
    index: np.ndarray
    step: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Holdout:
    """Labeled samples the deployed model did not train on, with its outputs on them.

    They are the newest labels that had arrived when the model was trained, held out of
    its fit (see ``Trigger.n_holdout``): labels that arrived before the model was
    deployed, so a trigger may calibrate on them without waiting for any label of the
    data the model serves. The engine hands out its arrays read-only.

    Parameters
    ----------
    X
        Features, shape ``(m, n_features)``.
    y
        Their true labels.
    y_pred
        The model's predictions on ``X``.
    scores
        Classification: the model's ``predict_proba(X)`` (shape ``(m, n_classes)``), or
        its ``decision_function(X)`` when it has no ``predict_proba``. Regression: None.
    index
        Sample indices in the stream.

    Examples
    --------
    >>> held = Holdout(X=np.zeros((2, 1)), y=np.array([1, 0]), y_pred=np.array([1, 1]),
    ...                scores=np.array([[0.2, 0.8], [0.4, 0.6]]), index=np.array([8, 9]))
    >>> float((held.y == held.y_pred).mean())
    0.5
    """

    X: np.ndarray
    y: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray | None
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Observation:
    """Everything a trigger may see at step ``t`` (and nothing it may not).

    The engine (:class:`sim.Replay`) builds one per step; its arrays, and those of
    ``labels``, are read-only views of what the engine keeps (no copy is made). A new
    observable (e.g. the deployed model's scores on ``X``) is a new field here, with a
    default, filled where :meth:`sim.Replay.step` builds the observation.

    Parameters
    ----------
    t
        The current step.
    X
        Features of step ``t`` (inputs are seen when they are predicted).
    y_pred
        The predictions served on ``X``: the deployed model's (during a canary trial,
        the challenger's on the samples it served; ``labels.model_id`` says whose).
    labels
        Labels that arrived at this step (possibly empty), with the predictions that
        were made for them.
    model_id
        Id of the deployed model.
    deployed_at
        Step from which the deployed model has served.
    reference
        Features of the deployed model's training window (the reference for data-drift
        tests); the same object until the deployed model changes.
    sample_index
        Index of the first sample of step ``t``.
    task
        ``"classification"`` or ``"regression"``: how predictions are scored.
    memo
        When the run has a cache (see :mod:`sim.cache`): the
        :class:`~sim.cache.ReferenceMemo` of ``reference``, where a trigger may keep
        results that depend only on the reference and the inputs it is shown (e.g. a
        two-sample test's), shared with the other runs of a sweep that deploy a model
        with the same reference. None without a cache.
    scores
        The deployed model's scores on ``X``: ``predict_proba(X)``, or
        ``decision_function(X)`` for a model without ``predict_proba``. Computed only
        for a trigger whose ``needs_scores`` is True (the label-free triggers of
        :mod:`strategies.label_free`) on a classification stream (read-only); None
        otherwise.
    holdout
        A :class:`Holdout`: the ``n_holdout`` newest labels that had arrived when the
        deployed model was trained, held out of its fit, with its outputs on them; the
        same object until the deployed model changes. Only for a trigger whose
        ``n_holdout`` is > 0; None otherwise.

    Examples
    --------
    The engine builds one per step; a trigger reads it, for instance the labels that
    arrived and what the deployed model predicted for them:

    >>> empty = np.empty(0, dtype=int)
    >>> labels = Labels(np.empty((0, 2)), empty, empty, empty, empty, empty)
    >>> obs = Observation(t=5, X=np.zeros((10, 2)), y_pred=np.zeros(10), labels=labels,
    ...                   model_id=0, deployed_at=2, reference=np.zeros((100, 2)),
    ...                   sample_index=2500)
    >>> obs.t - obs.deployed_at, len(obs.labels)
    (3, 0)
    """

    t: int
    X: np.ndarray
    y_pred: np.ndarray
    labels: Labels
    model_id: int
    deployed_at: int
    reference: np.ndarray
    sample_index: int
    task: str = "classification"
    memo: Any = None
    scores: np.ndarray | None = None
    holdout: Holdout | None = None


@dataclass(frozen=True)
class Decision:
    """A trigger's or gate's answer at one step.

    Parameters
    ----------
    retrain
        Whether to retrain now (for a gate: whether to accept the challenger).
    reason
        Why; required (non-empty) whenever ``retrain`` is True.
    stats
        Named statistics behind the decision; the engine records them in the timeline.
    since
        Optional sample index where the trigger estimates the change began; the
        ``since_change`` training-window policy trains on the labeled samples from there.
    follow_up
        True for a retrain planned as the follow-up of an earlier detection (a refit
        once more data of the new concept has arrived): the metrics judge it with that
        detection, not as a false alarm of its own.

    Examples
    --------
    >>> Decision(True, "accuracy fell below 0.8", {"accuracy": 0.78}, since=4_500).since
    4500
    >>> Decision(True)
    Traceback (most recent call last):
    ...
    ValueError: A Decision with retrain=True must carry a non-empty reason.
    """

    retrain: bool = False
    reason: str = ""
    stats: Mapping[str, float] = field(default_factory=dict)
    since: int | None = None
    follow_up: bool = False

    def __post_init__(self):
        """Refuse a retrain without a reason."""
        if self.retrain and not self.reason:
            raise ValueError("A Decision with retrain=True must carry a non-empty reason.")


@dataclass(frozen=True)
class Trial:
    """What a live gate (:class:`~sim.rollout.LiveGate`) may see of a trial so far.

    Counts of labels that have *arrived* (never a label before it arrives), of the
    samples of the trial's steps: for a shadow trial the same samples for both models
    (paired: the challenger predicted beside the champion); for a canary trial the
    challenger's own traffic and the champion's; for a rollback watch the new model's
    own traffic since it was deployed and the previous model's traffic in the window
    before the switch.

    Parameters
    ----------
    look
        The trial's steps so far (1 at its first step).
    looks
        Its last step (the gate's ``steps``): the gate must decide at ``look == looks``.
    n_challenger, correct_challenger
        Arrived labels of the challenger's samples, and how many it predicted right.
    n_champion, correct_champion
        The same for the champion (the previous model of a rollback watch).
    wins, losses
        Paired trials only: samples the challenger got right and the champion wrong, and
        the other way round (0 for unpaired trials).
    paired
        Whether both counts are of the same samples.
    stage, stages
        The trial's stage and its number of stages (a staged rollout,
        :class:`~sim.rollout.StagedRollout`: ``look`` and ``looks`` count the stage's
        steps; 1 and 1 otherwise).

    Examples
    --------
    >>> trial = Trial(look=2, looks=10, n_challenger=400, correct_challenger=360,
    ...               n_champion=400, correct_champion=340, wins=30, losses=10, paired=True)
    >>> trial.accuracy_challenger - trial.accuracy_champion
    0.05
    """

    look: int
    looks: int
    n_challenger: int
    correct_challenger: int
    n_champion: int
    correct_champion: int
    wins: int = 0
    losses: int = 0
    paired: bool = False
    stage: int = 1
    stages: int = 1

    @property
    def final(self) -> bool:
        """Whether this is the trial's last look."""
        return self.look >= self.looks

    @property
    def accuracy_challenger(self) -> float:
        """The challenger's accuracy on its arrived labels (nan without one)."""
        return self.correct_challenger / self.n_challenger if self.n_challenger else np.nan

    @property
    def accuracy_champion(self) -> float:
        """The champion's accuracy on its arrived labels (nan without one)."""
        return self.correct_champion / self.n_champion if self.n_champion else np.nan


@dataclass(frozen=True)
class RunResult:
    """The outcome of one replay.

    Parameters
    ----------
    timeline
        One row per scored step: ``step``, ``sample_index`` (its first sample),
        ``n_samples``, ``accuracy``, ``model_id``,
        ``n_labels``, ``retrain``, ``cost`` (cumulative) and the trigger's statistics as
        ``stat_<name>`` columns; with a live gate also ``challenger_id`` (-1: no trial)
        and ``challenger_share`` (of the step's samples the challenger served).
    events
        One row per retrain decision: ``step``, ``reason``, ``follow_up``, ``accepted``,
        ``train_start``, ``train_end``, ``n_train``, ``cost``, ``fit_seconds``,
        ``benefit`` and more; with a live gate also ``kind`` (``"retrain"`` or
        ``"rollback"``), ``trial_end`` and ``cost_shadow`` (and the fields of its
        rollout, :meth:`sim.rollout.Rollout.fields`: a staged canary's ``stage`` and
        ``served_stage_<k>``).
    summary
        Per-run metrics (see :func:`sim.metrics.summarize`).
    config
        The parameters the run was made with.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.scripted import AtSteps
    >>> from sim.streams import SEA
    >>> result = replay(SEA(n_samples=10_000), LogisticRegression(), AtSteps([14, 19]))
    >>> list(result.timeline.columns[:4]), len(result.events)
    (['step', 'sample_index', 'n_samples', 'accuracy'], 2)
    """

    timeline: pd.DataFrame
    events: pd.DataFrame
    summary: dict[str, Any]
    config: dict[str, Any]

    def plot(self, path=None, **kwargs):
        """Draw the metric over time with the true drifts and every retrain (matplotlib).

        The figure is :class:`sim.display.TimelineDisplay`'s, the one a sweep report
        draws per configuration (``label``: the panel's title; ``smooth``: the moving
        average's window in steps, None: chosen from the data); with ``path`` it is
        saved there and the path returned. matplotlib is imported here, on first use.
        """
        from sim import display

        return display.run(self, path, **kwargs)


@dataclass(frozen=True)
class Evaluation:
    """The settings the metrics judge a run with (no rule of time: they change no result).

    :class:`~sim.protocol.Protocol` holds them as parameters and hands them over as
    :attr:`~sim.protocol.Protocol.evaluation`.

    Its fields are the :class:`~sim.protocol.Protocol` parameters of the same names
    (``benefit_window``, ``min_benefit``, ``recovery_window``, ``recovery_tolerance``),
    documented there.

    Examples
    --------
    >>> Evaluation(recovery_window=3).recovery_window
    3
    """

    benefit_window: int = 10
    min_benefit: float = 0.005
    recovery_window: int = 5
    recovery_tolerance: float = 0.01
    exposure: bool = False

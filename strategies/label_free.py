"""Triggers that do not wait for labels: they watch the deployed model's own outputs.

In production labels are often late (fraud confirmed after weeks) or never come. These
triggers fire on what is there at once: the model's predictions and scores on the inputs
of the step.

- :class:`PredictionDrift`: a two-sample test between the model's outputs on recent
  inputs and its outputs on held-out data it did not train on.
- :class:`EstimatedPerformance`: the accuracy the model is expected to have, from its
  calibrated confidence (confidence-based performance estimation, CBPE); for
  regression the mean absolute error predicted by a model of the absolute residual
  (direct loss estimation, DLE).
- :class:`Uncertainty`: the share of low-margin predictions, or the mean entropy,
  rising above its held-out level.

Their reference and calibration data is the deployed model's
:class:`~sim.types.Holdout`: the ``n_holdout`` newest labels that had arrived when it
was trained, which the engine holds out of the fit (of the initial model too). So
they use no label that arrived after the model was deployed, and no label the model
trained on; the price is ``n_holdout`` fewer training samples per fit. What they
cannot see: a concept drift (P(y|X) changes, P(X) does not) leaves the model's outputs
and confidence as they were; a covariate shift onto inputs where the model extrapolates
confidently and wrongly leaves its confidence high, so the estimate misses it (the
outputs still move, which prediction drift sees). The model does not know it is wrong.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from sim.checks import Instance, Interval, Options, check, validate
from sim.types import Decision, Observation
from strategies.base import Trigger
from strategies.detectors import KS, ChiSquare, TwoSampleTest
from strategies.triggers import _seeded

__all__ = ["EstimatedPerformance", "PredictionDrift", "Uncertainty"]

CALIBRATIONS = ("isotonic", "sigmoid")
MEASURES = ("margin", "entropy")
OUTPUTS = ("scores", "classes")


def _columns(scores: np.ndarray) -> np.ndarray:
    """Scores as a 2-D float array (a binary decision function has one column)."""
    scores = np.asarray(scores, dtype=float)
    return scores.reshape(len(scores), -1)


def _confidence(scores: np.ndarray) -> np.ndarray:
    """Confidence of each prediction: the top score (``|decision|`` for one column)."""
    s = _columns(scores)
    return s.max(axis=1) if s.shape[1] > 1 else np.abs(s[:, 0])


def _margin(scores: np.ndarray) -> np.ndarray:
    """Top score minus the runner-up (``|decision|`` for a binary decision function)."""
    s = _columns(scores)
    if s.shape[1] == 1:
        return np.abs(s[:, 0])
    top2 = np.partition(s, s.shape[1] - 2, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def _entropy(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of predicted probabilities."""
    p = np.clip(_columns(proba), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


class _LabelFree(Trigger):
    """Shared machinery: the deployed model's holdout, a window of steps, the refit.

    Subclasses set ``_needs_proba`` (entropy) and ``_regression`` (whether they work on
    a regression stream), and implement ``_calibrate(holdout, task)``, called once per
    deployed model, ``_signal(obs)`` (per-sample values of one step) and
    ``_judge(values, obs)`` -> ``(fired, reason, stats)`` on the window's values.

    A detection comes before any label of the changed data has arrived, so the retrain
    it asks for trains on data from before the change. With ``refit_labels`` set the
    trigger then waits, firing no more, until that many labels of samples from the
    window that fired on have arrived (whatever the label delay), and asks once more
    for a retrain on the data since then; the refit's holdout is then new data too.
    """

    needs_scores = True
    _needs_proba = False
    _regression = True

    def _begin(self) -> None:
        """Validate the parameters and forget the deployed model and any pending refit."""
        validate(self)
        if self.refit_labels is not None and self.refit_labels <= self.n_holdout:
            raise ValueError(
                f"The 'refit_labels' parameter of {type(self).__name__} must be > n_holdout "
                f"({self.n_holdout}), which the newest labels go to, or None. Got "
                f"{self.refit_labels!r} instead.")
        self._model_id = None
        self._recent: list[tuple[int, np.ndarray]] = []
        self._since: int | None = None  # a detection waiting for its labels
        self._arrived = 0

    def update(self, obs: Observation) -> Decision:
        """Detect; or, after a detection, wait for its labels and ask for the refit."""
        decision = self._detect(obs)
        if self._since is not None:
            self._arrived += int(np.count_nonzero(obs.labels.index >= self._since))
            if self._arrived < self.refit_labels:
                return Decision(False, stats=decision.stats)
            since, self._since = self._since, None
            return Decision(True, f"refit on the {self._arrived} labels since sample {since}",
                            decision.stats, since=since, follow_up=True)
        if decision.retrain and self.refit_labels is not None:
            self._since = decision.since
            self._arrived = int(np.count_nonzero(obs.labels.index >= self._since))
        return decision

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Refuse a window longer than the scored part of the stream."""
        check(self, "window", self.window, Interval("int", 1, n_steps))

    def check_model(self, model, task: str) -> None:
        """Refuse a model without the scores this trigger watches, naming both."""
        name = type(self).__name__
        if task == "regression":
            watched = "predicted classes" if getattr(self, "outputs", None) == "classes" else (
                None if self._regression else "margins or entropy")
            if watched is not None:
                raise ValueError(f"{name} watches a classifier's {watched}; a regression "
                                 f"stream has none (model {model!r}). On regression use "
                                 "EstimatedPerformance (direct loss estimation) or "
                                 "PredictionDrift(outputs='scores') (on the predictions).")
            return
        if self._needs_proba and not hasattr(model, "predict_proba"):
            raise ValueError(f"{name} with measure='entropy' needs predicted probabilities, "
                             f"but the model {model!r} has no predict_proba. Use "
                             "measure='margin' or a model with predict_proba.")
        if not (hasattr(model, "predict_proba") or hasattr(model, "decision_function")):
            raise ValueError(f"{name} watches the deployed model's scores, but the model "
                             f"{model!r} has neither predict_proba nor decision_function. "
                             "Use a classifier with one of them (e.g. LogisticRegression, or "
                             "SVC(probability=True)).")

    def _detect(self, obs: Observation) -> Decision:
        """Calibrate on a newly deployed model's holdout; judge the last ``window`` steps."""
        if obs.model_id != self._model_id:
            if obs.holdout is None or len(obs.holdout) == 0:
                raise ValueError(f"{type(self).__name__} needs the deployed model's held-out "
                                 "labels (Observation.holdout); the engine gives them when "
                                 "the trigger's n_holdout is > 0.")
            self._model_id = obs.model_id
            self._recent = []
            self._calibrate(obs.holdout, obs.task)
        self._recent.append((obs.sample_index, self._signal(obs)))
        self._recent = self._recent[-self.window:]
        if len(self._recent) < self.window:
            return Decision(False)
        values = np.concatenate([v for _, v in self._recent])
        fired, reason, stats = self._judge(values, obs)
        if fired:
            return Decision(True, reason, stats, since=self._recent[0][0])
        return Decision(False, stats=stats)

    def _outputs(self, obs_or_holdout, task: str) -> np.ndarray:
        """Return the model's scores (classification) or predictions (regression)."""
        if task == "regression":
            return np.asarray(obs_or_holdout.y_pred, dtype=float)
        if obs_or_holdout.scores is None:
            raise ValueError(f"{type(self).__name__} needs the deployed model's scores "
                             "(Observation.scores); the engine gives them to a trigger "
                             "whose needs_scores is True.")
        return obs_or_holdout.scores


class PredictionDrift(_LabelFree):
    """Retrain when the deployed model's outputs drift from its outputs on held-out data.

    Every step, a two-sample test compares the model's outputs on the inputs of the
    last ``window`` steps with its outputs on its holdout (labels held out of its fit;
    see :mod:`strategies.label_free`). It sees no labels: it fires when the inputs move
    in a way the model responds to, harmful or not, and is blind to a concept drift
    that leaves the inputs alone.

    Parameters
    ----------
    test
        A :class:`~strategies.detectors.TwoSampleTest`; None: :class:`KS` on scores,
        :class:`ChiSquare` on classes. With several score columns (more than two
        classes) each column is tested and the p-values are Bonferroni-corrected.
    outputs
        ``"scores"``: predicted probabilities (the positive class's for a binary
        classifier; the decision function for a model without ``predict_proba``; the
        predictions on a regression stream). ``"classes"``: the predicted classes.
    alpha
        Significance level, for tests with p-values.
    threshold
        Threshold on the statistic, for tests without p-values (None: the test's
        ``default_threshold``).
    window
        Steps of recent outputs compared with the reference.
    n_holdout
        Newest arrived labels the engine holds out of every fit to serve as the
        reference.
    refit_labels
        After a detection, wait (firing no more) until this many labels of samples from
        the window that fired on have arrived, then retrain once more on the data since
        then (None: no refit and no wait: the trigger fires again every step the
        change lasts, until a model trained on it is deployed). It should exceed
        ``n_holdout``, which the newest labels go to.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import Gaussian
    >>> stream = Gaussian(n_samples=20_000, concepts=[{}, {"mean": (0.0, 1.0)}],
    ...                   schedule=[{"at": 10_000, "to": 1}], softness=0.4)
    >>> result = replay(stream, LogisticRegression(), PredictionDrift(alpha=0.001))
    >>> for step, reason in result.events[["step", "reason"]].values:
    ...     print(step, reason)
    20 KS on predicted scores: p = 7e-46 < 0.001
    23 refit on the 2000 labels since sample 10000
    """

    _constraints = {
        "test": Instance("a TwoSampleTest (KS, ChiSquare, PSI, ...)", classes=(TwoSampleTest,),
                         allow_none=True),
        "outputs": Options(OUTPUTS),
        "alpha": Interval("float", 0, 1, closed="neither"),
        "threshold": Interval("float", allow_none=True),
        "window": Interval("int", 1),
        "n_holdout": Interval("int", 20),
        "refit_labels": Interval("int", 1, allow_none=True),
    }

    def __init__(self, test: TwoSampleTest | None = None, outputs: str = "scores",
                 alpha: float = 0.05, threshold: float | None = None, window: int = 1,
                 n_holdout: int = 1000, refit_labels: int | None = 2000):
        self.test = test
        self.outputs = outputs
        self.alpha = alpha
        self.threshold = threshold
        self.window = window
        self.n_holdout = n_holdout
        self.refit_labels = refit_labels

    def reset(self, seed=None) -> PredictionDrift:
        """Validate the parameters and forget the reference."""
        self._begin()
        default = KS() if self.outputs == "scores" else ChiSquare()
        self._test = _seeded(self.test if self.test is not None else default, seed)
        return self

    def _features(self, outputs: np.ndarray, task: str) -> np.ndarray:
        """Return the columns tested: class codes, or the informative score columns."""
        if self.outputs == "classes":
            codes = np.searchsorted(self._classes, outputs)
            known = self._classes[np.minimum(codes, len(self._classes) - 1)] == outputs
            return np.where(known, codes, len(self._classes)).reshape(-1, 1)
        s = _columns(outputs)
        return s[:, 1:] if s.shape[1] == 2 else s  # a binary model's columns sum to 1

    def _calibrate(self, holdout, task: str) -> None:
        """Fit the test on the model's outputs on its holdout."""
        outputs = holdout.y_pred if self.outputs == "classes" else self._outputs(holdout, task)
        if self.outputs == "classes":
            self._classes = np.unique(np.concatenate([holdout.y_pred, holdout.y]))
        self._test.fit(self._features(outputs, task))

    def _signal(self, obs: Observation) -> np.ndarray:
        outputs = obs.y_pred if self.outputs == "classes" else self._outputs(obs, obs.task)
        return self._features(outputs, obs.task)

    def _judge(self, values: np.ndarray, obs: Observation):
        result = self._test.test(values)
        statistic = float(np.max(result.statistic))
        stats = {"statistic": statistic}
        if result.p_value is not None and self._test.has_p_value:
            p_value = float(min(1.0, np.min(result.p_value) * len(result.p_value)))
            stats["p_value"] = p_value
            fired, rule = p_value < self.alpha, f"p = {p_value:.2g} < {self.alpha}"
        else:
            threshold = self.threshold if self.threshold is not None else (
                self._test.default_threshold)
            fired, rule = statistic >= threshold, f"statistic {statistic:.3g} >= {threshold}"
        reason = f"{type(self._test).__name__} on predicted {self.outputs}: {rule}"
        return fired, reason, stats


class EstimatedPerformance(_LabelFree):
    """Retrain when the deployed model's *estimated* performance falls below a rule.

    Classification (confidence-based performance estimation, as NannyML's CBPE): on its
    holdout (labels held out of its fit, see :mod:`strategies.label_free`) the model's
    confidence (its top predicted probability, or the top decision value) is
    calibrated into the probability that the prediction is correct; the estimated
    accuracy of a step is the mean of that probability over the step's inputs. The
    calibration is isotonic by default: monotone and free of a shape assumption
    (trees' and forests' probabilities are not a sigmoid away from calibrated), and
    the holdout of 1,000 labels is the size at which scikit-learn's guide finds it
    stops overfitting; ``"sigmoid"`` (Platt scaling) is there for smaller holdouts.
    The estimate is right as long as P(y | confidence) stays what it was on the
    holdout: under covariate shift onto inputs the model is unsure of; not under a
    concept drift, nor under a shift onto inputs it extrapolates to confidently.

    Regression (direct loss estimation, as NannyML's DLE): a gradient-boosting model of
    the absolute residual ``|y - y_pred|`` from the features and the prediction is
    fitted on the holdout; the estimated mean absolute error of a step is its mean
    prediction.

    The rules read like :class:`~strategies.Performance`'s, on the estimate of the
    last ``window`` steps, and the baseline is the model's realised performance on its
    holdout (the level it was calibrated at, known at deployment). The estimate goes on
    the timeline as ``estimated_accuracy`` (``estimated_mae``), beside the realised
    accuracy.

    Parameters
    ----------
    threshold
        Classification: retrain when the estimated accuracy < threshold. Regression:
        when the estimated mean absolute error > threshold. None: no absolute rule.
    drop
        Classification: retrain when the estimated accuracy falls more than this below
        the holdout accuracy. Regression: when the estimated mean absolute error rises
        more than this above the holdout's. None: no relative rule.
    calibration
        ``"isotonic"`` or ``"sigmoid"`` (classification only).
    window
        Steps whose inputs are averaged into the estimate.
    n_holdout
        Newest arrived labels the engine holds out of every fit to calibrate on.
    refit_labels
        After a detection, wait (firing no more) until this many labels of samples from
        the window that fired on have arrived, then retrain once more on the data since
        then (None: no refit and no wait: the trigger fires again every step the
        change lasts, until a model trained on it is deployed). It should exceed
        ``n_holdout``, which the newest labels go to.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import Gaussian
    >>> stream = Gaussian(n_samples=20_000, concepts=[{}, {"scale": (1.0, 0.3)}],
    ...                   schedule=[{"at": 10_000, "to": 1}], softness=0.4, noise=0.0)
    >>> result = replay(stream, LogisticRegression(), EstimatedPerformance(drop=0.05),
    ...                 label_delay=20)
    >>> result.events[["step", "reason"]].values.tolist()
    [[20, 'estimated accuracy 0.707 < holdout level 0.885 - 0.05']]

    Labels 20 steps late, the estimate follows the realised accuracy at once:

    >>> line = result.timeline.set_index("step")
    >>> line.loc[[19, 20], ["accuracy", "stat_estimated_accuracy"]].round(2).values.tolist()
    [[0.84, 0.87], [0.68, 0.71]]
    """

    _constraints = {
        "threshold": Interval("float", 0, allow_none=True),
        "drop": Interval("float", 0, closed="neither", allow_none=True),
        "calibration": Options(CALIBRATIONS),
        "window": Interval("int", 1),
        "n_holdout": Interval("int", 20),
        "refit_labels": Interval("int", 1, allow_none=True),
    }

    def __init__(self, threshold: float | None = None, drop: float | None = 0.05,
                 calibration: str = "isotonic", window: int = 1, n_holdout: int = 1000,
                 refit_labels: int | None = 2000):
        self.threshold = threshold
        self.drop = drop
        self.calibration = calibration
        self.window = window
        self.n_holdout = n_holdout
        self.refit_labels = refit_labels

    def reset(self, seed=None) -> EstimatedPerformance:
        """Validate the parameters and forget the calibration."""
        self._begin()
        if self.threshold is None and self.drop is None:
            raise ValueError("EstimatedPerformance needs a rule: set 'threshold', 'drop' or "
                             "both. Got threshold=None and drop=None.")
        self._seed = seed
        return self

    def _calibrate(self, holdout, task: str) -> None:
        """Fit the calibration (or the residual model) on the holdout; set the baseline."""
        # imported here, not at the top: every run imports this module, few calibrate
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        if task == "regression":
            residual = np.abs(np.asarray(holdout.y, dtype=float) - holdout.y_pred)
            self._loss_model = HistGradientBoostingRegressor(
                max_iter=100, random_state=self._seed).fit(self._dle_features(
                    holdout.X, holdout.y_pred), residual)
            self._baseline = float(residual.mean())
            return
        confidence = _confidence(self._outputs(holdout, task))
        correct = (holdout.y_pred == holdout.y).astype(float)
        self._baseline = float(correct.mean())
        if self.calibration == "isotonic":
            self._calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            self._calibrator.fit(confidence, correct)
        elif correct.min() == correct.max():  # one outcome only: the sigmoid is degenerate
            self._calibrator = None
        else:
            self._calibrator = LogisticRegression(C=1e6).fit(confidence[:, None], correct)

    @staticmethod
    def _dle_features(X: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return np.column_stack([X, y_pred])

    def _signal(self, obs: Observation) -> np.ndarray:
        """Per input: the probability its prediction is correct (or its absolute error)."""
        if obs.task == "regression":
            return self._loss_model.predict(self._dle_features(obs.X, obs.y_pred))
        confidence = _confidence(self._outputs(obs, obs.task))
        if self.calibration == "isotonic":
            return self._calibrator.predict(confidence)
        if self._calibrator is None:
            return np.full(len(confidence), self._baseline)
        return self._calibrator.predict_proba(confidence[:, None])[:, 1]

    def _judge(self, values: np.ndarray, obs: Observation):
        estimate = float(values.mean())
        # in loss terms (higher is worse): the error rate, or the mean absolute error
        regression = obs.task == "regression"
        loss, base = (estimate, self._baseline) if regression else (1 - estimate,
                                                                     1 - self._baseline)
        name = "estimated MAE" if regression else "estimated accuracy"
        below = ">" if regression else "<"
        worse = []
        if self.threshold is not None and loss > (self.threshold if regression
                                                  else 1 - self.threshold):
            worse.append(f"{name} {estimate:.3f} {below} {self.threshold}")
        if self.drop is not None and loss > base + self.drop:
            worse.append(f"{name} {estimate:.3f} {below} holdout level {self._baseline:.3f} "
                         f"{'+' if regression else '-'} {self.drop}")
        stats = {"estimated_mae" if regression else "estimated_accuracy": estimate}
        return bool(worse), "; ".join(worse), stats


class Uncertainty(_LabelFree):
    """Retrain when the deployed model grows less sure of its predictions.

    Every step the share of low-margin predictions (top score minus the runner-up below
    ``margin``) or the mean entropy of the predicted probabilities over the last
    ``window`` steps is compared with its level on the model's holdout (labels held out
    of its fit, see :mod:`strategies.label_free`) by a one-sided test at level
    ``alpha``: a two-proportion z-test for the share, Welch's t-test for the entropy.
    It sees no labels; more inputs near the model's boundary raise it whether or not
    the model errs there, and a concept drift leaves it where it was.

    Parameters
    ----------
    measure
        ``"margin"`` (share of predictions with a margin below ``margin``) or
        ``"entropy"`` (mean entropy, in nats; needs ``predict_proba``).
    margin
        A prediction is uncertain when its top predicted probability exceeds the
        runner-up's by less than this (for a model without ``predict_proba``: when
        ``|decision_function|`` is below it, in the model's score units).
    alpha
        Significance level of the one-sided test.
    window
        Steps of recent predictions tested.
    n_holdout
        Newest arrived labels the engine holds out of every fit (only their inputs are
        used: the reference level).
    refit_labels
        After a detection, wait (firing no more) until this many labels of samples from
        the window that fired on have arrived, then retrain once more on the data since
        then (None: no refit and no wait: the trigger fires again every step the
        change lasts, until a model trained on it is deployed). It should exceed
        ``n_holdout``, which the newest labels go to.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import Gaussian
    >>> stream = Gaussian(n_samples=20_000, concepts=[{}, {"scale": (1.0, 0.3)}],
    ...                   schedule=[{"at": 10_000, "to": 1}], softness=0.4)
    >>> replay(stream, LogisticRegression(), Uncertainty(alpha=0.001)).events["step"].tolist()
    [20, 23]
    """

    _regression = False
    _constraints = {
        "measure": Options(MEASURES),
        "margin": Interval("float", 0, closed="neither"),
        "alpha": Interval("float", 0, 1, closed="neither"),
        "window": Interval("int", 1),
        "n_holdout": Interval("int", 20),
        "refit_labels": Interval("int", 1, allow_none=True),
    }

    def __init__(self, measure: str = "margin", margin: float = 0.2, alpha: float = 0.01,
                 window: int = 1, n_holdout: int = 1000, refit_labels: int | None = 2000):
        self.measure = measure
        self.margin = margin
        self.alpha = alpha
        self.window = window
        self.n_holdout = n_holdout
        self.refit_labels = refit_labels

    @property
    def _needs_proba(self) -> bool:
        return self.measure == "entropy"

    def reset(self, seed=None) -> Uncertainty:
        """Validate the parameters and forget the reference level."""
        self._begin()
        return self

    def _values(self, scores: np.ndarray) -> np.ndarray:
        if self.measure == "entropy":
            return _entropy(scores)
        return (_margin(scores) < self.margin).astype(float)

    def _calibrate(self, holdout, task: str) -> None:
        self._reference = self._values(self._outputs(holdout, task))

    def _signal(self, obs: Observation) -> np.ndarray:
        return self._values(self._outputs(obs, obs.task))

    def _judge(self, values: np.ndarray, obs: Observation):
        ref = self._reference
        level, now = float(ref.mean()), float(values.mean())
        if self.measure == "entropy":
            p_value = float(sps.ttest_ind(values, ref, equal_var=False,
                                          alternative="greater").pvalue)
            name = "mean_entropy"
        else:
            n, m = len(ref), len(values)
            pooled = (ref.sum() + values.sum()) / (n + m)
            se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
            p_value = float(sps.norm.sf((now - level) / se)) if se > 0 else 1.0
            name = "low_margin_share"
        if not np.isfinite(p_value):  # constant samples: no evidence of a rise
            p_value = 1.0
        stats = {name: now, "p_value": p_value}
        reason = (f"{name.replace('_', ' ')} {now:.3f} above its holdout level {level:.3f} "
                  f"(p = {p_value:.2g} < {self.alpha})")
        return p_value < self.alpha, reason, stats

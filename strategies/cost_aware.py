"""Triggers from the literature that weigh the cost of a stale model against a retrain's.

- :class:`CARA`: Mahadevan & Mathioudakis, "Cost-Aware Retraining for Machine
  Learning", Knowledge-Based Systems 293 (2024) 111610 (arXiv:2310.04216); variants
  threshold (CARA-T), cumulative (CARA-C) and periodic (CARA-P).
- :class:`Forecast`: UPF-style, after Regol et al., "When to retrain a machine learning
  model", ICML 2025 (arXiv:2505.14903): forecast the model's accuracy with its
  uncertainty and retrain when a quantile of the forecast loss of waiting exceeds the
  retrain's cost.
- :class:`CostAware`: Modyn's ``AvoidableMisclassificationCostTrigger`` (Böther et al.,
  SIGMOD 2025; eth-easl/modyn ``docs/pipeline/triggers/COST_TRIGGER.md``).
- :class:`DataLatency`: Modyn's ``DataIncorporationLatencyCostTrigger`` (same source):
  the waiting time of arrived labels no model has been trained on, against a retrain's
  cost.
- :class:`DataAmount`: Modyn's ``DataAmountTrigger``, counted in labelled samples.

**One exchange rate.** The staleness of a model is counted in *avoidable
misclassifications*: queries it got wrong that a freshly trained model would have got
right, estimated from arrived labels only. A retrain is priced by the run's cost model,
``Cost.retrain(n_train)`` (``per_retrain + per_sample * n_train``, with ``n_train`` the
initial fit's size), which the engine hands every trigger through
:meth:`~strategies.base.Trigger.set_cost` (a trigger used outside the engine prices a
retrain at 1 unit). ``cost_weight`` converts one into the other in the unit of
:meth:`sim.oracle.Frontier.best_for_cost_weight` and ``retrain-sim-advise
--cost-weight``: accuracy per cost unit per 10,000 scored samples, so one cost unit is
worth ``10,000 * cost_weight`` correct predictions, and a retrain costing ``C`` units is
worth ``C * 10,000 * cost_weight`` avoidable misclassifications (its *price*, a statistic
of every step). The triggers thus aim at the objective the hindsight optimum maximises,
``mean accuracy - cost_weight * cost per 10,000 samples``. The default
``cost_weight=0.05`` makes a 1-unit retrain worth 500 misclassifications: one 500-sample
step's worth of predictions.

:class:`DataLatency` counts waiting labels, not misclassifications: its exchange rate
is ``latency_per_cost`` (label-steps of waiting a cost unit is worth), and it works on
regression streams too. CARA, Forecast and CostAware are classification triggers (they
count misclassifications); each refuses a regression stream before the replay starts.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.checks import Interval, Options, check, validate
from sim.types import Decision, Observation
from strategies.base import Trigger
from strategies.triggers import _Tail

__all__ = ["CARA", "CostAware", "DataAmount", "DataLatency", "Forecast"]

#: scored samples the ``cost_weight`` unit is counted per (see the module doc)
PER_SAMPLES = 10_000


class _Deployed:
    """What the arrived labels say of the deployed model's accuracy.

    Only labels of predictions the deployed model made count; a new model starts afresh.
    Its *baseline* is its accuracy on its first ``min_labels`` arrived labels (its
    accuracy right after its retrain); ``recent`` the accuracy on its newest ``window``.
    """

    def __init__(self, window: int, min_labels: int):
        self.min_labels = min_labels
        self._correct = _Tail(max(window, min_labels), float)
        self._window = window
        self.model_id = None
        self.baseline: float | None = None

    def update(self, obs: Observation) -> tuple[int, int]:
        """Add the step's arrived labels of the deployed model; return (right, labels)."""
        if obs.model_id != self.model_id:
            self.model_id = obs.model_id
            self._correct.clear()
            self.baseline = None
        mine = obs.labels.model_id == obs.model_id
        right = (obs.labels.y[mine] == obs.labels.y_pred[mine]).astype(float)
        self._correct.extend(right)
        if self.baseline is None and self._correct.n_seen >= self.min_labels:
            self.baseline = float(self._correct.values[: self.min_labels].mean())
        return int(right.sum()), len(right)

    @property
    def recent(self) -> float:
        """Accuracy on the newest ``window`` labels of the deployed model."""
        return float(self._correct.values[-self._window:].mean())


class _Priced(Trigger):
    """A trigger that prices a retrain with the run's cost model (see the module doc)."""

    def _start(self) -> None:
        """Validate the parameters; price a retrain at 1 unit until the engine says more."""
        validate(self)
        self._retrain_cost = 1.0

    def set_cost(self, cost, n_train: int) -> None:
        """Price a retrain at ``cost.retrain(n_train)`` (the initial fit's size)."""
        self._retrain_cost = float(sum(cost.retrain(n_train).values()))

    @property
    def _price(self) -> float:
        """A retrain's cost in avoidable misclassifications."""
        return self._retrain_cost * PER_SAMPLES * self.cost_weight

    def check_model(self, model, task: str) -> None:
        """Refuse a regression stream: misclassifications are counted."""
        if task != "classification":
            raise ValueError(f"{type(self).__name__} counts misclassifications: it needs a "
                             f"classification stream; this stream's task is {task!r}.")


_COST_WEIGHT = Interval("float", 0, closed="neither")


class CARA(_Priced):
    """Retrain when the staleness cost outweighs the retraining cost (CARA).

    Mahadevan & Mathioudakis, "Cost-Aware Retraining for Machine Learning",
    Knowledge-Based Systems 293 (2024); arXiv:2310.04216. At every step the decision is
    *retrain or keep*, from the cost of keeping a stale model (its accuracy lost on the
    queries it serves) against the cost of a retrain.

    **Staleness.** The deployed model's accuracy right after its retrain, ``a0``, is its
    accuracy on its first ``min_labels`` arrived labels; its current accuracy ``a`` is
    that on its newest ``window`` arrived labels. The staleness cost of step ``t`` is
    ``S_t = (a0 - a) * n_t / price``: the avoidable misclassifications among the
    ``n_t`` queries served at ``t``, in retrains (``price`` is a retrain's cost in
    misclassifications, see the module doc). Before ``a0`` is known it is 0. It may be
    negative (the model does better than at its start): noise then cancels in the sum.

    **Variants.**

    - ``"threshold"`` (CARA-T): retrain when ``S_t > tau``: a single step wastes more than
      ``tau`` of a retrain (at ``tau = 0.05`` a retrain would pay for itself within 20
      such steps). ``tau = 0.05`` is the value a later study (PILOT) fixed.
    - ``"cumulative"`` (CARA-C): retrain when the staleness accumulated since the last
      retrain reaches the retrain's cost, ``sum S >= 1`` (the rent-or-buy rule: what the
      stale model has lost has paid for a retrain). ``tau`` is not used.
    - ``"periodic"`` (CARA-P): retrain every ``P`` steps, the period chosen from the cost
      ratio: if a model's avoidable misclassifications per step grow by ``g`` per step of
      its age, a period ``P`` costs ``price / P + g * P / 2`` per step, least at
      ``P = sqrt(2 * price / g)``. ``g`` is fitted (least squares through the origin) to
      the per-step avoidable misclassifications against model age over every model so
      far, and re-estimated at every step (the period follows what has been seen).
      While no growth has been seen (``g <= 0``) it does not retrain. ``tau`` is not
      used.

    **Choices the paper leaves open** (its full text was not available; only its
    abstract and summaries): the staleness estimator (accuracy lost against the model's
    own start, on arrived labels only, times the queries served); the unit of ``tau``
    (a share of one retrain's cost); CARA-C's threshold (the retrain's cost, not
    ``tau``); CARA-P's period (the square-root rule above, from the observed growth
    of staleness with age).

    Parameters
    ----------
    variant
        ``"threshold"``, ``"cumulative"`` or ``"periodic"``.
    tau
        CARA-T's threshold, in retrains per step (> 0).
    cost_weight
        The exchange rate: accuracy per cost unit per 10,000 scored samples (> 0).
    window
        Newest arrived labels of the deployed model its current accuracy is read on.
    min_labels
        Arrived labels of the deployed model that set its starting accuracy ``a0``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> result = replay(stream, LogisticRegression(), CARA(variant="cumulative"))
    >>> result.events["step"].tolist()
    [41]
    """

    _constraints = {
        "variant": Options(("threshold", "cumulative", "periodic")),
        "tau": Interval("float", 0, closed="neither"),
        "cost_weight": _COST_WEIGHT,
        "window": Interval("int", 1),
        "min_labels": Interval("int", 1),
    }

    def __init__(self, variant: str = "threshold", tau: float = 0.05,
                 cost_weight: float = 0.05, window: int = 500, min_labels: int = 500):
        self.variant = variant
        self.tau = tau
        self.cost_weight = cost_weight
        self.window = window
        self.min_labels = min_labels

    def reset(self, seed=None) -> CARA:
        """Validate the parameters and forget every model."""
        self._start()
        self._deployed = _Deployed(self.window, self.min_labels)
        self._cumulative = 0.0
        self._sxy = self._sxx = 0.0  # sums of age * misclassifications and age ** 2
        return self

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Refuse a window or a start needing more labels than the stream can deliver."""
        most = n_steps * step_size
        check(self, "window", self.window, Interval("int", 1, most))
        check(self, "min_labels", self.min_labels, Interval("int", 1, most))

    def update(self, obs: Observation) -> Decision:
        """Estimate the step's staleness cost and apply the variant's rule."""
        deployed = self._deployed
        _, n_labels = deployed.update(obs)
        if deployed.baseline is None or not n_labels:
            return Decision(False, stats={"staleness": 0.0, "cumulative": self._cumulative})
        avoidable = (deployed.baseline - deployed.recent) * len(obs.X)
        staleness = avoidable / self._price
        self._cumulative += staleness
        age = obs.t - obs.deployed_at + 1
        self._sxy += age * avoidable
        self._sxx += age * age
        stats = {"staleness": staleness, "cumulative": self._cumulative}
        if self.variant == "threshold" and staleness > self.tau:
            return Decision(True, f"staleness {staleness:.3g} retrains > tau {self.tau}",
                            stats)
        if self.variant == "cumulative" and self._cumulative >= 1.0:
            return Decision(True, f"staleness since the last retrain {self._cumulative:.3g} "
                            "retrains >= 1", stats)
        if self.variant == "periodic" and self._sxy > 0:
            period = float(np.sqrt(2 * self._price * self._sxx / self._sxy))
            stats["period"] = period
            if age >= period:
                return Decision(True, f"model age {age} steps >= period {period:.1f}", stats)
        return Decision(False, stats=stats)

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Restart the accumulated staleness."""
        self._cumulative = 0.0


class CostAware(_Priced):
    """Retrain when the avoidable misclassifications outweigh a retrain (Modyn's cost trigger).

    After Modyn's ``AvoidableMisclassificationCostTrigger`` (Böther et al., SIGMOD 2025;
    ``eth-easl/modyn``, ``docs/pipeline/triggers/COST_TRIGGER.md`` and
    ``PERFORMANCE_TRIGGER.md``), in hindsight mode, evaluated at every step.

    **Estimate (hindsight).** The *expected accuracy* ``a*`` is what a freshly trained
    model achieves: the mean, over the last ``n_models`` models deployed (the current one
    included once known), of each model's accuracy on its first ``min_labels`` arrived
    labels (Modyn's series of evaluations right after each trigger). At every step with
    arrived labels of the deployed model, its accuracy on them, ``a``, gives the step's
    new avoidable misclassifications ``max(a* - a, 0) * n_t`` among the ``n_t`` queries
    it served (clipped at 0 as Modyn does by default, ``allow_reduction=False``: a
    model doing better than expected does not pay back what is owed).

    **Regret and rule.** ``regret="latency"`` (Modyn's rule): the regret is the area
    under the curve of avoidable misclassifications not yet addressed, in
    misclassification-steps: each step adds the ones owed before it in full and its new
    ones for half a step. ``regret="count"``: the avoidable misclassifications owed. It
    retrains when the regret reaches a retrain's price (the exchange rate of the module
    doc, with one misclassification-step worth one misclassification), and the regret
    restarts at every retrain.

    **Choices.** Modyn converts regret into training seconds forecast by a regression on
    past trainings, through a user conversion factor; here a retrain's nominal cost
    comes from the run's cost model and ``cost_weight`` is the factor. Modyn's very first
    evaluation always triggers (its pipelines start without a model); ours start with
    one and do not. The expected accuracy is Modyn's default forecast (a mean of the
    post-trigger evaluations), over ``n_models`` models.

    Parameters
    ----------
    cost_weight
        The exchange rate: accuracy per cost unit per 10,000 scored samples (> 0).
    regret
        ``"latency"`` (area under the avoidable-misclassification curve; Modyn) or
        ``"count"`` (the avoidable misclassifications themselves).
    n_models
        Newest deployed models whose starting accuracy makes the expected accuracy.
    min_labels
        Arrived labels of each model that measure its starting accuracy.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> result = replay(stream, LogisticRegression(), CostAware())
    >>> result.events["step"].tolist()
    [31, 37, 54]
    """

    _constraints = {
        "cost_weight": _COST_WEIGHT,
        "regret": Options(("latency", "count")),
        "n_models": Interval("int", 1),
        "min_labels": Interval("int", 1),
    }

    def __init__(self, cost_weight: float = 0.05, regret: str = "latency", n_models: int = 5,
                 min_labels: int = 500):
        self.cost_weight = cost_weight
        self.regret = regret
        self.n_models = n_models
        self.min_labels = min_labels

    def reset(self, seed=None) -> CostAware:
        """Validate the parameters and forget every model."""
        self._start()
        self._deployed = _Deployed(self.min_labels, self.min_labels)
        self._starts: list[float] = []  # starting accuracies of the models, oldest first
        self._owed = self._latency = 0.0
        return self

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Refuse a start needing more labels than the stream can deliver."""
        check(self, "min_labels", self.min_labels, Interval("int", 1, n_steps * step_size))

    def update(self, obs: Observation) -> Decision:
        """Add the step's avoidable misclassifications and compare the regret with a retrain."""
        deployed = self._deployed
        known = deployed.baseline is not None
        right, n_labels = deployed.update(obs)
        if not known and deployed.baseline is not None:
            self._starts = (self._starts + [deployed.baseline])[-self.n_models:]
        if not self._starts or not n_labels:
            return Decision(False, stats={"regret": self._regret()})
        expected = float(np.mean(self._starts))
        new = max(expected - right / n_labels, 0.0) * len(obs.X)
        self._latency += self._owed + new / 2
        self._owed += new
        regret = self._regret()
        stats = {"expected_accuracy": expected, "avoidable": new, "regret": regret,
                 "price": self._price}
        if regret >= self._price:
            unit = "misclassification-steps" if self.regret == "latency" else \
                "misclassifications"
            return Decision(True, f"avoidable {self.regret} {regret:.4g} {unit} >= a "
                            f"retrain's price {self._price:.4g}", stats)
        return Decision(False, stats=stats)

    def _regret(self) -> float:
        return self._latency if self.regret == "latency" else self._owed

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Restart the regret (Modyn's ``inform_trigger``)."""
        self._owed = self._latency = 0.0


class Forecast(_Priced):
    """Retrain when the forecast loss of waiting exceeds a retrain's cost (UPF-style).

    After Regol et al., "When to retrain a machine learning model", ICML 2025
    (arXiv:2505.14903): forecast the deployed model's performance with its uncertainty
    and decide with a quantile rule on the cost-to-performance ratio.

    **Performance model.** At every step with arrived labels of the deployed model, its
    accuracy has the posterior ``Beta(1 + right, 1 + wrong)`` (a uniform prior),
    approximated as a Gaussian with the Beta's mean and variance.

    **Forecast.** A straight line in the model's age (steps since it was deployed) is
    fitted by weighted least squares (weights: the inverse Beta variances) to the last
    ``history`` of those steps; the line and its parameter covariance forecast the
    accuracy at each of the next ``horizon`` steps.

    **Rule.** The loss of waiting is the accuracy lost, against the model's accuracy on
    its first ``min_labels`` labels (what a retrain restores), over the next ``horizon``
    steps' queries (the mean per step over the last 100 steps): ``L = n * sum_h (a0 - f_h)``, a
    Gaussian (the line's uncertainty and ``a0``'s). With ``alpha`` the cost-to-performance
    ratio (a retrain's cost in misclassifications, its *price*; module doc), it retrains
    when the ``quantile`` of ``L`` exceeds ``alpha``. Above 0.5 the rule retrains on a
    pessimistic forecast (waiting is risky), below 0.5 on an optimistic one.

    **Choices.** The paper's forecaster and its exact quantile rule were not available
    (abstract and summaries only): the forecaster here is a linear trend in age, fitted
    only to the deployed model's own steps (a new model starts a new forecast); the
    horizon is fixed; it decides once ``history`` steps of the deployed model have labels
    (a line through fewer noisy points, extrapolated ``horizon`` steps, fired on a
    drift-free SEA stream at the default quantile).

    Parameters
    ----------
    cost_weight
        The exchange rate: accuracy per cost unit per 10,000 scored samples (> 0).
    horizon
        Steps ahead over which the loss of waiting is forecast.
    history
        Newest steps (with arrived labels of the deployed model) the trend is fitted to.
    quantile
        Quantile of the forecast loss of waiting compared with a retrain's cost, in (0, 1).
    min_labels
        Arrived labels of the deployed model that set its starting accuracy.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> stream = SEA(n_samples=30_000, schedule=[{"at": 15_000, "to": 3}])
    >>> result = replay(stream, LogisticRegression(), Forecast())
    >>> result.events["step"].tolist()
    [31]
    """

    _constraints = {
        "cost_weight": _COST_WEIGHT,
        "horizon": Interval("int", 1),
        "history": Interval("int", 3),
        "quantile": Interval("float", 0, 1, closed="neither"),
        "min_labels": Interval("int", 1),
    }

    def __init__(self, cost_weight: float = 0.05, horizon: int = 10, history: int = 10,
                 quantile: float = 0.75, min_labels: int = 500):
        self.cost_weight = cost_weight
        self.horizon = horizon
        self.history = history
        self.quantile = quantile
        self.min_labels = min_labels

    def reset(self, seed=None) -> Forecast:
        """Validate the parameters and forget every model."""
        self._start()
        self._deployed = _Deployed(self.min_labels, self.min_labels)
        self._steps: list[tuple[int, float, float]] = []  # (age, mean, variance)
        self._queries = _Tail(100, float)
        return self

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Refuse a start needing more labels than the stream can deliver."""
        check(self, "min_labels", self.min_labels, Interval("int", 1, n_steps * step_size))

    def update(self, obs: Observation) -> Decision:
        """Update the performance model, forecast and apply the quantile rule."""
        deployed = self._deployed
        if obs.model_id != deployed.model_id:
            self._steps = []
        right, n_labels = deployed.update(obs)
        self._queries.extend(np.array([len(obs.X)], dtype=float))
        if n_labels:
            a, b = 1.0 + right, 1.0 + n_labels - right
            mean = a / (a + b)
            self._steps = (self._steps + [(obs.t - obs.deployed_at + 1, mean,
                                           mean * (1 - mean) / (a + b + 1))])[-self.history:]
        if deployed.baseline is None or len(self._steps) < self.history:
            return Decision(False)
        mean, sd = self._loss_of_waiting(deployed.baseline)
        loss = mean + stats.norm.ppf(self.quantile) * sd
        out = {"loss_of_waiting": loss, "price": self._price}
        if loss > self._price:
            return Decision(True, f"forecast loss of waiting {loss:.4g} misclassifications "
                            f"(quantile {self.quantile}) > a retrain's price "
                            f"{self._price:.4g}", out)
        return Decision(False, stats=out)

    def _loss_of_waiting(self, start: float) -> tuple[float, float]:
        """Mean and standard deviation of the forecast misclassifications of waiting."""
        age, mean, var = (np.array(c) for c in zip(*self._steps, strict=True))
        X = np.column_stack([np.ones_like(age), age])
        precision = X.T @ (X / var[:, None])
        cov = np.linalg.pinv(precision)
        beta = cov @ (X.T @ (mean / var))
        ahead = np.column_stack([np.ones(self.horizon), age[-1] + np.arange(1, self.horizon + 1)])
        total = ahead.sum(axis=0)  # the forecast sum is total @ beta
        n = float(self._queries.values.mean())
        start_var = start * (1 - start) / (self.min_labels + 3)
        loss = n * (self.horizon * start - total @ beta)
        sd = n * np.sqrt(total @ cov @ total + self.horizon ** 2 * start_var)
        return float(loss), float(sd)


class DataAmount(Trigger):
    """Retrain once ``n_labels`` new labelled samples have arrived since the last retrain.

    Modyn's ``DataAmountTrigger`` (every N new samples), counted in labels that have
    *arrived* (a retrain can only use those), per sample, not per step: under
    ``label_rate < 1``, or with steps of uneven size (a time column), it fires on a
    different schedule from :class:`~strategies.Periodic`. The count starts from the
    labels that arrive after the initial model was trained, and restarts at every
    retrain (labels arriving at the retrain's step count towards the retrain itself).

    Parameters
    ----------
    n_labels
        Labels to wait for.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> result = replay(SEA(n_samples=20_000), LogisticRegression(), DataAmount(3000),
    ...                 label_rate=0.5)
    >>> result.events["step"].tolist()
    [22, 34]
    """

    _constraints = {"n_labels": Interval("int", 1)}

    def __init__(self, n_labels: int = 5000):
        self.n_labels = n_labels

    def reset(self, seed=None) -> DataAmount:
        """Validate ``n_labels`` and restart the count."""
        validate(self)
        self._count = 0
        return self

    def check_stream(self, n_steps: int, step_size: int) -> None:
        """Refuse a count the stream could never deliver."""
        check(self, "n_labels", self.n_labels, Interval("int", 1, n_steps * step_size))

    def update(self, obs: Observation) -> Decision:
        """Count the arrived labels and fire at ``n_labels``."""
        self._count += len(obs.labels)
        stats = {"labels": float(self._count)}
        if self._count >= self.n_labels:
            return Decision(True, f"{self._count} labels arrived since the last retrain",
                            stats)
        return Decision(False, stats=stats)

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Restart the count."""
        self._count = 0


class DataLatency(_Priced):
    """Retrain when the waiting time of new labels outweighs a retrain (Modyn's latency trigger).

    After Modyn's ``DataIncorporationLatencyCostTrigger`` (Böther et al., SIGMOD 2025;
    ``eth-easl/modyn``, ``docs/pipeline/triggers/COST_TRIGGER.md``), evaluated at every
    step.

    **Regret.** The *data incorporation latency*: the area under the curve of arrived labels
    that no retrain has used yet, in label-steps. Each step adds the labels waiting before it
    in full and its newly arrived ones for half a step (they arrived during it), so
    ``n`` labels a step for ``k`` steps make ``n k^2 / 2``. It counts labels as they
    *arrive* (a retrain can only use those): under a label delay the count starts later,
    and under ``label_rate < 1`` it grows more slowly.

    **Rule.** Retrain when the latency reaches a retrain's price, ``Cost.retrain(n_train)``
    (the run's cost model, as the other triggers of this module) times
    ``latency_per_cost``; the latency restarts at every retrain, accepted or rejected
    by a gate (the labels were used). Since the latency grows with the square of the waiting
    time, the gap between retrains grows with the square root of the price and falls with
    the square root of the label rate: four times the retrain cost doubles the gap, half
    the labels lengthens it by about 1.4 (:class:`DataAmount` doubles it).

    **Choices.** Modyn converts the latency into training seconds, forecast by a regression
    on past trainings, through its ``incorporation_delay_per_training_second``; here the
    price comes from the run's cost model and ``latency_per_cost`` is the conversion
    factor. Modyn's very first evaluation always triggers (its pipelines start without a
    model); ours start with one and do not. The default, 25,000 label-steps per cost unit,
    retrains a 1-unit retrain about every 10 steps when 500 labels arrive a step (as
    ``periodic``'s default).

    Parameters
    ----------
    latency_per_cost
        Label-steps of waiting one cost unit is worth (> 0).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sim import replay
    >>> from sim.streams import SEA
    >>> result = replay(SEA(n_samples=30_000), LogisticRegression(), DataLatency())
    >>> result.events["step"].tolist()
    [19, 29, 39, 49, 59]
    """

    _constraints = {"latency_per_cost": _COST_WEIGHT}

    def __init__(self, latency_per_cost: float = 25_000.0):
        self.latency_per_cost = latency_per_cost

    def reset(self, seed=None) -> DataLatency:
        """Validate ``latency_per_cost`` and restart the latency."""
        self._start()
        self._waiting = 0
        self._latency = 0.0
        return self

    @property
    def _price(self) -> float:
        """A retrain's cost in label-steps of waiting."""
        return self._retrain_cost * self.latency_per_cost

    def check_model(self, model, task: str) -> None:
        """Accept every task: waiting labels are counted, not errors."""

    def update(self, obs: Observation) -> Decision:
        """Add the step's waiting time and compare the latency with a retrain's price."""
        new = len(obs.labels)
        self._latency += self._waiting + new / 2
        self._waiting += new
        stats = {"waiting_labels": float(self._waiting), "latency": self._latency,
                 "price": self._price}
        if self._latency >= self._price:
            return Decision(True, f"incorporation latency {self._latency:.4g} label-steps "
                            f">= a retrain's price {self._price:.4g}", stats)
        return Decision(False, stats=stats)

    def on_retrain(self, t: int, accepted: bool) -> None:
        """Restart the latency (Modyn's ``inform_trigger``)."""
        self._waiting = 0
        self._latency = 0.0

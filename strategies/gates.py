"""Validation gates: they decide whether a new challenger replaces the champion.

Offline gates (:class:`AlwaysAccept`, :class:`Holdout`, :class:`LabelCheck`): the engine
holds the gate's ``n_val`` most recent arrived labels out of the challenger's training set
and hands them to :meth:`~strategies.base.Gate.accept`; a rejected challenger has still
cost its training. :class:`LabelCheck` judges the training data instead of the models:
the class counts of the labels each model was trained on.

Live gates (:class:`Shadow`, :class:`Canary`, :class:`StagedCanary`, :class:`Rollback`,
see :class:`~sim.rollout.LiveGate`) judge the challenger on live traffic, on the labels
of its trial as they arrive, with a declared test whose error is controlled across the
trial's looks: each look tests at level ``alpha / steps`` (Bonferroni over the most
looks a trial can take), so the chance that a trial ever wrongly promotes (or wrongly
rolls back) is at most ``alpha``. Each wraps an optional offline ``gate`` checked first
(``Rollback(gate=Holdout())`` deploys only what the holdout accepts, then watches it),
and creates its trial, a :class:`~sim.rollout.Rollout` (its ``rollout``): how the
challenger meets live traffic is the rollout's, the test is the gate's. Live gates
compare accuracy: classification streams only.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from sklearn.base import is_regressor

from sim.checks import Floats, Instance, Interval, param_error, validate
from sim.interfaces import Gate, GateTags
from sim.rollout import (
    CanaryRollout,
    LiveGate,
    RollbackWatch,
    ShadowRollout,
    StagedRollout,
    check_offline,
)
from sim.types import Decision, Trial, sample_loss

__all__ = ["AlwaysAccept", "Canary", "Holdout", "LabelCheck", "Rollback", "Shadow",
           "StagedCanary"]


class AlwaysAccept(Gate):
    """Accept every challenger (no validation).

    Examples
    --------
    >>> AlwaysAccept().accept(None, None, None, None).retrain
    True
    """

    def accept(self, champion, challenger, X_val, y_val) -> Decision:
        """Accept."""
        return Decision(True, "always accept")


class Holdout(Gate):
    """Accept the challenger only if it beats the champion by ``margin`` on held-out labels.

    The held-out labels are the ``n_val`` most recent that have arrived; the challenger
    did not train on them (the champion may have, if they predate its training, which
    only favours the champion). With no held-out label the challenger is accepted.
    Classifiers are compared by accuracy, regressors by mean absolute error.

    Parameters
    ----------
    margin
        Accuracy the challenger must gain over the champion, or for regressors mean
        absolute error it must save (0: ties accept).
    n_val
        Most recent arrived labels held out for validation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((10, 1)), np.array([0] * 7 + [1] * 3)
    >>> good = DummyClassifier(strategy="constant", constant=0).fit(X, y)
    >>> bad = DummyClassifier(strategy="constant", constant=1).fit(X, y)
    >>> Holdout(margin=0.01).check().accept(good, bad, X, y).reason
    'challenger accuracy 0.3 < champion 0.7 + margin 0.01'
    """

    _constraints = {"margin": Interval("float"), "n_val": Interval("int", 1)}

    def __init__(self, margin: float = 0.0, n_val: int = 500):
        self.margin = margin
        self.n_val = n_val

    def check(self) -> Holdout:
        """Validate the parameters; return self."""
        validate(self)
        return self

    def accept(self, champion, challenger, X_val, y_val) -> Decision:
        """Compare the two models' accuracy on the held-out labels."""
        if len(y_val) == 0:
            return Decision(True, "no held-out labels: accepted unvalidated")
        task = "regression" if is_regressor(challenger) else "classification"
        new = float(sample_loss(y_val, challenger.predict(X_val), task).mean())
        old = float(sample_loss(y_val, champion.predict(X_val), task).mean())
        if task == "classification":  # compare accuracies
            name, new, old = "accuracy", 1 - new, 1 - old
            wins = new >= old + self.margin
            verdict, margin = (">=" if wins else "<"), f"+ margin {self.margin}"
        else:
            name = "mean absolute error"
            wins = new <= old - self.margin
            verdict, margin = ("<=" if wins else ">"), f"- margin {self.margin}"
        stats = {"challenger": new, "champion": old}
        return Decision(bool(wins), f"challenger {name} {new:.4g} {verdict} champion "
                                    f"{old:.4g} {margin}", stats)


_OFFLINE = Instance("an offline Gate or None", classes=(Gate,), methods=("accept",),
                    allow_none=True)
_LIVE = {
    "steps": Interval("int", 1),
    "margin": Interval("float", 0, 1, closed="left"),
    "alpha": Interval("float", 0, 1, closed="neither"),
    "gate": _OFFLINE,
}


class LabelCheck(Gate):
    """Reject a challenger whose training labels' class mix moved away from a trusted reference.

    The data-validation step of a production pipeline (TensorFlow Data Validation, Great
    Expectations) run before a model ships: it checks the training data, not the models,
    so it catches what every model-judging gate misses, a label pipeline that writes
    wrong labels (the holdout and live gates judge on those same labels). The class
    counts of the labels the challenger was trained on are compared with the trusted
    reference: the class counts of the initial model's training labels, to which the
    counts of every challenger that passed the check are added (labels that passed
    earlier checks). The challenger is rejected when Pearson's chi-square test of
    homogeneity (``scipy.stats.chi2_contingency``, Yates-corrected for two classes)
    rejects at level ``alpha`` *and* the total variation distance between the two class
    distributions exceeds ``max_shift`` (so large windows do not reject trivial
    differences). An accepted challenger then goes to the wrapped ``gate``, if any.

    Why not the champion's labels: a label bug that starts inside a training window
    moves the mix a little per retrain, each step below ``max_shift``, until a champion
    trained mostly on wrong labels is deployed and every clean retrain is then rejected
    against its corrupted mix (``Performance`` on ``conf/stream/sea_label_corruption.yaml``,
    seed 0: the mix of class 0 went 0.357, 0.430, 0.523, and accuracy fell to 0.32
    against 0.83 for the other seeds). The pooled reference moves by a challenger's
    share of all the labels that passed, so a bug must move the mix far more before it
    gets in. A shift that creeps in slowly enough still can. With
    ``learning=online`` the counts are those of a model's fit, not of its online
    updates. Classification only: the engine refuses it on a regression stream.

    The trade-off: it cannot tell a label bug from a genuine prior shift (the class
    proportions of the world change, ``conf/stream/prior_shift.yaml``: 50/50, then 90/10,
    then 50/50), which moves the labels just as much, so it holds back the retrains that
    would follow the shift while the move exceeds ``max_shift``. Measured there (seeds
    0-3, logistic regression): ``Periodic(10)`` has 4 of its 11 retrains rejected and
    mean accuracy 0.839-0.846 against 0.852-0.856 without the gate; ``Performance`` loses
    0.013 and 0.024 in the two seeds where it retrains (it stays silent in the other
    two).

    Parameters
    ----------
    alpha
        Level of the chi-square test.
    max_shift
        Total variation distance between the two class distributions (half the sum of
        the absolute differences of the class shares, in [0, 1]) a challenger's training
        labels may move before it is rejected.
    gate
        An offline gate checked after the label check (None: none).

    Examples
    --------
    >>> gate = LabelCheck(alpha=0.01, max_shift=0.1).check()
    >>> gate.accept(None, None, None, None, champion_labels={0: 360, 1: 640},
    ...             challenger_labels={0: 930, 1: 70}).retrain
    False
    >>> gate.accept(None, None, None, None, champion_labels={0: 360, 1: 640},
    ...             challenger_labels={0: 380, 1: 620}).retrain
    True
    >>> gate.reference
    {0: 740, 1: 1260}
    """

    needs_training_labels = True
    n_val = property(lambda self: self.__retrain_tags__().n_val)
    _constraints = {
        "alpha": Interval("float", 0, 1, closed="neither"),
        "max_shift": Interval("float", 0, 1, closed="left"),
        "gate": _OFFLINE,
    }

    def __init__(self, alpha: float = 0.01, max_shift: float = 0.1, gate=None):
        self.alpha = alpha
        self.max_shift = max_shift
        self.gate = gate

    def __retrain_tags__(self) -> GateTags:
        """Return the wrapped gate's n_val (0 without one); training labels; classification."""
        inner = self.gate.__retrain_tags__() if self.gate is not None else GateTags()
        return GateTags(inner.n_val, True, tasks=("classification",))

    def check(self) -> LabelCheck:
        """Validate the parameters (and the wrapped gate's), clear the reference; return self."""
        validate(self)
        check_offline(self)
        self._reference: dict | None = None
        return self

    @property
    def reference(self) -> dict | None:
        """The trusted class counts (None before the first check of a run)."""
        return None if self._reference is None else dict(self._reference)

    def accept(self, champion, challenger, X_val, y_val, *, champion_labels,
               challenger_labels) -> Decision:
        """Test the challenger's training label counts against the trusted reference.

        The reference starts as the counts of the first champion (the initial model's
        training labels); a challenger that passes adds its counts to it. If it passes,
        the wrapped gate decides.
        """
        reference = dict(champion_labels) if self._reference is None else self._reference
        classes = sorted(set(reference) | set(challenger_labels))
        table = np.array([[reference.get(c, 0) for c in classes],
                          [challenger_labels.get(c, 0) for c in classes]])
        shares = table / table.sum(axis=1, keepdims=True)
        shift = float(np.abs(shares[0] - shares[1]).sum() / 2)
        p = float(stats.chi2_contingency(table).pvalue) if len(classes) > 1 else 1.0
        old, new = ("{" + ", ".join(f"{c!r}: {share:.3f}" for c, share in
                            zip(classes, row, strict=True)) + "}" for row in shares)
        shifted = p < self.alpha and shift > self.max_shift
        self._reference = reference if shifted else {
            c: reference.get(c, 0) + challenger_labels.get(c, 0) for c in classes}
        reason = (f"training labels {'shifted' if shifted else 'pass'}: challenger "
                  f"{new} against the reference {old}, total "
                  f"variation {shift:.3f} {'>' if shift > self.max_shift else '<='} max_shift "
                  f"{self.max_shift}, chi-square p {p:.3g} "
                  f"{'<' if p < self.alpha else '>='} alpha {self.alpha}")
        label_stats = {"label_shift": shift, "label_p": p}
        if shifted or self.gate is None:
            return Decision(not shifted, reason, label_stats)
        labels = ({"champion_labels": champion_labels, "challenger_labels": challenger_labels}
                  if self.gate.__retrain_tags__().needs_training_labels else {})
        verdict = self.gate.accept(champion, challenger, X_val, y_val, **labels)
        return Decision(verdict.retrain, f"{reason}; {verdict.reason}",
                        label_stats | dict(verdict.stats or {}))


def paired_better(wins: int, losses: int, n: int, margin: float) -> float:
    """One-sided p-value that the challenger's paired accuracy beats the champion's by ``margin``.

    An exact McNemar (binomial) test on the discordant pairs, conditional on their number
    ``d = wins + losses``: the accuracy difference is ``(wins - losses) / n``, so at the
    null's boundary (a difference of exactly ``margin``) a discordant pair is a win with
    probability ``1/2 + margin * n / (2 d)``; ``scipy.stats.binomtest`` gives the chance
    of ``wins`` or more. 1 without a discordant pair, or when even all-wins could not
    reach the margin.

    Examples
    --------
    >>> round(paired_better(30, 10, 400, 0.0), 4)
    0.0011
    >>> paired_better(30, 10, 400, 0.1)  # 40 discordant pairs of 400 cannot show 0.1
    1.0
    """
    d = wins + losses
    p0 = 0.5 + margin * n / (2 * d) if d else 1.0
    if p0 >= 1:
        return 1.0
    return float(stats.binomtest(wins, d, p0, alternative="greater").pvalue)


def unpaired_better(correct_a: int, n_a: int, correct_b: int, n_b: int,
                    margin: float) -> float:
    """One-sided p-value that accuracy ``a`` exceeds accuracy ``b`` by more than ``margin``.

    A Wald test of the difference of two proportions with the Agresti-Caffo adjustment
    (one success and one failure added to each group, which keeps it honest for small
    counts and accuracies near 1), the normal tail from ``scipy.stats.norm``. 1 when a
    group has no label.

    Examples
    --------
    >>> round(unpaired_better(90, 100, 160, 200, 0.0), 4)
    0.0114
    >>> unpaired_better(90, 100, 0, 0, 0.0)
    1.0
    """
    if not n_a or not n_b:
        return 1.0
    pa, pb = (correct_a + 1) / (n_a + 2), (correct_b + 1) / (n_b + 2)
    se = math.sqrt(pa * (1 - pa) / (n_a + 2) + pb * (1 - pb) / (n_b + 2))
    return float(stats.norm.sf((pa - pb - margin) / se))


def _unpaired(gate: LiveGate, trial: Trial) -> tuple[float, tuple, tuple]:
    """Return a look's level (Bonferroni over the looks) and each model's (right, labels)."""
    return (gate.alpha / trial.looks, (trial.correct_challenger, trial.n_challenger),
            (trial.correct_champion, trial.n_champion))


def _canary_test(gate: LiveGate, trial: Trial) -> bool | None:
    """Test at the canary's look: True if better by ``margin``, False if worse, else None."""
    level, new, old = _unpaired(gate, trial)
    if unpaired_better(*new, *old, gate.margin) <= level:
        return True
    if unpaired_better(*old, *new, 0.0) <= level:
        return False
    return None


class Shadow(LiveGate):
    """Promote a challenger that predicted better than the champion in the shadow of live traffic.

    From the step it could serve, the challenger predicts every sample beside the
    champion, for at most ``steps`` steps, without serving (``Cost.per_shadow_sample``
    per prediction). At every step the labels of those samples that have arrived are
    paired (the same samples, both models' predictions) and tested with an exact
    one-sided McNemar test (:func:`paired_better`) at level ``alpha / steps``: the
    challenger is promoted as soon as it is better by ``margin``, discarded as soon as
    it is worse (the same test the other way, margin 0), and discarded at the end when
    neither was shown.

    Parameters
    ----------
    steps
        Most steps of the shadow trial (its looks).
    margin
        Accuracy the challenger must gain over the champion.
    alpha
        Chance, over the whole trial, of promoting a challenger that is not better by
        ``margin`` (Bonferroni over ``steps`` looks).
    gate
        An offline gate checked before the trial (None: none).

    Examples
    --------
    >>> from sim.types import Trial
    >>> gate = Shadow(steps=10).check()
    >>> gate.judge(Trial(3, 10, 500, 470, 500, 440, wins=40, losses=10, paired=True))
    True
    >>> gate.judge(Trial(3, 10, 500, 445, 500, 440, wins=15, losses=10, paired=True))
    >>> gate.judge(Trial(10, 10, 500, 445, 500, 440, wins=15, losses=10, paired=True))
    False
    """

    rollout = ShadowRollout
    _constraints = _LIVE

    def __init__(self, steps: int = 5, margin: float = 0.0, alpha: float = 0.05, gate=None):
        self.steps = steps
        self.margin = margin
        self.alpha = alpha
        self.gate = gate

    def judge(self, trial: Trial) -> bool | None:
        """Test the paired labels that have arrived: promote, discard, or wait."""
        level = self.alpha / trial.looks
        n = trial.n_challenger
        if paired_better(trial.wins, trial.losses, n, self.margin) <= level:
            return True
        if paired_better(trial.losses, trial.wins, n, 0.0) <= level or trial.final:
            return False
        return None


class Canary(LiveGate):
    """Let a challenger serve a random ``fraction`` of traffic; promote or roll back on its labels.

    From the step it could serve, for at most ``steps`` steps, each sample is served by
    the challenger with probability ``fraction`` (a seeded draw per sample), by the
    champion otherwise. At every step the arrived labels of each model's own traffic in
    the trial are compared with a one-sided two-proportion test (:func:`unpaired_better`)
    at level ``alpha / steps``: the challenger is promoted to all traffic as soon as it
    is better by ``margin``, rolled back as soon as it is worse, and rolled back at the
    end when neither was shown.

    Parameters
    ----------
    fraction
        Share of each step's samples the challenger serves, in (0, 1).
    steps
        Most steps of the canary (its looks).
    margin
        Accuracy the challenger must gain over the champion.
    alpha
        Chance, over the whole canary, of promoting a challenger that is not better by
        ``margin``, and of rolling back one that is not worse (Bonferroni over ``steps``
        looks, each direction).
    gate
        An offline gate checked before the canary (None: none).

    Examples
    --------
    >>> from sim.types import Trial
    >>> gate = Canary(fraction=0.1, steps=10).check()
    >>> gate.judge(Trial(4, 10, 200, 120, 1800, 1600))  # 0.60 against 0.89: worse
    False
    >>> gate.judge(Trial(4, 10, 200, 176, 1800, 1600)) is None  # 0.88: no difference yet
    True
    """

    rollout = CanaryRollout
    _constraints = _LIVE | {"fraction": Interval("float", 0, 1, closed="neither")}

    def __init__(self, fraction: float = 0.1, steps: int = 5, margin: float = 0.0,
                 alpha: float = 0.05, gate=None):
        self.fraction = fraction
        self.steps = steps
        self.margin = margin
        self.alpha = alpha
        self.gate = gate

    def judge(self, trial: Trial) -> bool | None:
        """Test each model's arrived labels of its own traffic: promote, roll back, or wait."""
        verdict = _canary_test(self, trial)
        return False if verdict is None and trial.final else verdict


class StagedCanary(LiveGate):
    """A canary whose traffic share ramps through stages: 1% -> 10% -> 50% -> everyone.

    Progressive delivery (Argo Rollouts' and Flagger's canary steps): stage ``k`` lets
    the challenger serve the share ``shares[k - 1]`` of each step's samples (a seeded
    draw per sample) for at most ``steps`` steps, and runs its own sequential test, the
    :class:`Canary`'s: at every look a one-sided two-proportion test
    (:func:`unpaired_better`) on the arrived labels of each model's own traffic since
    the trial started, at level ``alpha / steps`` (Bonferroni over the stage's looks).
    At any stage, as soon as the challenger is shown worse it is rolled back; as soon as
    it is shown better by ``margin`` it moves to the next stage (from the next step), or
    after the last stage is promoted to all traffic. A stage that ends undecided passes
    (the small stages guard exposure: a challenger moves on unless shown worse), except
    the last: undecided there, it is rolled back, as a plain canary is.

    Error control: over the whole rollout the looks are at most ``len(shares) * steps``,
    each at level ``alpha / steps``, so by Bonferroni the chance of promoting a
    challenger that is not better by ``margin``, and the chance of rolling back one that
    is not worse, are each at most ``len(shares) * alpha``; at most ``alpha`` per stage
    when the stages' starts do not depend on the data (every stage runs its ``steps``).
    For a bound of ``alpha`` over the rollout, give ``alpha / len(shares)``.

    The events of its run count, per retrain, the challenger's samples in each stage
    (``served_stage_1`` ...) and the stage it reached (``stage``); the timeline's
    ``challenger_share`` shows the ramp.

    Parameters
    ----------
    shares
        The stages' shares of traffic, strictly increasing, each in (0, 1); promotion
        gives the challenger everything.
    steps
        Most steps (looks) of each stage.
    margin
        Accuracy the challenger must gain over the champion to move on early or to be
        promoted.
    alpha
        Level of each stage's test (Bonferroni over its ``steps`` looks).
    gate
        An offline gate checked before the rollout (None: none).

    Examples
    --------
    >>> from sim.types import Trial
    >>> gate = StagedCanary(shares=[0.01, 0.1, 0.5], steps=3).check()
    >>> gate.judge(Trial(2, 3, 10, 1, 990, 880, stage=1, stages=3))  # 0.1 against 0.89
    False
    >>> gate.judge(Trial(3, 3, 10, 9, 990, 880, stage=1, stages=3))  # undecided: passes
    True
    >>> gate.judge(Trial(3, 3, 300, 265, 700, 620, stage=3, stages=3))  # not shown better
    False
    >>> gate.explain(Trial(3, 3, 10, 9, 990, 880, stage=1, stages=3), True)[:62]
    'staged canary stage 1/3 (1% of traffic) look 3/3: challenger 9'
    >>> gate.explain(Trial(3, 3, 10, 9, 990, 880, stage=1, stages=3), True)[-28:]
    'champion 880/990: to stage 2'
    """

    rollout = StagedRollout
    _constraints = _LIVE | {"shares": Floats()}

    def __init__(self, shares=(0.01, 0.1, 0.5), steps: int = 3, margin: float = 0.0,
                 alpha: float = 0.05, gate=None):
        self.shares = shares
        self.steps = steps
        self.margin = margin
        self.alpha = alpha
        self.gate = gate

    def check(self) -> StagedCanary:
        """Validate the parameters (the shares ramp up in (0, 1)); return self."""
        super().check()
        shares = list(self.shares)
        if any(not 0 < v < 1 for v in shares) or any(
                a >= b for a, b in zip(shares[:-1], shares[1:], strict=True)):
            raise param_error(self, "shares", "a strictly increasing list of floats in (0, 1)",
                              shares)
        return self

    def judge(self, trial: Trial) -> bool | None:
        """Test as the canary does at this stage: move on (or promote), roll back, or wait."""
        verdict = _canary_test(self, trial)
        if verdict is None and trial.final:
            return trial.stage < trial.stages
        return verdict

    def explain(self, trial: Trial, verdict: bool) -> str:
        """Say the stage, its share and the evidence, and where the verdict sends it."""
        outcome = (f"to stage {trial.stage + 1}" if verdict and trial.stage < trial.stages
                   else self.rollout.outcomes[verdict])
        return (f"{self.rollout.kind} stage {trial.stage}/{trial.stages} "
                f"({100 * self.shares[trial.stage - 1]:g}% of traffic) look "
                f"{trial.look}/{trial.looks}: challenger {trial.correct_challenger}/"
                f"{trial.n_challenger} right, champion {trial.correct_champion}/"
                f"{trial.n_champion}: {outcome}")


class Rollback(LiveGate):
    """Deploy the challenger, and bring the previous model back if it does worse live.

    The challenger (once the offline ``gate``, if any, accepts it) is deployed as usual
    and watched for ``steps`` steps: the arrived labels of its own traffic are compared
    with those of the previous model over the ``window`` steps before the switch. As
    soon as a one-sided two-proportion test (:func:`unpaired_better`) at level
    ``alpha / steps`` shows the new model's accuracy below the previous model's by more
    than ``margin``, the previous model serves again from the next step (no training
    cost; a ``rollback`` row in the events). Otherwise the new model is kept.

    Parameters
    ----------
    steps
        Steps the new model is watched (the looks).
    margin
        Accuracy the new model may lose against the previous one before it is rolled
        back.
    window
        Steps before the switch whose arrived labels measure the previous model.
    alpha
        Chance, over the watch, of rolling back a model that did not lose more than
        ``margin`` (Bonferroni over ``steps`` looks).
    gate
        An offline gate checked before deployment (None: every challenger deploys).

    Examples
    --------
    >>> from sim.types import Trial
    >>> gate = Rollback(steps=10, margin=0.02).check()
    >>> gate.judge(Trial(2, 10, 1000, 700, 5000, 4500))  # 0.70 against 0.90
    False
    >>> gate.judge(Trial(10, 10, 1000, 890, 5000, 4500))
    True
    """

    rollout = RollbackWatch
    _constraints = _LIVE | {"window": Interval("int", 1)}

    def __init__(self, steps: int = 5, margin: float = 0.02, window: int = 10,
                 alpha: float = 0.05, gate=None):
        self.steps = steps
        self.margin = margin
        self.window = window
        self.alpha = alpha
        self.gate = gate

    def judge(self, trial: Trial) -> bool | None:
        """Test the new model's arrived labels against the previous model's: keep, roll back."""
        level, new, old = _unpaired(self, trial)
        if unpaired_better(*old, *new, self.margin) <= level:
            return False
        return True if trial.final else None

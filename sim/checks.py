"""Parameter validation shared by every component: one error format everywhere.

Errors name the parameter, the owner, the rule and the value given, e.g.
"The 'min_gap' parameter of Cooldown must be an int >= 0. Got -3 instead.", and are
:class:`ParamError` (a ValueError) carrying the four as attributes, so that a caller
(e.g. ``experiments.errors``) reads them rather than parsing the message.

A component declares its rules in a class attribute ``_constraints`` (parameter name ->
constraint) and calls :func:`validate` when it is used (``reset``, ``fit``, ``check``);
the contract tests read the same table to build one invalid value per parameter, so a
new member is covered without new test code. Rules that depend on other parameters are
checked with :func:`check`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Floats",
    "Instance",
    "Interval",
    "Options",
    "ParamError",
    "check",
    "is_int",
    "is_real",
    "is_sequence",
    "param_error",
    "validate",
]


def is_int(value: Any) -> bool:
    """Return whether ``value`` is an integer (not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_sequence(value: Any) -> bool:
    """Return whether ``value`` is a list-like sequence (not a string or bytes).

    A NumPy array and OmegaConf's ``ListConfig`` count, so values from Hydra configs pass.
    """
    if isinstance(value, np.ndarray):
        return True
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def is_real(value: Any) -> bool:
    """Return whether ``value`` is a real number (not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class ParamError(ValueError):
    """A parameter breaks its rule.

    Attributes
    ----------
    owner
        Name of the component (class name, or e.g. ``"replay"``).
    parameter
        Name of the parameter.
    rule
        What is allowed, e.g. ``"an int >= 0"``.
    value
        The value given.
    """

    def __init__(self, owner: str, parameter: str, rule: str, value: Any, verb: str = "be"):
        self.owner, self.parameter, self.rule, self.value = owner, parameter, rule, value
        must = f"must {verb} " if verb else "must "
        super().__init__(f"The {parameter!r} parameter of {owner} {must}{rule}. "
                         f"Got {value!r} instead.")


def param_error(owner: Any, name: str, rule: str, value: Any, verb: str = "be") -> ParamError:
    """Build the error for parameter ``name`` of ``owner`` breaking ``rule``.

    ``verb`` joins "must" and the rule (``""`` when the rule starts with its own verb).

    Examples
    --------
    >>> error = param_error("Cooldown", "min_gap", "an int >= 0", -3)
    >>> print(error)
    The 'min_gap' parameter of Cooldown must be an int >= 0. Got -3 instead.
    >>> error.parameter, error.rule, error.value
    ('min_gap', 'an int >= 0', -3)
    """
    owner = owner if isinstance(owner, str) else type(owner).__name__
    return ParamError(owner, name, rule, value, verb)


def _fmt(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Interval:
    """A finite number in a range.

    Parameters
    ----------
    kind
        ``"int"`` or ``"float"`` (a float range accepts ints too).
    low, high
        Bounds; None for none.
    closed
        Which bounds are included: ``"both"``, ``"left"``, ``"right"`` or ``"neither"``.
    allow_none
        Whether None is accepted too.

    Examples
    --------
    >>> rule = Interval("float", 0, 1, closed="right")
    >>> rule.describe(), rule.accepts(0.0), rule.accepts(1)
    ('a float in (0, 1]', False, True)
    """

    kind: str
    low: float | None = None
    high: float | None = None
    closed: str = "both"
    allow_none: bool = False

    def accepts(self, value: Any) -> bool:
        """Return True when ``value`` satisfies the rule."""
        if value is None:
            return self.allow_none
        if not (is_int(value) if self.kind == "int" else is_real(value)):
            return False
        if not math.isfinite(value):
            return False
        low_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        high_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return low_ok and high_ok

    def describe(self) -> str:
        """Say the rule, e.g. ``an int >= 2`` or ``a float in (0, 1)``."""
        noun = "an int" if self.kind == "int" else "a float"
        if self.low is not None and self.high is not None:
            left = "[" if self.closed in ("both", "left") else "("
            right = "]" if self.closed in ("both", "right") else ")"
            rule = f"{noun} in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        elif self.low is not None:
            op = ">=" if self.closed in ("both", "left") else ">"
            rule = f"{noun} {op} {_fmt(self.low)}"
        elif self.high is not None:
            op = "<=" if self.closed in ("both", "right") else "<"
            rule = f"{noun} {op} {_fmt(self.high)}"
        else:
            rule = f"a finite {'int' if self.kind == 'int' else 'float'}"
        return rule + (" or None" if self.allow_none else "")

    def invalid_example(self) -> Any:
        """Return a value that breaks the rule (for the contract tests)."""
        if self.low is not None:
            return (int(self.low) - 1) if self.kind == "int" else self.low - 1.0
        if self.high is not None:
            return (int(self.high) + 1) if self.kind == "int" else self.high + 1.0
        return "not-a-number"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values.

    Examples
    --------
    >>> Options(("sliding", "expanding")).describe()
    "one of 'sliding', 'expanding'"
    """

    values: tuple

    def accepts(self, value: Any) -> bool:
        """Return True when ``value`` is one of the options (bools never match ints)."""
        return any(value is v or (type(value) is type(v) and value == v) for v in self.values)

    def describe(self) -> str:
        """Say the rule."""
        return "one of " + ", ".join(repr(v) for v in self.values)

    def invalid_example(self) -> Any:
        """Return a value that breaks the rule."""
        return "not-an-option"


@dataclass(frozen=True)
class Floats:
    """A non-empty list (or tuple) of finite numbers.

    Examples
    --------
    >>> Floats().accepts([8.0, 9]), Floats().accepts([]), Floats().describe()
    (True, False, 'a non-empty list of finite floats')
    """

    def accepts(self, value: Any) -> bool:
        """Return True when ``value`` is a non-empty sequence of finite reals."""
        return is_sequence(value) and len(value) > 0 and all(
            is_real(v) and math.isfinite(v) for v in value)

    def describe(self) -> str:
        """Say the rule."""
        return "a non-empty list of finite floats"

    def invalid_example(self) -> Any:
        """Return a value that breaks the rule."""
        return []


@dataclass(frozen=True)
class Instance:
    """An object of one of ``classes`` with all of ``methods`` and one of ``any_of``.

    Examples
    --------
    >>> rule = Instance("a scikit-learn classifier", methods=("fit", "predict"))
    >>> rule.accepts(object()), rule.describe()
    (False, 'a scikit-learn classifier')
    """

    what: str
    classes: tuple = ()
    methods: tuple = ()
    any_of: tuple = ()
    allow_none: bool = False

    def accepts(self, value: Any) -> bool:
        """Return True when ``value`` is of the classes and has the methods."""
        if value is None:
            return self.allow_none
        if self.classes and not isinstance(value, self.classes):
            return False
        has = [callable(getattr(value, m, None)) for m in self.any_of]
        return all(callable(getattr(value, m, None)) for m in self.methods) and (
            not has or any(has))

    def describe(self) -> str:
        """Say the rule."""
        return self.what + (" or None" if self.allow_none else "")

    def invalid_example(self) -> Any:
        """Return a value that breaks the rule."""
        return "not-an-object"


def check(owner: Any, name: str, value: Any, constraint) -> Any:
    """Return ``value`` if it satisfies ``constraint``, else raise the standard error.

    Examples
    --------
    >>> check("Cooldown", "min_gap", -3, Interval("int", 0))
    Traceback (most recent call last):
    ...
    sim.checks.ParamError: The 'min_gap' parameter of Cooldown must be an int >= 0. Got -3 instead.
    """
    if not constraint.accepts(value):
        raise param_error(owner, name, constraint.describe(), value)
    return value


def validate(obj: Any) -> None:
    """Check every parameter of ``obj`` against ``type(obj)._constraints``.

    Raises
    ------
    ParamError
        Naming the parameter, the rule and the value given.
    """
    for name, constraint in type(obj)._constraints.items():
        check(obj, name, getattr(obj, name), constraint)

"""Declarative parameter constraints shared by the detectors.

Each detector lists its constraints in a class attribute ``_constraints`` (parameter name
-> constraint). :func:`validate` checks them when ``fit``/``reset`` is called and raises
``ValueError("The 'n_bins' parameter of PSI must be an int >= 2. Got 1 instead.")``.
The contract tests read the same table to build one invalid value per parameter, so a
new detector is covered without new test code.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    """A numeric range; ``kind`` is ``"int"`` or ``"float"``, bounds may be None."""

    kind: str
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"
    allow_none: bool = False

    def accepts(self, value: Any) -> bool:
        """Return True when ``value`` satisfies the constraint."""
        if value is None:
            return self.allow_none
        if isinstance(value, bool):
            return False
        if self.kind == "int":
            if not isinstance(value, numbers.Integral):
                return False
        elif not isinstance(value, numbers.Real):
            return False
        if value != value:  # NaN
            return False
        low_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        high_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return low_ok and high_ok

    def describe(self) -> str:
        """Human-readable rule, e.g. ``an int >= 2`` or ``a float in (0, 1)``."""
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
            rule = noun
        return rule + (" or None" if self.allow_none else "")

    def invalid_example(self) -> Any:
        """Return a value that violates the constraint (used by the contract tests)."""
        if self.low is not None:
            return (int(self.low) - 1) if self.kind == "int" else self.low - 1.0
        if self.high is not None:
            return (int(self.high) + 1) if self.kind == "int" else self.high + 1.0
        return "not-a-number"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: tuple

    def accepts(self, value: Any) -> bool:
        """Return True when ``value`` is one of the options."""
        return any(value is v or (type(value) is type(v) and value == v) for v in self.values)

    def describe(self) -> str:
        """Human-readable rule."""
        return "one of " + ", ".join(repr(v) for v in self.values)

    def invalid_example(self) -> Any:
        """Return a value that violates the constraint."""
        return "not-an-option"


@dataclass(frozen=True)
class Estimator:
    """A scikit-learn classifier (has ``fit`` and ``predict_proba`` or ``decision_function``)."""

    allow_none: bool = True

    def accepts(self, value: Any) -> bool:
        """Return True for None (when allowed) or an object with the classifier methods."""
        if value is None:
            return self.allow_none
        return hasattr(value, "fit") and (
            hasattr(value, "predict_proba") or hasattr(value, "decision_function")
        )

    def describe(self) -> str:
        """Human-readable rule."""
        return "a scikit-learn classifier" + (" or None" if self.allow_none else "")

    def invalid_example(self) -> Any:
        """Return a value that violates the constraint."""
        return "not-an-estimator"


def _fmt(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() else repr(float(x))


def validate(obj: Any) -> None:
    """Check every parameter of ``obj`` against ``type(obj)._constraints``.

    Raises
    ------
    ValueError
        Naming the parameter, the rule and the value given.
    """
    name = type(obj).__name__
    for param, constraint in type(obj)._constraints.items():
        value = getattr(obj, param)
        if not constraint.accepts(value):
            raise ValueError(
                f"The {param!r} parameter of {name} must be {constraint.describe()}. "
                f"Got {value!r} instead."
            )


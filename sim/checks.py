"""Parameter validation shared by every component: one error format everywhere.

Errors name the parameter, the owner, the rule and the value given, e.g.
"The 'min_gap' parameter of Cooldown must be an int >= 0. Got -3 instead."
"""

from __future__ import annotations

import numbers

__all__ = ["check_choice", "check_number"]


def check_number(
    owner,
    name,
    value,
    *,
    kind=numbers.Real,
    low=None,
    high=None,
    low_open=False,
    high_open=False,
    none_ok=False,
):
    """Raise a ValueError unless ``value`` is a number of ``kind`` within the bounds.

    The message names the parameter, the rule and the value given.

    Examples
    --------
    >>> check_number("Cooldown", "min_gap", -3, kind=numbers.Integral, low=0)
    Traceback (most recent call last):
    ...
    ValueError: The 'min_gap' parameter of Cooldown must be an int >= 0. Got -3 instead.
    """
    if value is None and none_ok:
        return
    kind_name = "an int" if kind is numbers.Integral else "a number"
    rules = []
    if low is not None:
        rules.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        rules.append(f"{'<' if high_open else '<='} {high}")
    rule = kind_name + (" " + " and ".join(rules) if rules else "")
    if none_ok:
        rule += " or None"
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        owner = owner if isinstance(owner, str) else type(owner).__name__
        raise ValueError(
            f"The '{name}' parameter of {owner} must be {rule}. Got {value!r} instead."
        )


def check_choice(owner, name, value, allowed):
    """Raise a ValueError naming the parameter and the allowed values.

    Raised when ``value`` is not one of ``allowed``.

    Examples
    --------
    >>> check_choice("Protocol", "window", "slide", ("sliding", "expanding"))
    Traceback (most recent call last):
    ...
    ValueError: The 'window' parameter of Protocol must be one of 'sliding', 'expanding'. Got...
    """
    if value not in allowed:
        owner = owner if isinstance(owner, str) else type(owner).__name__
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(
            f"The '{name}' parameter of {owner} must be one of {choices}. Got {value!r} instead."
        )

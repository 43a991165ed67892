"""The values of one override axis: a list, a stepped range (enumerable), an open range (drawn), or a tie to
another axis. What a grid enumerates, what a random search draws, what NSGA-II (Optuna) is told."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accelsim.dse.spec import Axis

_MAX_STEPS = 100_000


def is_integer_range(axis: Axis) -> bool:
    return all(isinstance(value, int) and not isinstance(value, bool) for value in (axis.low, axis.high))


def discrete_values(axis: Axis) -> list | None:
    """Every value of a list or a stepped range; None for an open range (no step) or a tie."""
    if axis.values is not None:
        return list(axis.values)
    if not axis.is_range or axis.step is None:
        return None
    integer = is_integer_range(axis) and isinstance(axis.step, int)
    values: list = []
    value = axis.low
    tolerance = 1e-9 * max(abs(axis.high), 1)
    while value <= axis.high + tolerance and len(values) < _MAX_STEPS:
        values.append(value if integer else float(value))
        value = value * axis.step if axis.log else value + axis.step
    if len(values) >= _MAX_STEPS:
        raise ValueError(f"the range {axis.low}..{axis.high} by {axis.step} has more than {_MAX_STEPS} values")
    return values


def check_values(axis: Axis) -> list:
    """Values worth loading an arch with to check the axis: every discrete value, or a range's two ends."""
    values = discrete_values(axis)
    return values if values is not None else [axis.low, axis.high]


def sample(axis: Axis, rng: np.random.Generator) -> Any:
    """One value: uniform among discrete values, else uniform (log-uniform with `log`) in [low, high]."""
    values = discrete_values(axis)
    if values is not None:
        return values[int(rng.integers(len(values)))]
    if is_integer_range(axis):
        if axis.log:
            drawn = math.exp(rng.uniform(math.log(axis.low), math.log(axis.high + 1)))
            return min(int(drawn), axis.high)
        return int(rng.integers(axis.low, axis.high + 1))
    if axis.log:
        return float(math.exp(rng.uniform(math.log(axis.low), math.log(axis.high))))
    return float(rng.uniform(axis.low, axis.high))


def optuna_distribution(axis: Axis):
    """The Optuna distribution NSGA-II samples this axis from."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    values = discrete_values(axis)
    if values is not None:
        return CategoricalDistribution(values)
    if is_integer_range(axis):
        return IntDistribution(axis.low, axis.high, log=axis.log)
    return FloatDistribution(float(axis.low), float(axis.high), log=axis.log)


def tied_value(axis: Axis, followed: Any) -> Any:
    """times x followed + plus; an integer when all three are integers."""
    if not isinstance(followed, int | float) or isinstance(followed, bool):
        raise ValueError(f"follows {axis.follows}, whose value {followed!r} is not a number")
    value = axis.times * followed + axis.plus
    return value if isinstance(value, int) else float(value)

"""Pareto fronts: the sort-and-sweep front against the definition checked pair by pair, a front worked by hand,
directions, and the rows that take no part."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accelsim.dse.pareto import front_of, non_dominated, parse_objective


def dominated_by_definition(values: np.ndarray) -> np.ndarray:
    """Row i is on the front when no row j is <= in every column and < in one (all minimised)."""
    n = len(values)
    on_front = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if np.all(values[j] <= values[i]) and np.any(values[j] < values[i]):
                on_front[i] = False
                break
    return on_front


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("columns", [2, 3])
def test_the_front_matches_the_definition(seed, columns):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 6, size=(60, columns)).astype(float)  # small integers: many ties and duplicates
    assert np.array_equal(non_dominated(values), dominated_by_definition(values))


def test_a_front_by_hand():
    # (latency, energy): (1, 9) (2, 5) (3, 5) (4, 1) (5, 6) (2, 5): (3, 5) loses to (2, 5) on latency, (5, 6) to
    # (2, 5) on both; the two equal (2, 5) rows dominate neither each other.
    values = np.array([[1, 9], [2, 5], [3, 5], [4, 1], [5, 6], [2, 5]], dtype=float)
    assert non_dominated(values).tolist() == [True, True, False, True, False, True]


def test_directions_and_rows_that_take_no_part():
    frame = pd.DataFrame({
        "status": ["ok", "ok", "ok", "failed", "ok", "ok"],
        "speedup": [1.0, 2.0, 3.0, 9.0, 2.5, 5.0],
        "accuracy": [0.98, 0.97, 0.90, 0.99, 0.99, None],
    })
    # Both maximised: (2.5, 0.99) beats (1, 0.98) and (2, 0.97); (3, 0.90) has the best speedup. The failed row
    # and the row without an accuracy would beat them all, but take no part. Best speedup first.
    front = front_of(frame, [parse_objective("speedup"), parse_objective("accuracy")])
    assert front["speedup"].tolist() == [3.0, 2.5]
    # Both minimised: (1, 0.98) beats (2.5, 0.99); (2, 0.97) and (3, 0.90) each have a lower accuracy.
    front = front_of(frame, [("speedup", "min"), ("accuracy", "min")])
    assert front["speedup"].tolist() == [1.0, 2.0, 3.0]


def test_objective_text():
    assert parse_objective("latency_s") == ("latency_s", "min")
    assert parse_objective("accuracy") == ("accuracy", "max")
    assert parse_objective("energy_pj:max") == ("energy_pj", "max")
    with pytest.raises(ValueError, match="must be min or max"):
        parse_objective("energy_pj:least")
    with pytest.raises(ValueError, match="Did you mean 'latency_s'"):
        front_of(pd.DataFrame({"status": ["ok"], "latency_s": [1.0]}), [("latncy_s", "min"), ("latency_s", "min")])

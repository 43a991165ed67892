"""The N:M selection kernel, jitted and as pure Python (`.py_func`), against a stable descending sort in numpy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from accelsim.pruning.nm_jit import keep_top_n


def _by_stable_sort(groups: np.ndarray, n: int) -> np.ndarray:
    order = np.argsort(-groups, axis=1, kind="stable")  # of equal scores, the lower index first
    keep = np.zeros(groups.shape, dtype=bool)
    np.put_along_axis(keep, order[:, :n], True, axis=1)
    return keep


def _call(variant, groups, n):
    return (keep_top_n if variant == "jit" else getattr(keep_top_n, "py_func", keep_top_n))(groups, n)


@pytest.mark.parametrize("variant", ["jit", "py"])
def test_ties_go_to_the_lower_index_and_minus_infinity_goes_first(variant):
    groups = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0], [-np.inf, 0.5, -np.inf, 0.1]])
    np.testing.assert_array_equal(_call(variant, groups, 2), [[False, True, True, False], [True, True, False, False],
                                                              [False, True, False, True]])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 8)),
              elements=st.sampled_from([-np.inf, -1.0, 0.0, 0.5, 1.0, 2.0])), st.data())
def test_matches_a_stable_sort(groups, data):
    n = data.draw(st.integers(1, groups.shape[1]))
    for variant in ("jit", "py"):
        np.testing.assert_array_equal(_call(variant, groups, n), _by_stable_sort(groups, n))

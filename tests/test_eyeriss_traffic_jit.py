"""traffic_jit.distinct_ids against numpy's np.unique (the numbering it replaced), jitted and as plain Python."""

from __future__ import annotations

import numpy as np
import pytest
from test_eyeriss_jit import both

from accelsim.dataflows.eyeriss import traffic_jit


@pytest.mark.parametrize("kernel", both(traffic_jit.distinct_ids))
@pytest.mark.parametrize("seed", range(4))
def test_distinct_ids_number_values_in_order_of_first_occurrence(kernel, seed):
    rng = np.random.default_rng(seed)
    # Structured keys as the traffic builds them (multiples of large strides) and huge ones, with repeats.
    values = np.concatenate([rng.integers(0, 50, 300) * (1 << 20) + rng.integers(0, 3, 300),
                             rng.integers(0, 2**62, 20), np.zeros(5, dtype=np.int64)])
    ids, first = kernel(values.astype(np.int64))
    distinct, expected_first = np.unique(values, return_index=True)
    order = np.argsort(expected_first)  # np.unique numbers by value; distinct_ids by first occurrence
    np.testing.assert_array_equal(first, expected_first[order])
    np.testing.assert_array_equal(values[first], distinct[order])
    np.testing.assert_array_equal(values[first][ids], values)
    assert np.unique(ids).size == distinct.size == first.size


@pytest.mark.parametrize("kernel", both(traffic_jit.distinct_ids))
def test_no_values_no_ids(kernel):
    ids, first = kernel(np.zeros(0, dtype=np.int64))
    assert ids.size == first.size == 0


@pytest.mark.parametrize("kernel", both(traffic_jit.block_row_prefix))
@pytest.mark.parametrize("c0", [1, 2, 3])
def test_block_row_prefix_equals_numpy(kernel, c0):
    x = np.random.default_rng(c0).random((2, 2, 5, 3, 6)) * (np.random.default_rng(9).random((2, 2, 5, 3, 6)) < 0.5)
    blocks = -(-5 // c0)
    padded = np.zeros((2, 2, blocks * c0, 3, 6), dtype=np.int64)
    padded[:, :, :5] = x != 0
    per_block = padded.reshape(2, 2, blocks, c0, 3, 6).sum(axis=3)
    expected = np.concatenate([np.zeros((2, 2, blocks, 3, 1), dtype=np.int64), np.cumsum(per_block, axis=4)], axis=4)
    np.testing.assert_array_equal(kernel(x, c0), expected)

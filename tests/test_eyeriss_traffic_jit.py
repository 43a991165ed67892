"""traffic_jit.distinct_ids against numpy's np.unique (the numbering it replaced), jitted and as plain Python."""

from __future__ import annotations

import numpy as np
import pytest
from test_eyeriss_jit import both

from accelsim.dataflows.eyeriss import traffic, traffic_jit


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


def numpy_pattern(phases_of, key, pe_row, pe_slot) -> str:
    """The NoC label as traffic.py computed it with np.unique before issue 20's speed work."""
    combined = phases_of * (int(key.max()) + 1) + key
    distinct, first, inverse, counts = np.unique(combined, return_index=True, return_inverse=True,
                                                 return_counts=True)
    if counts.max() == 1:
        return "unicast"
    slots = int(pe_slot.max()) + 1
    pairs = np.unique(inverse.ravel() * slots + pe_slot)
    slots_of_datum = np.bincount(pairs // slots, minlength=distinct.size)
    slots_in_phase = np.bincount(np.unique(phases_of * slots + pe_slot) // slots, minlength=int(phases_of.max()) + 1)
    shared = counts > 1
    if np.all(slots_of_datum[shared] == slots_in_phase[phases_of[first]][shared]):
        return "broadcast"
    low = np.full(distinct.size, np.iinfo(np.int64).max)
    high = np.full(distinct.size, -1)
    np.minimum.at(low, inverse.ravel(), pe_row)
    np.maximum.at(high, inverse.ravel(), pe_row)
    same_row = np.count_nonzero(low[shared] == high[shared])
    return "grouped_multicast" if same_row * 2 >= np.count_nonzero(shared) else "interleaved_multicast"


@pytest.mark.parametrize("kernel", both(traffic_jit.delivery_pattern))
@pytest.mark.parametrize("seed", range(12))
def test_delivery_pattern_equals_numpy(kernel, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    phases_of = np.sort(rng.integers(0, 3, n))
    key, pe_slot = rng.integers(0, int(rng.choice([2, 5, 100])), n), rng.integers(0, 4, n)
    pe_row = pe_slot // 2 if seed % 2 else rng.integers(0, 3, n)
    if seed % 3 == 0:  # every datum in every slot of its phase
        phases_of, key, pe_slot = np.repeat(phases_of, 4), np.repeat(key, 4), np.tile(np.arange(4), n)
        pe_row = np.repeat(pe_row, 4)
    datum = traffic_jit.distinct_ids(phases_of * (int(key.max()) + 1) + key)[0]
    code = kernel(datum, phases_of, pe_row, pe_slot)
    assert traffic.MODE_LABELS[code] == numpy_pattern(phases_of, key, pe_row, pe_slot)


@pytest.mark.parametrize("kernel", both(traffic_jit.delivery_pattern))
def test_data_shared_within_grid_rows_are_a_grouped_multicast(kernel):
    # One phase, slots 0-3 on grid rows 0, 0, 1, 1: datum 0 goes to slots 0 and 1 (row 0), datum 1 to slots 2 and 3
    # (row 1): shared data, none reaching all four slots, each within one row: grouped multicast. Data 0 on slots 0
    # and 3, 1 on slots 1 and 2: both cross rows, interleaved. One datum on all four: broadcast; none shared:
    # unicast.
    phases, slots, rows = np.zeros(4, dtype=np.int64), np.arange(4), np.array([0, 0, 1, 1])
    assert kernel(np.array([0, 0, 1, 1]), phases, rows, slots) == traffic_jit.GROUPED_MULTICAST
    assert kernel(np.array([0, 1, 1, 0]), phases, rows, slots) == traffic_jit.INTERLEAVED_MULTICAST
    assert kernel(np.array([0, 0, 0, 0]), phases, rows, slots) == traffic_jit.BROADCAST
    assert kernel(np.array([0, 1, 2, 3]), phases, rows, slots) == traffic_jit.UNICAST
    assert numpy_pattern(phases, np.array([0, 0, 1, 1]), rows, slots) == "grouped_multicast"

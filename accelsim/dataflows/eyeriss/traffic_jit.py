"""Distinct values in one pass (a hash set in numba) for the traffic accounting of accelsim.dataflows.eyeriss.traffic,
where numpy's np.unique sorted every per-PE key array several times per layer."""

from __future__ import annotations

import numpy as np
from numba import njit

_MULTIPLIER = 0x2545F491  # odd, 30 bits: a 32-bit value times it stays under 2**62 (no overflow, in numba or not)
_LOW_32 = 0xFFFFFFFF


@njit(cache=True)
def distinct_ids(values):
    """(ids, first): ids[i] numbers values[i]'s distinct value in order of first occurrence (0, 1, ...); first[d]
    is the index of distinct value d's first occurrence. values: non-negative int64."""
    n = values.shape[0]
    size = 1
    while size < 2 * n:
        size *= 2
    if size > 1 << 32:
        raise ValueError("distinct_ids: more than 2**31 values")
    bits = 0
    while (1 << bits) < size:
        bits += 1
    shift = 32 - bits  # multiplicative hashing modulo 2**32: the top `bits` of the product's low 32 bits
    table_value = np.empty(size, dtype=np.int64)
    table_id = np.full(size, -1, dtype=np.int64)
    ids = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    distinct = 0
    mask = size - 1
    for i in range(n):
        value = values[i]
        folded = (value ^ (value >> 32)) & _LOW_32
        slot = (((folded * _MULTIPLIER) & _LOW_32) >> shift) & mask
        while table_id[slot] >= 0 and table_value[slot] != value:
            slot = (slot + 1) & mask
        if table_id[slot] < 0:
            table_id[slot] = distinct
            table_value[slot] = value
            first[distinct] = i
            distinct += 1
        ids[i] = table_id[slot]
    return ids, first[:distinct]


@njit(cache=True)
def block_row_prefix(x, c0):
    """(N, G, channel blocks, H, W + 1): prefix[..., w] = nonzero iacts of the block's C0 channels in columns
    [0, w) of the row. x: (N, G, Cg, H, W)."""
    n_img, groups, cg, height, width = x.shape
    blocks = (cg + c0 - 1) // c0
    prefix = np.zeros((n_img, groups, blocks, height, width + 1), dtype=np.int64)
    for n in range(n_img):
        for g in range(groups):
            for c in range(cg):
                cb = c // c0
                for h in range(height):
                    for w in range(width):
                        prefix[n, g, cb, h, w + 1] += 1 if x[n, g, c, h, w] != 0.0 else 0
            for cb in range(blocks):
                for h in range(height):
                    for w in range(width):
                        prefix[n, g, cb, h, w + 1] += prefix[n, g, cb, h, w]
    return prefix


UNICAST, GROUPED_MULTICAST, INTERLEAVED_MULTICAST, BROADCAST = 0, 1, 2, 3  # traffic.MODE_LABELS


@njit(cache=True)
def delivery_pattern(datum, phases_of, pe_row, pe_slot):
    """The NoC pattern of traffic.py's `_label` (one of the four codes above), given each PE's datum (distinct
    (phase, key) numbered by `distinct_ids`), phase, grid row and chain slot."""
    n = datum.shape[0]
    data = 0
    slots = 0
    phases = 0
    for i in range(n):
        data = max(data, datum[i] + 1)
        slots = max(slots, pe_slot[i] + 1)
        phases = max(phases, phases_of[i] + 1)
    counts = np.zeros(data, dtype=np.int64)
    for i in range(n):
        counts[datum[i]] += 1
    shared = 0
    for d in range(data):
        shared += 1 if counts[d] > 1 else 0
    if shared == 0:
        return UNICAST
    slots_of_datum = np.zeros(data, dtype=np.int64)  # distinct chain slots each datum reaches
    for i in distinct_ids(datum * slots + pe_slot)[1]:
        slots_of_datum[datum[i]] += 1
    slots_in_phase = np.zeros(phases, dtype=np.int64)  # distinct chain slots each phase uses
    for i in distinct_ids(phases_of * slots + pe_slot)[1]:
        slots_in_phase[phases_of[i]] += 1
    phase_of_datum = np.zeros(data, dtype=np.int64)
    low = np.full(data, np.iinfo(np.int64).max)
    high = np.full(data, -1)
    for i in range(n):
        phase_of_datum[datum[i]] = phases_of[i]
        low[datum[i]] = min(low[datum[i]], pe_row[i])
        high[datum[i]] = max(high[datum[i]], pe_row[i])
    everywhere = True
    same_row = 0
    for d in range(data):
        if counts[d] > 1:
            everywhere = everywhere and slots_of_datum[d] == slots_in_phase[phase_of_datum[d]]
            same_row += 1 if low[d] == high[d] else 0
    if everywhere:
        return BROADCAST
    return GROUPED_MULTICAST if same_row * 2 >= shared else INTERLEAVED_MULTICAST

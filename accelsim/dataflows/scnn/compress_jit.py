"""SCNN's operand compression in numba: the kept entries of every block (a row of a 2-D array), ordered by block,
then stride phase class, then position, with the padding entries a zero-run index needs (accelsim.formats.runs
gives the rule; here it is counted in the same pass). One pass to count, one to fill: no sort, no mask array of the
operand's size."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def compress_blocks(values, skip_zeros, keep_rows, keep_row_of, class_rows, class_row_of, phases, max_run):
    """Entries of `values` (blocks x positions) kept where keep_rows[keep_row_of[block], position] holds and, with
    `skip_zeros`, the value is nonzero. Each kept entry's phase class is class_rows[class_row_of[block], position].

    Returns (ptr, block, position, value, padding per block, phase_ptr): entries of block b are ptr[b]:ptr[b + 1],
    those of its class j phase_ptr[b * (phases + 1) + j] up to the next pointer. Padding (max_run > 0): a gap of g
    unkept positions before a kept one, in position order, costs g // (max_run + 1) entries; zeros after a block's
    last kept entry are not stored."""
    n_blocks, width = values.shape
    counts = np.zeros(n_blocks * phases, dtype=np.int64)
    padding = np.zeros(n_blocks, dtype=np.int64)
    for b in range(n_blocks):
        keep_row = keep_row_of[b]
        class_row = class_row_of[b]
        previous = -1
        for x in range(width):
            if keep_rows[keep_row, x] and (not skip_zeros or values[b, x] != 0):
                counts[b * phases + class_rows[class_row, x]] += 1
                if max_run > 0:
                    padding[b] += (x - previous - 1) // (max_run + 1)
                previous = x
    phase_ptr = np.zeros(n_blocks * (phases + 1), dtype=np.int64)
    ptr = np.zeros(n_blocks + 1, dtype=np.int64)
    total = 0
    for b in range(n_blocks):
        ptr[b] = total
        for j in range(phases):
            phase_ptr[b * (phases + 1) + j] = total
            total += counts[b * phases + j]
        phase_ptr[b * (phases + 1) + phases] = total
    ptr[n_blocks] = total
    block = np.empty(total, dtype=np.int64)
    position = np.empty(total, dtype=np.int64)
    value = np.empty(total, dtype=np.float64)
    cursor = np.empty(phases, dtype=np.int64)
    for b in range(n_blocks):
        if ptr[b + 1] == ptr[b]:
            continue
        for j in range(phases):
            cursor[j] = phase_ptr[b * (phases + 1) + j]
        keep_row = keep_row_of[b]
        class_row = class_row_of[b]
        for x in range(width):
            if keep_rows[keep_row, x] and (not skip_zeros or values[b, x] != 0):
                j = class_rows[class_row, x]
                i = cursor[j]
                block[i] = b
                position[i] = x
                value[i] = values[b, x]
                cursor[j] = i + 1
    return ptr, block, position, value, padding, phase_ptr

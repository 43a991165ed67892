"""EIE's weight layout as numba functions: one pass over a weight matrix lays it out in interleaved CSC (the rule of
accelsim.dataflows.eie.cycle_walk_jit: row i on PE i mod n_pes as local row i // n_pes, local rows cut into batches
of `rows_per_batch`, a padding entry for every max_run + 1 zeros the relative index cannot span), and a second pass
over the (batch, PE, column) counts lists, per (batch, column), the PEs that store anything there: the pairs the
event-driven rounds (rounds_jit) visit per broadcast, so that a broadcast costs its nonempty PEs, not all of them.

A matrix comes as a 3-D array `weight` of (rows, cg, taps) with matrix[i, tap * cg + c] = weight[i, c, tap]: a conv
weight (K, C/G, R, S) of one group is that array without a copy (reshaped to (K, C/G, R*S); columns in (r, s, c)
order, c fastest, as im2col lays out a window), a linear weight is (K, C, 1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accelsim.dataflows.shared.weight_sharing_jit import level_index


@njit(cache=True)
def scan_weights(weight, n_pes, rows_per_batch, max_run, store_zeros):
    """Per (batch, PE, column): stored entries (padding included), padding entries, and the local row (within the
    batch) of the first and of the last entry (-1 where none). `store_zeros` stores every weight, as a machine that
    does not skip zero weights would (accelsim.dataflows.eie.rounds.dense_layout gives that layout without a pass).

    Rows are visited PE by PE so that one PE's counts stay in cache while its rows stream past; each row is first
    compacted to its stored columns without a branch per weight."""
    n_rows, cg, taps = weight.shape
    n_cols = cg * taps
    local_rows = (n_rows + n_pes - 1) // n_pes
    batches = max((local_rows + rows_per_batch - 1) // rows_per_batch, 1)
    entries = np.zeros((batches, n_pes, n_cols), dtype=np.int32)
    padding = np.zeros((batches, n_pes, n_cols), dtype=np.int32)
    first_row = np.full((batches, n_pes, n_cols), -1, dtype=np.int32)
    last_row = np.full((batches, n_pes, n_cols), -1, dtype=np.int32)
    row_columns = np.empty(n_cols, dtype=np.int64)
    for b in range(batches):
        for p in range(n_pes):
            for row in range(rows_per_batch):
                i = (b * rows_per_batch + row) * n_pes + p
                if i >= n_rows:
                    break
                stored = 0
                for c in range(cg):
                    for tap in range(taps):
                        w = weight[i, c, tap]
                        row_columns[stored] = tap * cg + c
                        stored += (w != 0) | store_zeros
                for e in range(stored):
                    j = row_columns[e]
                    previous = last_row[b, p, j]
                    pads = (row - previous - 1) // (max_run + 1)
                    if first_row[b, p, j] < 0:
                        # The first entry is the first padding entry when the gap from row 0 needs one.
                        first_row[b, p, j] = row if pads == 0 else previous + max_run + 1
                    padding[b, p, j] += pads
                    entries[b, p, j] += pads + 1
                    last_row[b, p, j] = row
    return entries, padding, first_row, last_row


@njit(cache=True)
def column_pairs(entries, padding, first_row, last_row, line_entries):
    """The nonempty (PE, column) pairs of every batch, listed per (batch, column) b * cols + j: pairs
    column_start[c] .. column_start[c + 1] - 1 with their PE, entries, first and last local row, and the offset of
    their first entry in (batch, PE, column) order (where fill_entries puts it). Per (batch, column) the real
    (non-padding) entries, padding entries and Spmat lines read (a PE stores its entries batch after batch, column
    after column, `line_entries` to a line); per PE its stored entries."""
    batches, n_pes, n_cols = entries.shape
    column_start = np.zeros(batches * n_cols + 1, dtype=np.int64)
    for b in range(batches):
        for p in range(n_pes):
            for j in range(n_cols):
                if entries[b, p, j] > 0:
                    column_start[b * n_cols + j + 1] += 1
    for c in range(batches * n_cols):
        column_start[c + 1] += column_start[c]
    n_pairs = column_start[-1]
    pair_pe = np.empty(n_pairs, dtype=np.int32)
    pair_entries = np.empty(n_pairs, dtype=np.int32)
    pair_first = np.empty(n_pairs, dtype=np.int32)
    pair_last = np.empty(n_pairs, dtype=np.int32)
    pair_offset = np.empty(n_pairs, dtype=np.int64)
    column_real = np.zeros(batches * n_cols, dtype=np.int64)
    column_padding = np.zeros(batches * n_cols, dtype=np.int64)
    column_lines = np.zeros(batches * n_cols, dtype=np.int64)
    cursor = column_start[:-1].copy()
    pe_entries = np.zeros(n_pes, dtype=np.int64)  # so far: where the next entry sits in the PE's Spmat SRAM
    offset = 0
    for b in range(batches):
        for p in range(n_pes):
            for j in range(n_cols):
                n = entries[b, p, j]
                if n > 0:
                    c = b * n_cols + j
                    q = cursor[c]
                    cursor[c] += 1
                    pair_pe[q] = p
                    pair_entries[q] = n
                    pair_first[q] = first_row[b, p, j]
                    pair_last[q] = last_row[b, p, j]
                    pair_offset[q] = offset
                    first = pe_entries[p]
                    column_lines[c] += (first + n - 1) // line_entries - first // line_entries + 1
                    column_real[c] += n - padding[b, p, j]
                    column_padding[c] += padding[b, p, j]
                    offset += n
                    pe_entries[p] += n
    return (column_start, pair_pe, pair_entries, pair_first, pair_last, pair_offset, column_real, column_padding,
            column_lines, pe_entries)


@njit(cache=True)
def fill_entries(weight, n_pes, rows_per_batch, max_run, store_zeros, entries, scale, levels, level_to_code):
    """The stored entries themselves in (batch, PE, column, row) order: codebook index (0 for padding and zero
    weights) and local row within the batch. Needed only to compute the output."""
    n_rows, cg, taps = weight.shape
    batches, _, n_cols = entries.shape
    cursor = np.empty(entries.shape, dtype=np.int64)
    total = 0
    for b in range(batches):
        for p in range(n_pes):
            for j in range(n_cols):
                cursor[b, p, j] = total
                total += entries[b, p, j]
    codes = np.zeros(total, dtype=np.int16)
    rows = np.zeros(total, dtype=np.int32)
    previous = np.full(entries.shape, -1, dtype=np.int64)
    half = levels // 2
    for b in range(batches):
        for p in range(n_pes):
            for row in range(rows_per_batch):
                i = (b * rows_per_batch + row) * n_pes + p
                if i >= n_rows:
                    break
                for c in range(cg):
                    for tap in range(taps):
                        w = weight[i, c, tap]
                        if w == 0 and not store_zeros:
                            continue
                        j = tap * cg + c
                        position = previous[b, p, j] + max_run + 1
                        while position < row:  # padding entries: code 0 decodes to a zero weight
                            rows[cursor[b, p, j]] = position
                            cursor[b, p, j] += 1
                            position += max_run + 1
                        codes[cursor[b, p, j]] = 0 if w == 0 else level_to_code[level_index(w, scale, half)]
                        rows[cursor[b, p, j]] = row
                        cursor[b, p, j] += 1
                        previous[b, p, j] = row
    return codes, rows

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
    """Per (batch, PE, column): stored entries (padding included), padding entries, the local row (within the batch)
    of the first and of the last entry (-1 where none); per column the nonzero weights; the nonzero weights
    themselves (for the codebook's histogram) and their smallest and largest value (0 included: the fixed-point
    scale). `store_zeros` stores every weight, as a machine that does not skip zero weights would
    (accelsim.dataflows.eie.rounds.dense_layout gives that layout without a pass). `weight` is C-contiguous.

    One pass over the weights: rows are visited PE by PE, and one PE's counts are kept per memory position of the
    row (in one small array, a weight's four counts in one cache line, visited in increasing order) while its rows
    stream past; each row is first compacted to its stored weights without a branch per weight, and only those are
    placed. The counts go to column order when the PE is done."""
    n_rows, cg, taps = weight.shape
    n_cols = cg * taps
    flat = weight.reshape(n_rows, n_cols)
    column_of = np.empty(n_cols, dtype=np.int64)  # memory position c * taps + tap -> column tap * cg + c
    for c in range(cg):
        for tap in range(taps):
            column_of[c * taps + tap] = tap * cg + c
    local_rows = (n_rows + n_pes - 1) // n_pes
    batches = max((local_rows + rows_per_batch - 1) // rows_per_batch, 1)
    entries = np.empty((batches, n_pes, n_cols), dtype=np.int32)
    padding = np.empty((batches, n_pes, n_cols), dtype=np.int32)
    first_row = np.empty((batches, n_pes, n_cols), dtype=np.int32)
    last_row = np.empty((batches, n_pes, n_cols), dtype=np.int32)
    counts = np.empty((n_cols, 4), dtype=np.int32)  # one (batch, PE): entries, padding, first row, last row
    nonzeros_at = np.zeros(n_cols, dtype=np.int64)  # nonzero weights per memory position
    values = np.empty(max(1024, n_rows * n_cols // 16), dtype=weight.dtype)
    n_values = 0
    smallest = 0.0
    largest = 0.0
    row_stored = np.empty(n_cols, dtype=np.int64)  # memory positions of the row's stored weights
    run_shift = 0  # max_run + 1 is a power of two for every field width: a shift, not a division, per entry
    while (1 << run_shift) < max_run + 1:
        run_shift += 1
    power_of_two = (1 << run_shift) == max_run + 1
    for b in range(batches):
        for p in range(n_pes):
            counts[:, :2] = 0
            counts[:, 2:] = -1
            for row in range(rows_per_batch):
                i = (b * rows_per_batch + row) * n_pes + p
                if i >= n_rows:
                    break
                stored = 0
                if store_zeros:
                    for f in range(n_cols):
                        row_stored[f] = f
                    stored = n_cols
                else:
                    for f in range(n_cols):
                        row_stored[stored] = f
                        stored += flat[i, f] != 0
                if n_values + stored > values.size:
                    grown = np.empty(max(2 * values.size, n_values + stored), dtype=weight.dtype)
                    grown[:n_values] = values[:n_values]
                    values = grown
                for e in range(stored):
                    f = row_stored[e]
                    w = flat[i, f]
                    nonzero = w != 0  # without a branch: a stored zero (store_zeros) leaves no value behind
                    values[n_values] = w
                    n_values += nonzero
                    nonzeros_at[f] += nonzero
                    smallest = min(smallest, w)  # 0 is included anyway
                    largest = max(largest, w)
                    previous = counts[f, 3]
                    gap = row - previous - 1
                    pads = gap >> run_shift if power_of_two else gap // (max_run + 1)
                    # The first entry is the first padding entry when the gap from row 0 needs one.
                    first = row if pads == 0 else previous + max_run + 1
                    counts[f, 2] = first if counts[f, 2] < 0 else counts[f, 2]
                    counts[f, 1] += pads
                    counts[f, 0] += pads + 1
                    counts[f, 3] = row
            for f in range(n_cols):
                j = column_of[f]
                entries[b, p, j] = counts[f, 0]
                padding[b, p, j] = counts[f, 1]
                first_row[b, p, j] = counts[f, 2]
                last_row[b, p, j] = counts[f, 3]
    nonzeros_per_column = np.empty(n_cols, dtype=np.int64)
    for f in range(n_cols):
        nonzeros_per_column[column_of[f]] = nonzeros_at[f]
    return entries, padding, first_row, last_row, nonzeros_per_column, values[:n_values], smallest, largest


@njit(cache=True)
def column_pairs(entries, padding, first_row, last_row, line_entries):
    """The nonempty (PE, column) pairs of every batch, listed per (batch, column) b * cols + j: pairs
    column_start[c] .. column_start[c + 1] - 1 with their PE, entries, first and last local row, and the offset of
    their first entry in (batch, PE, column) order (where fill_entries puts it). Per (batch, column) the real
    (non-padding) entries, padding entries and Spmat lines read (a PE stores its entries batch after batch, column
    after column, `line_entries` to a line); per PE its stored entries.

    The pairs are written in order, (batch, column) by (batch, column), reading the PEs' counts of a column across
    the PEs: the few cache lines of neighbouring columns stay in cache, where writing PE by PE would scatter."""
    batches, n_pes, n_cols = entries.shape
    batch_start = np.empty((batches, n_pes), dtype=np.int64)  # (b, p)'s first entry in (batch, PE, column) order
    total = 0
    n_pairs = 0
    for b in range(batches):
        for p in range(n_pes):
            batch_start[b, p] = total
            for j in range(n_cols):
                total += entries[b, p, j]
                n_pairs += entries[b, p, j] > 0
    column_start = np.empty(batches * n_cols + 1, dtype=np.int64)
    pair_pe = np.empty(n_pairs, dtype=np.int32)
    pair_entries = np.empty(n_pairs, dtype=np.int32)
    pair_first = np.empty(n_pairs, dtype=np.int32)
    pair_last = np.empty(n_pairs, dtype=np.int32)
    pair_offset = np.empty(n_pairs, dtype=np.int64)
    column_real = np.zeros(batches * n_cols, dtype=np.int64)
    column_padding = np.zeros(batches * n_cols, dtype=np.int64)
    column_lines = np.zeros(batches * n_cols, dtype=np.int64)
    pe_entries = np.zeros(n_pes, dtype=np.int64)  # so far: where the next entry sits in the PE's Spmat SRAM
    within = np.zeros(n_pes, dtype=np.int64)  # so far in the PE's current batch
    line_shift = 0  # 8 entries to a 64-bit line: a shift, not two divisions, per pair
    while (1 << line_shift) < line_entries:
        line_shift += 1
    power_of_two = (1 << line_shift) == line_entries
    q = 0
    for b in range(batches):
        within[:] = 0
        for j in range(n_cols):
            c = b * n_cols + j
            column_start[c] = q
            for p in range(n_pes):
                n = entries[b, p, j]
                if n > 0:
                    pair_pe[q] = p
                    pair_entries[q] = n
                    pair_first[q] = first_row[b, p, j]
                    pair_last[q] = last_row[b, p, j]
                    pair_offset[q] = batch_start[b, p] + within[p]
                    first = pe_entries[p]
                    last = first + n - 1
                    if power_of_two:
                        column_lines[c] += (last >> line_shift) - (first >> line_shift) + 1
                    else:
                        column_lines[c] += last // line_entries - first // line_entries + 1
                    column_real[c] += n - padding[b, p, j]
                    column_padding[c] += padding[b, p, j]
                    within[p] += n
                    pe_entries[p] += n
                    q += 1
    column_start[batches * n_cols] = q
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

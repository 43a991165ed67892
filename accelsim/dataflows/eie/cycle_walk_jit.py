"""EIE's reference model, cycle by cycle (Han et al., ISCA 2016): the interleaved-CSC layout of a weight matrix
and a walk of the activation broadcast, the per-PE FIFOs and the PEs one cycle at a time, every PE every cycle.

This is the model's definition in executable form, kept as the oracle of the event-driven kernels that simulate
runs (accelsim.dataflows.eie.layout_jit and rounds_jit compute the same counters, and the same output, in time that
grows with the nonzeros instead of cycles x PEs; tests/test_eie_events_jit.py holds them equal). Its cycles are worked
by hand in tests/test_eie_jit.py.

Layout. A weight matrix W (rows = outputs, cols = inputs) is spread over n_pes PEs: row i belongs to PE i mod n_pes
as local row i // n_pes. A PE's destination registers hold `rows_per_batch` local rows, so the local rows are cut
into batches of that many, and the matrix-vector product runs once per batch (EIE's "batches of 4K"). Within a
batch, PE p stores column j as a list of entries, one per nonzero plus a padding entry for every gap of
max_run + 1 zeros the relative index cannot span (accelsim.formats.runs explains the rule). Every per-(batch, PE,
column) array below has shape (batches, n_pes, cols).

Activation scan. Input activation j sits in PE j mod n_pes at register row j // n_pes; the leading-nonzero-detection
tree finds the next nonzero within one row of n_pes activations per cycle (paper Sec. IV; the authors' simulator,
nzfetch.cpp, walks the rows the same way). Moving on to the next row takes a cycle that broadcasts nothing, unless
the activation just broadcast was the row's last; a row with no nonzero costs that one cycle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accelsim.dataflows.eie.counters import (
    ACCUMULATOR_BYPASSES,
    ACTIVE_ROUNDS,
    BROADCAST_STALL_CYCLES,
    BROADCASTS,
    CYCLES,
    EMPTY_COLUMN_CYCLES,
    ENTRY_CYCLES,
    FIFO_EMPTY_CYCLES,
    N_COUNTERS,
    PADDING_CYCLES,
    POINTER_READS,
    ROUNDS,
    SCAN_CYCLES,
    SCAN_STARVED_PE_CYCLES,
    SPMAT_LINE_READS,
    STARTED_ROUNDS,
)
from accelsim.dataflows.shared.weight_sharing_jit import level_index


@njit(cache=True)
def place_row(i, n_pes, rows_per_batch):
    """(batch, PE, local row within the batch) of weight row i."""
    local = i // n_pes
    b = local // rows_per_batch
    return b, i - local * n_pes, local - b * rows_per_batch


@njit(cache=True)
def column_stats(matrix, n_pes, rows_per_batch, max_run, store_zeros, scale, histogram):
    """Per (batch, PE, column): stored entries (padding included), padding entries, and the local row (within the
    batch) of the first and the last entry (-1 where the column stores none). `store_zeros` stores every weight,
    as a machine that does not skip zero weights would. Adds the nonzeros to `histogram` as
    `fixed_point_histogram` counts them (one pass over the weights instead of two)."""
    half = histogram.size // 2
    n_rows, n_cols = matrix.shape
    local_rows = (n_rows + n_pes - 1) // n_pes
    batches = max((local_rows + rows_per_batch - 1) // rows_per_batch, 1)
    entries = np.zeros((batches, n_pes, n_cols), dtype=np.int32)
    padding = np.zeros((batches, n_pes, n_cols), dtype=np.int32)
    first_row = np.full((batches, n_pes, n_cols), -1, dtype=np.int32)
    last_row = np.full((batches, n_pes, n_cols), -1, dtype=np.int32)
    # Rows in increasing order visit each (batch, PE, column) list in increasing local row, as the format stores it.
    for i in range(n_rows):
        b, p, row = place_row(i, n_pes, rows_per_batch)
        for j in range(n_cols):
            w = matrix[i, j]
            if w != 0:
                histogram[level_index(w, scale, half)] += 1
            elif not store_zeros:
                continue
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
def fill_entries(matrix, n_pes, rows_per_batch, max_run, store_zeros, starts, total_entries, scale, levels,
                 level_to_code):
    """The stored entries themselves, in (batch, PE, column, row) order starting at `starts[b, p, j]`: codebook
    index (0 for padding and zero weights) and local row within the batch. Needed only to compute the output."""
    n_rows, n_cols = matrix.shape
    codes = np.zeros(total_entries, dtype=np.int16)
    rows = np.zeros(total_entries, dtype=np.int32)
    cursor = starts.copy()
    previous = np.full(starts.shape, -1, dtype=np.int64)
    half = levels // 2
    for i in range(n_rows):
        b, p, row = place_row(i, n_pes, rows_per_batch)
        for j in range(n_cols):
            w = matrix[i, j]
            if w == 0 and not store_zeros:
                continue
            position = previous[b, p, j] + max_run + 1
            while position < row:  # padding entries: code 0 decodes to a zero weight
                codes[cursor[b, p, j]] = 0
                rows[cursor[b, p, j]] = position
                cursor[b, p, j] += 1
                position += max_run + 1
            codes[cursor[b, p, j]] = 0 if w == 0 else level_to_code[level_index(w, scale, half)]
            rows[cursor[b, p, j]] = row
            cursor[b, p, j] += 1
            previous[b, p, j] = row
    return codes, rows


@njit(cache=True)
def scan_gaps(sequence, n_seq, n_cols, row_width, gaps):
    """Cycles in which the CCU broadcasts nothing while it moves through activation rows of `row_width`: gaps[k]
    before broadcasting sequence[k] (the column indices of the activations to broadcast, ascending) and gaps[n_seq]
    after the last one, until the scan has passed the last row. row_width 0 is an ideal CCU: no gaps."""
    gaps[: n_seq + 1] = 0
    if row_width == 0:
        return
    n_rows = (n_cols + row_width - 1) // row_width
    current = 0  # the row the scan is in; every row before it is done
    for k in range(n_seq + 1):
        row = sequence[k] // row_width if k < n_seq else n_rows
        gaps[k] = row - current  # one cycle to leave each row between
        if k < n_seq:
            # Broadcasting a row's last activation moves the scan on in the same cycle.
            current = row + 1 if sequence[k] % row_width == row_width - 1 else row


@njit(cache=True)
def simulate_rounds(vectors, entries, padding, first_row, last_row, starts, line_entries, pe_line_base,
                    fifo_depth, scan_row_width, skip_zero_activations, rows_per_batch, compute_output, codes, rows,
                    codebook, out):
    """Run every vector (a row of `vectors`) through every batch, one round each, cycle by cycle; return counters.

    Per cycle, in this order, from the state at the cycle's start:
    - CCU: while the scan moves to the next row of `scan_row_width` activations (`scan_gaps`; 0: never) it
      broadcasts nothing. Otherwise, if a nonzero activation is left and every PE's FIFO holds fewer than
      `fifo_depth` entries, it is broadcast to all FIFOs (usable from the next cycle); with activations left but a
      FIFO full, the broadcast stalls. A FIFO that a PE empties in the same cycle is still counted full (registered
      full flag, as in the authors' simulator).
    - Each PE works one cycle on its current column (one entry per cycle); with none left it pops the next
      activation from its FIFO (pointer read) and starts on that column's first entry in the same cycle, or, for a
      column with no entries on this PE, spends the cycle on the pointer read alone; with an empty FIFO it idles.
    A round ends when the scan has passed the last row and every PE has finished; rounds run one after another
    (a barrier: the destination registers are swapped between rounds). A PE idle with an empty FIFO is counted in
    SCAN_STARVED_PE_CYCLES as well as in FIFO_EMPTY_CYCLES when the cycle before was a scan cycle in which the CCU
    could otherwise have broadcast (an activation left, no FIFO full), or when the round goes on only because the
    scan has rows left.

    `out` (vectors x outputs) receives the products, accumulated entry by entry in the PEs' processing order, when
    `compute_output` is set.
    """
    n_vectors, n_cols = vectors.shape
    batches, n_pes, _ = entries.shape
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    sequence = np.empty(n_cols, dtype=np.int64)
    gaps = np.zeros(n_cols + 1, dtype=np.int64)
    head = np.zeros(n_pes, dtype=np.int64)
    remaining = np.zeros(n_pes, dtype=np.int64)
    last_busy = np.zeros(n_pes, dtype=np.int64)
    previous_row = np.zeros(n_pes, dtype=np.int64)
    for m in range(n_vectors):
        n_seq = 0
        for j in range(n_cols):
            if vectors[m, j] != 0 or not skip_zero_activations:
                sequence[n_seq] = j
                n_seq += 1
        scan_gaps(sequence, n_seq, n_cols, scan_row_width, gaps)
        for b in range(batches):
            counters[ROUNDS] += 1
            if n_seq > 0:
                counters[ACTIVE_ROUNDS] += 1
            head[:] = 0
            remaining[:] = 0
            last_busy[:] = -2
            previous_row[:] = -1
            sent = 0
            gap_left = gaps[0]
            scan_held_back = False  # the previous cycle scanned when it could have broadcast
            t = 0
            while True:
                finished = sent == n_seq  # every activation broadcast and every PE done with them
                if finished:
                    for p in range(n_pes):
                        if remaining[p] > 0 or head[p] < n_seq:
                            finished = False
                            break
                    if finished and gap_left == 0:
                        break
                can_send = False
                fifo_room = True
                if sent < n_seq:
                    slowest = head[0]
                    for p in range(1, n_pes):
                        slowest = min(slowest, head[p])
                    fifo_room = sent - slowest < fifo_depth
                scanning = gap_left > 0
                if scanning:
                    gap_left -= 1
                    counters[SCAN_CYCLES] += 1
                elif sent < n_seq:
                    can_send = fifo_room
                    if not can_send:
                        counters[BROADCAST_STALL_CYCLES] += 1
                for p in range(n_pes):
                    if remaining[p] > 0:
                        remaining[p] -= 1
                        last_busy[p] = t
                    elif head[p] < sent:
                        j = sequence[head[p]]
                        head[p] += 1
                        counters[POINTER_READS] += 1
                        n = entries[b, p, j]
                        if n == 0:
                            counters[EMPTY_COLUMN_CYCLES] += 1
                            previous_row[p] = -1  # no accumulation this cycle: nothing to forward next cycle
                        else:
                            counters[ENTRY_CYCLES] += n - padding[b, p, j]
                            counters[PADDING_CYCLES] += padding[b, p, j]
                            first = pe_line_base[b, p] + starts[b, p, j] - starts[b, p, 0]  # in the PE's SRAM
                            counters[SPMAT_LINE_READS] += (first + n - 1) // line_entries - first // line_entries + 1
                            # The accumulator of the previous cycle's entry is forwarded, not re-read.
                            if last_busy[p] == t - 1 and first_row[b, p, j] == previous_row[p]:
                                counters[ACCUMULATOR_BYPASSES] += 1
                            previous_row[p] = last_row[b, p, j]
                            remaining[p] = n - 1
                            if compute_output:
                                a = vectors[m, j]
                                base = (b * rows_per_batch) * n_pes + p
                                for e in range(starts[b, p, j], starts[b, p, j] + n):
                                    out[m, base + rows[e] * n_pes] += codebook[codes[e]] * a
                        last_busy[p] = t
                    else:
                        counters[FIFO_EMPTY_CYCLES] += 1
                        # finished: the round goes on only for the scan (its first cycle is the fill's)
                        if scan_held_back or (finished and t > 0):
                            counters[SCAN_STARVED_PE_CYCLES] += 1
                scan_held_back = scanning and sent < n_seq and fifo_room
                if can_send:
                    sent += 1
                    gap_left = gaps[sent]
                    counters[BROADCASTS] += 1
                t += 1
            counters[CYCLES] += t
            if t > 0:
                counters[STARTED_ROUNDS] += 1
    return counters

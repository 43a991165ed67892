"""EIE's rounds, event by event: the same machine, and the same counters, as the cycle-by-cycle reference walk
(accelsim.dataflows.eie.cycle_walk_jit.simulate_rounds, which defines the model), computed per broadcast and per
nonempty (PE, column) pair instead of per cycle and PE. The work is the activations broadcast plus the pairs they
meet, not cycles x PEs.

Why it is exact. In a round, activation k (column seq[k]) is broadcast in cycle B[k] and can be popped from cycle
A[k] = B[k] + 1. PE p pops it at pop_p[k] = max(A[k], done_p[k-1]) and is busy max(n_pk, 1) cycles (n_pk its entries
in that column; an empty column costs the pointer read), so done_p[k] = pop_p[k] + max(n_pk, 1). The broadcast waits
for the scan (gap[k] cycles after B[k-1]) and for FIFO room: B[k] = max(B[k-1] + 1 + gap[k], P[k - depth] + 1) with
P[k] = max_p pop_p[k]. Between two nonempty columns a PE only reads pointers, one per cycle, and A rises by at least
one per activation, so its pops follow pop_p[k] = max(A[k], R_p + k): one number R_p per PE ("ready base"), changed
only at its nonempty columns, never decreasing. Hence P[k] = max(A[k], max_p R_p + k), and max_p R_p is a running
maximum. Everything the walk counts follows from B, A and R: stalls are B[k] minus the cycle the scan allowed, idle
PE-cycles are PEs x cycles minus busy ones, a bypass is a pop right at done_p[k-1] into the row the previous column
ended on, and the PEs starved by a scan cycle are counted per scan gap from done_p[k-1] = max(A[k-1] + 1, R_p + k)
(in one step when no PE is still busy, PE by PE otherwise). tests/test_eie_events_jit.py holds this equal to the walk.
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
    PADDING_CYCLES,
    POINTER_READS,
    ROUNDS,
    SCAN_CYCLES,
    SCAN_STARVED_PE_CYCLES,
    SPMAT_LINE_READS,
    STARTED_ROUNDS,
)


@njit(cache=True)
def simulate_rounds(vector_start, columns, n_cols, column_start, pair_pe, pair_entries, pair_first, pair_last,
                    column_real, column_padding, column_lines, n_pes, fifo_depth, scan_row_width, counters):
    """Add to `counters` the rounds of every vector (columns[vector_start[m]:vector_start[m + 1]], ascending) through
    every batch of the layout (accelsim.dataflows.eie.layout_jit.column_pairs); the CCU scans rows of
    `scan_row_width` activations (0: an ideal scan). The semantics are the walk's, cycle for cycle."""
    n_vectors = vector_start.size - 1
    batches = (column_start.size - 1) // n_cols
    scan_rows = (n_cols + scan_row_width - 1) // scan_row_width if scan_row_width > 0 else 0
    ready_base = np.empty(n_pes, dtype=np.int64)
    # The PE's last nonempty column (its index k in the sequence) and the local row it ended on, as one number
    # k * 2^32 + row: whether an entry's accumulator is forwarded is then one comparison.
    last_entry = np.empty(n_pes, dtype=np.int64)
    latest_pop = np.empty(fifo_depth, dtype=np.int64)  # P[k], kept for k - depth + 1 .. k
    for m in range(n_vectors):
        first, n = vector_start[m], vector_start[m + 1] - vector_start[m]
        for b in range(batches):
            counters[ROUNDS] += 1
            if n == 0:  # the scan passes every row; the PEs wait
                counters[SCAN_CYCLES] += scan_rows
                counters[CYCLES] += scan_rows
                counters[FIFO_EMPTY_CYCLES] += n_pes * scan_rows
                if scan_rows > 0:
                    counters[STARTED_ROUNDS] += 1
                    counters[SCAN_STARVED_PE_CYCLES] += n_pes * (scan_rows - 1)
                continue
            ready_base[:] = -1
            last_entry[:] = -1  # no column yet: matches no (k - 1, row)
            max_ready = -1
            scan_row = 0  # the row the scan is in
            row, row_start = 0, 0  # the row of the previous activation, and its first column
            slot = 0  # k mod fifo_depth, kept without a division
            broadcast = -1  # B[k - 1]
            stalls = scan = starved = bypasses = 0
            real = padding = lines = pairs = 0  # tallied here, not in `counters`: locals stay in registers
            for k in range(n):
                j = columns[first + k]
                gap = 0
                if scan_row_width > 0:
                    if j - row_start >= scan_row_width:  # a later row (a division only then)
                        row = j // scan_row_width
                        row_start = row * scan_row_width
                    gap = row - scan_row
                    # Broadcasting a row's last activation moves the scan on in the same cycle.
                    scan_row = row + 1 if j - row_start == scan_row_width - 1 else row
                allowed = broadcast + 1 + gap  # the first cycle the scan lets activation k go
                room = -1  # the first cycle the FIFOs have room for it
                if k >= fifo_depth:
                    room = latest_pop[slot] + 1
                if gap > 0:
                    scan += gap
                    # Idle PEs in cycles t after scan cycles t - 1 = B[k-1] + 1 .. allowed - 1 that had room.
                    low = max(broadcast + 1, room) + 1
                    high = allowed
                    if low <= high:
                        if max(broadcast + 2, max_ready + k) <= low:  # every PE done by then
                            starved += n_pes * (high - low + 1)
                        else:
                            for p in range(n_pes):
                                done = max(broadcast + 2, ready_base[p] + k)
                                if done <= high:
                                    starved += high - max(low, done) + 1
                stalls += max(allowed, room) - allowed
                broadcast = max(allowed, room)
                arrival = broadcast + 1
                latest_pop[slot] = max(arrival, max_ready + k)
                slot = slot + 1 if slot + 1 < fifo_depth else 0
                c = b * n_cols + j
                key = k << 32
                previous_key = (k - 1) << 32
                for q in range(column_start[c], column_start[c + 1]):
                    p = pair_pe[q]
                    ready = ready_base[p] + k
                    # The accumulator of the previous cycle's entry is forwarded, not re-read. (Without branches:
                    # the condition is data-dependent, and mispredicting it cost more than the rest of the pair.)
                    bypasses += (last_entry[p] == previous_key + np.int64(pair_first[q])) & (ready >= arrival)
                    ready_base[p] = max(arrival, ready) + pair_entries[q] - k - 1
                    max_ready = max(max_ready, ready_base[p])
                    last_entry[p] = key + np.int64(pair_last[q])
                pairs += column_start[c + 1] - column_start[c]
                real += column_real[c]
                padding += column_padding[c]
                lines += column_lines[c]
            final_gap = scan_rows - scan_row if scan_row_width > 0 else 0
            scan += final_gap
            finished = max(broadcast + 2, max_ready + n)  # every PE done with the last activation
            cycles = max(broadcast + 1 + final_gap, finished)
            starved += n_pes * (cycles - finished)  # the scan's trailing rows, every PE done
            empty = n * n_pes - pairs  # pointer reads of columns with no entry on the PE
            counters[ACTIVE_ROUNDS] += 1
            counters[STARTED_ROUNDS] += 1
            counters[CYCLES] += cycles
            counters[BROADCASTS] += n
            counters[POINTER_READS] += n * n_pes
            counters[BROADCAST_STALL_CYCLES] += stalls
            counters[SCAN_CYCLES] += scan
            counters[FIFO_EMPTY_CYCLES] += n_pes * cycles - (empty + real + padding)
            counters[SCAN_STARVED_PE_CYCLES] += starved
            counters[ACCUMULATOR_BYPASSES] += bypasses
            counters[ENTRY_CYCLES] += real
            counters[PADDING_CYCLES] += padding
            counters[SPMAT_LINE_READS] += lines
            counters[EMPTY_COLUMN_CYCLES] += empty


@njit(cache=True)
def accumulate_output(vector_start, columns, values, n_cols, column_start, pair_pe, pair_entries, pair_offset,
                      codes, rows, codebook, n_pes, rows_per_batch, out):
    """out[m, output row] += decoded weight x activation for every stored entry of every broadcast column, in the
    order the PEs process them (per output: column by column, entry by entry), as the walk accumulates. A zero
    activation adds an exact zero to an accumulator that starts at +0.0, so it may be left out."""
    batches = (column_start.size - 1) // n_cols
    for m in range(vector_start.size - 1):
        for b in range(batches):
            for e in range(vector_start[m], vector_start[m + 1]):
                a = values[e]
                c = b * n_cols + columns[e]
                for q in range(column_start[c], column_start[c + 1]):
                    base = b * rows_per_batch * n_pes + pair_pe[q]
                    for f in range(pair_offset[q], pair_offset[q] + pair_entries[q]):
                        out[m, base + rows[f] * n_pes] += codebook[codes[f]] * a


@njit(cache=True)
def effectual_macs(columns, nonzeros_per_column):
    """Nonzero weights met by the nonzero activations of `columns` (every vector's, concatenated)."""
    total = 0
    for e in range(columns.size):
        total += nonzeros_per_column[columns[e]]
    return total

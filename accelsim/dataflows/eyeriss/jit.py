"""Eyeriss' numba functions: every PE of every chain job walks its iact windows on the real data, row stationary.

A chain job (accelsim.dataflows.eyeriss.mapping) is one output row p of one image n, for one block of output
channels (M0 of them) and one slice (pass) of the reduction, over output columns [q0, q1). Its PEs form a vertical
chain: PE k holds the weight tile of reduction item k of the slice, a channel block cb (C0 channels) and a filter
row r, as a CSC matrix of M0 rows x (C0 x S) columns. For each output column q, PE k reads the window of C0 x S
iacts x[n, g, c, p*U + r*dil - pad, q*U + s*dil - pad] (c in cb, s < S) and, for each iact it reads, the weights of
its column, SIMD at a time, accumulating M0 partial sums of position q.

The PE is two decoupled stages (the paper's 7-stage pipeline seen as its two rates): the iact fetch takes one
cycle per iact it reads; the weight fetch and MAC take ceil(entries / SIMD) cycles per iact, entries being the
column's stored weights (0 for an empty column, whose iact is read and dropped). Between them `fetch_buffer`
fetched iacts may wait. With CSC iacts a zero iact (and a padded border) is never read: it costs no cycle. The
remaining pipeline stages add their fill to a job whose PEs start on new weights.

Partial sums flow down the chain: PE k sends position q's M0 psums on when its own MACs for q are done, the
psums from above have arrived, and the link has sent q - 1's (ceil(M0 / link_values) cycles per position). A PE
holds `buffer` positions of psums in its psum scratch pad: it cannot start q until q - buffer has left. Slices
after the first receive their psums at the chain's top from the GLB, at the link's rate.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Indices of the counters `walk_jobs` returns (summed over every PE of every job).
IACT_READS = 0  # iacts read from an iact scratch pad (one per window tap read)
WINDOWS = 1  # (PE, output position) windows walked (an iact address scratch-pad read in CSC mode)
WEIGHT_WORDS = 2  # weight words read: SIMD-wide weight fetches (cycles of the weight/MAC stage)
MACS = 3  # multiplier slots with a weight (stored entries, CSC padding entries included)
EFFECTUAL = 4  # MACs whose iact and weight are both nonzero
PSUM_SENT = 5  # psums a PE sent down its chain or to the GLB
NONZERO_IACT_WORDS = 6  # weight words read for nonzero iacts (what Eyeriss v1's data gating still reads)
NONZERO_IACT_MACS = 7  # MACs of nonzero iacts (what Eyeriss v1's data gating still performs)
N_COUNTERS = 8

# Per-job outputs of `walk_jobs` (columns of the (J, N_JOB) array).
JOB_TIME = 0  # cycles the job adds to its slot: from its slot's previous job's end (or the phase start) to its end
JOB_END = 1  # cycles from the phase start until the job's last psum has left the chain's bottom, fill included
JOB_BUSY = 2  # PE-cycles of the weight/MAC stage (sum over the chain's PEs)
JOB_IACT_WAIT = 3  # PE-cycles the weight/MAC stage waited for the iact fetch (empty columns, reads)
JOB_PES = 4  # PEs of the chain that had a reduction item (the last slice may be short)
N_JOB = 5


@njit(cache=True)
def pipeline_step(departed, finished, oldest_start, gate, b):
    """One iact through a PE's two stages. departed: when the iact stage let its previous iact go; finished: when
    the weight stage finished its previous iact; oldest_start: when the weight stage started the iact that frees
    the fetch buffer's slot (-1 while the buffer has never filled); gate: the weight stage may not start before
    it (a free psum buffer); b: the weight stage's cycles for this iact. Returns (departed, finished, start,
    cycles the weight stage waited on the iact fetch)."""
    fetched = departed + 1
    if oldest_start > fetched:
        fetched = oldest_start
    ready = finished if finished > gate else gate
    start = fetched if fetched > ready else ready
    return fetched, start + b, start, (fetched - ready if fetched > ready else 0)


@njit(cache=True)
def walk_jobs(x, col_entries, col_nonzeros, block_group, block_count, items_cb, items_r, job_n, job_block,
              job_pass, job_p, job_q0, job_q1, job_slot, job_carry, job_fill, slots, chain_length, c0, stride_h,
              stride_w, pad_h, pad_w, dil_h, dil_w, csc_iacts, simd, fetch_buffer, psum_buffer, link_values):
    """Walk every job's chain in job order; return ((J, N_JOB) per-job figures, counters).

    x: (N, G, Cg, H, W); col_entries / col_nonzeros: (blocks, Cg, R, S) stored weights (CSC: nonzeros and padding
    entries; uncompressed: the block's channels) and nonzero weights of each column; items_cb / items_r: the
    reduction items in chain order (slice j holds items j*chain_length ... + chain_length - 1).
    job_slot[j]: the chain slot running job j; job_carry[j]: job j goes on where its slot's previous job ended (same
    weights, same phase: the pipelines and the psum chain keep streaming) instead of starting the slot afresh at
    the phase start; job_fill[j]: pipeline fill cycles of job j (a job whose PEs start on new weights).
    psum_buffer[b]: positions of psums block b's PEs hold (psum scratch pad // M0)."""
    n_jobs = job_n.shape[0]
    groups, cg, height, width = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    kernel_w = col_entries.shape[3]
    n_items = items_cb.shape[0]
    window = c0 * kernel_w
    xf = x.ravel()
    jobs = np.zeros((n_jobs, N_JOB), dtype=np.int64)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    max_buffer = 1
    for b in range(psum_buffer.shape[0]):
        max_buffer = max(max_buffer, psum_buffer[b])
    departed = np.zeros((slots, chain_length), dtype=np.int64)  # the PEs' two stages (see pipeline_step)
    finished = np.zeros((slots, chain_length), dtype=np.int64)
    fetched_count = np.zeros((slots, chain_length), dtype=np.int64)
    ring = np.zeros((slots, chain_length, fetch_buffer), dtype=np.int64)  # weight-stage starts of recent iacts
    sent = np.zeros((slots, chain_length, max_buffer), dtype=np.int64)  # psum departures of recent positions
    last_sent = np.zeros((slots, chain_length), dtype=np.int64)
    positions = np.zeros(slots, dtype=np.int64)  # positions the slot has walked in this phase
    offset = np.zeros(slots, dtype=np.int64)  # pipeline fill added in this phase
    slot_end = np.zeros(slots, dtype=np.int64)
    # The window of each PE of the current job: per tap, its x offset step, its b, entries and nonzero weights.
    tap_entries = np.zeros((chain_length, window), dtype=np.int64)
    tap_words = np.zeros((chain_length, window), dtype=np.int64)
    tap_nonzeros = np.zeros((chain_length, window), dtype=np.int64)
    tap_offset = np.zeros((chain_length, window), dtype=np.int64)  # x offset from (channel 0, column w0)
    tap_column = np.zeros((chain_length, window), dtype=np.int64)  # column offset s * dil from w0
    taps = np.zeros(chain_length, dtype=np.int64)
    row_base = np.zeros(chain_length, dtype=np.int64)
    row_inside = np.zeros(chain_length, dtype=np.bool_)
    reads = windows = words = macs = effectual = psums = nz_words = nz_macs = 0
    for j in range(n_jobs):
        n, blk, p, slot = job_n[j], job_block[j], job_p[j], job_slot[j]
        g = block_group[blk]
        first = job_pass[j] * chain_length
        pes = min(chain_length, n_items - first)
        m0 = block_count[blk]
        transfer = (m0 + link_values - 1) // link_values
        buffer = psum_buffer[blk]
        if not job_carry[j]:
            departed[slot, :] = 0
            finished[slot, :] = 0
            fetched_count[slot, :] = 0
            last_sent[slot, :] = 0
            positions[slot] = 0
            offset[slot] = 0
            slot_end[slot] = 0
        offset[slot] += job_fill[j]
        for k in range(pes):
            cb, r = items_cb[first + k], items_r[first + k]
            h = p * stride_h + r * dil_h - pad_h
            row_inside[k] = 0 <= h < height
            row_base[k] = ((n * groups + g) * cg * height + h) * width  # x offset of channel 0, row h, column 0
            count = 0
            for c in range(cb * c0, min(cb * c0 + c0, cg)):
                for s in range(kernel_w):
                    entries = col_entries[blk, c, r, s]
                    tap_entries[k, count] = entries
                    tap_words[k, count] = (entries + simd - 1) // simd
                    tap_nonzeros[k, count] = col_nonzeros[blk, c, r, s]
                    tap_column[k, count] = s * dil_w
                    tap_offset[k, count] = c * height * width + s * dil_w
                    count += 1
            taps[k] = count
        busy = 0
        iact_wait = 0
        for q in range(job_q0[j], job_q1[j]):
            position = positions[slot]
            positions[slot] += 1
            from_above = (position + 1) * transfer if job_pass[j] > 0 else 0  # psums of earlier slices, from GLB
            w0 = q * stride_w - pad_w
            for k in range(pes):
                gate = sent[slot, k, (position - buffer) % max_buffer] if position >= buffer else 0
                dep, fin, cnt = departed[slot, k], finished[slot, k], fetched_count[slot, k]
                windows += 1
                inside_row = row_inside[k]
                base = row_base[k] + w0
                single = fetch_buffer == 1
                last_start = ring[slot, k, 0]
                for t in range(taps[k]):
                    w = w0 + tap_column[k, t]
                    value = 0.0
                    if inside_row and 0 <= w < width:
                        value = xf[base + tap_offset[k, t]]
                    if csc_iacts and value == 0.0:
                        continue  # CSC holds no zeros, and the address generator never reads the padding
                    b = tap_words[k, t]
                    if single:
                        oldest = last_start if cnt >= 1 else -1
                    else:
                        oldest = ring[slot, k, cnt % fetch_buffer] if cnt >= fetch_buffer else -1
                    dep, fin, start, waited = pipeline_step(dep, fin, oldest, gate, b)
                    if single:
                        last_start = start
                    else:
                        ring[slot, k, cnt % fetch_buffer] = start
                    cnt += 1
                    iact_wait += waited
                    busy += b
                    reads += 1
                    words += b
                    macs += tap_entries[k, t]
                    nonzero = 1 if value != 0.0 else 0  # branch-free: in dense mode a zero is as likely as not
                    effectual += tap_nonzeros[k, t] * nonzero
                    nz_words += b * nonzero
                    nz_macs += tap_entries[k, t] * nonzero
                if single:
                    ring[slot, k, 0] = last_start
                departed[slot, k], finished[slot, k], fetched_count[slot, k] = dep, fin, cnt
                done = fin if fin > gate else gate
                leave = done + transfer
                if from_above + 1 > leave:
                    leave = from_above + 1
                if last_sent[slot, k] + transfer > leave:
                    leave = last_sent[slot, k] + transfer
                last_sent[slot, k] = leave
                sent[slot, k, position % max_buffer] = leave
                from_above = leave
                psums += m0
        end = (last_sent[slot, pes - 1] if pes > 0 else 0) + offset[slot]
        jobs[j, JOB_TIME] = end - slot_end[slot]
        jobs[j, JOB_END] = end
        slot_end[slot] = end
        jobs[j, JOB_BUSY] = busy
        jobs[j, JOB_IACT_WAIT] = iact_wait
        jobs[j, JOB_PES] = pes
    counters[IACT_READS], counters[WINDOWS], counters[WEIGHT_WORDS], counters[MACS] = reads, windows, words, macs
    counters[EFFECTUAL], counters[PSUM_SENT] = effectual, psums
    counters[NONZERO_IACT_WORDS], counters[NONZERO_IACT_MACS] = nz_words, nz_macs
    return jobs, counters


@njit(cache=True)
def output_through_jobs(x, col_ptr, col_m, col_value, block_group, block_start, items_cb, items_r, job_n,
                        job_block, job_pass, job_p, job_q0, job_q1, chain_length, c0, kernel_h, kernel_w, stride_h,
                        stride_w, pad_h, pad_w, dil_h, dil_w, out):
    """The layer's output through the same jobs, PEs and windows: each nonzero iact a PE reads meets the nonzero
    weights of its column (column ((block x Cg + c) x R + r) x S + s holds col_ptr[column] up to the next
    pointer; col_m is the output channel within the block), each product added to out[n, g, m, p, q]
    (N, G, Mg, P, Q), in place."""
    cg, height, width = x.shape[2], x.shape[3], x.shape[4]
    n_items = items_cb.shape[0]
    for j in range(job_n.shape[0]):
        n, blk, p = job_n[j], job_block[j], job_p[j]
        g, m_start = block_group[blk], block_start[blk]
        first = job_pass[j] * chain_length
        for k in range(min(chain_length, n_items - first)):
            cb, r = items_cb[first + k], items_r[first + k]
            h = p * stride_h + r * dil_h - pad_h
            if not 0 <= h < height:
                continue
            for q in range(job_q0[j], job_q1[j]):
                for c in range(cb * c0, min(cb * c0 + c0, cg)):
                    for s in range(kernel_w):
                        w = q * stride_w + s * dil_w - pad_w
                        if not 0 <= w < width:
                            continue
                        value = x[n, g, c, h, w]
                        if value == 0.0:
                            continue
                        column = ((blk * cg + c) * kernel_h + r) * kernel_w + s
                        for e in range(col_ptr[column], col_ptr[column + 1]):
                            out[n, g, m_start + col_m[e], p, q] += value * col_value[e]
    return out

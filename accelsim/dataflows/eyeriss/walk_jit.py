"""The walk of accelsim.dataflows.eyeriss.jit.walk_jobs, made fast, with the same results
(tests/test_eyeriss_walk_jit.py holds every per-job figure and counter equal to it).

`walk_jobs` is the model's definition: for every window of every PE it visits every tap, reads the iact and, with
CSC iacts, drops the zeros. Two things make that slow, and this walk avoids both:

- CSC iacts: a window's nonzero taps are listed once per layer (`taps_jit.window_taps`: for each image, group,
  input row, channel block and output column, the indices of its nonzero taps, in the walk's order: channel, then
  filter column), so the walk visits only the iacts a PE reads (no zero test, no mispredicted branch per zero, no
  float64 load per tap).
- Uncompressed iacts (a dense reference, Eyeriss v1): every tap is read, so a window's weight-stage cycles are a
  sum fixed by the weights. When each of the PE's taps takes at least one cycle (b >= 1; always so with
  uncompressed weights), the weight stage never waits on the fetch after the slot's first iact: the fetch of iact
  i is ready by max(departed_{i-1} + 1, start_{i-fetch_buffer}) <= start_{i-1} + 1 <= finished_{i-1}. So iact i
  starts at max(finished_{i-1}, gate) and, the gate being the same for the whole window, a window ends at
  max(finished, gate) + (sum of its taps' b): one step per window instead of one per tap (the slot's very first
  iact goes through `pipeline_step` as in the walk). A slot's jobs in one phase (carried on) hold the same
  weights, so a PE stays in this regime for as long as its state lives; the departures and the fetch buffer's
  starts, which this step does not keep up to date, are never read again. A PE with an empty column among its
  taps (CSC weights) walks its taps one by one. The counters that depend on the iact values (effectual MACs, and
  the words and MACs of nonzero iacts that Eyeriss v1's gating keeps) are summed per layer from how often each
  (group, channel, filter row, filter column) tap meets a nonzero iact over all output positions
  (`taps_jit.nonzero_tap_counts`): every job position of a block and slice is one output position, each once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accelsim.dataflows.eyeriss.jit import (
    EFFECTUAL,
    IACT_READS,
    JOB_BUSY,
    JOB_END,
    JOB_IACT_WAIT,
    JOB_PES,
    JOB_TIME,
    MACS,
    N_COUNTERS,
    N_JOB,
    NONZERO_IACT_MACS,
    NONZERO_IACT_WORDS,
    PSUM_SENT,
    WEIGHT_WORDS,
    WINDOWS,
    pipeline_step,
)


@njit(cache=True)
def walk_windows(col_entries, col_nonzeros, block_group, block_count, items_cb, items_r, job_n, job_block, job_pass,
                 job_p, job_q0, job_q1, job_slot, job_carry, job_fill, slots, chain_length, c0, groups, height,
                 q_count, stride_h, pad_h, dil_h, csc_iacts, tap_pointers, tap_index, simd, fetch_buffer,
                 psum_buffer, link_values):
    """`jit.walk_jobs` over each window's read taps: with CSC iacts its nonzero taps (`taps_jit.window_taps`),
    otherwise all of them, a window in one step where no tap of the PE's is an empty column. Returns what
    walk_jobs returns, but for uncompressed iacts the EFFECTUAL, NONZERO_IACT_WORDS and NONZERO_IACT_MACS counters
    are left at zero (the caller sums them from `taps_jit.nonzero_tap_counts`)."""
    n_jobs = job_n.shape[0]
    cg, kernel_w = col_entries.shape[1], col_entries.shape[3]
    n_items = items_cb.shape[0]
    n_cb = (cg + c0 - 1) // c0
    window = c0 * kernel_w
    jobs = np.zeros((n_jobs, N_JOB), dtype=np.int64)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    max_buffer = 1
    for b in range(psum_buffer.shape[0]):
        max_buffer = max(max_buffer, psum_buffer[b])
    departed = np.zeros((slots, chain_length), dtype=np.int64)  # the PEs' two stages (see jit.pipeline_step)
    finished = np.zeros((slots, chain_length), dtype=np.int64)
    fetched_count = np.zeros((slots, chain_length), dtype=np.int64)
    ring = np.zeros((slots, chain_length, fetch_buffer), dtype=np.int64)  # weight-stage starts of recent iacts
    sent = np.zeros((slots, chain_length, max_buffer), dtype=np.int64)  # psum departures of recent positions
    last_sent = np.zeros((slots, chain_length), dtype=np.int64)
    positions = np.zeros(slots, dtype=np.int64)
    offset = np.zeros(slots, dtype=np.int64)
    slot_end = np.zeros(slots, dtype=np.int64)
    tap_words = np.zeros((chain_length, window), dtype=np.int64)
    tap_entries = np.zeros((chain_length, window), dtype=np.int64)
    tap_nonzeros = np.zeros((chain_length, window), dtype=np.int64)
    taps = np.zeros(chain_length, dtype=np.int64)
    words_sum = np.zeros(chain_length, dtype=np.int64)  # a whole window's weight-stage cycles, entries
    entries_sum = np.zeros(chain_length, dtype=np.int64)
    no_empty = np.zeros(chain_length, dtype=np.bool_)  # every tap takes at least one weight-stage cycle
    window_base = np.zeros(chain_length, dtype=np.int64)  # the PE's first window (q = 0) in tap_pointers, or -1
    reads = windows = words = macs = effectual = psums = nz_words = nz_macs = 0
    single = fetch_buffer == 1
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
        # The PEs' taps as the previous job's when it held the same weights (a job carried on in its slot).
        same_taps = j > 0 and blk == job_block[j - 1] and job_pass[j] == job_pass[j - 1]
        for k in range(pes):
            cb, r = items_cb[first + k], items_r[first + k]
            h = p * stride_h + r * dil_h - pad_h
            window_base[k] = ((((n * groups + g) * height + h) * n_cb + cb) * q_count) if 0 <= h < height else -1
            if same_taps:
                continue
            count = 0
            total_words = total_entries = 0
            smallest = 1
            for c in range(cb * c0, min(cb * c0 + c0, cg)):
                for s in range(kernel_w):
                    entries = col_entries[blk, c, r, s]
                    b = (entries + simd - 1) // simd
                    tap_entries[k, count] = entries
                    tap_words[k, count] = b
                    tap_nonzeros[k, count] = col_nonzeros[blk, c, r, s]
                    total_words += b
                    total_entries += entries
                    smallest = min(smallest, b)
                    count += 1
            taps[k] = count
            words_sum[k], entries_sum[k], no_empty[k] = total_words, total_entries, smallest >= 1
        busy = 0
        iact_wait = 0
        all_dense = not csc_iacts
        for k in range(pes):
            all_dense = all_dense and no_empty[k]
        if all_dense:  # every window of the job in one step, the job's counters summed once
            fin_row, cnt_row, sent_row, last_row = finished[slot], fetched_count[slot], sent[slot], last_sent[slot]
            dep_row = departed[slot]
            n_q = job_q1[j] - job_q0[j]
            for _ in range(n_q):
                position = positions[slot]
                positions[slot] += 1
                from_above = (position + 1) * transfer if job_pass[j] > 0 else 0
                gated = position >= buffer
                gate_index = (position - buffer) % max_buffer if gated else 0
                sent_index = position % max_buffer
                for k in range(pes):
                    gate = sent_row[k, gate_index] if gated else 0
                    fin = fin_row[k]
                    if cnt_row[k] == 0:
                        b = tap_words[k, 0]
                        dep, fin, start, waited = pipeline_step(dep_row[k], fin, -1, gate, b)
                        dep_row[k] = dep
                        fin += words_sum[k] - b
                        iact_wait += waited
                    else:
                        fin = (fin if fin > gate else gate) + words_sum[k]
                    cnt_row[k] += taps[k]
                    fin_row[k] = fin
                    done = fin if fin > gate else gate
                    leave = done + transfer
                    if from_above + 1 > leave:
                        leave = from_above + 1
                    if last_row[k] + transfer > leave:
                        leave = last_row[k] + transfer
                    last_row[k] = leave
                    sent_row[k, sent_index] = leave
                    from_above = leave
            for k in range(pes):
                reads += n_q * taps[k]
                busy += n_q * words_sum[k]
                words += n_q * words_sum[k]
                macs += n_q * entries_sum[k]
            windows += n_q * pes
            psums += n_q * pes * m0
        for q in range(job_q0[j], job_q0[j] if all_dense else job_q1[j]):  # the general walk
            position = positions[slot]
            positions[slot] += 1
            from_above = (position + 1) * transfer if job_pass[j] > 0 else 0  # psums of earlier slices, from GLB
            gated = position >= buffer
            gate_index = (position - buffer) % max_buffer if gated else 0  # once per position, not per PE
            sent_index = position % max_buffer
            for k in range(pes):
                gate = sent[slot, k, gate_index] if gated else 0
                dep, fin, cnt = departed[slot, k], finished[slot, k], fetched_count[slot, k]
                windows += 1
                if not csc_iacts and no_empty[k]:  # a window in one step (module docstring)
                    if cnt == 0:
                        b = tap_words[k, 0]
                        dep, fin, start, waited = pipeline_step(dep, fin, -1, gate, b)
                        fin += words_sum[k] - b
                        iact_wait += waited
                    else:
                        fin = (fin if fin > gate else gate) + words_sum[k]
                    cnt += taps[k]
                    reads += taps[k]
                    busy += words_sum[k]
                    words += words_sum[k]
                    macs += entries_sum[k]
                else:
                    if csc_iacts:
                        lo = hi = 0
                        if window_base[k] >= 0:
                            lo, hi = tap_pointers[window_base[k] + q], tap_pointers[window_base[k] + q + 1]
                    else:
                        lo, hi = 0, taps[k]
                    last_start = ring[slot, k, 0]
                    if csc_iacts and single:  # the common case, pipeline_step written out on the PE's taps
                        words_k, entries_k, nonzeros_k = tap_words[k], tap_entries[k], tap_nonzeros[k]
                        window_words = window_entries = window_nonzeros = 0
                        for e in range(lo, hi):
                            t = tap_index[e]
                            b = words_k[t]
                            fetched = dep + 1
                            if cnt >= 1 and last_start > fetched:  # the fetch buffer's one slot still taken
                                fetched = last_start
                            ready = fin if fin > gate else gate
                            start = fetched if fetched > ready else ready
                            iact_wait += fetched - ready if fetched > ready else 0
                            fin = start + b
                            dep = fetched
                            last_start = start
                            cnt += 1
                            window_words += b
                            window_entries += entries_k[t]
                            window_nonzeros += nonzeros_k[t]
                        busy += window_words
                        words += window_words
                        nz_words += window_words  # every iact read is nonzero
                        macs += window_entries
                        nz_macs += window_entries
                        effectual += window_nonzeros
                    else:
                        for e in range(lo, hi):
                            t = tap_index[e] if csc_iacts else e
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
                            words += b
                            macs += tap_entries[k, t]
                            if csc_iacts:  # every iact read is nonzero
                                effectual += tap_nonzeros[k, t]
                                nz_words += b
                                nz_macs += tap_entries[k, t]
                    if single:
                        ring[slot, k, 0] = last_start
                    reads += hi - lo
                departed[slot, k], finished[slot, k], fetched_count[slot, k] = dep, fin, cnt
                done = fin if fin > gate else gate
                leave = done + transfer
                if from_above + 1 > leave:
                    leave = from_above + 1
                if last_sent[slot, k] + transfer > leave:
                    leave = last_sent[slot, k] + transfer
                last_sent[slot, k] = leave
                sent[slot, k, sent_index] = leave
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

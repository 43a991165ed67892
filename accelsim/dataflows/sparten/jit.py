"""SparTen's numba functions (Gondimalla et al., MICRO 2019): every cluster's compute units (CUs) walking the real
bitmasks, chunk by chunk.

Data come as chunks (built by accelsim.dataflows.sparten.chunks): a chunk is a SparseMap bitmask of `chunk_size`
positions in uint64 words (bit i of word i // 64 is position i) and its count of nonzeros. Filter chunk
(k, j) is chunk j of filter k's reduction; window chunk (g, m, j) names a stored input chunk (or -1: it lies wholly
in the padding and is never broadcast, except by the dense design, which multiplies every position).

A cluster runs passes one after another (accelsim.dataflows.sparten.schedule): one broadcast group of up to `cus`
filters (CU s holds filter assign[g, f, j, s] for chunk j: the same filter for every j unless GB-H reassigns chunks)
over a range of output positions m, for the chunks j0..j1 of the reduction its filter buffers hold. A pass starts
by loading the CUs' filter chunks over the cluster bus; then, for each position and chunk, the window chunk is
broadcast to every active CU's input buffer. CU s joins it with its filter chunk: the AND of the two masks, a
priority encoder picking matches one per cycle, prefix sums (popcounts) locating both operands in their packed
values (the timing needs their count only: the sums are accelsim.dataflows.sparten.outputs_jit's); max(products,
empty_join_cycles) cycles. CUs run on their own; a broadcast waits until every active CU has
a free buffer entry (an entry is freed when the CU starts the chunk) and the bus has moved the chunk. The pass
ends when the slowest CU has finished and its pipeline drained.

Every CU-cycle of a cluster lands in exactly one slot counter (BUSY ... IDLE_CU), so that they sum to the cluster's
cycles x cus; the caller adds the clusters' idle time after their last pass.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.extending import intrinsic

# What the CU multiplies (Config.sparsity).
TWO_SIDED = 0  # matches of both masks
WEIGHTS_ONLY = 1  # every nonzero weight, whatever the activation (the one-sided design)
DENSE = 2  # every position (the dense twin)

# CU-cycle slots, indices into the first array `walk_clusters` returns.
BUSY = 0  # a product issued
EMPTY_JOIN = 1  # a chunk with fewer products than its minimum cycles (no match: the encoder still looked)
BROADCAST_HELD = 2  # waiting for a chunk whose broadcast was held back by another CU's full buffer
BROADCAST_BUS = 3  # waiting for a chunk still being moved by the cluster bus
IMBALANCE = 4  # done with the pass, waiting for the slowest CU of the cluster
PIPELINE = 5  # the pipeline draining at the end of a pass
FILTER_LOAD = 6  # the pass's filter chunks being loaded into the CUs
IDLE_CU = 7  # a CU without a filter in this pass (fewer filters than CUs)
N_SLOTS = 8

# Counts, indices into the second array.
JOINS = 0  # chunk joins (one per active CU per broadcast)
ISSUED = 1  # products issued (= BUSY)
MATCHES = 2  # effectual products: both operands nonzero
BROADCASTS = 3  # chunks broadcast
BROADCAST_BITS = 4  # bits moved by the bus for broadcasts
RECEIVED_BITS = 5  # bits written into CU input buffers (broadcast bits x receiving CUs)
BUS_CYCLES = 6  # cycles the bus moved data (broadcasts and filter loads)
LOAD_BITS = 7  # filter bits loaded into CU filter buffers
PASSES = 8
N_COUNTS = 9

@intrinsic
def _llvm_ctpop(typingctx, word):
    """LLVM's population count: one instruction where the CPU has one, an exact bit-twiddling sequence where it has
    not; the count is the same either way."""
    def codegen(context, builder, signature, args):
        function = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(function, args)
    return types.uint64(types.uint64), codegen


def popcount_python(word):
    """Set bits of a uint64, in plain Python: `popcount` where nothing is compiled (intrinsics exist only in
    compiled code)."""
    return int(word).bit_count()


if config.DISABLE_JIT:
    popcount = popcount_python
else:
    @njit(cache=True, inline="always")
    def popcount(word):
        """Set bits of a uint64."""
        return np.int64(_llvm_ctpop(word))


@njit(cache=True, inline="always")
def join_matches(f_mask, f_at, x_mask, x_at, words):
    """Matches of one chunk join: the popcount of the AND of the two masks."""
    matches = 0
    for word in range(words):
        matches += popcount(f_mask[f_at + word] & x_mask[x_at + word])
    return matches


@njit(cache=True, nogil=True)
def walk_clusters(f_mask, f_nnz, x_mask, x_bits, window, chunk_len, dense_bits, assign, seg_ptr, seg_group, seg_fgroup,
                  seg_j0, seg_j1, seg_m0, seg_m1, seg_load_bits, cus, mode, depth, min_cycles, pipeline_depth,
                  bus_width, one_lane):
    """Walk every cluster's passes; return (cycles of each cluster, CU-cycle slots, counts, balance).

    f_mask (filters, J, words), f_nnz (filters, J): filter chunks. x_mask (S, words), x_bits (S,): stored input
    chunks (x_bits: the bits a two-sided broadcast moves, mask and nonzeros). window (groups, M, J): stored chunk of
    each window chunk, -1 in the padding. chunk_len (J,): positions of chunk j; dense_bits (J,): bits of chunk j
    uncompressed. assign (groups, filter groups, J, cus): filter of each CU slot (-1: none). Cluster c runs passes
    seg_ptr[c] .. seg_ptr[c + 1] - 1: conv group seg_group, filter group seg_fgroup, chunks seg_j0 .. seg_j1 - 1,
    positions seg_m0 .. seg_m1 - 1, seg_load_bits of filters to load. balance: the sum over passes of the busiest
    CU's cycles and of the mean active CU's cycles (their ratio is the imbalance the balancing left).

    Matches are counted by the two-sided design only (the others' products do not depend on them: the caller counts
    the effectual products). With one_lane, the dense design walks one CU per pass and counts it once per active
    CU: its CUs start a pass together and every broadcast gives each the same chunk length, so their timelines are
    the same (tests/test_sparten_jit.py holds the two walks equal).
    """
    n_clusters = seg_ptr.shape[0] - 1
    n_chunks = chunk_len.shape[0]
    words = x_mask.shape[1]
    f_flat = f_mask.reshape(-1)  # filter chunk (k, j) at words (k * J + j) * words
    x_flat = x_mask.reshape(-1)
    f_count = f_nnz.reshape(-1)
    cluster_cycles = np.zeros(n_clusters, dtype=np.int64)
    slots = np.zeros(N_SLOTS, dtype=np.int64)
    counts = np.zeros(N_COUNTS, dtype=np.int64)
    balance = np.zeros(2, dtype=np.float64)
    finish = np.zeros(cus, dtype=np.int64)
    work = np.zeros(cus, dtype=np.int64)
    ring = np.zeros((cus, depth), dtype=np.int64)
    for cluster in range(n_clusters):
        now = 0
        for seg in range(seg_ptr[cluster], seg_ptr[cluster + 1]):
            g = seg_group[seg]
            fg = seg_fgroup[seg]
            j0 = seg_j0[seg]
            j1 = seg_j1[seg]
            active = 0
            for s in range(cus):
                if assign[g, fg, j0, s] >= 0:
                    active += 1
            lanes = 1 if one_lane and mode == DENSE and active > 0 else active
            copies = active // lanes if lanes else 0  # CUs each walked lane stands for
            load = (seg_load_bits[seg] + bus_width - 1) // bus_width
            counts[LOAD_BITS] += seg_load_bits[seg]
            counts[BUS_CYCLES] += load
            counts[PASSES] += 1
            slots[FILTER_LOAD] += load * active
            start = now + load
            for s in range(lanes):
                finish[s] = start
                work[s] = 0
                for e in range(depth):
                    ring[s, e] = start
            bus_free = start
            sent = 0
            # Per-pass tallies in locals (the compiler keeps them in registers), added to the arrays at its end.
            busy = empty = held = on_bus_total = matched = 0
            for m in range(seg_m0[seg], seg_m1[seg]):
                for j in range(j0, j1):
                    x = window[g, m, j]
                    if x < 0 and mode != DENSE:
                        continue  # wholly in the padding: the address generator skips it
                    bits = x_bits[x] if mode == TWO_SIDED else dense_bits[j]
                    moving = (bits + bus_width - 1) // bus_width
                    entry = sent % depth
                    begin = bus_free
                    for s in range(lanes):  # the entry chunk `sent - depth` left must be free in every CU
                        if ring[s, entry] > begin:
                            begin = ring[s, entry]
                    arrived = begin + moving
                    bus_free = arrived
                    sent += 1
                    counts[BROADCAST_BITS] += bits
                    counts[BUS_CYCLES] += moving
                    for s in range(lanes):
                        if mode == TWO_SIDED:
                            issued = 0
                            if x >= 0:
                                chunk = assign[g, fg, j, s] * n_chunks + j
                                issued = join_matches(f_flat, chunk * words, x_flat, x * words, words)
                            matched += issued
                        elif mode == WEIGHTS_ONLY:
                            issued = f_count[assign[g, fg, j, s] * n_chunks + j]
                        else:
                            issued = chunk_len[j]
                        cycles = issued if issued > min_cycles else min_cycles
                        ready = finish[s]
                        begin_cu = ready if ready > arrived else arrived
                        gap = begin_cu - ready
                        on_bus = gap if gap < moving else moving
                        on_bus_total += on_bus
                        held += gap - on_bus
                        busy += issued
                        empty += cycles - issued
                        finish[s] = begin_cu + cycles
                        ring[s, entry] = begin_cu
                        work[s] += cycles
                    counts[RECEIVED_BITS] += bits * active
            slots[BUSY] += busy * copies
            slots[EMPTY_JOIN] += empty * copies
            slots[BROADCAST_HELD] += held * copies
            slots[BROADCAST_BUS] += on_bus_total * copies
            counts[ISSUED] += busy * copies
            counts[MATCHES] += matched
            counts[BROADCASTS] += sent
            counts[JOINS] += sent * active
            end = start
            busiest = 0
            total_work = 0
            for s in range(lanes):
                if finish[s] > end:
                    end = finish[s]
                if work[s] > busiest:
                    busiest = work[s]
                total_work += work[s] * copies
            for s in range(lanes):
                slots[IMBALANCE] += (end - finish[s]) * copies
            end += pipeline_depth - 1
            slots[PIPELINE] += (pipeline_depth - 1) * active
            slots[IDLE_CU] += (end - now) * (cus - active)
            balance[0] += busiest
            balance[1] += total_work / active
            now = end
        cluster_cycles[cluster] = now
    return cluster_cycles, slots, counts, balance

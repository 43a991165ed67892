"""SCNN's numba functions (Parashar et al., ISCA 2017): the PT-IS-CP-sparse Cartesian product of every PE, step by step.

Operands arrive as compressed blocks (CSR-like, built by accelsim.dataflows.scnn.mapping):
- activation block (image n, tile t, channel c): the nonzero activations of one input channel in one PE's
  Wt x Ht tile, in row-major order, with their global (h, w) coordinates;
- weight block (group index gi, weight slice v, channel c): the nonzero weights of one output-channel group Kc
  for one input channel, in (r, s, k) order with k fastest, with their coordinates (k local to the group).

For each output-channel group every PE walks its channels; per channel, each vector of up to I activations meets
each vector of up to F weights: one step of the F x I multiplier array. Each product's output coordinate is
computed; a product that lands on no output (a skipped position of a stride > 1 layer, or outside the plane at a
padded border) is wasted. The others cross the F*I -> A scatter crossbar to the accumulator bank of their address
(bank_of_address) and waits in that bank's input queue; a bank writes one product per cycle, and the array
stalls when a bank's queue cannot take a step's products. The slowest PE of a group sets the group's time (the
barrier); the caller does that.

Bank queues as times: each bank keeps the cycle at which its queue will be empty (busy_until); at cycle T its queue
holds max(0, busy_until - T) products, and a product arriving at T moves busy_until to max(busy_until, T) + 1. A
step's products arrive together; the array waits until every bank of the step can hold what it got (a queue holds
`depth`: a bank receiving more than `depth` at once takes them as it drains), then spends the step's own cycle.
Depth 1 is a crossbar without buffers: a step lasts as many cycles as its busiest bank receives products. A group
ends when the last queued product is in its accumulator. Banks that got nothing in a step need no visit: their
queues drain by the passing of time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Bank mappings of an accumulator address.
MODULO = 0  # address mod A: low-order interleaving
XOR_FOLD = 1  # the address's A-sized digits XOR-ed together (A a power of two): spreads strided addresses

# Indices into the counter array `cartesian_product` returns (PE-steps and products summed over the layer).
STEPS = 0  # multiplier-array steps (one F x I vector pair each)
CONFLICT_CYCLES = 1  # PE-cycles the array waited for full bank queues, and for the queues to empty at a group's end
PRODUCTS = 2  # products issued (non-empty multiplier slots)
VALID_PRODUCTS = 3  # products that reached an accumulator
EMPTY_SLOTS = 4  # multiplier slots left empty because a vector was shorter than F or I
ACTIVATION_VECTORS = 5  # activation vectors read from the IARAM (one per vector per weight sweep)
WEIGHT_VECTORS = 6  # weight vectors delivered to one PE (summed over PEs)
N_COUNTERS = 7


@njit(cache=True)
def bank_of_address(address, banks, mapping):
    if mapping == MODULO:
        return address % banks
    shift = 0
    while (1 << shift) < banks:  # banks is a power of two (checked by the dataflow)
        shift += 1
    bank = 0
    while address > 0:
        bank ^= address & (banks - 1)
        address >>= shift
    return bank


@njit(cache=True)
def output_coordinate(x, pad, r, dilation, stride, size):
    """Output index that input index x feeds through kernel offset r, or -1 when the product lands on no output."""
    numerator = x + pad - r * dilation
    if stride == 1:  # the common case, without a division
        return numerator if 0 <= numerator < size else -1
    if numerator < 0 or numerator % stride:
        return -1
    out = numerator // stride
    return out if out < size else -1


@njit(cache=True)
def bank_table(addresses, banks, mapping):
    """The bank of every accumulator address 0 .. addresses - 1: one lookup per product instead of the hash."""
    table = np.zeros(max(addresses, 1), dtype=np.int64)
    for address in range(addresses):
        table[address] = bank_of_address(address, banks, mapping)
    return table


@njit(cache=True)
def cartesian_product(act_ptr, act_pn, act_qn, act_val, w_ptr, w_k, w_rn, w_sn, w_val, k_base, a_phase_ptr,
                      w_phase_ptr, n_phases, n_images, n_groups, n_tiles, n_pes, channels, act_channels, act_c0,
                      act_pe_step, w_pe_step, w_slices, region_p0, region_q0, region_h, region_w, P, Q, stride_h,
                      stride_w, f_width, i_width, banks, banks_of, crossbar, queue_depth, out, compute_output):
    """Run every PE over every output-channel group; return (cycles of each (image, group, PE), counters).

    Activation block of (n, PE pe, channel c of group gi's channels) is
    act_ptr[(n * n_tiles + pe * act_pe_step) * act_channels + act_c0[gi] + c];
    weight block of (group gi, PE pe, channel c) is w_ptr[(gi * w_slices + pe * w_pe_step) * channels + c], its
    output channels start at k_base[gi * w_slices + pe * w_pe_step]. act_pe_step = 1, w_pe_step = 0 is planar
    tiling (each PE its own input tile, weights broadcast); 0 and 1 is the output-channel split of FC layers.
    Within a block, phase class c holds entries a_phase_ptr[block * (n_phases + 1) + c] up to the next pointer (the
    same for weights); only activations and weights of one class form products (stride phases).

    Output coordinates come as numerators (accelsim.dataflows.scnn.walk): a product of activation a and weight w
    lands on output row (act_pn[a] - w_rn[w]) / stride_h when that is a whole number in 0 .. P - 1 (columns
    alike), else on no output. With stride phases the division is done ahead (stride 1 here). Accumulator address
    of output (k, p, q) on a PE: (k_local * region_h + p - region_p0) * region_w + q - q0; its bank is
    banks_of[address]; `out` is (images, K, P, Q).
    """
    pe_cycles = np.zeros((n_images, n_groups, n_pes), dtype=np.int64)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    busy_until = np.zeros(banks, dtype=np.int64)  # the cycle at which each bank's queue is empty
    now = 0  # the PE's clock, run on over groups and PEs: a group's cycles are a difference
    out_flat = out.reshape(out.size)
    k_out = out.shape[1]
    region = region_h * region_w
    steps = conflict = products = valid_products = empty = act_vectors = weight_vectors = 0
    for n in range(n_images):
        for gi in range(n_groups):
            for pe in range(n_pes):
                a_block = (n * n_tiles + pe * act_pe_step) * act_channels + act_c0[gi]
                slice_index = gi * w_slices + pe * w_pe_step
                w_block = slice_index * channels
                out_base = (n * k_out + k_base[slice_index]) * P * Q
                address_base = region_p0[pe] * region_w + region_q0[pe]
                start = now
                last_busy = now  # the latest busy_until of the group's banks
                for c in range(channels):
                    if act_ptr[a_block + c] == act_ptr[a_block + c + 1] or w_ptr[w_block + c] == w_ptr[
                            w_block + c + 1]:
                        continue  # an empty block is skipped with its count field
                    for phase in range(n_phases):
                        a_start = a_phase_ptr[(a_block + c) * (n_phases + 1) + phase]
                        a_end = a_phase_ptr[(a_block + c) * (n_phases + 1) + phase + 1]
                        w_start = w_phase_ptr[(w_block + c) * (n_phases + 1) + phase]
                        w_end = w_phase_ptr[(w_block + c) * (n_phases + 1) + phase + 1]
                        weight_vectors += (w_end - w_start + f_width - 1) // f_width
                        if a_start == a_end or w_start == w_end:
                            continue
                        for ai in range(a_start, a_end, i_width):
                            a_stop = min(ai + i_width, a_end)
                            act_vectors += 1
                            for wi in range(w_start, w_end, f_width):
                                w_stop = min(wi + f_width, w_end)
                                filled = (a_stop - ai) * (w_stop - wi)
                                steps += 1
                                products += filled
                                empty += f_width * i_width - filled
                                valid = 0
                                step_busy = now  # the latest busy_until of the step's banks
                                for a in range(ai, a_stop):
                                    pn = act_pn[a]
                                    qn = act_qn[a]
                                    value = act_val[a]
                                    for w in range(wi, w_stop):
                                        p = pn - w_rn[w]
                                        q = qn - w_sn[w]
                                        if stride_h != 1:
                                            if p < 0 or p % stride_h:
                                                continue
                                            p //= stride_h
                                        if stride_w != 1:
                                            if q < 0 or q % stride_w:
                                                continue
                                            q //= stride_w
                                        if p < 0 or p >= P or q < 0 or q >= Q:
                                            continue
                                        k = w_k[w]
                                        if crossbar:
                                            bank = banks_of[k * region + p * region_w + q - address_base]
                                            busy = max(busy_until[bank], now) + 1
                                            busy_until[bank] = busy
                                            step_busy = max(step_busy, busy)
                                        if compute_output:
                                            out_flat[out_base + (k * P + p) * Q + q] += value * w_val[w]
                                        valid += 1
                                valid_products += valid
                                wait = max(step_busy - now - queue_depth, 0)  # the fullest queue must hold its own
                                now += 1 + wait
                                conflict += wait
                                last_busy = max(last_busy, step_busy)
                tail = max(last_busy - now, 0)  # the group ends when the last queued product is written
                now += tail
                conflict += tail
                pe_cycles[n, gi, pe] = now - start
    counters[STEPS] = steps
    counters[CONFLICT_CYCLES] = conflict
    counters[PRODUCTS] = products
    counters[VALID_PRODUCTS] = valid_products
    counters[EMPTY_SLOTS] = empty
    counters[ACTIVATION_VECTORS] = act_vectors
    counters[WEIGHT_VECTORS] = weight_vectors
    return pe_cycles, counters


@njit(cache=True)
def dense_product_counts(act_ptr, act_h, act_w, w_ptr, w_r, w_s, a_phase_ptr, w_phase_ptr, n_phases, n_images,
                         n_groups, n_tiles, n_pes, channels, act_channels, act_c0, act_pe_step, w_pe_step, w_slices,
                         P, Q, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, kernel_h, kernel_w, f_width, i_width):
    """The same schedule as `cartesian_product` without a crossbar or an output, counted without visiting each
    product: a step always takes one cycle, and a class's useful products are, over kernel offsets (r, s), the
    weights at (r, s) times the activations whose output through (r, s) exists. For a schedule whose every operand
    is a slot (SCNN with zero skipping off), this is Kc times faster than the product-by-product walk."""
    pe_cycles = np.zeros((n_images, n_groups, n_pes), dtype=np.int64)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    weights_at = np.zeros((kernel_h, kernel_w), dtype=np.int64)
    for n in range(n_images):
        for gi in range(n_groups):
            for pe in range(n_pes):
                a_block = (n * n_tiles + pe * act_pe_step) * act_channels + act_c0[gi]
                w_block = (gi * w_slices + pe * w_pe_step) * channels
                cycles = 0
                for c in range(channels):
                    if act_ptr[a_block + c] == act_ptr[a_block + c + 1] or w_ptr[w_block + c] == w_ptr[
                            w_block + c + 1]:
                        continue
                    for phase in range(n_phases):
                        a_start = a_phase_ptr[(a_block + c) * (n_phases + 1) + phase]
                        a_end = a_phase_ptr[(a_block + c) * (n_phases + 1) + phase + 1]
                        w_start = w_phase_ptr[(w_block + c) * (n_phases + 1) + phase]
                        w_end = w_phase_ptr[(w_block + c) * (n_phases + 1) + phase + 1]
                        n_act, n_wt = a_end - a_start, w_end - w_start
                        w_vectors = (n_wt + f_width - 1) // f_width
                        counters[WEIGHT_VECTORS] += w_vectors
                        if n_act == 0 or n_wt == 0:
                            continue
                        a_vectors = (n_act + i_width - 1) // i_width
                        steps = a_vectors * w_vectors
                        cycles += steps
                        counters[STEPS] += steps
                        counters[PRODUCTS] += n_act * n_wt
                        counters[EMPTY_SLOTS] += steps * f_width * i_width - n_act * n_wt
                        counters[ACTIVATION_VECTORS] += a_vectors
                        weights_at[:, :] = 0
                        for w in range(w_start, w_end):
                            weights_at[w_r[w], w_s[w]] += 1
                        for a in range(a_start, a_end):
                            for r in range(kernel_h):
                                if output_coordinate(act_h[a], pad_h, r, dil_h, stride_h, P) < 0:
                                    continue
                                for s in range(kernel_w):
                                    if output_coordinate(act_w[a], pad_w, s, dil_w, stride_w, Q) >= 0:
                                        counters[VALID_PRODUCTS] += weights_at[r, s]
                pe_cycles[n, gi, pe] = cycles
    return pe_cycles, counters

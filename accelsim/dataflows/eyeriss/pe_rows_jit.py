"""The per-PE rows of traffic.phase_traffic (one row per PE of every job: its phase, grid row, NoC domain, iact row
segment and, for the PEs that load weights, its weight tile) in one numba pass over the jobs, where numpy built
them from about forty gathers and arithmetic passes over the rows (about 230 ns a row; issue 20)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def pe_rows(job_pes, job_n, job_block, job_slice, job_p, job_q0, job_q1, job_slot, job_phase, job_loads,
            items_cb, items_r, block_group, tile_entries, prefix, layer, grid, bits):
    """(7, PEs) and (6, loading PEs) int64: per PE, in job order (PE k of a job runs reduction item
    slice * chain_length + k), its iact row (phase, grid row, chain slot, domain, segment key, segment bits,
    segment values) and, of the PEs whose job loads weights, its weight row (phase, grid row, chain slot, weight
    port, tile key, tile bits).

    layer: (groups, channel blocks, Cg, H, W, Q, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w, S, C0);
    grid: (chain_length, cols, domain_rows, domain_cols, weight_port_rows, weight_port_cols);
    bits: (csc_iacts, pair_bits, count_bits, act_bits, tile bits per entry, tile bits per tile). prefix: the
    channel blocks' nonzero prefix counts per row (traffic_jit.block_row_prefix) when csc_iacts, else unused."""
    groups, blocks, cg, height, width, q, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w, s, c0 = layer
    length, cols, domain_rows, domain_cols, port_rows, port_cols = grid
    csc, pair_bits, count_bits, act_bits, tile_scale, tile_constant = bits
    total = 0
    loading = 0
    for j in range(job_pes.shape[0]):
        total += job_pes[j]
        loading += job_pes[j] if job_loads[j] else 0
    iact = np.empty((7, total), dtype=np.int64)  # the rows' fields, one array each (the docstring's order)
    weight = np.empty((6, loading), dtype=np.int64)
    phase, row, slot, domain, key, segment_bits, segment_values = (iact[0], iact[1], iact[2], iact[3], iact[4],
                                                                   iact[5], iact[6])
    w_phase, w_row, w_slot, w_port, w_key, w_bits = weight[0], weight[1], weight[2], weight[3], weight[4], weight[5]
    domains_per_row = cols // domain_cols
    ports_per_row = cols // port_cols
    items = items_cb.shape[0]
    i = 0
    w = 0
    for j in range(job_pes.shape[0]):
        n, block, chain_slot = job_n[j], job_block[j], job_slot[j]
        g = block_group[block]
        lo = min(max(job_q0[j] * stride_w - pad_w, 0), width)
        hi = min(max((job_q1[j] - 1) * stride_w + (s - 1) * dil_w - pad_w + 1, 0), width)
        column = chain_slot % cols
        for k in range(job_pes[j]):
            item = job_slice[j] * length + k
            cb, r = items_cb[item], items_r[item]
            grid_row = (chain_slot // cols) * length + k
            h = job_p[j] * stride_h + r * dil_h - pad_h
            phase[i] = job_phase[j]
            row[i] = grid_row
            slot[i] = chain_slot
            domain[i] = (grid_row // domain_rows) * domains_per_row + column // domain_cols
            key[i] = ((((n * groups + g) * blocks + cb) * (height + 1) + max(h + 1, 0)) * (q + 1)) + job_q0[j]
            if h >= 0 and h < height and hi > lo:
                if csc:
                    values = prefix[n, g, cb, h, hi] - prefix[n, g, cb, h, lo]
                    segment_values[i] = values
                    segment_bits[i] = values * pair_bits + ((hi - lo + stride_w - 1) // stride_w) * count_bits
                else:
                    values = (min(cg, (cb + 1) * c0) - cb * c0) * (hi - lo)
                    segment_values[i] = values
                    segment_bits[i] = values * act_bits
            else:
                segment_values[i] = 0
                segment_bits[i] = 0
            if job_loads[j]:
                w_phase[w] = job_phase[j]
                w_row[w] = grid_row
                w_slot[w] = chain_slot
                w_port[w] = (grid_row // port_rows) * ports_per_row + column // port_cols
                w_key[w] = block * items + item
                w_bits[w] = tile_entries[block, cb, r] * tile_scale + tile_constant
                w += 1
            i += 1
    return iact, weight

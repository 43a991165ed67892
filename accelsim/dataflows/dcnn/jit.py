"""DCNN's numba functions: a conv layer computed through DCNN's own schedule (accelsim.dataflows.dcnn.mapping), one
F x I outer-product step at a time, returning each PE's steps per output-channel group, so that a test sees both
the output and the cycles the closed form predicts."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def dense_schedule(x_padded, weight, tile_rows, tile_cols, kc_of_group, conv_groups, stride_h, stride_w, dil_h,
                   dil_w, f_width, i_width, out):
    """Run every PE's schedule for one image and one spatial pass: for each conv group and output-channel group,
    for each vector of F output channels, each vector of I of the PE's output positions (row-major), each input
    channel c and kernel offset (r, s): one step of F x I products into `out` (K, P, Q), added in place.

    x_padded: (C, H + 2 pad, W + 2 pad); weight: (K, C/G, R, S). Returns steps[(conv group, output group), PE]."""
    k_total, c_per_group, kernel_h, kernel_w = weight.shape
    k_per_group = k_total // conv_groups
    n_pes = tile_rows.shape[0]
    n_k_groups = kc_of_group.shape[0]
    steps = np.zeros((conv_groups * n_k_groups, n_pes), dtype=np.int64)
    for g in range(conv_groups):
        k_start = g * k_per_group
        for kg in range(n_k_groups):
            kc = kc_of_group[kg]
            for pe in range(n_pes):
                p0, p1 = tile_rows[pe, 0], tile_rows[pe, 1]
                q0, q1 = tile_cols[pe, 0], tile_cols[pe, 1]
                width = q1 - q0
                positions = (p1 - p0) * width
                if positions <= 0:
                    continue
                count = 0
                for kv in range(0, kc, f_width):
                    k_stop = min(kv + f_width, kc)
                    for pv in range(0, positions, i_width):
                        p_stop = min(pv + i_width, positions)
                        for c in range(c_per_group):
                            for r in range(kernel_h):
                                for s in range(kernel_w):
                                    count += 1
                                    for kk in range(kv, k_stop):
                                        k = k_start + kg * kc_of_group[0] + kk
                                        w = weight[k, c, r, s]
                                        for pos in range(pv, p_stop):
                                            p = p0 + pos // width
                                            q = q0 + pos % width
                                            x = x_padded[g * c_per_group + c, p * stride_h + r * dil_h,
                                                         q * stride_w + s * dil_w]
                                            out[k, p, q] += w * x
                steps[g * n_k_groups + kg, pe] = count
    return steps

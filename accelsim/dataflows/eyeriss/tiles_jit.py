"""Per-layer weight counts of accelsim.dataflows.eyeriss.tiles in one pass over the weights each (numpy's
count_nonzero over a short axis of a padded copy was most of the tiling's time)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def block_column_nonzeros(mask, m0):
    """(G x ceil(Mg / m0), Cg, R, S): nonzero weights of each column of each block of m0 consecutive output
    channels of a group. mask: (G, Mg, Cg, R, S) bool."""
    groups, mg, cg, kernel_h, kernel_w = mask.shape
    per_group = (mg + m0 - 1) // m0
    columns = cg * kernel_h * kernel_w
    flat = mask.reshape(groups, mg, columns)  # one contiguous run of columns per output channel: vectorised
    counts = np.zeros((groups * per_group, columns), dtype=np.int64)
    for g in range(groups):
        for m in range(mg):
            block = g * per_group + m // m0
            for column in range(columns):
                counts[block, column] += flat[g, m, column]
    return counts.reshape(groups * per_group, cg, kernel_h, kernel_w)


@njit(cache=True)
def channel_tile_nonzeros(mask, c0):
    """(G, Mg, ceil(Cg / c0), R): nonzero weights each output channel puts into each PE tile (C0 channels x one
    filter row)."""
    groups, mg, cg, kernel_h, kernel_w = mask.shape
    blocks = (cg + c0 - 1) // c0
    counts = np.zeros((groups, mg, blocks, kernel_h), dtype=np.int64)
    for g in range(groups):
        for m in range(mg):
            for cb in range(blocks):  # no division per weight
                for c in range(cb * c0, min(cb * c0 + c0, cg)):
                    for r in range(kernel_h):
                        total = 0
                        for s in range(kernel_w):
                            total += mask[g, m, c, r, s]
                        counts[g, m, cb, r] += total
    return counts

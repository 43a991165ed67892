"""Weight sharing's numba functions: a weight's fixed-point level, and the histogram of a matrix's nonzeros over
those levels (accelsim.dataflows.shared.weight_sharing fits its codebook to the histogram)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def level_index(w, scale, half):
    """Index of weight w's fixed-point level, rint(w / scale), in an array of 2 * half levels."""
    return int(np.rint(w / scale)) + half


@njit(cache=True)
def fixed_point_histogram(matrix, scale, levels):
    """Counts of the nonzero entries of `matrix` at each fixed-point level: level = rint(w / scale), stored at
    index level + levels // 2 (so `levels` = 2^bits covers -(2^(bits-1) - 1) .. 2^(bits-1) - 1)."""
    counts = np.zeros(levels, dtype=np.int64)
    half = levels // 2
    rows, cols = matrix.shape
    for i in range(rows):
        for j in range(cols):
            w = matrix[i, j]
            if w != 0:
                counts[level_index(w, scale, half)] += 1
    return counts

"""What the fast walk (accelsim.dataflows.eyeriss.walk_jit) lists once per layer: each window's nonzero taps (CSC
iacts) and, for uncompressed iacts, how often each filter tap meets a nonzero iact (walk_jit's docstring says why)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def window_taps(x, c0, kernel_w, stride_w, pad_w, dil_w, q_count):
    """(pointers, taps): window ((((n * G + g) * H + h) * channel blocks + cb) * Q + q) holds taps
    pointers[window] up to the next pointer, each the index (c - cb * C0) * S + s of a nonzero iact
    x[n, g, c, h, q * U + s * dil - pad] of channel block cb, in the order the walk reads them."""
    n_img, groups, cg, height, width = x.shape
    n_cb = (cg + c0 - 1) // c0
    windows = n_img * groups * height * n_cb * q_count
    pointers = np.zeros(windows + 1, dtype=np.int64)
    # a nonzero iact is in at most S windows; one more slot for the write past the last (no branch per zero)
    taps = np.empty(np.count_nonzero(x) * kernel_w + 1, dtype=np.int16)
    count = 0
    window = 0
    for n in range(n_img):
        for g in range(groups):
            for h in range(height):
                for cb in range(n_cb):
                    for q in range(q_count):
                        w0 = q * stride_w - pad_w
                        t = 0
                        for c in range(cb * c0, min(cb * c0 + c0, cg)):
                            for s in range(kernel_w):
                                w = w0 + s * dil_w
                                if 0 <= w < width:
                                    taps[count] = t
                                    count += 1 if x[n, g, c, h, w] != 0.0 else 0  # no branch per zero
                                t += 1
                        window += 1
                        pointers[window] = count
    return pointers, taps[:count]


@njit(cache=True)
def nonzero_tap_counts(x, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, p_count,
                       q_count):
    """(G, Cg, R, S): over every image and output position (p, q), how often tap (c, r, s) meets a nonzero iact."""
    n_img, groups, cg, height, width = x.shape
    counts = np.zeros((groups, cg, kernel_h, kernel_w), dtype=np.int64)
    for n in range(n_img):
        for g in range(groups):
            for c in range(cg):
                for r in range(kernel_h):
                    for p in range(p_count):
                        h = p * stride_h + r * dil_h - pad_h
                        if not 0 <= h < height:
                            continue
                        for s in range(kernel_w):
                            total = 0
                            for q in range(q_count):
                                w = q * stride_w + s * dil_w - pad_w
                                if 0 <= w < width:
                                    total += 1 if x[n, g, c, h, w] != 0.0 else 0
                            counts[g, c, r, s] += total
    return counts

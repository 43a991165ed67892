"""The systolic baseline's numba functions: the GEMM computed fold by fold in the array's schedule, N:M compression of
the weight operand with the product over the compressed form."""

from __future__ import annotations

import numpy as np
from numba import njit

from accelsim.dataflows.systolic import nm

nm_compressed_length = njit(cache=True)(nm.nm_compressed_length)

STATIONARY_CODES = {"os": 0, "ws": 1, "is": 2}


@njit(cache=True)
def folded_gemm(a, b, rows, cols, stationary):
    """out = a @ b (a: M x W, b: W x K, float64) accumulated in the order the array's folds produce it.

    The array's rows and columns span (M, K) for output stationary, (W, K) for weight stationary and (W, M) for
    input stationary; each fold adds its block of products, so a fold that were skipped or run twice would show.
    """
    m, w = a.shape
    k = b.shape[1]
    out = np.zeros((m, k))
    if stationary == 0:
        spans = (m, k)
    elif stationary == 1:
        spans = (w, k)
    else:
        spans = (w, m)
    row_folds = (spans[0] + rows - 1) // rows
    col_folds = (spans[1] + cols - 1) // cols
    for fc in range(col_folds):
        for fr in range(row_folds):
            r0, r1 = fr * rows, min((fr + 1) * rows, spans[0])
            c0, c1 = fc * cols, min((fc + 1) * cols, spans[1])
            if stationary == 0:
                for i in range(r0, r1):
                    for j in range(c0, c1):
                        acc = 0.0
                        for t in range(w):
                            acc += a[i, t] * b[t, j]
                        out[i, j] += acc
            elif stationary == 1:
                for i in range(m):
                    for j in range(c0, c1):
                        acc = 0.0
                        for t in range(r0, r1):
                            acc += a[i, t] * b[t, j]
                        out[i, j] += acc
            else:
                for i in range(c0, c1):
                    for j in range(k):
                        acc = 0.0
                        for t in range(r0, r1):
                            acc += a[i, t] * b[t, j]
                        out[i, j] += acc
    return out


@njit(cache=True)
def nm_compress(b, n, m):
    """Compress b (W x K) to N of every M consecutive rows: values and indices of shape (nm_compressed_length, K).

    Returns (values, indices, fits): fits is False when some group holds more nonzeros than its slots (then the
    compressed form would drop work and must not be used). Groups with fewer nonzeros are padded with zero values
    pointing at the group's first row, as sparse tensor cores store them.
    """
    w, k = b.shape
    length = nm_compressed_length(w, n, m)
    values = np.zeros((length, k))
    indices = np.zeros((length, k), dtype=np.int64)
    fits = True
    for j in range(k):
        base = 0
        for start in range(0, w, m):
            stop = min(start + m, w)
            slots = min(n, stop - start)
            slot = 0
            for t in range(start, stop):
                if b[t, j] != 0.0:
                    if slot == slots:
                        fits = False
                        break
                    values[base + slot, j] = b[t, j]
                    indices[base + slot, j] = t
                    slot += 1
            for pad in range(slot, slots):
                indices[base + pad, j] = start
            base += slots
    return values, indices, fits


@njit(cache=True)
def nm_gemm(a, values, indices):
    """a (M x W) times the N:M-compressed weight: each compressed entry selects its activation by index."""
    m = a.shape[0]
    wc, k = values.shape
    out = np.zeros((m, k))
    for i in range(m):
        for j in range(k):
            acc = 0.0
            for t in range(wc):
                acc += a[i, indices[t, j]] * values[t, j]
            out[i, j] = acc
    return out

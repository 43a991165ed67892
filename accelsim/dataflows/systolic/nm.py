"""N:M structured sparsity on the systolic array: the shortened reduction and the pattern that stores a layer's
weights in the fewest slots ('detect'). Compressing the weights is numba (jit.py)."""

from __future__ import annotations

import numpy as np

from accelsim.dataflows.shared.gemm_view import gemm_weights
from accelsim.workload import Layer


def parse_nm(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    n, m = (int(part) for part in str(text).split(":"))
    return n, m


def nm_compressed_length(w: int, n: int, m: int) -> int:
    """Slots of a reduction of length w stored N:M: N per full group of M, min(N, rest) for a last partial group
    (SCALE-Sim v3's count: floor(w / M) * N + min(w mod M, N))."""
    return (w // m) * n + min(w % m, n)


def detect_nm(layer: Layer, largest_m: int = 16) -> tuple[int, int] | None:
    """The (N, M) with M in 2, 4, .., largest_m whose compressed reduction is shortest for this layer's weights (ties:
    the smaller M), or None when no pattern beats dense. N is the most nonzeros any group of M holds."""
    if not layer.weight_is_static:
        return None
    matrices = gemm_weights(layer)
    w = matrices[0].shape[0]
    best, best_length = None, w
    m = 2
    while m <= largest_m:
        n = 0
        for b in matrices:
            padded = np.zeros((-(-w // m) * m, b.shape[1]), dtype=bool)
            padded[:w] = b != 0
            n = max(n, int(padded.reshape(-1, m, b.shape[1]).sum(axis=1).max(initial=0)))
        length = nm_compressed_length(w, max(n, 1), m)
        if n < m and length < best_length:
            best, best_length = (max(n, 1), m), length
        m *= 2
    return best

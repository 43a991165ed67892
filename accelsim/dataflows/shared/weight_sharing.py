"""Weight sharing (Han et al., "Deep Compression", ICLR 2016; EIE stores a 4-bit index into a 16-entry codebook).

The codebook is fitted per layer to its nonzero weights by one-dimensional k-means with linear initialisation over
[min, max] (Deep Compression found it the best initialisation, as it keeps the rare large weights). Code 0 is
reserved for zero, so that EIE's padding entries and zero weights add nothing: a b-bit index leaves 2^b - 1
clusters for the nonzeros (the authors' simulator dumps its weights the same way: 15 centroids behind a zero).

The weights are first taken to `fixed_point_bits` fixed point (EIE's datapath is 16-bit), scaled so that the
largest magnitude is the largest level. k-means then runs over the histogram of those levels: for 16 bits 65,536
bins instead of millions of weights, exact for fixed-point data. The codebook values are themselves fixed point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.shared.weight_sharing_jit import fixed_point_histogram, lloyd_sorted

MAX_ITERATIONS = 200


@dataclass(frozen=True, eq=False)
class Codebook:
    values: np.ndarray
    """(2^index_bits,) decoded weight of each code; values[0] == 0."""
    scale: float
    """Weight per fixed-point level."""
    levels: int
    """Number of fixed-point levels, 2^fixed_point_bits; a weight w has level rint(w / scale) + levels // 2."""
    level_to_code: np.ndarray
    """(levels,) code of every level (the nearest codebook value)."""
    relative_rms_error: float
    """sqrt(sum (w - codebook value)^2 / sum w^2) over the nonzero fixed-point weights."""
    iterations: int

    def quantize(self, weight: np.ndarray) -> np.ndarray:
        """The weights as the accelerator decodes them: zero stays zero, every other weight its code's value."""
        weight = np.asarray(weight, dtype=np.float64)
        levels = np.rint(weight / self.scale).astype(np.int64) + self.levels // 2
        return np.where(weight == 0, 0.0, self.values[self.level_to_code[np.clip(levels, 0, self.levels - 1)]])


def fixed_point_scale(weight: np.ndarray, fixed_point_bits: int = 16) -> float:
    """Weight per level of `fixed_point_bits` fixed point, so that the largest magnitude is the largest level."""
    if not 2 <= fixed_point_bits <= 24:
        raise ValueError(f"fixed_point_bits must be in 2..24, got {fixed_point_bits}")
    largest = max(float(weight.max(initial=0.0)), -float(weight.min(initial=0.0)))  # no |weight| temporary
    return largest / ((1 << (fixed_point_bits - 1)) - 1) if largest > 0 else 1.0


def fit_codebook(matrix: np.ndarray, *, index_bits: int = 4, fixed_point_bits: int = 16) -> Codebook:
    """A codebook of 2^index_bits entries (code 0 = zero) fitted to the nonzeros of a 2-D weight matrix."""
    matrix = np.ascontiguousarray(matrix)
    scale = fixed_point_scale(matrix, fixed_point_bits)
    counts = fixed_point_histogram(matrix, scale, 1 << fixed_point_bits)
    return codebook_from_histogram(counts, scale, index_bits=index_bits)


def codebook_from_histogram(counts: np.ndarray, scale: float, *, index_bits: int = 4) -> Codebook:
    """The codebook for weights whose nonzeros have `counts[level + levels // 2]` at each fixed-point level
    (accelsim.dataflows.shared.weight_sharing_jit.fixed_point_histogram; a caller that walks the weights anyway can
    count them there)."""
    if not 1 <= index_bits <= 15:
        raise ValueError(f"index_bits must be in 1..15, got {index_bits}")
    levels = counts.size
    counts = counts.astype(np.float64)
    level_values = (np.arange(levels) - levels // 2) * scale
    occupied = np.flatnonzero(counts)
    clusters = (1 << index_bits) - 1
    if occupied.size == 0:
        return Codebook(np.zeros(clusters + 1), scale, levels, np.zeros(levels, dtype=np.int64), 0.0, 0)
    x, weight = level_values[occupied], counts[occupied]  # x is sorted: the histogram's levels are in order
    centroids, iterations = _lloyd_sorted(x, weight, np.linspace(x[0], x[-1], clusters))
    # The codebook holds fixed-point values; each level then takes the nearest of them.
    centroids = np.rint(centroids / scale) * scale
    values = np.concatenate([[0.0], centroids])
    level_to_code = 1 + _nearest(level_values, centroids)
    error = x - centroids[level_to_code[occupied] - 1]
    relative_rms = float(np.sqrt((weight * error**2).sum() / (weight * x**2).sum()))
    return Codebook(values, scale, levels, level_to_code.astype(np.int64), relative_rms, iterations)


def _lloyd_sorted(x: np.ndarray, weight: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, int]:
    """Lloyd's k-means on sorted weighted points (weight_sharing_jit.lloyd_sorted: a step is a binary search per cut
    and prefix sums; it stops when no cut moves).

    A cluster left empty (the linear start puts centroids in the gap that pruning leaves around zero) is moved to
    the point farthest from its centroid in the cluster with the largest squared error, as scikit-learn does, so
    that no code is wasted."""
    mass_before = np.concatenate([[0.0], np.cumsum(weight)])
    moment_before = np.concatenate([[0.0], np.cumsum(weight * x)])
    square_before = np.concatenate([[0.0], np.cumsum(weight * x * x)])
    return lloyd_sorted(x, mass_before, moment_before, square_before, centroids, MAX_ITERATIONS)


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid for each x (ties to the lower index); centroids need not be sorted."""
    order = np.argsort(centroids, kind="stable")
    ordered = centroids[order]
    midpoints = (ordered[1:] + ordered[:-1]) / 2
    return order[np.searchsorted(midpoints, x, side="left")]

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


@njit(cache=True)
def lloyd_sorted(x, mass_before, moment_before, square_before, centroids, max_iterations):
    """Lloyd's k-means on sorted weighted points x, given the prefix sums of their weights, weights x x and
    weights x x^2 (each with a leading 0); returns (centroids, iterations). In one dimension each cluster is a run of
    consecutive points cut at the midpoints between neighbouring centroids, so one step is a binary search per cut
    and differences of prefix sums; it stops when no cut moves. accelsim.dataflows.shared.weight_sharing explains
    the rule for empty clusters.

    Every float operation is the one numpy would do elementwise (the tests hold the two equal bit for bit)."""
    clusters = centroids.size
    centroids = centroids.copy()
    cuts = np.zeros(clusters + 1, dtype=np.int64)
    new_cuts = np.zeros(clusters + 1, dtype=np.int64)
    mass = np.empty(clusters)
    error = np.empty(clusters)
    for iteration in range(1, max_iterations + 1):
        # Points equal to a midpoint go to the lower cluster, as weight_sharing._nearest assigns ties.
        new_cuts[clusters] = x.size
        for i in range(1, clusters):
            new_cuts[i] = np.searchsorted(x, (centroids[i] + centroids[i - 1]) / 2, side="right")
        if iteration > 1 and np.array_equal(new_cuts, cuts):
            return centroids, iteration
        cuts[:] = new_cuts
        for i in range(clusters):
            mass[i] = mass_before[cuts[i + 1]] - mass_before[cuts[i]]
            moment = moment_before[cuts[i + 1]] - moment_before[cuts[i]]
            if mass[i] > 0:
                centroids[i] = moment / max(mass[i], 1e-300)
                error[i] = square_before[cuts[i + 1]] - square_before[cuts[i]] - moment * moment / max(mass[i], 1e-300)
            else:
                error[i] = -1.0
        for empty in range(clusters):
            if mass[empty] != 0:
                continue
            worst = np.argmax(error)
            first, last = x[cuts[worst]], x[cuts[worst + 1] - 1]
            if error[worst] <= 0 or first == last:
                break  # fewer distinct weights than codes: nothing left to split
            centroids[empty] = first if centroids[worst] - first > last - centroids[worst] else last
            error[worst] = -1.0  # split once per step: the next empty cluster takes another one
        centroids = np.sort(centroids)
    return centroids, max_iterations

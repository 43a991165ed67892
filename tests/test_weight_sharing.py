"""The per-layer codebook: k-means over fixed-point levels, code 0 reserved for zero."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.dataflows.shared.weight_sharing import fit_codebook
from accelsim.dataflows.shared.weight_sharing_jit import lloyd_sorted


@pytest.mark.parametrize(("index_bits", "optimal_mse", "outer_level"), [(2, 0.1902, 1.2240), (3, 0.04400, 2.0334)])
def test_gaussian_weights_reach_the_lloyd_max_quantizer(index_bits, optimal_mse, outer_level):
    # J. Max, "Quantizing for minimum distortion", IRE Trans. Inf. Theory 1960, Table I (unit-variance normal):
    # N = 3 levels: outputs 0, +-1.2240, mean squared error 0.1902; N = 7: outputs 0, +-0.5606, +-1.188,
    # +-2.0334, error 0.04400 (both re-derived here by Lloyd's iteration on scipy.stats.norm).
    # 2^bits - 1 clusters remain for the nonzeros; the normal density is log-concave, so Lloyd's iteration has a
    # single fixed point, which is Max's quantizer.
    weights = np.random.default_rng(0).standard_normal((1000, 1000))
    codebook = fit_codebook(weights, index_bits=index_bits)
    assert codebook.relative_rms_error == pytest.approx(np.sqrt(optimal_mse), rel=0.01)
    assert codebook.values[-1] == pytest.approx(outer_level, rel=0.01)
    assert codebook.values[0] == 0.0 and codebook.values.size == 1 << index_bits


def test_codes_are_nearest_values_and_values_are_cluster_means():
    rng = np.random.default_rng(5)
    weights = rng.laplace(size=(300, 40)) * (rng.random((300, 40)) < 0.2)
    codebook = fit_codebook(weights, index_bits=4)
    shared = codebook.quantize(weights)
    nonzero = weights != 0
    assert np.all(shared[~nonzero] == 0)
    # Each nonzero weight takes the nearest nonzero codebook value (code 0 is for zeros only).
    distance = np.abs(weights[nonzero][:, None] - codebook.values[None, 1:])
    np.testing.assert_allclose(np.abs(weights[nonzero] - shared[nonzero]), distance.min(axis=1),
                               atol=codebook.scale)
    # At convergence each value is the mean of the weights it stands for (up to its fixed-point rounding).
    for value in np.unique(shared[nonzero]):
        members = weights[nonzero][shared[nonzero] == value]
        assert abs(members.mean() - value) <= codebook.scale


def test_few_distinct_weights_are_kept_exactly():
    weights = np.array([[0.0, -1.0, 2.0], [1.0, 0.0, 2.0]])
    codebook = fit_codebook(weights, index_bits=4)
    np.testing.assert_allclose(codebook.quantize(weights), weights, atol=codebook.scale)
    assert codebook.relative_rms_error < 1e-4


def test_an_all_zero_matrix_has_an_all_zero_codebook():
    codebook = fit_codebook(np.zeros((3, 3)))
    assert np.all(codebook.values == 0) and codebook.relative_rms_error == 0.0


def test_bad_widths_are_refused():
    with pytest.raises(ValueError, match="index_bits"):
        fit_codebook(np.ones((2, 2)), index_bits=0)
    with pytest.raises(ValueError, match="fixed_point_bits"):
        fit_codebook(np.ones((2, 2)), fixed_point_bits=40)


def test_magnitude_pruned_weights_use_every_code():
    # Gaussian weights pruned to their largest 10% (|w| >= 1.645) leave a gap around zero where the linear start
    # puts centroids; emptied clusters are moved where the error is, so all 15 nonzero codes stand for weights.
    weights = np.random.default_rng(1).standard_normal((400, 500))
    weights[np.abs(weights) < 1.645] = 0.0
    codebook = fit_codebook(weights, index_bits=4)
    used = np.unique(codebook.quantize(weights)[weights != 0])
    assert used.size == 15
    assert np.all(np.abs(codebook.values[1:]) > 1.6)  # none left in the pruned gap


def lloyd_in_numpy(x, weight, centroids, max_iterations=200):
    """Lloyd's iteration on sorted weighted points as whole-array numpy steps (the implementation before
    weight_sharing_jit.lloyd_sorted): the reference the numba loop must equal bit for bit."""
    mass_before = np.concatenate([[0.0], np.cumsum(weight)])
    moment_before = np.concatenate([[0.0], np.cumsum(weight * x)])
    square_before = np.concatenate([[0.0], np.cumsum(weight * x * x)])
    cuts = None
    for iteration in range(1, max_iterations + 1):
        new_cuts = np.concatenate([[0], np.searchsorted(x, (centroids[1:] + centroids[:-1]) / 2, side="right"),
                                   [x.size]])
        if cuts is not None and np.array_equal(new_cuts, cuts):
            return centroids, iteration
        cuts = new_cuts
        mass = mass_before[cuts[1:]] - mass_before[cuts[:-1]]
        moment = moment_before[cuts[1:]] - moment_before[cuts[:-1]]
        centroids = np.where(mass > 0, moment / np.maximum(mass, 1e-300), centroids)
        error = np.where(mass > 0, square_before[cuts[1:]] - square_before[cuts[:-1]]
                         - moment**2 / np.maximum(mass, 1e-300), -1.0)
        for empty in np.flatnonzero(mass == 0):
            worst = int(np.argmax(error))
            first, last = x[cuts[worst]], x[cuts[worst + 1] - 1]
            if error[worst] <= 0 or first == last:
                break
            centroids[empty] = first if centroids[worst] - first > last - centroids[worst] else last
            error[worst] = -1.0
        centroids = np.sort(centroids)
    return centroids, max_iterations


@pytest.mark.parametrize("variant", ["jit", "py"])
@pytest.mark.parametrize(("seed", "points", "clusters"), [(0, 500, 15), (1, 40, 15), (2, 3, 7), (3, 2000, 3)])
def test_the_numba_lloyd_step_equals_numpy(variant, seed, points, clusters):
    rng = np.random.default_rng(seed)
    levels = np.unique(np.rint(rng.laplace(size=points) * 300))
    levels = levels[np.abs(levels) > 20]  # the gap that pruning leaves around zero: empty clusters at the start
    x, weight = levels * 1e-3, rng.integers(1, 50, levels.size).astype(np.float64)
    start = np.linspace(x[0], x[-1], clusters)
    expected = lloyd_in_numpy(x, weight, start.copy())
    kernel = lloyd_sorted if variant == "jit" else getattr(lloyd_sorted, "py_func", lloyd_sorted)
    prefix = [np.concatenate([[0.0], np.cumsum(values)]) for values in (weight, weight * x, weight * x * x)]
    centroids, iterations = kernel(x, *prefix, start, 200)
    np.testing.assert_array_equal(centroids, expected[0])
    assert iterations == expected[1]

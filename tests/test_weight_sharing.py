"""The per-layer codebook: k-means over fixed-point levels, code 0 reserved for zero."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.dataflows.shared.weight_sharing import fit_codebook


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

"""GemmFeatures read from real weights (accelsim.dataflows.library_kernels.features): the two reduction orders, nonzero
blocks, N:M detection, the densest row and block row, each checked against a hand-built expectation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from accelsim.dataflows.library_kernels.features import (
    features_of_matrices,
    gemm_features,
    is_n_m,
    nonzero_blocks,
    weight_matrices,
)
from accelsim.pruning import apply, parse_scheme
from accelsim.workload import Layer

rng = np.random.default_rng(7)


def _hand_conv_matrices(weight: np.ndarray, groups: int, layout: str) -> list[np.ndarray]:
    """Element by element: crs column c*R*S + r*S + s (torch flatten), rsc column (r*S + s)*C + c."""
    k, c_per_group, r_taps, s_taps = weight.shape
    per_group = k // groups
    out = []
    for g in range(groups):
        matrix = np.zeros((per_group, c_per_group * r_taps * s_taps), dtype=np.float32)
        for row in range(per_group):
            for c in range(c_per_group):
                for r in range(r_taps):
                    for s in range(s_taps):
                        column = (c * r_taps * s_taps + r * s_taps + s if layout == "crs"
                                  else (r * s_taps + s) * c_per_group + c)
                        matrix[row, column] = weight[g * per_group + row, c, r, s]
        out.append(matrix)
    return out


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("layout", ["crs", "rsc"])
def test_conv_weight_matrices_follow_the_layout(groups, layout):
    weight = rng.standard_normal((4, 6 // groups, 2, 3))
    layer = Layer("c", "conv2d", rng.standard_normal((1, 6, 5, 5)), weight, groups=groups)
    got = weight_matrices(layer, layout)
    expected = _hand_conv_matrices(weight, groups, layout)
    assert len(got) == groups
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == np.float32 and g.shape == (4 // groups, 6 // groups * 6)
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("layout", ["crs", "rsc"])
def test_linear_and_static_matmul_weights_are_k_by_c(layout):
    # linear weight is already (K, C); a static matmul's (G, C, K) becomes G matrices W_g^T of K x C
    linear = Layer("fc", "linear", rng.standard_normal((3, 5)), rng.standard_normal((4, 5)))
    (matrix,) = weight_matrices(linear, layout)
    np.testing.assert_array_equal(matrix, linear.weight.astype(np.float32))
    weight = rng.standard_normal((2, 5, 3))
    matmul = Layer("mm", "matmul", rng.standard_normal((2, 4, 5)), weight)
    got = weight_matrices(matmul, layout)
    assert len(got) == 2
    for g in range(2):
        expected = np.array([[weight[g, c, k] for c in range(5)] for k in range(3)], dtype=np.float32)
        np.testing.assert_array_equal(got[g], expected)


def test_attention_matmul_is_refused_with_a_reason():
    attention = Layer("qk", "matmul", rng.standard_normal((2, 4, 5)), rng.standard_normal((2, 5, 4)),
                      weight_is_static=False)
    with pytest.raises(ValueError, match=r"'qk'.*two activations.*attention"):
        weight_matrices(attention)
    with pytest.raises(ValueError, match="attention"):
        gemm_features(attention, parallel_units=2)


def test_unknown_layout_is_refused():
    linear = Layer("fc", "linear", np.ones((1, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="crs, rsc"):
        weight_matrices(linear, "kcrs")


def test_nonzero_blocks_counts_tiles_with_any_nonzero():
    # 4x8 cut into 2x4 tiles: (0,0) holds two nonzeros, (1,1) one in its far corner; (0,1) and (1,0) are empty
    matrix = np.zeros((4, 8))
    matrix[0, 0] = matrix[1, 3] = 1.0
    matrix[3, 7] = -2.0
    assert nonzero_blocks(matrix, 2, 4) == 2
    assert nonzero_blocks(matrix, 1, 1) == 3
    assert nonzero_blocks(matrix, 4, 8) == 1
    assert nonzero_blocks(np.zeros((4, 8)), 2, 4) == 0


@pytest.mark.parametrize("block", [(2, 3), (3, 4), (5, 8)])
def test_nonzero_blocks_is_zero_when_blocks_do_not_tile(block):
    assert nonzero_blocks(np.ones((4, 8)), *block) == 0


def test_is_n_m():
    assert is_n_m(np.array([[1, 2, 0, 0, 0, 3, 0, 4]]), 2, 4)
    assert not is_n_m(np.array([[1, 2, 3, 0, 0, 0, 0, 0]]), 2, 4)  # 3 nonzeros in the first group of 4
    assert not is_n_m(np.array([[1, 0, 0, 0, 0, 0]]), 2, 4)  # 6 columns do not divide into groups of 4
    assert is_n_m(np.zeros((3, 8)), 2, 4)
    # the groups are consecutive columns: [1,1,0,0 | 0,0,1,1] is 2:4, shifted by one column it is not
    assert is_n_m(np.array([[1, 1, 0, 0, 0, 0, 1, 1]]), 2, 4)
    assert not is_n_m(np.array([[0, 1, 1, 1, 0, 0, 0, 1]]), 2, 4)
    assert is_n_m(np.array([[1, 0, 0, 0, 0, 1, 0, 0]]), 1, 4)


def _rows_with_counts(counts: list[int], width: int) -> np.ndarray:
    matrix = np.zeros((len(counts), width))
    for row, count in enumerate(counts):
        matrix[row, width - count:] = row + 1.0  # at the end of the row: position does not matter
    return matrix


def test_densest_row_and_block_row_are_read_from_the_pattern():
    # rows with 5, 1, 1, 1, 4 nonzeros of 6: the densest row holds 5, whatever the device's units
    matrix = _rows_with_counts([5, 1, 1, 1, 4], width=6)
    for units in (1, 2, 132):
        f = features_of_matrices([matrix], [matrix], m=3, parallel_units=units, block=(1, 6))
        assert (f.nnz, f.nnz_densest_row, f.k, f.reduction, f.groups, f.parallel_units) == (12, 5, 5, 6, 1, units)
        assert f.nonzero_blocks == 5 and f.blocks_densest_row == 1  # 1x6 blocks: one per nonempty row
    assert f.density == pytest.approx(12 / 30)
    assert f.macs == 3 * 6 * 5
    # 4 x 8 in 2 x 2 blocks: block row 0 (rows 0-1) has nonzero blocks at columns 0-1, 4-5 and 6-7; block row 1
    # one, at columns 2-3 (both of its nonzeros); row 0 is the densest row, with 2
    grid = np.zeros((4, 8))
    grid[0, 0] = grid[0, 5] = grid[1, 7] = grid[2, 2] = grid[3, 3] = 1.0
    f = features_of_matrices([grid], [grid], m=2, parallel_units=2, block=(2, 2))
    assert (f.nonzero_blocks, f.blocks_densest_row, f.nnz_densest_row) == (4, 3, 2)


def test_groups_add_up_and_empty_weight_is_balanced():
    a = _rows_with_counts([3, 0, 0, 1], width=4)  # densest row 3
    b = _rows_with_counts([0, 1, 2, 2], width=4)  # densest row 2
    f = features_of_matrices([a, b], [a, b], m=2, parallel_units=2, block=(2, 2))
    assert (f.nnz, f.nnz_densest_row, f.groups) == (9, 3 + 2, 2)
    # 2x2 blocks: a's block rows hold 2 blocks (columns 0-1 and 2-3 of rows 0-1) and 1; b's 1 and 1 (its nonzeros
    # sit in columns 2-3): 5 in all, densest 2 + 1
    assert (f.nonzero_blocks, f.blocks_densest_row) == (5, 3)
    assert f.density == pytest.approx(9 / 32)
    empty = features_of_matrices([np.zeros((4, 4))], [np.zeros((4, 4))], m=2, parallel_units=2)
    assert empty.nnz == empty.nnz_densest_row == empty.blocks_densest_row == 0 and empty.density == 0.0
    untiled = features_of_matrices([a], [a], m=2, parallel_units=2, block=(3, 3))
    assert untiled.nonzero_blocks == untiled.blocks_densest_row == 0
    with pytest.raises(ValueError, match="parallel_units"):
        features_of_matrices([a], [a], m=2, parallel_units=0)


def test_gemm_features_shapes_per_op():
    conv = Layer("c", "conv2d", rng.standard_normal((2, 4, 7, 7)), rng.standard_normal((6, 2, 3, 3)),
                 stride=2, padding=1, groups=2)  # P = Q = (7 + 2 - 3) // 2 + 1 = 4
    f = gemm_features(conv, parallel_units=2, block=(3, 2))
    assert (f.m, f.reduction, f.k, f.groups) == (2 * 4 * 4, 2 * 9, 3, 2)
    assert f.nonzero_blocks == 2 * (1 * 9)  # dense weight: every 3x2 tile of each 3x18 group matrix
    linear = Layer("fc", "linear", rng.standard_normal((5, 8)), rng.standard_normal((4, 8)))
    assert (gemm_features(linear, parallel_units=1).m, gemm_features(linear, parallel_units=1).reduction) == (5, 8)
    matmul = Layer("mm", "matmul", rng.standard_normal((3, 5, 8)), rng.standard_normal((3, 8, 4)))
    g = gemm_features(matmul, parallel_units=1)
    assert (g.m, g.reduction, g.k, g.groups) == (5, 8, 4, 3)


def test_nm_pruned_conv_is_2_4_along_channels_last_only():
    # accelsim's nm:2:4 groups 4 consecutive input channels per (k, r, s): 2:4 in the "rsc" view, not in "crs"
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(8, 4, 3, groups=2, bias=False))
    apply(model, parse_scheme("nm:2:4"))
    layer = Layer("c", "conv2d", rng.standard_normal((1, 8, 5, 5)), model[0].weight.detach().numpy(), groups=2)
    assert gemm_features(layer, parallel_units=2).is_2_4
    assert all(is_n_m(m, 2, 4) for m in weight_matrices(layer, "rsc"))
    assert not all(is_n_m(m, 2, 4) for m in weight_matrices(layer, "crs"))
    assert gemm_features(layer, parallel_units=2).density == pytest.approx(0.5)
    dense = Layer("d", "conv2d", layer.input, rng.standard_normal((4, 4, 3, 3)), groups=2)
    assert not gemm_features(dense, parallel_units=2).is_2_4

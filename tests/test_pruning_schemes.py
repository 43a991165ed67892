"""Each scheme's masks against an independent numpy reference (or torch.nn.utils.prune itself)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import prune

from accelsim.pruning import NM, Block, Channel, Global, LayerMismatch, PruningError, Random, Unstructured, apply
from accelsim.pruning.selection import kept_count, top_k_mask


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_kept_count_rounds_half_up_not_to_even():
    assert kept_count(0.25, 2) == 1  # 0.5 -> 1 (Python's round would give 0)
    assert kept_count(0.5, 5) == 3  # 2.5 -> 3 (round: 2)
    assert kept_count(1 - 0.7, 5) == 2  # 1.5000000000000002 and 1.4999999999999998 alike
    assert kept_count(1 - 0.9, 1000) == 100
    assert kept_count(0.0, 7) == 0
    assert kept_count(1.0, 7) == 7


def test_top_k_breaks_ties_by_earlier_index():
    assert top_k_mask(torch.ones(10), 3).tolist() == [True] * 3 + [False] * 7
    scores = torch.tensor([0.0, 2.0, 1.0, 2.0, 1.0, 1.0])
    assert top_k_mask(scores, 4).tolist() == [False, True, True, True, True, False]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-3, 3), min_size=1, max_size=40), data=st.data())
def test_top_k_matches_a_stable_sort(values, data):
    k = data.draw(st.integers(0, len(values)))
    scores = np.asarray(values, dtype=np.float64)
    expected = np.zeros(len(values), dtype=bool)
    expected[np.argsort(-scores, kind="stable")[:k]] = True
    np.testing.assert_array_equal(top_k_mask(torch.from_numpy(scores), k).numpy(), expected)


# unstructured --------------------------------------------------------------------------------------------------


def test_unstructured_keeps_the_largest_magnitudes_with_half_up_count():
    w = _rand(7, 10)
    keep = Unstructured(sparsity=0.75).mask(w)
    assert int(keep.sum()) == 18  # 70 x 0.25 = 17.5, rounded half up
    reference = np.argsort(-np.abs(w.numpy()).ravel(), kind="stable")[:18]
    assert set(np.flatnonzero(keep.numpy().ravel())) == set(reference)


def test_unstructured_matches_torch_l1_unstructured_when_the_count_is_whole():
    w = _rand(10, 20)
    expected = prune.L1Unstructured(amount=60).compute_mask(w, torch.ones_like(w))
    assert torch.equal(Unstructured(sparsity=0.3).mask(w), expected.bool())


# random ---------------------------------------------------------------------------------------------------------


def test_random_is_exact_and_deterministic_per_seed_and_layer():
    w = _rand(16, 16)
    a = Random(sparsity=0.5, seed=3).mask(w, layer_name="fc")
    assert int(a.sum()) == 128
    assert torch.equal(a, Random(sparsity=0.5, seed=3).mask(w, layer_name="fc"))
    assert not torch.equal(a, Random(sparsity=0.5, seed=4).mask(w, layer_name="fc"))
    assert not torch.equal(a, Random(sparsity=0.5, seed=3).mask(w, layer_name="conv"))


def test_random_never_revives_zeros():
    w = _rand(10, 10)
    w[:6] = 0.0  # 40 nonzeros
    keep = Random(sparsity=0.8, seed=1).mask(w)  # keeps 20, all among the 40 nonzeros
    assert int(keep.sum()) == 20
    assert not keep[:6].any()


# N:M ------------------------------------------------------------------------------------------------------------


def _nm_reference(groups: np.ndarray, n: int) -> np.ndarray:
    """Keep the n largest |w| of each row of `groups` (stable: the lower index wins a tie)."""
    keep = np.zeros(groups.shape, dtype=bool)
    order = np.argsort(-np.abs(groups), axis=1, kind="stable")[:, :n]
    np.put_along_axis(keep, order, True, axis=1)
    return keep


@pytest.mark.parametrize(("n", "m"), [(2, 4), (1, 4), (4, 8), (3, 3)])
def test_nm_linear_groups_along_input_features(n, m):
    w = _rand(12, 48)
    keep = NM(n=n, m=m).mask(w).numpy()
    assert (keep.reshape(12, 48 // m, m).sum(axis=2) == n).all()
    np.testing.assert_array_equal(keep, _nm_reference(w.numpy().reshape(-1, m), n).reshape(12, 48))


@pytest.mark.parametrize(("n", "m"), [(2, 4), (1, 4), (4, 8)])
def test_nm_conv_groups_consecutive_input_channels_per_k_r_s(n, m):
    w = _rand(6, 16, 3, 2)
    keep = NM(n=n, m=m).mask(w).numpy()
    w_np = w.numpy()
    for k in range(6):
        for r in range(3):
            for s in range(2):
                for g in range(16 // m):
                    group = w_np[k, g * m : (g + 1) * m, r, s]
                    kept = keep[k, g * m : (g + 1) * m, r, s]
                    assert kept.sum() == n
                    assert np.abs(group[kept]).min() >= np.abs(group[~kept]).max(initial=0.0)


def test_nm_leaves_at_most_n_nonzeros_when_groups_already_hold_zeros():
    w = _rand(4, 8)
    w[:, ::2] = 0.0  # every group of 4 already has 2 zeros
    keep = NM(n=2, m=4).mask(w)
    assert torch.equal((w * keep) != 0, w != 0)  # the 2 nonzeros of each group are the ones kept


def test_nm_on_a_tensor_whose_reduction_is_not_divisible_raises():
    with pytest.raises(LayerMismatch, match=r"input channels C=3 .*not divisible by m=4"):
        NM(n=2, m=4).mask(torch.ones(8, 3, 3, 3))
    with pytest.raises(PruningError, match=r"input features C=10 .*not divisible by m=4"):
        NM(n=2, m=4).mask(torch.ones(5, 10))


@pytest.mark.parametrize(("n", "m"), [(3, 2), (0, 4), (-1, 4), (1, 0)])
def test_nm_rejects_impossible_n_and_m(n, m):
    with pytest.raises(ValueError, match=rf"1 <= n <= m .*got n={n}, m={m}"):
        NM(n=n, m=m)


# block ----------------------------------------------------------------------------------------------------------


def _block_reference(view: np.ndarray, rows: int, cols: int, sparsity: float) -> np.ndarray:
    """Zero the round-half-up(sparsity share) lowest-L2 blocks of a 2-D array, by plain numpy loops."""
    grid = [(i, j) for i in range(view.shape[0] // rows) for j in range(view.shape[1] // cols)]
    norms = [np.sqrt((view[i * rows : (i + 1) * rows, j * cols : (j + 1) * cols] ** 2).sum()) for i, j in grid]
    kept = int(np.floor((1 - sparsity) * len(grid) + 0.5))
    keep = np.zeros(view.shape, dtype=bool)
    for index in np.argsort(-np.asarray(norms), kind="stable")[:kept]:
        i, j = grid[index]
        keep[i * rows : (i + 1) * rows, j * cols : (j + 1) * cols] = True
    return keep


@pytest.mark.parametrize(("rows", "cols", "sparsity"), [(4, 4, 0.75), (1, 16, 0.5), (2, 8, 0.3)])
def test_block_zeroes_exactly_the_lowest_norm_blocks_of_a_linear_weight(rows, cols, sparsity):
    w = _rand(16, 32)
    keep = Block(block_rows=rows, block_cols=cols, sparsity=sparsity).mask(w).numpy()
    np.testing.assert_array_equal(keep, _block_reference(w.numpy().astype(np.float64), rows, cols, sparsity))


def test_block_on_a_conv_uses_torchs_flatten_order_k_by_crs():
    w = _rand(8, 4, 3, 3)  # GEMM view 8 x 36
    keep = Block(block_rows=2, block_cols=9, sparsity=0.5).mask(w).numpy()
    expected = _block_reference(w.numpy().reshape(8, 36).astype(np.float64), 2, 9, 0.5)
    np.testing.assert_array_equal(keep.reshape(8, 36), expected)


def test_block_that_does_not_divide_the_weight_raises():
    with pytest.raises(LayerMismatch, match=r"shape \(10, 16\).*\(10, 16\) is not divisible into 4x4 blocks"):
        Block(block_rows=4, block_cols=4, sparsity=0.5).mask(torch.ones(10, 16))
    with pytest.raises(ValueError, match="block_rows"):
        Block(block_rows=0, block_cols=4, sparsity=0.5)


# channel --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("norm", [1, 2])
def test_channel_zeroes_whole_filters_of_smallest_norm(norm):
    w = _rand(10, 3, 3, 3)
    keep = Channel(sparsity=0.4, norm=norm).mask(w).numpy()
    norms = np.linalg.norm(w.numpy().reshape(10, -1), ord=norm, axis=1)
    expected_rows = np.sort(np.argsort(-norms, kind="stable")[:6])
    assert np.flatnonzero(keep.reshape(10, -1).all(axis=1)).tolist() == expected_rows.tolist()
    assert (keep.reshape(10, -1).all(axis=1) | ~keep.reshape(10, -1).any(axis=1)).all()  # whole filters only


@pytest.mark.parametrize("norm", [1, 2])
def test_channel_matches_torch_ln_structured(norm):
    w = _rand(12, 5, 3, 3)
    expected = prune.LnStructured(amount=4, n=norm, dim=0).compute_mask(w, torch.ones_like(w))
    assert torch.equal(Channel(sparsity=1 / 3, norm=norm).mask(w), expected.bool())


# global ---------------------------------------------------------------------------------------------------------


def _three_layers(tiny_scale=1.0):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    with torch.no_grad():
        model[2].weight.mul_(tiny_scale)
    return model


def test_global_meets_the_overall_target_with_one_threshold():
    model = _three_layers()
    weights = [model[i].weight.detach().clone() for i in (0, 2, 4)]
    report = apply(model, Global(sparsity=0.8, min_layer_density=0.0))
    total = sum(w.numel() for w in weights)
    assert sum(r.nonzeros_after for r in report.rows) == kept_count(0.2, total)
    kept = torch.cat([w[model[i].weight != 0].abs() for w, i in zip(weights, (0, 2, 4), strict=True)])
    pruned = torch.cat([w[model[i].weight == 0].abs() for w, i in zip(weights, (0, 2, 4), strict=True)])
    assert kept.min() >= pruned.max()
    assert len({round(r.density_after, 3) for r in report.rows}) > 1  # densities differ per layer


def test_global_guard_keeps_a_tiny_magnitude_layer_alive_and_still_meets_the_target():
    unguarded = _three_layers(tiny_scale=1e-4)
    assert apply(unguarded, Global(sparsity=0.8, min_layer_density=0.0)).row("2").nonzeros_after == 0

    model = _three_layers(tiny_scale=1e-4)
    weights = {i: model[i].weight.detach().clone() for i in (0, 2, 4)}
    report = apply(model, Global(sparsity=0.8))  # default floor 2%
    assert report.row("2").nonzeros_after == 82  # ceil(0.02 x 4096)
    guarded = weights[2][model[2].weight != 0].abs()
    assert guarded.min() >= weights[2][model[2].weight == 0].abs().max()  # the floor is its own largest |w|
    total = sum(w.numel() for w in weights.values())
    assert sum(r.nonzeros_after for r in report.rows) == kept_count(0.2, total)
    kept = torch.cat([weights[i][model[i].weight != 0].abs() for i in (0, 4)])
    pruned = torch.cat([weights[i][model[i].weight == 0].abs() for i in (0, 4)])
    assert kept.min() >= pruned.max()  # the threshold property outside the guarded layer


def test_global_refuses_a_floor_above_the_budget():
    with pytest.raises(PruningError, match=r"min_layer_density=0\.05.*lower the sparsity or min_layer_density"):
        apply(_three_layers(), Global(sparsity=0.97, min_layer_density=0.05))
    with pytest.raises(ValueError, match=r"min_layer_density must be in \[0, 1\]"):
        Global(sparsity=0.5, min_layer_density=1.5)

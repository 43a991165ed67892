"""Every structure prunes the weights of conv1d, conv3d, transposed convs, LSTM/GRU matrices and GPT-2's Conv1D,
and the structure holds on the lowered layers (N:M along their reduction, channels as their output rows, blocks as
tiles of their GEMM), and, for N:M, along the reduction of the weights as torch stores them."""

import numpy as np
import pytest
import torch
from torch import nn

from accelsim.frontend.lower import lower
from accelsim.frontend.tv_compat import import_torchvision
from accelsim.pruning import apply, find_prunable_weights
from accelsim.pruning.layouts import (
    conv_from_conv_transpose,
    conv_transpose_as_conv,
    depth_into_channels,
    depth_out_of_channels,
)


class _GPT2Projection(nn.Module):
    def __init__(self):
        super().__init__()
        import_torchvision()  # transformers imports torchvision
        from transformers.pytorch_utils import Conv1D

        self.proj = Conv1D(8, 16)  # nf=8 outputs, nx=16 inputs: weight stored (16, 8)

    def forward(self, x):
        return self.proj(x)


CASES = {
    "conv1d": (lambda: nn.Conv1d(8, 8, 3, padding=1), lambda: torch.randn(2, 8, 10)),
    "conv3d": (lambda: nn.Conv3d(8, 8, (2, 3, 3), padding=1), lambda: torch.randn(1, 8, 4, 5, 5)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(16, 8, 3, stride=2, groups=2), lambda: torch.randn(1, 16, 4, 4)),
    "lstm": (lambda: nn.LSTM(8, 8, bidirectional=True), lambda: torch.randn(3, 2, 8)),
    "gru": (lambda: nn.GRU(8, 8, num_layers=2), lambda: torch.randn(3, 2, 8)),
    "lstm_cell": (lambda: nn.LSTMCell(8, 8), lambda: (torch.randn(2, 8), (torch.randn(2, 8), torch.randn(2, 8)))),
    "gpt2_conv1d": (_GPT2Projection, lambda: torch.randn(2, 5, 16)),
}
STRUCTURES = ["unstructured:0.5", "global:0.5", "erk:0.5", "random:0.5", "nm:2:4", "block:4x4:0.5", "channel:0.5"]


def _gemm_view(layer) -> np.ndarray:
    return layer.weight.reshape(layer.weight.shape[0], -1)


def _check_lowered(structure: str, weight: np.ndarray) -> None:
    nonzero = weight != 0
    if structure == "nm:2:4":
        channels_last = weight.transpose(0, 2, 3, 1) if weight.ndim == 4 else weight
        assert np.all(np.count_nonzero(channels_last.reshape(-1, 4), axis=1) == 2)
    elif structure == "block:4x4:0.5":
        view = nonzero.reshape(nonzero.shape[0], -1)
        tiles = view.reshape(view.shape[0] // 4, 4, view.shape[1] // 4, 4).sum(axis=(1, 3))
        assert set(np.unique(tiles)) == {0, 16} and np.count_nonzero(tiles) * 2 == tiles.size
    elif structure == "channel:0.5":
        rows = nonzero.reshape(nonzero.shape[0], -1).sum(axis=1)
        assert set(np.unique(rows)) == {0, nonzero[0].size} and np.count_nonzero(rows) * 2 == rows.size
    elif structure == "unstructured:0.5":
        assert np.count_nonzero(weight) * 2 == weight.size


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_structure_prunes_every_new_weight_and_holds_on_the_lowered_layers(case, structure):
    make_model, make_input = CASES[case]
    torch.manual_seed(0)
    model = make_model()
    report = apply(model, structure)
    assert report.rows and all(row.status == "pruned" for row in report.rows), report
    total = sum(row.numel for row in report.rows)
    assert sum(row.nonzeros_after for row in report.rows) == total // 2  # every structure here keeps half
    workload = lower(model, make_input())
    assert workload.not_lowered == ()
    for layer in workload:
        _check_lowered(structure, layer.weight)


def test_n_m_groups_run_along_the_stored_reduction_of_each_weight():
    torch.manual_seed(1)
    model = nn.ModuleDict({"t": nn.ConvTranspose2d(16, 8, 3, groups=2), "c3": nn.Conv3d(8, 4, (2, 3, 3)),
                           "lstm": nn.LSTM(8, 8), "gpt": _GPT2Projection()})
    apply(model, "nm:2:4")

    def groups_along(weight: torch.Tensor, dim: int) -> np.ndarray:
        moved = weight.detach().movedim(dim, -1).numpy()
        return np.count_nonzero(moved.reshape(-1, 4), axis=1)

    assert np.all(groups_along(model["t"].weight, 0) == 2)  # (C_in, K/g, R, S): input channels
    assert np.all(groups_along(model["c3"].weight, 1) == 2)  # (K, C, T, R, S): channels for each depth tap
    assert np.all(groups_along(model["lstm"].weight_ih_l0, 1) == 2)  # (4H, I): input features of each gate row
    assert np.all(groups_along(model["lstm"].weight_hh_l0, 1) == 2)
    assert np.all(groups_along(model["gpt"].proj.weight, 0) == 2)  # Conv1D stores (C, K): inputs first


def test_channel_pruning_of_a_transposed_conv_zeroes_its_output_channels():
    torch.manual_seed(2)
    conv = nn.ConvTranspose1d(6, 8, 3)
    apply(conv, "channel:0.25")
    zero_outputs = [k for k in range(8) if not conv.weight[:, k].any()]
    assert len(zero_outputs) == 2
    assert all(conv.weight[:, k].all() for k in range(8) if k not in zero_outputs)


def test_depthwise_conv1d_cannot_be_n_m_and_says_so():
    report = apply(nn.Sequential(nn.Conv1d(8, 8, 3, groups=8), nn.Conv1d(8, 8, 1)), "nm:2:4")
    assert report.rows[0].status.startswith("left dense: input channels C=1 not divisible by m=4")
    assert report.rows[1].status == "pruned"


def test_prunable_weights_of_recurrent_layers_are_named_as_their_parameters():
    names = [w.name for w in find_prunable_weights(nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2))]
    assert names == [f"weight_{kind}_l{layer}{suffix}" for layer in range(2) for suffix in ("", "_reverse")
                     for kind in ("ih", "hh", "hr")]


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_weight_layouts_are_inverse_and_match_torch(groups):
    torch.manual_seed(3)
    weight = torch.randn(8, 12 // groups, 3, 2)
    np.testing.assert_array_equal(conv_from_conv_transpose(conv_transpose_as_conv(weight, groups), groups), weight)
    conv3d = torch.randn(6, 4, 3, 2, 2)
    np.testing.assert_array_equal(depth_out_of_channels(depth_into_channels(conv3d), 3), conv3d)
    # the equivalent-convolution weight computes torch's transposed conv on the zero-inserted input (stride 1)
    x = torch.randn(1, 8, 5, 4)
    expected = torch.nn.functional.conv_transpose2d(x, weight, groups=groups)
    padded = torch.nn.functional.pad(x, (1, 1, 2, 2))
    actual = torch.nn.functional.conv2d(padded, conv_transpose_as_conv(weight, groups), groups=groups)
    torch.testing.assert_close(actual, expected)


def test_a_mask_file_names_weights_as_stored(tmp_path):
    from accelsim.frontend.mask_file import apply_mask_file

    conv = nn.Sequential(nn.ConvTranspose1d(4, 6, 3))
    mask = torch.ones(4, 6, 3)
    mask[0, 1, 2] = 0
    torch.save({"0.weight": mask}, tmp_path / "m.pt")
    apply_mask_file(tmp_path / "m.pt", conv)
    assert conv[0].weight[0, 1, 2] == 0 and torch.count_nonzero(conv[0].weight) == 4 * 6 * 3 - 1

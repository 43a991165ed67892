"""conv1d, conv3d and transposed convolutions lowered to conv2d layers whose reference output is torch's own."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from accelsim.frontend.lower import lower
from accelsim.reference import effectual_macs, reference_output


def _torch_output_without_bias(module: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        out = module(x)
        if module.bias is not None:  # bias runs along K, followed by the spatial dimensions
            out = out - module.bias.reshape(-1, *[1] * (module.weight.dim() - 2))
    return out.double().numpy()


def _as_module_output(layer, x: torch.Tensor, spatial: int) -> np.ndarray:
    """The lowered conv2d's output in the module's layout: (N, K, L) for 1-D, (N, K, D, H, W) for 3-D."""
    out = reference_output(layer)
    batched = x.dim() == spatial + 2
    if spatial == 1:
        out = out[:, :, 0, :]
    elif spatial == 3:
        n = x.shape[0] if batched else 1
        out = out.reshape(n, -1, *out.shape[1:]).transpose(0, 2, 1, 3, 4)
    return out if batched else out[0]


CASES = {
    "conv1d": (lambda: nn.Conv1d(6, 8, 5, stride=2, padding=2), (2, 6, 17)),
    "conv1d-dilated-grouped": (lambda: nn.Conv1d(6, 9, 3, dilation=3, groups=3, bias=False), (1, 6, 20)),
    "conv1d-depthwise-same": (lambda: nn.Conv1d(4, 4, 4, padding="same", groups=4), (3, 4, 9)),
    "conv1d-unbatched": (lambda: nn.Conv1d(3, 5, 3, padding=1), (3, 12)),
    "conv1d-circular": (lambda: nn.Conv1d(3, 5, 3, padding=1, padding_mode="circular"), (2, 3, 8)),
    "conv3d": (lambda: nn.Conv3d(4, 6, (3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1)), (2, 4, 7, 6, 9)),
    "conv3d-grouped-dilated": (lambda: nn.Conv3d(4, 8, 3, dilation=(2, 1, 1), padding=1, groups=2), (1, 4, 6, 5, 5)),
    "conv3d-same": (lambda: nn.Conv3d(2, 3, (2, 3, 3), padding="same"), (1, 2, 4, 5, 5)),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(4, 6, 4, stride=3, padding=1, dilation=2), (2, 4, 7)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                         (2, 4, 5, 6)),
    "conv_transpose2d-wide-padding": (lambda: nn.ConvTranspose2d(3, 5, 2, stride=(2, 3), padding=(2, 1)),
                                      (1, 3, 6, 6)),
    "conv_transpose3d": (lambda: nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, groups=2), (1, 4, 3, 4, 5)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_lowered_convolution_reproduces_the_module(case):
    make, shape = CASES[case]
    torch.manual_seed(0)
    module = make()
    x = torch.randn(shape)
    workload = lower(module, x)
    assert len(workload) == 1 and workload.not_lowered == ()
    layer = workload[0]
    assert layer.op == "conv2d"
    assert layer.name == case.split("-")[0]  # the root module's kind (a module path when nested)
    spatial = module.weight.dim() - 2
    np.testing.assert_allclose(_as_module_output(layer, x, spatial), _torch_output_without_bias(module, x),
                               rtol=1e-5, atol=1e-5)


def test_conv1d_and_conv3d_macs_are_their_own():
    conv1d = nn.Conv1d(6, 8, 5, stride=2, padding=2)  # L_out = (17 + 4 - 5) // 2 + 1 = 9
    layer = lower(conv1d, torch.randn(2, 6, 17))[0]
    assert layer.macs == 2 * 8 * 9 * 6 * 5
    assert layer.dims["H"] == 1 and layer.dims["R"] == 1
    conv3d = nn.Conv3d(4, 6, (3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1))  # D, H, W out = 4, 5, 5
    layer = lower(conv3d, torch.randn(2, 4, 7, 6, 9))[0]
    assert layer.macs == 2 * 6 * (4 * 5 * 5) * (4 * 3 * 2 * 3)
    assert layer.dims["N"] == 2 * 4 and layer.dims["C"] == 4 * 3


def test_conv3d_depth_padding_is_zeros_and_slices_are_reread():
    conv3d = nn.Conv3d(1, 1, (3, 1, 1), padding=(1, 0, 0), bias=False)
    x = torch.arange(1, 1 + 4 * 2 * 2, dtype=torch.float32).reshape(1, 1, 4, 2, 2)
    layer = lower(conv3d, x)[0]
    # output depth 0 reads slices (pad, 0, 1), depth 3 reads (2, 3, pad): channels ordered by depth tap
    np.testing.assert_array_equal(layer.input[0, 0], np.zeros((2, 2)))
    np.testing.assert_array_equal(layer.input[0, 1], x[0, 0, 0].numpy())
    np.testing.assert_array_equal(layer.input[3, 2], np.zeros((2, 2)))
    np.testing.assert_array_equal(layer.input[3, 0], x[0, 0, 2].numpy())
    assert np.count_nonzero(layer.input) == 3 * x.numel() - 2 * 4  # every slice read 3 times, minus the borders


def test_transposed_conv_inserts_zeros_and_its_effectual_macs_are_the_scatter_products():
    torch.manual_seed(1)
    module = nn.ConvTranspose2d(3, 4, (3, 2), stride=(2, 3), bias=False)  # no padding: no product is cropped
    x = torch.randn(2, 3, 5, 4)
    layer = lower(module, x)[0]
    assert np.count_nonzero(layer.input) == x.numel()  # each input element once, zeros between
    assert layer.input.shape == (2, 3, (5 - 1) * 2 + 1, (4 - 1) * 3 + 1)
    assert layer.padding == (2, 1)  # dilation x (kernel - 1) - padding on each side
    # the transposed conv scatters each input element into K x taps outputs: N C H W K R S products
    assert effectual_macs(layer) == 2 * 3 * 5 * 4 * 4 * 3 * 2
    p, q = (5 - 1) * 2 + 3, (4 - 1) * 3 + 2  # torch's output size: (size - 1) x stride + kernel
    assert layer.macs == 2 * 4 * p * q * 3 * 3 * 2  # the zero-inserted convolution's MACs
    assert math.prod(layer.output_shape) == math.prod(module(x).shape)


def test_conv_transpose_output_size_argument():
    torch.manual_seed(2)
    module = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = torch.randn(1, 2, 4, 4)
    workload = lower(module, (x, [8, 8]))  # output_size picks output_padding 1
    with torch.no_grad():
        expected = module(x, output_size=[8, 8]) - module.bias.reshape(1, -1, 1, 1)
    np.testing.assert_allclose(reference_output(workload[0]), expected.double().numpy(), rtol=1e-5, atol=1e-5)


def test_nested_convolutions_take_their_module_paths():
    model = nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU(), nn.Sequential(nn.ConvTranspose1d(4, 2, 3, stride=2)))
    workload = lower(model, torch.randn(1, 2, 10))
    assert [layer.name for layer in workload] == ["0", "2.0"]
    assert 0 < workload["2.0"].input_density < 0.5  # the ReLU's zeros and the inserted zeros

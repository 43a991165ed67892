"""The GEMM layout of a weight: (K, C // groups, taps...), output rows first, then the reduction the hardware sums
over. Pruning ranks and masks weights in this layout, and lowering builds each layer's weight with the same
functions, so a structure means for every model what it means for the lowered layer (N:M groups run along the
reduction, a channel is an output row, a block is a tile of the lowered GEMM).

Most parameters are stored in it already: nn.Linear (K, C), nn.Conv1d/nn.Conv2d (K, C/g, R[, S]), the input and
recurrent matrices of nn.LSTM/GRU/RNN (gates x hidden, C; the gates stacked as torch stacks them). Three are not:
- transformers' Conv1D (GPT-2's projections) stores (C, K): its layout is the transpose.
- nn.ConvTranspose{1,2,3}d stores (C_in, K/g, taps). It is lowered as the convolution it equals: the same taps
  over the input with (stride - 1) zeros inserted between its elements, whose weight is each group's block
  transposed to (K/g, C_in/g) and flipped in every tap dimension.
- nn.Conv3d (K, C/g, T, R, S) is lowered as a conv2d whose input channels are (depth tap, channel) pairs, the
  depth tap outermost within each group: (K, T * C/g, R, S). N:M groups of a conv3d therefore run along its
  input channels for each depth tap when C/g is a multiple of m, as NVIDIA ASP groups a 3-D conv.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Step = tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]


def conv_transpose_as_conv(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """(C_in, K/g, taps...) of a transposed convolution -> (K, C_in/g, taps...) of the equivalent convolution."""
    c_in, k_per_group, *taps = weight.shape
    grouped = weight.reshape(groups, c_in // groups, k_per_group, *taps).transpose(1, 2)
    flipped = grouped.flip(dims=tuple(range(3, 3 + len(taps))))
    return flipped.reshape(groups * k_per_group, c_in // groups, *taps)


def conv_from_conv_transpose(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """The inverse of `conv_transpose_as_conv`."""
    k, c_per_group, *taps = weight.shape
    grouped = weight.reshape(groups, k // groups, c_per_group, *taps).flip(dims=tuple(range(3, 3 + len(taps))))
    return grouped.transpose(1, 2).reshape(groups * c_per_group, k // groups, *taps)


def depth_into_channels(weight: torch.Tensor) -> torch.Tensor:
    """(K, C/g, T, R, S) of a conv3d -> (K, T * C/g, R, S): the weight of the conv2d it is lowered as."""
    k, c_per_group, depth, r, s = weight.shape
    return weight.permute(0, 2, 1, 3, 4).reshape(k, depth * c_per_group, r, s)


def depth_out_of_channels(weight: torch.Tensor, depth: int) -> torch.Tensor:
    """The inverse of `depth_into_channels` for a kernel of `depth` taps."""
    k, channels, r, s = weight.shape
    return weight.reshape(k, depth, channels // depth, r, s).permute(0, 2, 1, 3, 4)


@dataclass(frozen=True)
class WeightLayout:
    """How a parameter maps to its GEMM layout and back (`to_gemm`, `from_gemm`); `what` names it for messages."""

    what: str
    steps: tuple[Step, ...] = ()

    def to_gemm(self, tensor: torch.Tensor) -> torch.Tensor:
        for forward, _ in self.steps:
            tensor = forward(tensor)
        return tensor

    def from_gemm(self, tensor: torch.Tensor) -> torch.Tensor:
        for _, inverse in reversed(self.steps):
            tensor = inverse(tensor)
        return tensor.contiguous()


AS_STORED = WeightLayout("as stored")
TRANSPOSED = WeightLayout("(C, K) stored, transposed", ((lambda w: w.T, lambda w: w.T),))


def transposed_conv_layout(groups: int, spatial_dims: int, depth: int | None = None) -> WeightLayout:
    """The layout of an nn.ConvTranspose{spatial_dims}d weight; a 3-D one also folds its depth into channels."""
    steps: list[Step] = [(lambda w: conv_transpose_as_conv(w, groups), lambda w: conv_from_conv_transpose(w, groups))]
    if spatial_dims == 3:
        steps.append((depth_into_channels, lambda w: depth_out_of_channels(w, depth)))
    return WeightLayout(f"transposed conv{spatial_dims}d, as the equivalent convolution", tuple(steps))


def conv3d_layout(depth: int) -> WeightLayout:
    return WeightLayout("conv3d, depth taps folded into channels",
                        ((depth_into_channels, lambda w: depth_out_of_channels(w, depth)),))

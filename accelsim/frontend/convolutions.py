"""Every convolution torch runs, lowered to the IR's conv2d with its real operands.

- conv2d as it is; conv1d as a conv2d of height 1 (input (N, C, 1, L), weight (K, C/g, 1, R)).
- conv3d as one conv2d whose batch is (N, output depth) and whose input channels are (depth tap, channel) pairs:
  for each output depth the T input slices its filter reaches are stacked as channels (im2col along depth only;
  depth padding is real zeros in the input). Exactly the conv3d's MACs, one layer; an input slice appears once
  per depth window that reads it, as it would be re-read by hardware that runs 3-D convs as 2-D ones. The
  weight is accelsim.pruning.layouts.depth_into_channels of the conv3d's.
- conv_transpose1d/2d/3d as the convolution they equal: the input with (stride - 1) zeros inserted between its
  elements, padded by dilation x (kernel - 1) - padding on each side (cropped where that is negative) plus
  output_padding at the end, convolved at stride 1 with the weight transposed per group and flipped
  (layouts.conv_transpose_as_conv). Chosen over an output-stationary scatter because it is an ordinary
  convolution every dataflow runs, and because the inserted zeros are what a convolution engine without a
  transposed mode really multiplies: dense designs spend MACs on them, zero-skipping ones skip them, as the
  effectual-MAC counts show. Its MACs are those of the zero-inserted convolution: about stride^dims times the
  N x C_in x H x W x K/g x taps products of the scatter form.
Depthwise and other grouped convolutions keep their groups throughout.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from accelsim.frontend.recorder import LayerRecorder, to_numpy
from accelsim.pruning.layouts import conv_transpose_as_conv, depth_into_channels
from accelsim.workload import Layer


def _tuple(value, dims: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * dims
    values = tuple(int(v) for v in value)
    return values * dims if len(values) == 1 else values


def _pad_end(x: torch.Tensor, extra: list[int]) -> torch.Tensor:
    """Zeros after the end of each spatial dimension (F.pad lists the last dimension first)."""
    if not any(extra):
        return x
    pads = []
    for amount in reversed(extra):
        pads += [0, amount]
    return F.pad(x, pads)


def record_conv(recorder: LayerRecorder, kind: str, input, weight, bias=None, stride=1, padding=0, dilation=1,
                groups=1, *, source: torch.Tensor | None = None) -> None:
    """Record F.conv1d/conv2d/conv3d (kind names the torch function) as one conv2d layer."""
    spatial = weight.dim() - 2
    x = input if input.dim() == spatial + 2 else input.unsqueeze(0)  # torch allows an unbatched input
    stride, dilation = _tuple(stride, spatial), _tuple(dilation, spatial)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        # 'valid' is no padding; 'same' pads d*(k-1) in total, the odd unit at the end, as torch does.
        totals = [0] * spatial if padding == "valid" else [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        before = [t // 2 for t in totals]
        x = _pad_end(x, [t - 2 * b for t, b in zip(totals, before, strict=True)])
        padding = tuple(before)
    padding = _tuple(padding, spatial)
    _record_as_conv2d(recorder, kind, x, weight, stride, padding, dilation, int(groups),
                      source if source is not None else weight)


def record_conv_transpose(recorder: LayerRecorder, kind: str, input, weight, bias=None, stride=1, padding=0,
                          output_padding=0, groups=1, dilation=1) -> None:
    """Record F.conv_transpose1d/2d/3d as the convolution over the zero-inserted input (module docstring)."""
    spatial = weight.dim() - 2
    x = input if input.dim() == spatial + 2 else input.unsqueeze(0)
    stride, padding = _tuple(stride, spatial), _tuple(padding, spatial)
    output_padding, dilation = _tuple(output_padding, spatial), _tuple(dilation, spatial)
    n, c, *sizes = x.shape
    inserted = x.new_zeros((n, c, *[(size - 1) * step + 1 for size, step in zip(sizes, stride, strict=True)]))
    inserted[(slice(None), slice(None), *[slice(None, None, step) for step in stride])] = x
    before = [d * (k - 1) - p for d, k, p in zip(dilation, weight.shape[2:], padding, strict=True)]
    symmetric = [max(0, b) for b in before]
    pads = []
    for b, sym, extra in zip(reversed(before), reversed(symmetric), reversed(output_padding), strict=True):
        pads += [b - sym, b - sym + extra]  # negative: cropped
    if any(pads):
        inserted = F.pad(inserted, pads)
    conv_weight = conv_transpose_as_conv(weight, int(groups))
    _record_as_conv2d(recorder, kind, inserted, conv_weight, (1,) * spatial, tuple(symmetric), dilation, int(groups),
                      weight)


def _record_as_conv2d(recorder: LayerRecorder, kind: str, x: torch.Tensor, weight: torch.Tensor,
                      stride: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...], groups: int,
                      source: torch.Tensor) -> None:
    spatial = weight.dim() - 2
    if spatial == 1:
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        stride, padding, dilation = (1, *stride), (0, *padding), (1, *dilation)
    elif spatial == 3:
        x = fold_depth(x, weight.shape[2], stride[0], padding[0], dilation[0], groups)
        weight = depth_into_channels(weight)
        stride, padding, dilation = stride[1:], padding[1:], dilation[1:]
    recorder.add(Layer(name=recorder.name_for(kind), op="conv2d", input=to_numpy(x), weight=to_numpy(weight),
                       stride=stride, padding=padding, dilation=dilation, groups=groups), source=source)


def fold_depth(x: torch.Tensor, depth_taps: int, stride: int, padding: int, dilation: int,
               groups: int) -> torch.Tensor:
    """(N, C, D, H, W) -> (N * D_out, groups * T * C/groups, H, W): for each output depth, the T input slices its
    filter reaches, as channels ordered (group, depth tap, channel); depth padding as zeros."""
    n, c, depth, h, w = x.shape
    x = F.pad(x, (0, 0, 0, 0, padding, padding))
    out_depth = (depth + 2 * padding - dilation * (depth_taps - 1) - 1) // stride + 1
    taps = [x[:, :, t * dilation: t * dilation + (out_depth - 1) * stride + 1: stride] for t in range(depth_taps)]
    stacked = torch.stack(taps, dim=2)  # (N, C, T, D_out, H, W)
    stacked = stacked.reshape(n, groups, c // groups, depth_taps, out_depth, h, w)
    return stacked.permute(0, 4, 1, 3, 2, 5, 6).reshape(n * out_depth, c * depth_taps, h, w)

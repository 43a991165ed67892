"""Calibration activations for criteria that weigh a weight by its input (Wanda): one run of the model under the
lowering's capture, and for every prunable weight the sum over all rows it multiplies of the squared activation
each of its weights meets. The activations are exactly the lowered layers' own (a conv's im2col columns with their
padding zeros, an LSTM's real hidden states at every step, a weight used twice counted twice), so a criterion ranks
weights by the operands the simulated hardware sees."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from accelsim.frontend.lower import run_captured
from accelsim.frontend.recorder import LayerRecorder
from accelsim.pruning.errors import PruningError
from accelsim.pruning.targets import PrunableWeight
from accelsim.workload import Layer


def input_sum_of_squares(layer: Layer) -> np.ndarray:
    """For each weight of `layer`, the sum over the rows of its GEMM of the squared activation that weight
    multiplies: (1, C) for a linear, (K, C/g, R, S) for a conv2d (padding taps contribute zeros), float64."""
    x = layer.input.astype(np.float64)
    if layer.op == "linear":
        return np.square(x).sum(axis=0)[None, :]
    if layer.op != "conv2d":
        raise ValueError(f"layer {layer.name!r}: {layer.op} has no static weight to calibrate")
    d = layer.dims
    (stride_h, stride_w), (pad_h, pad_w), (dil_h, dil_w) = layer.stride, layer.padding, layer.dilation
    x = np.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))
    per_tap = np.empty((d["C"], d["R"], d["S"]))
    for r in range(d["R"]):
        for s in range(d["S"]):
            window = x[:, :, r * dil_h: r * dil_h + (d["P"] - 1) * stride_h + 1: stride_h,
                       s * dil_w: s * dil_w + (d["Q"] - 1) * stride_w + 1: stride_w]
            per_tap[:, r, s] = np.square(window).sum(axis=(0, 2, 3))
    groups = d["G"]
    by_group = per_tap.reshape(groups, d["C"] // groups, d["R"], d["S"])
    return by_group[np.arange(d["K"]) // (d["K"] // groups)]


class _CalibrationRecorder(LayerRecorder):
    """Accumulates `input_sum_of_squares` per prunable weight instead of keeping the layers."""

    def __init__(self, model: nn.Module, weights: Sequence[PrunableWeight]):
        super().__init__(model)
        self.names = {id(getattr(w.module, w.param)): w.name for w in weights}
        self.sums: dict[str, np.ndarray] = {}

    def add(self, layer: Layer, source: torch.Tensor | None = None) -> None:
        name = self.names.get(id(source)) if source is not None else None
        if name is not None:
            squares = input_sum_of_squares(layer)
            self.sums[name] = squares if name not in self.sums else self.sums[name] + squares


def input_norms(model: nn.Module, example_input, weights: Sequence[PrunableWeight]) -> dict[str, torch.Tensor]:
    """||X_j||_2 for every weight of every prunable weight in `weights`, in its GEMM layout (the norm, over all
    rows of one run on `example_input`, of the input feature that weight multiplies), float64."""
    recorder = _CalibrationRecorder(model, weights)
    run_captured(model, example_input, recorder)
    unused = [w.name for w in weights if w.name not in recorder.sums]
    if unused:
        raise PruningError(f"the calibration run multiplied no activations by {', '.join(unused)}: these weights "
                           f"are not used on the calibration input, so their activation norms are unknown; "
                           f"exclude them or calibrate on an input that uses them")
    norms = {}
    for w in weights:
        squares = np.broadcast_to(recorder.sums[w.name], _lowered_shape(w))
        norms[w.name] = torch.from_numpy(np.sqrt(squares).reshape(w.shape))
    return norms


def _lowered_shape(weight: PrunableWeight) -> tuple[int, ...]:
    shape = weight.shape
    return (shape[0], shape[1], 1, shape[2]) if len(shape) == 3 else shape  # a conv1d runs as a conv2d of height 1

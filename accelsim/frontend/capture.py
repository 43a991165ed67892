"""Captures every conv/linear/matmul of a forward pass at the torch-function level.

Why a TorchFunctionMode and not module hooks or torch.export: hooks miss functional calls (MultiheadAttention's
projections, `x @ w` in users' code, transformers' attention), and export fails on many real models. A function
mode sees every `F.conv2d`, `F.linear`, `torch.matmul`, `@`, `bmm`, `addmm` and `scaled_dot_product_attention`,
whoever calls it. Composite functions whose inner ops a mode cannot see (`F.multi_head_attention_forward`) are
decomposed in `attention.py`. Ops that do MACs but cannot be lowered are recorded as not lowered, with the reason.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from accelsim.frontend import attention
from accelsim.frontend.recorder import LayerRecorder, to_numpy
from accelsim.workload import Layer

_MATMUL_FUNCS = {torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.Tensor.__rmatmul__,
                 torch.mm, torch.Tensor.mm, torch.bmm, torch.Tensor.bmm}
_ADD_MATMUL_FUNCS = {torch.addmm, torch.Tensor.addmm, torch.baddbmm, torch.Tensor.baddbmm}
# Functions that do multiply-accumulates which accelsim's IR does not (yet) express.
_UNSUPPORTED = {
    F.conv1d: "conv1d", F.conv3d: "conv3d", F.conv_transpose1d: "conv_transpose1d",
    F.conv_transpose2d: "conv_transpose2d", F.conv_transpose3d: "conv_transpose3d", torch.einsum: "einsum",
    F.bilinear: "bilinear", torch.tensordot: "tensordot", torch.addbmm: "addbmm", torch.mv: "mv",
    torch.Tensor.mv: "mv", torch.addmv: "addmv", torch.dot: "dot", torch.Tensor.dot: "dot",
    torch.lstm: "lstm", torch.gru: "gru", torch.rnn_tanh: "rnn_tanh", torch.rnn_relu: "rnn_relu",
}


class CaptureMode(TorchFunctionMode):
    def __init__(self, recorder: LayerRecorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        # Inside this method the mode is off, so the ops below run (and nest) without being captured again.
        if func is F.conv2d:
            _conv2d(self.recorder, *args, **kwargs)
        elif func is F.linear:
            _linear(self.recorder, *args, **kwargs)
        elif func in _MATMUL_FUNCS:
            left, right = (args[1], args[0]) if func is torch.Tensor.__rmatmul__ else (args[0], args[1])
            matmul(self.recorder, left, right)
        elif func in _ADD_MATMUL_FUNCS:
            matmul(self.recorder, args[1], args[2])
        elif func is F.scaled_dot_product_attention:
            attention.scaled_dot_product(self.recorder, *args, **kwargs)
        elif func is F.multi_head_attention_forward:
            attention.multi_head(self.recorder, *args, **kwargs)
        elif func in _UNSUPPORTED:
            self.recorder.skip(_UNSUPPORTED[func], f"{_UNSUPPORTED[func]} is not supported by the accelsim IR "
                                                   "(conv2d, linear and matmul are)")
        return func(*args, **kwargs)


def _conv2d(recorder: LayerRecorder, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x = input if input.dim() == 4 else input.unsqueeze(0)  # torch allows an unbatched (C, H, W) input
    stride, dilation = torch.nn.modules.utils._pair(stride), torch.nn.modules.utils._pair(dilation)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        # 'valid' is no padding; 'same' pads d*(k-1) in total, the odd unit on the bottom/right as torch does.
        totals = [0, 0] if padding == "valid" else [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        before = [t // 2 for t in totals]
        extra = [t - b - b for t, b in zip(totals, before, strict=True)]
        if any(extra):
            x = F.pad(x, (0, extra[1], 0, extra[0]))
        padding = tuple(before)
    recorder.add(Layer(name=recorder.name_for("conv2d"), op="conv2d", input=to_numpy(x), weight=to_numpy(weight),
                       stride=stride, padding=torch.nn.modules.utils._pair(padding), dilation=dilation,
                       groups=int(groups)))


def _linear(recorder: LayerRecorder, input, weight, bias=None):
    recorder.add_linear(input, weight)


def matmul(recorder: LayerRecorder, left: torch.Tensor, right: torch.Tensor) -> None:
    """Record `left @ right` with torch.matmul's broadcasting. A static right operand (`x @ W`) becomes a linear
    layer with weight W^T; a static left operand (`W @ x`) is the transposed product x^T @ W^T, also a linear."""
    if left.dim() == 1:
        left = left.unsqueeze(0)
    if right.dim() == 1:
        right = right.unsqueeze(-1)
    if right.dim() == 2 and recorder.is_static(right):
        recorder.add_linear(left, right.T)
    elif left.dim() == 2 and recorder.is_static(left):
        recorder.add_linear(right.transpose(-1, -2), left)
    else:
        batch = torch.broadcast_shapes(left.shape[:-2], right.shape[:-2])
        recorder.add_matmul(left.expand(*batch, *left.shape[-2:]), right.expand(*batch, *right.shape[-2:]))

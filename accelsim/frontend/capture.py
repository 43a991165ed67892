"""Captures every conv/linear/matmul of a forward pass at the torch-function level.

Why a TorchFunctionMode and not module hooks or torch.export: hooks miss functional calls (MultiheadAttention's
projections, `x @ w` in users' code, transformers' attention), and export fails on many real models. A function
mode sees every `F.conv1d/2d/3d`, `F.conv_transpose1d/2d/3d`, `F.linear`, `torch.matmul`, `@`, `bmm`, `addmm`,
`scaled_dot_product_attention` and the recurrent kernels (`torch.lstm`, `gru`, `rnn_tanh`, `rnn_relu` and their
cells), whoever calls them. Composite functions whose inner ops a mode cannot see are decomposed: attention in
`attention.py`, convolutions in `convolutions.py`, recurrent layers in `recurrent.py`. Ops that do MACs but cannot
be lowered, and embedding lookups (which do none), are recorded as not lowered, with the reason.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from accelsim.frontend import attention, recurrent
from accelsim.frontend.convolutions import record_conv, record_conv_transpose
from accelsim.frontend.recorder import LayerRecorder

_MATMUL_FUNCS = {torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.Tensor.__rmatmul__,
                 torch.mm, torch.Tensor.mm, torch.bmm, torch.Tensor.bmm}
_ADD_MATMUL_FUNCS = {torch.addmm, torch.Tensor.addmm, torch.baddbmm, torch.Tensor.baddbmm}
_CONVS = {F.conv1d: "conv1d", F.conv2d: "conv2d", F.conv3d: "conv3d"}
_TRANSPOSED_CONVS = {F.conv_transpose1d: "conv_transpose1d", F.conv_transpose2d: "conv_transpose2d",
                     F.conv_transpose3d: "conv_transpose3d"}
_LOOKUPS = {F.embedding: "embedding", F.embedding_bag: "embedding_bag"}
# Functions that do multiply-accumulates which accelsim's IR does not (yet) express.
_UNSUPPORTED = {
    torch.einsum: "einsum", F.bilinear: "bilinear", torch.tensordot: "tensordot", torch.addbmm: "addbmm",
    torch.mv: "mv", torch.Tensor.mv: "mv", torch.addmv: "addmv", torch.dot: "dot", torch.Tensor.dot: "dot",
}


class CaptureMode(TorchFunctionMode):
    def __init__(self, recorder: LayerRecorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        # Inside this method the mode is off, so the ops below run (and nest) without being captured again.
        if func in _CONVS:
            record_conv(self.recorder, _CONVS[func], *args, **kwargs)
        elif func in _TRANSPOSED_CONVS:
            record_conv_transpose(self.recorder, _TRANSPOSED_CONVS[func], *args, **kwargs)
        elif func in recurrent.KERNELS:
            recurrent.record(self.recorder, func, args, kwargs)
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
        elif func in _LOOKUPS:
            self.recorder.skip(_LOOKUPS[func], "an embedding lookup reads rows of a table: it does no "
                                               "multiply-accumulates")
        elif func in _UNSUPPORTED:
            self.recorder.skip(_UNSUPPORTED[func], f"{_UNSUPPORTED[func]} is not supported by the accelsim IR "
                                                   "(conv2d, linear and matmul are)")
        return func(*args, **kwargs)


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
        recorder.add_linear(left, right.T, source=right)
    elif left.dim() == 2 and recorder.is_static(left):
        recorder.add_linear(right.transpose(-1, -2), left)
    else:
        batch = torch.broadcast_shapes(left.shape[:-2], right.shape[:-2])
        recorder.add_matmul(left.expand(*batch, *left.shape[-2:]), right.expand(*batch, *right.shape[-2:]))

"""A layer as the GEMMs a dense array computes: out (M x K) = A (M x Wr) @ B (Wr x K), one per group.

M is output pixels times batch (tokens for linear layers), Wr the reduction (a conv window R*S*C/groups) and K the
output channels of one group. Windows are ordered (r, s, c) with c fastest, so that N:M groups along C (NVIDIA ASP's
layout, as accelsim.pruning.nm prunes) are contiguous in the reduction. (Wr is not the dimension alphabet's W, the
input width.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.workload import Layer


@dataclass(frozen=True)
class GemmShape:
    m: int
    """Rows of the output: output pixels x batch, or tokens."""
    reduction: int
    """The reduction length Wr."""
    k: int
    """Columns of the output: output channels per group."""
    count: int
    """Independent GEMMs of this shape (conv groups, attention heads x batch)."""

    @property
    def macs(self) -> int:
        return self.m * self.reduction * self.k * self.count


def gemm_shape(layer: Layer, output_rows: int | None = None, output_cols: int | None = None) -> GemmShape:
    """The GEMM shape of a layer; `output_rows/cols` override P and Q (SCALE-Sim counts more outputs for some
    strided convs, see accelsim.frontend.scalesim_topology)."""
    d = layer.dims
    if layer.op == "conv2d":
        p = d["P"] if output_rows is None else output_rows
        q = d["Q"] if output_cols is None else output_cols
        return GemmShape(m=d["N"] * p * q, reduction=d["R"] * d["S"] * d["C"] // d["G"], k=d["K"] // d["G"],
                         count=d["G"])
    if layer.op == "linear":
        return GemmShape(m=d["N"], reduction=d["C"], k=d["K"], count=1)
    return GemmShape(m=d["N"], reduction=d["C"], k=d["K"], count=d["G"])


def gemm_operands(layer: Layer) -> list[tuple[np.ndarray, np.ndarray]]:
    """(A, B) per group in float64, with the true output size. Conv inputs are unfolded (im2col)."""
    return list(zip(_gemm_inputs(layer), gemm_weights(layer), strict=True))


def gemm_weights(layer: Layer) -> list[np.ndarray]:
    """B (Wr x K, float64) per group: the weight as the array's reduction sees it."""
    w = layer.weight.astype(np.float64)
    if layer.op == "linear":
        return [np.ascontiguousarray(w.T)]
    if layer.op == "matmul":
        return [np.ascontiguousarray(w[g]) for g in range(w.shape[0])]
    groups = layer.dims["G"]
    k_per_group = layer.dims["K"] // groups
    return [conv_weight_matrix(w[g * k_per_group:(g + 1) * k_per_group]) for g in range(groups)]


def _gemm_inputs(layer: Layer) -> list[np.ndarray]:
    x = layer.input.astype(np.float64)
    if layer.op == "linear":
        return [x]
    if layer.op == "matmul":
        return [np.ascontiguousarray(x[g]) for g in range(x.shape[0])]
    return _conv_inputs(layer, x)


def gemm_output_to_layer(layer: Layer, outputs: list[np.ndarray]) -> np.ndarray:
    """Reassemble per-group GEMM outputs into the layer's output layout (see accelsim.workload)."""
    if layer.op == "linear":
        return outputs[0]
    if layer.op == "matmul":
        return np.stack(outputs)
    d = layer.dims
    n, p, q = d["N"], d["P"], d["Q"]
    per_group = [out.reshape(n, p, q, -1).transpose(0, 3, 1, 2) for out in outputs]
    return np.concatenate(per_group, axis=1)


def conv_weight_matrix(weight: np.ndarray) -> np.ndarray:
    """(K, C, R, S) -> (R*S*C, K) with c fastest."""
    k = weight.shape[0]
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0).reshape(-1, k))


def _conv_inputs(layer: Layer, x: np.ndarray) -> list[np.ndarray]:
    d = layer.dims
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation
    groups, c_per_group = d["G"], d["C"] // d["G"]
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    p, q = d["P"], d["Q"]
    taps = []
    for r in range(d["R"]):
        for s in range(d["S"]):
            window = padded[:, :, r * dh:r * dh + (p - 1) * sh + 1:sh, s * dw:s * dw + (q - 1) * sw + 1:sw]
            taps.append(window.transpose(0, 2, 3, 1))  # (N, P, Q, C)
    unfolded = np.stack(taps, axis=3)  # (N, P, Q, R*S, C)
    return [np.ascontiguousarray(unfolded[..., g * c_per_group:(g + 1) * c_per_group].reshape(
        -1, d["R"] * d["S"] * c_per_group)) for g in range(groups)]

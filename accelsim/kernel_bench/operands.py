"""A lowered layer as the torch GEMMs a kernel library runs: Y_g (K x M) = W_g (K x Wr) @ X_g (Wr x M) per group.

Convolutions become explicit im2col GEMMs (`torch.nn.functional.unfold` of the layer's real input), in the reduction
order each format needs (see `accelsim.dataflows.library_kernels.features`): "crs" for dense, CSR and BSR, "rsc" for 2:4
semi-structured. The product is the same in both orders; only where the zeros sit changes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from accelsim.dataflows.library_kernels.features import weight_matrices
from accelsim.workload import Layer


@dataclass(frozen=True)
class GemmOperands:
    weights: tuple[torch.Tensor, ...]
    """W_g, K x Wr, float32 on the CPU."""
    inputs: tuple[torch.Tensor, ...]
    """X_g, Wr x M, float32 on the CPU, contiguous."""

    @property
    def bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (*self.weights, *self.inputs))


def gemm_operands(layer: Layer, layout: str = "crs") -> GemmOperands:
    """The weight and input matrices of every group of `layer` (refuses attention's activation x activation)."""
    weights = tuple(torch.tensor(w) for w in weight_matrices(layer, layout))  # a writable copy
    return GemmOperands(weights, tuple(_input_matrices(layer, layout)))


def _input_matrices(layer: Layer, layout: str) -> list[torch.Tensor]:
    x = torch.tensor(np.asarray(layer.input, dtype=np.float32))
    if layer.op == "linear":
        return [x.T.contiguous()]
    if layer.op == "matmul":
        return [x[g].T.contiguous() for g in range(x.shape[0])]
    d = layer.dims
    columns = F.unfold(x, (d["R"], d["S"]), dilation=layer.dilation, padding=layer.padding, stride=layer.stride)
    n, _, positions = columns.shape  # (N, C*R*S, P*Q), rows ordered c, r, s with s fastest
    groups, c_per_group, taps = d["G"], d["C"] // d["G"], d["R"] * d["S"]
    columns = columns.reshape(n, groups, c_per_group, taps, positions)
    if layout == "rsc":
        columns = columns.transpose(2, 3)
    # (G, Wr, N * P * Q): one matrix per group, columns ordered image by image
    matrices = columns.permute(1, 2, 3, 0, 4).reshape(groups, c_per_group * taps, n * positions)
    return [matrices[g].contiguous() for g in range(groups)]

"""A layer in the one form both Eyeriss dataflows map: a grouped 2-D convolution with batch.

    input  x: (N, G, Cg, H, W)     weight w: (G, Mg, Cg, R, S)     output: (N, G, Mg, P, Q)

A conv is itself; a linear layer (N, C) x (K, C) is a 1 x 1 conv over a 1 x N plane (its batch rows are the
positions a PE streams, as an FC layer of Eyeriss runs: iacts broadcast, weights unicast); a static matmul
(G, N, C) x (G, C, K) is G such groups. Products of two activations are refused: Eyeriss compresses and maps its
weights offline.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Literal

import numpy as np

from accelsim.dataflows.shared.operands import refuse_activation_product
from accelsim.workload import Layer

Kind = Literal["conv", "depthwise", "pointwise", "fc"]
KINDS: tuple[str, ...] = ("conv", "depthwise", "pointwise", "fc")


@dataclass(frozen=True, eq=False)
class Problem:
    x: np.ndarray
    """(N, G, Cg, H, W) float64, C-contiguous."""
    w: np.ndarray
    """(G, Mg, Cg, R, S) float64, C-contiguous."""
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    p: int
    q: int
    kind: Kind

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @property
    def groups(self) -> int:
        return self.x.shape[1]

    @property
    def cg(self) -> int:
        return self.x.shape[2]

    @property
    def mg(self) -> int:
        return self.w.shape[1]

    @property
    def r(self) -> int:
        return self.w.shape[3]

    @property
    def s(self) -> int:
        return self.w.shape[4]


_PROBLEMS: weakref.WeakKeyDictionary[Layer, Problem] = weakref.WeakKeyDictionary()
"""The last layer's problem, shared by its sparse run and its dense reference, which a run simulates one after the
other (layers are immutable); one entry only, so that a network's float64 copies are not all kept."""


def problem_of(layer: Layer, accelerator: str) -> Problem:
    refuse_activation_product(layer, accelerator, "its weights are compressed and mapped onto the PEs offline")
    if layer not in _PROBLEMS:
        _PROBLEMS.clear()
        _PROBLEMS[layer] = _problem(layer)
    return _PROBLEMS[layer]


def _problem(layer: Layer) -> Problem:
    if layer.op == "conv2d":
        d = layer.dims
        g = d["G"]
        x = layer.input.astype(np.float64).reshape(d["N"], g, d["C"] // g, d["H"], d["W"])
        w = layer.weight.astype(np.float64).reshape(g, d["K"] // g, d["C"] // g, d["R"], d["S"])
        kind = "depthwise" if g > 1 and d["C"] == g else "pointwise" if d["R"] == d["S"] == 1 else "conv"
        return Problem(np.ascontiguousarray(x), np.ascontiguousarray(w), layer.stride, layer.padding,
                       layer.dilation, d["P"], d["Q"], kind)
    if layer.op == "linear":  # (N, C) x (K, C): positions are the batch rows
        x = layer.input.astype(np.float64).T.reshape(1, 1, layer.input.shape[1], 1, layer.input.shape[0])
        w = layer.weight.astype(np.float64).reshape(1, *layer.weight.shape, 1, 1)
        return Problem(np.ascontiguousarray(x), np.ascontiguousarray(w), (1, 1), (0, 0), (1, 1), 1,
                       layer.input.shape[0], "fc")
    g, n, c = layer.input.shape  # static matmul (G, N, C) x (G, C, K)
    x = layer.input.astype(np.float64).transpose(0, 2, 1).reshape(1, g, c, 1, n)
    w = layer.weight.astype(np.float64).transpose(0, 2, 1).reshape(g, -1, c, 1, 1)
    return Problem(np.ascontiguousarray(x), np.ascontiguousarray(w), (1, 1), (0, 0), (1, 1), 1, n, "fc")


def layer_output(layer: Layer, out: np.ndarray) -> np.ndarray:
    """The (N, G, Mg, P, Q) output of a problem in the layer's own layout."""
    if layer.op == "conv2d":
        n, g, mg, p, q = out.shape
        return out.reshape(n, g * mg, p, q)
    if layer.op == "linear":
        return out[0, 0, :, 0, :].T
    return out[0, :, :, 0, :].transpose(0, 2, 1)

"""A layer as the matrix-vector products EIE runs: per group, the weight matrix (rows = outputs, columns = inputs)
as a view of the layer's weight, and a way to list the nonzero activations of every input vector.

A linear layer's vectors are its input rows (batch x tokens); a conv layer runs one matrix-vector product per output
position, its im2col window as the vector (EIE has no convolution dataflow); a batched matmul with static weights one
matrix per batch; a product of two activations (attention) is refused, as its right operand cannot be encoded
offline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.eie import sequence_jit
from accelsim.dataflows.shared.operands import refuse_activation_product
from accelsim.workload import Layer

Sequences = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(vector_start, columns, values): vector m's nonzero activations are columns[vector_start[m]:vector_start[m + 1]]
(ascending), with their values when asked for (else an empty array)."""


@dataclass(frozen=True)
class MatrixVectorProblem:
    weight: np.ndarray
    """(outputs, cg, taps) with matrix[i, tap * cg + c] = weight[i, c, tap] (accelsim.dataflows.eie.layout_jit)."""
    n_vectors: int
    nonzero_activations: Callable[[bool], Sequences]
    """Builds the vectors' nonzero activations; the argument asks for their values too."""

    @property
    def n_outputs(self) -> int:
        return self.weight.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.weight.shape[1] * self.weight.shape[2]


def matrix_vector_problems(layer: Layer) -> tuple[list[MatrixVectorProblem], list[str]]:
    """The layer's matrix-vector products, one per group, and what the mapping did."""
    if layer.op == "linear":
        notes = [] if layer.input.shape[0] == 1 else [
            f"{layer.input.shape[0]} input vectors (batch x tokens) run one after another"]
        weight = np.ascontiguousarray(layer.weight)
        return [_rows_of(weight[:, :, None], np.ascontiguousarray(layer.input))], notes
    refuse_activation_product(layer, "EIE", "its weights must be encoded offline into interleaved CSC")
    if layer.op == "matmul":
        problems = [_rows_of(np.ascontiguousarray(layer.weight[g].T)[:, :, None], np.ascontiguousarray(layer.input[g]))
                    for g in range(layer.weight.shape[0])]
        return problems, [f"{len(problems)} batched weight matrices run one after another"]
    d = layer.dims
    groups, k_per_group, c_per_group = d["G"], d["K"] // d["G"], d["C"] // d["G"]
    x_nhwc = np.ascontiguousarray(layer.input.transpose(0, 2, 3, 1))
    problems = []
    for g in range(groups):
        weight = np.ascontiguousarray(layer.weight[g * k_per_group:(g + 1) * k_per_group])
        problems.append(MatrixVectorProblem(
            weight.reshape(k_per_group, c_per_group, d["R"] * d["S"]), d["N"] * d["P"] * d["Q"],
            _conv_windows(layer, x_nhwc, g * c_per_group, c_per_group)))
    note = (f"conv run as {d['N'] * d['P'] * d['Q']} matrix-vector products per group (one per output position, "
            f"its {d['R']}x{d['S']}x{c_per_group} window as the vector): EIE has no convolution dataflow")
    return problems, [note + (f"; {groups} groups one after another" if groups > 1 else "")]


def _rows_of(weight: np.ndarray, x: np.ndarray) -> MatrixVectorProblem:
    return MatrixVectorProblem(weight, x.shape[0], lambda keep_values: sequence_jit.matrix_sequences(x, keep_values))


def _conv_windows(layer: Layer, x_nhwc: np.ndarray, first_channel: int, c_per_group: int):
    d = layer.dims
    (stride_h, stride_w), (pad_h, pad_w), (dilation_h, dilation_w) = layer.stride, layer.padding, layer.dilation

    def build(keep_values: bool) -> Sequences:
        return sequence_jit.conv_sequences(x_nhwc, first_channel, c_per_group, d["R"], d["S"], d["P"], d["Q"],
                                           stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, keep_values)
    return build

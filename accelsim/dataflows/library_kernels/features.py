"""What a GPU/CPU kernel's time depends on, read from a layer's real weights: `GemmFeatures`.

Kernels compute Y (K x M) = W (K x Wr) @ X (Wr x M) per group: the weight on the left, as cuSPARSE, MKL and
cuSPARSELt want a sparse operand. M is output pixels x batch (tokens for a linear layer), Wr the reduction (a conv
window C/groups x R x S), K the output channels of one group.

The reduction is ordered two ways, and the order matters for structure, not for the product:
- "crs": torch's flatten order (C outermost). Block pruning (`accelsim.pruning.block`) cuts blocks of this view,
  so BSR tiles follow it.
- "rsc": channels-last (C fastest). N:M pruning (`accelsim.pruning.nm`) groups consecutive channels, so 2:4
  semi-structured kernels read this view.
Rows (output channels) are the same in both, so CSR's per-row counts do not depend on the order.

The features are measured on the pattern itself and do not depend on the device: nonzeros and those of the densest
row, nonzero blocks of a given size and those of the densest block row, and whether the weight really is 2:4. How a
library shares rows (and columns of X) out over a device's units is the kernel model's business
(`accelsim.dataflows.library_kernels.kernel_models.row_sparse_time`); the densest row bounds its smallest task.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from accelsim.dataflows.shared.gemm_view import gemm_shape
from accelsim.dataflows.shared.operands import refuse_activation_product
from accelsim.workload import Layer

LAYOUTS = ("crs", "rsc")


@dataclass(frozen=True)
class GemmFeatures:
    m: int
    """Columns of X and Y: output pixels x batch, or tokens."""
    reduction: int
    """The reduction length Wr (a conv window C/groups x R x S, a linear layer's input features)."""
    k: int
    """Rows of the weight: output channels per group."""
    groups: int
    """GEMMs of this shape run one after another (conv groups, static matmul slices)."""
    nnz: int
    """Nonzero weights over all groups."""
    nnz_densest_row: int
    """Nonzeros of each group's densest row, summed over groups."""
    parallel_units: int
    """The device's units (SMs, CPU threads): where the layer is evaluated, not a property of the weight."""
    block_rows: int
    block_cols: int
    nonzero_blocks: int
    """block_rows x block_cols tiles of the "crs" view with any nonzero, over all groups (0 if they don't tile)."""
    blocks_densest_row: int
    """Nonzero blocks of each group's densest block row (block_rows rows), summed over groups (0 if they don't
    tile)."""
    is_2_4: bool
    """Every group of 4 consecutive weights along the "rsc" reduction holds at most 2 nonzeros."""

    @property
    def macs(self) -> int:
        return self.m * self.reduction * self.k * self.groups

    @property
    def density(self) -> float:
        return self.nnz / (self.reduction * self.k * self.groups)

    def as_dict(self) -> dict:
        return asdict(self)


def weight_matrices(layer: Layer, layout: str = "crs") -> list[np.ndarray]:
    """The weight of each group as K x Wr (float32 view of the layer's values) in the given reduction order."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r}: allowed {', '.join(LAYOUTS)}")
    _check_static(layer)
    weight = np.asarray(layer.weight, dtype=np.float32)
    if layer.op == "linear":
        return [weight]
    if layer.op == "matmul":  # (G, C, K): Y_g^T = W_g^T X_g^T
        return [np.ascontiguousarray(weight[g].T) for g in range(weight.shape[0])]
    groups = layer.dims["G"]
    per_group = layer.dims["K"] // groups
    if layout == "rsc":
        weight = weight.transpose(0, 2, 3, 1)
    flat = weight.reshape(weight.shape[0], -1)
    return [np.ascontiguousarray(flat[g * per_group:(g + 1) * per_group]) for g in range(groups)]


def gemm_features(layer: Layer, *, parallel_units: int, block: tuple[int, int] = (16, 16)) -> GemmFeatures:
    """The features of `layer` on a machine with `parallel_units` units."""
    return features_of_matrices(weight_matrices(layer, "crs"), weight_matrices(layer, "rsc"), m=gemm_shape(layer).m,
                                parallel_units=parallel_units, block=block)


def features_of_matrices(crs: list[np.ndarray], rsc: list[np.ndarray], *, m: int, parallel_units: int,
                         block: tuple[int, int] = (16, 16)) -> GemmFeatures:
    """Features of per-group weight matrices given in both reduction orders (see the module docstring)."""
    if parallel_units < 1:
        raise ValueError(f"parallel_units must be at least 1, got {parallel_units}")
    block_rows, block_cols = block
    k, w = crs[0].shape
    nnz = densest = blocks = densest_blocks = 0
    for matrix in crs:
        row_nnz = np.count_nonzero(matrix, axis=1)
        nnz += int(row_nnz.sum())
        densest += int(row_nnz.max(initial=0))
        per_block_row = nonzero_blocks_per_block_row(matrix, block_rows, block_cols)
        blocks += int(per_block_row.sum())
        densest_blocks += int(per_block_row.max(initial=0))
    return GemmFeatures(m=m, reduction=w, k=k, groups=len(crs), nnz=nnz, nnz_densest_row=densest,
                        parallel_units=parallel_units, block_rows=block_rows, block_cols=block_cols,
                        nonzero_blocks=blocks, blocks_densest_row=densest_blocks,
                        is_2_4=all(is_n_m(matrix, 2, 4) for matrix in rsc))


def nonzero_blocks(matrix: np.ndarray, block_rows: int, block_cols: int) -> int:
    """Tiles of block_rows x block_cols holding any nonzero; 0 when the tiles do not divide the matrix."""
    return int(nonzero_blocks_per_block_row(matrix, block_rows, block_cols).sum())


def nonzero_blocks_per_block_row(matrix: np.ndarray, block_rows: int, block_cols: int) -> np.ndarray:
    """Nonzero block_rows x block_cols tiles in each block row; empty when the tiles do not divide the matrix."""
    rows, cols = matrix.shape
    if rows % block_rows or cols % block_cols:
        return np.zeros(0, dtype=np.int64)
    tiles = matrix.reshape(rows // block_rows, block_rows, cols // block_cols, block_cols)
    return np.count_nonzero(np.any(tiles != 0, axis=(1, 3)), axis=1)


def is_n_m(matrix: np.ndarray, n: int, m: int) -> bool:
    """At most n nonzeros in every m consecutive entries of each row (rows must divide into groups of m)."""
    rows, cols = matrix.shape
    if cols % m:
        return False
    return bool(np.all(np.count_nonzero(matrix.reshape(rows, cols // m, m), axis=2) <= n))


def _check_static(layer: Layer) -> None:
    refuse_activation_product(layer, "a library weight kernel", "no sparse weight format applies to a right "
                                                                "operand that is not known before inference")

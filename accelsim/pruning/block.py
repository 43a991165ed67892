"""Block sparsity: whole block_rows x block_cols tiles of the GEMM view zeroed, lowest L2 norm first.

The GEMM view is (K, C) for a linear weight and (K, C*R*S) for a conv, in torch's flatten order (C outermost,
then R, then S), i.e. the im2col layout. Block-sparse kernels (and accelerators that skip zero tiles) want tiles
that divide the view exactly; a weight they do not divide raises `LayerMismatch`, and at model level is left
dense and listed.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field

from accelsim.pruning.base import PerLayerScheme, Sparsity, gemm_view
from accelsim.pruning.errors import LayerMismatch
from accelsim.pruning.scores import LayerScores, group_scores
from accelsim.pruning.selection import kept_count, top_k_mask


class Block(PerLayerScheme):
    """Each layer keeps `kept_count(density, number of blocks)` blocks, those of largest L2 norm (norms in
    float64; ties: the earlier block in row-major order of the block grid). With a criterion, the L2 norm of the
    block's scores (their sum for signed scores; scores.py)."""

    syntax: ClassVar[str] = "block:<rows>x<cols>:<sparsity>"
    summary: ClassVar[str] = "zero whole blocks of the GEMM view (K, C*R*S) by L2 norm (block:4x4:0.75, block:1x16:0.5)"

    kind: Literal["block"] = "block"
    block_rows: int = Field(ge=1)
    """Block height, along K (output channels)."""
    block_cols: int = Field(ge=1)
    """Block width, along the reduction dimension C*R*S."""
    sparsity: Sparsity
    """Fraction of each layer's blocks set to zero."""

    @property
    def text(self) -> str:
        return f"block:{self.block_rows}x{self.block_cols}:{self.sparsity!r}"

    def mask(self, weight: torch.Tensor, *, layer_name: str = "", scores: LayerScores | None = None) -> torch.Tensor:
        view = gemm_view(weight.detach())
        rows, cols = view.shape
        if rows % self.block_rows or cols % self.block_cols:
            raise LayerMismatch(
                f"GEMM view {rows}x{cols} not divisible into {self.block_rows}x{self.block_cols} blocks",
                f"block {self.block_rows}x{self.block_cols} cannot prune a weight of shape {tuple(weight.shape)}: "
                f"its GEMM view (K, C*R*S) = ({rows}, {cols}) is not divisible into {self.block_rows}x"
                f"{self.block_cols} blocks. Allowed: block_rows dividing K and block_cols dividing C*R*S; at "
                f"model level such a layer is left dense and listed in the report.",
            )
        grid_rows, grid_cols = rows // self.block_rows, cols // self.block_cols
        tile_shape = (grid_rows, self.block_rows, grid_cols, self.block_cols)
        score_tiles = None if scores is None else gemm_view(scores.values).reshape(tile_shape)
        norms = group_scores(view.reshape(tile_shape), score_tiles, (1, 3), 2, scores is not None and scores.signed)
        keep_tiles = top_k_mask(norms, kept_count(1.0 - self.sparsity, norms.numel()))
        keep = keep_tiles[:, None, :, None].expand(grid_rows, self.block_rows, grid_cols, self.block_cols)
        return keep.reshape(weight.shape)

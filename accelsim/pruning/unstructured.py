"""Per-layer pruning: each layer keeps its highest-scoring weights, by default its largest |w| (Han et al. 2015)."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch

from accelsim.pruning.base import PerLayerScheme, Sparsity, gemm_view
from accelsim.pruning.scores import LayerScores, element_scores
from accelsim.pruning.selection import kept_count, top_k_mask, top_k_per_row


def layer_mask(weight: torch.Tensor, density: float, scores: LayerScores | None = None) -> torch.Tensor:
    """Keep exactly `kept_count(density, numel)` weights of highest score, by default of largest magnitude (ties:
    earlier flat index; zeros first to go).

    By magnitude, the same rule as torch.nn.utils.prune.l1_unstructured, but with half-up rounding and a defined tie
    order (see selection.py); the mask is then written into the weight. Scores compared within rows
    (Wanda's) keep `kept_count(density, row length)` in every row of the GEMM view instead."""
    ranked = element_scores(weight, scores)
    if scores is not None and scores.within_rows:
        rows = gemm_view(ranked)
        return top_k_per_row(rows, kept_count(density, rows.shape[1])).reshape(weight.shape)
    return top_k_mask(ranked, kept_count(density, weight.numel()))


class Unstructured(PerLayerScheme):
    """Every layer pruned to the same sparsity by the criterion's scores (magnitude by default)."""

    syntax: ClassVar[str] = "unstructured:<sparsity>"
    summary: ClassVar[str] = "per-layer magnitude pruning: each layer keeps its largest |w| (unstructured:0.9)"

    kind: Literal["unstructured"] = "unstructured"
    sparsity: Sparsity
    """Fraction of each layer's weights set to zero."""

    @property
    def text(self) -> str:
        return f"unstructured:{self.sparsity!r}"

    def mask(self, weight: torch.Tensor, *, layer_name: str = "", scores: LayerScores | None = None) -> torch.Tensor:
        return layer_mask(weight, 1.0 - self.sparsity, scores)

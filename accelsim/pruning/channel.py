"""Structured filter pruning: whole output channels (rows of the GEMM view) with the smallest L1 or L2 norm."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch

from accelsim.pruning.base import PerLayerScheme, Sparsity, gemm_view
from accelsim.pruning.scores import LayerScores, group_scores
from accelsim.pruning.selection import kept_count, top_k_mask


class Channel(PerLayerScheme):
    """Each layer keeps `kept_count(density, K)` of its K output channels, those with the largest norm.

    torch.nn.utils.prune.ln_structured(dim=0) by another route: we compute the norms (in float64) and pick the
    filters ourselves for half-up rounding and a defined tie order (the lower channel index wins), then write the
    mask (PrunableWeight.write_mask). The bias of a pruned channel is kept, as ln_structured keeps it. With a
    criterion, filters rank by the same norm of their scores (their sum for signed scores; scores.py)."""

    syntax: ClassVar[str] = "channel:<sparsity>[:l1|l2]"
    summary: ClassVar[str] = "filter (output channel) pruning by L1 (default) or L2 norm (channel:0.5:l2)"

    kind: Literal["channel"] = "channel"
    sparsity: Sparsity
    """Fraction of each layer's output channels set to zero."""
    norm: Literal[1, 2] = 1
    """The norm ranking the filters: 1 (sum of |w|) or 2 (Euclidean)."""

    @property
    def text(self) -> str:
        return f"channel:{self.sparsity!r}:l{self.norm}"

    def mask(self, weight: torch.Tensor, *, layer_name: str = "", scores: LayerScores | None = None) -> torch.Tensor:
        rows = gemm_view(weight.detach())
        score_rows = None if scores is None else gemm_view(scores.values)
        norms = group_scores(rows, score_rows, (1,), self.norm, scores is not None and scores.signed)
        keep_rows = top_k_mask(norms, kept_count(1.0 - self.sparsity, rows.shape[0]))
        return keep_rows[:, None].expand(rows.shape).reshape(weight.shape)

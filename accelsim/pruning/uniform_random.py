"""Uniformly random pruning: the baseline that magnitude criteria are measured against."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch

from accelsim.pruning.base import PerLayerScheme, Sparsity
from accelsim.pruning.criteria.magnitude import random_layer_scores
from accelsim.pruning.errors import PruningError
from accelsim.pruning.scores import LayerScores
from accelsim.pruning.selection import kept_count, top_k_mask


class Random(PerLayerScheme):
    """Each layer keeps a uniformly random subset of exactly `kept_count(density, numel)` weights.

    Deterministic: a layer draws from its own generator seeded by (seed, layer name), so its mask does not
    depend on which other layers are pruned or excluded. Zeros already in the weight are dropped first (scored
    below every random draw), so nothing pruned before is revived."""

    syntax: ClassVar[str] = "random:<sparsity>[:seed=<int>]"
    ranks_by_criterion: ClassVar[bool] = False
    summary: ClassVar[str] = "per-layer uniformly random pruning, seeded (random:0.5:seed=3; seed 0 by default)"

    kind: Literal["random"] = "random"
    sparsity: Sparsity
    """Fraction of each layer's weights set to zero."""
    seed: int = 0
    """Seed of the draws; with the layer name it fixes every mask."""

    @property
    def text(self) -> str:
        return f"random:{self.sparsity!r}:seed={self.seed}"

    def mask(self, weight: torch.Tensor, *, layer_name: str = "", scores: LayerScores | None = None) -> torch.Tensor:
        """The scheme is its own criterion: `scores` must be None (the CLI refuses --criterion with random:S;
        `unstructured:S --criterion random` draws the same scores from --seed)."""
        if scores is not None:
            raise PruningError("random:<sparsity> ranks by its own draws; use unstructured:<sparsity> with a criterion")
        scores = random_layer_scores(weight.shape, self.seed, layer_name)
        scores[weight.detach().cpu() == 0] = -1.0
        return top_k_mask(scores, kept_count(1.0 - self.sparsity, weight.numel())).to(weight.device)

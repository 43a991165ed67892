"""Global pruning: one threshold over all prunable weights (|w| by default, or a criterion's scores, which then
must be comparable across layers, as SNIP's, GraSP's and SynFlow's are by design), with a guard against layer
collapse.

A single global threshold lets a layer whose weights are small overall (a first conv, a scaled attention
projection) lose all of its weights, which disconnects the network (layer collapse; Tanaka et al., SynFlow,
NeurIPS 2020; Lee et al., "Layer-adaptive sparsity", ICLR 2021). The guard: no layer keeps fewer than
`min_layer_density` of its weights. A guarded layer keeps exactly that floor (its largest |w|); the rest of the
budget is re-thresholded over the other layers until no further layer falls under its floor, so the overall
target is met exactly (kept = density x total, rounded half up). Outside guarded layers every kept |w| is >=
every pruned |w|.

Default 0.02: low enough that the guard binds only on a layer that global pruning would all but empty, so the
global ranking is otherwise left alone (and global sparsities up to 98% stay reachable); high enough that a
guarded layer still carries signal (a 3x3x64 filter keeps about 12 weights on average). Set 0 to turn the guard
off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Literal

import numpy as np
import torch
from pydantic import field_validator

from accelsim.pruning.base import Decision, SchemeBase, Sparsity
from accelsim.pruning.errors import PruningError
from accelsim.pruning.scores import LayerScores, element_scores
from accelsim.pruning.selection import at_least_count, kept_count, top_k_flat
from accelsim.pruning.targets import PrunableWeight


class Global(SchemeBase):
    """Keep the largest |w| over all prunable (not excluded) weights, each layer keeping >= min_layer_density."""

    syntax: ClassVar[str] = "global:<sparsity>[:min_layer_density=<d>]"
    summary: ClassVar[str] = (
        "one magnitude threshold over the whole model; no layer keeps < 2% (global:0.9:min_layer_density=0.05)"
    )

    kind: Literal["global"] = "global"
    sparsity: Sparsity
    """Fraction of all prunable weights set to zero."""
    min_layer_density: float = 0.02
    """Floor on each layer's density, guarding against layer collapse (0 turns the guard off)."""

    @field_validator("min_layer_density")
    @classmethod
    def _check_floor(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"min_layer_density must be in [0, 1] (a fraction of each layer); got {value!r}")
        return value

    @property
    def text(self) -> str:
        return f"global:{self.sparsity!r}:min_layer_density={self.min_layer_density!r}"

    def plan(self, weights: Sequence[PrunableWeight],
             scores: Mapping[str, LayerScores] | None = None) -> dict[str, Decision]:
        chosen = [w for w in weights if not w.excluded]
        tensors = [w.tensor for w in chosen]
        scores = [element_scores(t, None if scores is None else scores[w.name]).reshape(-1).cpu().numpy()
                  .astype(np.float64, copy=False) for w, t in zip(chosen, tensors, strict=True)]
        sizes = [s.size for s in scores]
        budget = kept_count(1.0 - self.sparsity, sum(sizes))
        floors = [at_least_count(self.min_layer_density, size) for size in sizes]
        if sum(floors) > budget:
            raise PruningError(
                f"global:{self.sparsity!r} keeps {budget} of {sum(sizes)} weights, fewer than the "
                f"{sum(floors)} that min_layer_density={self.min_layer_density!r} reserves (each layer keeps at "
                f"least that fraction); lower the sparsity or min_layer_density."
            )
        keeps = self._select(scores, budget, floors)
        return {w.name: _as_mask(keep, t) for w, keep, t in zip(chosen, keeps, tensors, strict=True)}

    @staticmethod
    def _select(scores: list[np.ndarray], budget: int, floors: list[int]) -> list[np.ndarray]:
        # A layer under its floor at one threshold stays under it at any higher one, so the guarded set only
        # grows and the loop ends after at most one pass per layer.
        guarded: set[int] = set()
        while True:
            free = [i for i in range(len(scores)) if i not in guarded]
            free_budget = budget - sum(floors[i] for i in guarded)
            joint = top_k_flat(np.concatenate([scores[i] for i in free]), free_budget) if free else None
            keeps: dict[int, np.ndarray] = {}
            start = 0
            for i in free:
                keeps[i] = joint[start : start + scores[i].size]
                start += scores[i].size
            under = {i for i in free if int(keeps[i].sum()) < floors[i]}
            if not under:
                break
            guarded |= under
        for i in guarded:
            keeps[i] = top_k_flat(scores[i], floors[i])
        return [keeps[i] for i in range(len(scores))]


def _as_mask(keep: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(keep).reshape(like.shape).to(like.device)

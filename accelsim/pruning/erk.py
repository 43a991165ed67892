"""ERK layer densities (Evci et al. 2020, "Rigging the Lottery", after Mocanu et al.'s Erdős-Rényi): each layer's
density is proportional to (sum of its dimensions) / (product of its dimensions), i.e. (K + C + R + S) / (K C R S)
for a conv and (K + C) / (K C) for a linear, so that small layers stay denser than large ones. A layer whose
share would exceed 1 stays dense and the scale is solved again over the others. Within each layer the highest
scores are kept (magnitude by default).

The overall count is exact: the model keeps kept_count(1 - sparsity, all weights); the layers' real-valued
counts are floored and the remainder goes to the largest fractional parts (ties: the earlier layer)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar, Literal

from accelsim.pruning.base import Decision, SchemeBase, Sparsity
from accelsim.pruning.scores import LayerScores, element_scores
from accelsim.pruning.selection import kept_count, top_k_mask
from accelsim.pruning.targets import PrunableWeight


def erk_kept_counts(shapes: Sequence[tuple[int, ...]], budget: int) -> list[int]:
    """Weights kept per layer: ERK shares of `budget`, integers summing to it exactly."""
    sizes = [math.prod(shape) for shape in shapes]
    raw = [sum(shape) / size for shape, size in zip(shapes, sizes, strict=True)]
    dense: set[int] = set()
    while True:
        free = [i for i in range(len(sizes)) if i not in dense]
        left = budget - sum(sizes[i] for i in dense)
        scale = left / sum(raw[i] * sizes[i] for i in free) if free else 0.0
        over = {i for i in free if scale * raw[i] > 1.0}
        if not over:
            break
        dense |= over
    exact = [float(sizes[i]) if i in dense else scale * raw[i] * sizes[i] for i in range(len(sizes))]
    counts = [min(sizes[i], math.floor(exact[i] + 1e-9)) for i in range(len(sizes))]
    order = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order:
        if sum(counts) >= budget:
            break
        if counts[i] < sizes[i]:
            counts[i] += 1
    return counts


class ERK(SchemeBase):
    """Unstructured pruning at ERK layer densities to an overall sparsity."""

    syntax: ClassVar[str] = "erk:<sparsity>"
    summary: ClassVar[str] = "Erdős-Rényi-Kernel layer densities (Evci et al. 2020): small layers denser (erk:0.9)"

    kind: Literal["erk"] = "erk"
    sparsity: Sparsity
    """Fraction of all prunable weights set to zero."""

    @property
    def text(self) -> str:
        return f"erk:{self.sparsity!r}"

    def plan(self, weights: Sequence[PrunableWeight],
             scores: Mapping[str, LayerScores] | None = None) -> dict[str, Decision]:
        chosen = [w for w in weights if not w.excluded]
        budget = kept_count(1.0 - self.sparsity, sum(math.prod(w.shape) for w in chosen))
        counts = erk_kept_counts([w.shape for w in chosen], budget)
        return {w.name: top_k_mask(element_scores(w.tensor, None if scores is None else scores[w.name]), count)
                for w, count in zip(chosen, counts, strict=True)}

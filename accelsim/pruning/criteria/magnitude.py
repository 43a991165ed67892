"""`magnitude`: |w| (Han et al. 2015; Gale et al. 2019 found it hard to beat), and `random`, the baseline every
criterion must beat."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import ClassVar

import torch

from accelsim.pruning.criteria.base import Criterion, ScoringContext
from accelsim.pruning.scores import LayerScores, magnitude_scores
from accelsim.pruning.targets import PrunableWeight


class Magnitude(Criterion):
    name: ClassVar[str] = "magnitude"
    syntax: ClassVar[str] = "magnitude"
    summary: ClassVar[str] = "|w| (the default): largest weights kept"

    def scores(self, context: ScoringContext, weights: Sequence[PrunableWeight]) -> dict[str, LayerScores]:
        return {w.name: LayerScores(magnitude_scores(w.tensor)) for w in weights}


def random_layer_scores(shape: torch.Size | tuple[int, ...], seed: int, layer_name: str) -> torch.Tensor:
    """Uniform draws in [0, 1) from a generator seeded by (seed, layer name), so that a layer's draws do not depend
    on which other layers are pruned."""
    generator = torch.Generator().manual_seed(zlib.crc32(f"{seed}:{layer_name}".encode()))
    return torch.rand(shape, generator=generator, dtype=torch.float64)


class RandomScores(Criterion):
    name: ClassVar[str] = "random"
    syntax: ClassVar[str] = "random"
    summary: ClassVar[str] = "uniform random scores, seeded by --seed and the layer name (the baseline)"

    def scores(self, context: ScoringContext, weights: Sequence[PrunableWeight]) -> dict[str, LayerScores]:
        return {w.name: LayerScores(random_layer_scores(w.shape, context.seed, w.name)) for w in weights}

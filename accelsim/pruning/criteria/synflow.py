"""`synflow` (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively conserving synaptic
flow"): data-free. Every parameter and buffer is replaced by its absolute value, an input of ones is fed to the
network in float64, and R, the sum of the outputs, is differentiated: score = |w x dR/dw|. It is iterative by
design: `rounds` pruning steps, each to the exponential schedule's density d^(i/rounds), scores recomputed on the
pruned network every time (100 in the paper), which is what avoids layer collapse."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import ClassVar

import torch
from pydantic import Field

from accelsim.pruning.criteria.base import Criterion, ScoringContext, parameters_of
from accelsim.pruning.errors import PruningError
from accelsim.pruning.scores import LayerScores
from accelsim.pruning.targets import PrunableWeight, find_prunable_weights


class SynFlow(Criterion):
    name: ClassVar[str] = "synflow"
    syntax: ClassVar[str] = "synflow[:iterations=<n>]"
    summary: ClassVar[str] = "data-free synaptic flow |w x dR/dw|, pruned in 100 exponential steps (Tanaka et al.)"

    iterations: int = Field(100, ge=1)
    """Pruning steps (the paper's 100)."""

    @property
    def rounds(self) -> int:
        return self.iterations

    def scores(self, context: ScoringContext, weights: Sequence[PrunableWeight]) -> dict[str, LayerScores]:
        example = context.example_input
        if not isinstance(example, torch.Tensor) or not example.is_floating_point():
            raise PruningError("synflow feeds the network an input of ones, so it needs a model whose input is a "
                               "float tensor (an image); this model's input is not")
        linear = copy.deepcopy(context.model).double().eval()
        with torch.no_grad():
            for tensor in linear.state_dict().values():
                if tensor.is_floating_point():
                    tensor.abs_()
        by_name = {w.name: w for w in find_prunable_weights(linear)}
        copies = [by_name[w.name] for w in weights]
        params = parameters_of(copies)
        flow = linear(torch.ones((1, *example.shape[1:]), dtype=torch.float64)).sum()
        grads = torch.autograd.grad(flow, params)
        return {w.name: LayerScores(w.layout.to_gemm((p.detach() * g).abs()))
                for w, p, g in zip(weights, params, grads, strict=True)}

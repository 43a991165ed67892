"""Gradient criteria on the model's training data: `taylor` (Molchanov et al. 2017/2019, first-order Taylor
expansion of the loss: |w x dL/dw| over a few batches), `snip` (Lee et al. 2019, connection sensitivity |w x dL/dw|
on one batch, used at initialisation) and `grasp` (Wang et al. 2020, gradient signal preservation: w x Hg).

taylor and snip compute the same quantity; they differ in how much data they average over and in when the
literature applies them (SNIP at initialisation, Taylor on a trained network). SNIP's normalisation by the sum of
all scores does not change the ranking and is left out. Scoring runs the model in eval mode on batches drawn from
the training split by the seed; the model's weights are not changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from pydantic import Field
from torch import nn

from accelsim.pruning.criteria.base import Criterion, ScoringContext, parameters_of
from accelsim.pruning.errors import PruningError
from accelsim.pruning.scores import LayerScores
from accelsim.pruning.targets import PrunableWeight


def scoring_batches(context: ScoringContext, batches: int, batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """`batches` batches of the training split, drawn without replacement in the seed's order."""
    data = context.data
    if data is None:
        raise PruningError("this criterion needs the model's training data, and the model has none")
    order = torch.randperm(len(data.train_labels), generator=torch.Generator().manual_seed(context.seed))
    chosen = order[: batches * batch_size].split(batch_size)
    return [(data.train_images[index], data.train_labels[index]) for index in chosen]


class _Evaluating:
    """Eval mode for the duration of scoring (no dropout, batch norm on its running statistics), then restored."""

    def __init__(self, model: nn.Module):
        self.model, self.was_training = model, model.training

    def __enter__(self) -> None:
        self.model.eval()

    def __exit__(self, *exc) -> None:
        self.model.train(self.was_training)


def mean_gradient(context: ScoringContext, params: list[nn.Parameter], batches, temperature: float = 1.0,
                  create_graph: bool = False) -> list[torch.Tensor]:
    """Gradient of the cross-entropy of logits / temperature, averaged over `batches`."""
    total = [torch.zeros_like(p) for p in params]
    for images, labels in batches:
        loss = nn.functional.cross_entropy(context.model(images) / temperature, labels)
        grads = torch.autograd.grad(loss, params, create_graph=create_graph)
        total = [t + g / len(batches) for t, g in zip(total, grads, strict=True)]
    return total


class Taylor(Criterion):
    name: ClassVar[str] = "taylor"
    syntax: ClassVar[str] = "taylor[:batches=<n>][:batch_size=<b>]"
    summary: ClassVar[str] = "|w x dL/dw| with the gradient averaged over a few training batches (Molchanov et al.)"
    needs_data: ClassVar[bool] = True

    batches: int = Field(4, ge=1)
    batch_size: int = Field(64, ge=1)

    def scores(self, context: ScoringContext, weights: Sequence[PrunableWeight]) -> dict[str, LayerScores]:
        params = parameters_of(weights)
        with _Evaluating(context.model):
            grads = mean_gradient(context, params, scoring_batches(context, self.batches, self.batch_size))
        return {w.name: LayerScores(w.layout.to_gemm((p.detach() * g).abs()))
                for w, p, g in zip(weights, params, grads, strict=True)}


class Snip(Taylor):
    name: ClassVar[str] = "snip"
    syntax: ClassVar[str] = "snip[:batch_size=<b>]"
    summary: ClassVar[str] = "connection sensitivity |w x dL/dw| on one training batch (Lee et al. 2019)"

    batches: int = Field(1, ge=1)
    batch_size: int = Field(128, ge=1)


class GraSP(Criterion):
    """Wang et al. 2020 score S = -w x Hg and remove the highest S; here the score is w x Hg (higher = keep), so
    the weights GraSP removes rank lowest. g is the gradient over the batches, H the Hessian (a Hessian-vector
    product), logits divided by the temperature as in the authors' code (200)."""

    name: ClassVar[str] = "grasp"
    syntax: ClassVar[str] = "grasp[:batches=<n>][:batch_size=<b>][:temperature=<t>]"
    summary: ClassVar[str] = "gradient signal preservation w x Hg (Wang et al. 2020); signed scores"
    needs_data: ClassVar[bool] = True
    signed: ClassVar[bool] = True

    batches: int = Field(1, ge=1)
    batch_size: int = Field(128, ge=1)
    temperature: float = Field(200.0, gt=0)

    def scores(self, context: ScoringContext, weights: Sequence[PrunableWeight]) -> dict[str, LayerScores]:
        params = parameters_of(weights)
        batches = scoring_batches(context, self.batches, self.batch_size)
        with _Evaluating(context.model):
            g = [t.detach() for t in mean_gradient(context, params, batches, self.temperature)]
            grads = mean_gradient(context, params, batches, self.temperature, create_graph=True)
            z = sum((grad * fixed).sum() for grad, fixed in zip(grads, g, strict=True))
            hessian_g = torch.autograd.grad(z, params)
        return {w.name: LayerScores(w.layout.to_gemm(p.detach() * hg), signed=True)
                for w, p, hg in zip(weights, params, hessian_g, strict=True)}

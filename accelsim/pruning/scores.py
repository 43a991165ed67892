"""Scores that rank weights for pruning, and how a structure turns them into the units it prunes.

A criterion (accelsim/pruning/criteria/) gives every prunable weight a score tensor of the weight's shape in its GEMM
layout (`PrunableWeight.shape`, layouts.py): higher means more important, kept first. A structure then ranks its
own units:
- single weights (unstructured, global, ERK, N:M within each group): by the score itself;
- blocks and channels: by a norm of the scores in the group (block: L2; channel: its l1 or l2), which for the
  magnitude criterion (score |w|) is the group's weight norm, the rule of Han et al. and Li et al. 2017. Scores that
  can be negative (GraSP's) rank a group by their sum instead: a norm would drop the sign, and the sum is the
  criterion's own first-order estimate of removing the whole group.
Weights that are already zero are pruned first (they rank below every other weight; a group of zeros below every
other group), so nothing pruned is revived and a layer's existing zeros count toward its sparsity.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from accelsim.pruning.errors import PruningError


@dataclass(frozen=True)
class LayerScores:
    """One weight's scores (its shape; higher = keep) and whether they may be negative."""

    values: torch.Tensor
    signed: bool = False
    within_rows: bool = False
    """The criterion compares weights only within each output row (Wanda's per-output groups): `unstructured`
    then keeps the same share of every row of the GEMM view."""


def magnitude_scores(weight: torch.Tensor) -> torch.Tensor:
    """|w|, in a float type numpy can partition (abs is exact, so the order is the weights' own)."""
    scores = weight.detach().abs()
    return scores if scores.dtype in (torch.float32, torch.float64) else scores.float()


def element_scores(weight: torch.Tensor, scores: LayerScores | None) -> torch.Tensor:
    """Scores of single weights, zeros of `weight` lowest (-inf); `None` means magnitude."""
    if scores is None:
        return magnitude_scores(weight)  # |w|: zeros are already the lowest
    values = _checked(weight, scores.values).clone()
    values[weight.detach() == 0] = -torch.inf
    return values


def group_scores(weight_groups: torch.Tensor, score_groups: torch.Tensor | None, dims: tuple[int, ...],
                 norm: int, signed: bool) -> torch.Tensor:
    """One score per group: groups of the weights (`weight_groups`) and of their scores (`score_groups`, `None`
    for magnitude: the weights themselves) reduced over `dims`, in float64. All-zero groups of weights come last."""
    source = weight_groups if score_groups is None else score_groups
    source = source.detach().to(torch.float64)
    if signed:
        reduced = source.sum(dim=dims)
    else:
        reduced = torch.linalg.vector_norm(source, ord=norm, dim=dims)
    if score_groups is not None:
        reduced[(weight_groups.detach() != 0).sum(dim=dims) == 0] = -torch.inf
    return reduced


def _checked(weight: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    if values.shape != weight.shape:
        raise PruningError(f"scores of shape {tuple(values.shape)} do not fit a weight of shape "
                           f"{tuple(weight.shape)}")
    if not bool(torch.isfinite(values).all()):
        raise PruningError("the criterion's scores contain NaN or infinity (a diverged gradient?); they cannot "
                           "rank weights")
    values = values.detach().to(weight.device)
    return values if values.dtype in (torch.float32, torch.float64) else values.float()

"""What every criterion shares: a frozen pydantic config that scores every prunable weight of a model (higher =
keep), and the context it scores in (the model's training data, an example input, a seed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch
from pydantic import BaseModel, ConfigDict

from accelsim.pruning.scores import LayerScores
from accelsim.pruning.targets import PrunableWeight

if TYPE_CHECKING:
    from torch import nn

    from accelsim.frontend.training import LabelledData


@dataclass(frozen=True)
class ScoringContext:
    """What a criterion may look at besides the weights."""

    model: nn.Module
    data: LabelledData | None = None
    """The model's own training data (criteria that need data score on batches of its training split)."""
    example_input: object = None
    """The model's sample input, as `lower` takes it (a tensor, a tuple, or a dict of keyword arguments): SynFlow
    feeds ones of its shape, Wanda calibrates on it."""
    seed: int = 0


class Criterion(BaseModel):
    """A ranking of weights. Subclasses set the ClassVars and implement `scores`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ClassVar[str]
    syntax: ClassVar[str]
    summary: ClassVar[str]
    needs_data: ClassVar[bool] = False
    """Whether scoring runs the model on its training data (taylor, snip, grasp)."""
    signed: ClassVar[bool] = False
    """Whether scores can be negative (GraSP): groups then rank by the sum of their scores (scores.py)."""

    @property
    def rounds(self) -> int:
        """How many pruning steps one pruning takes (SynFlow prunes iteratively to avoid layer collapse)."""
        return 1

    @property
    def text(self) -> str:
        """The criterion in CLI form; `parse_criterion(c.text) == c`."""
        options = ":".join(f"{key}={value!r}" for key, value in self.model_dump().items()
                           if value != type(self).model_fields[key].default)
        return f"{self.name}:{options}" if options else self.name

    def scores(self, context: ScoringContext, weights: Sequence[PrunableWeight]) -> dict[str, LayerScores]:
        """Scores for each weight in `weights` (not excluded ones), keyed by `PrunableWeight.name`."""
        raise NotImplementedError


def parameters_of(weights: Sequence[PrunableWeight]) -> list[torch.nn.Parameter]:
    """The parameters behind `weights` (live prune masks and parametrizations must be folded first)."""
    params = []
    for weight in weights:
        param = getattr(weight.module, weight.param)
        if not isinstance(param, torch.nn.Parameter):
            raise TypeError(f"weight {weight.name!r} is not a plain parameter (a live mask or parametrization "
                            f"was not folded before scoring)")
        params.append(param)
    return params

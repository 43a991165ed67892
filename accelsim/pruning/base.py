"""What every pruning scheme config shares: pydantic v2, frozen, unknown keys refused, an `exclude` list, and
`plan`, which decides per weight a keep-mask or the reason it stays dense. `apply` (apply.py) does the writing.

Sparsity is the fraction of zeros a weight ends with; density = 1 - sparsity. A weight that already holds zeros
(or a live torch prune mask) counts them: its zeros are the first to go, nothing pruned is revived, so a layer
already sparser than the target keeps its own density.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, ClassVar

import torch
from pydantic import AfterValidator, BaseModel, ConfigDict

from accelsim.pruning.errors import LayerMismatch
from accelsim.pruning.targets import PrunableWeight

Decision = torch.Tensor | str
"""A bool keep-mask of the weight's shape, or the reason the weight is left dense."""


def _check_sparsity(value: float) -> float:
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"sparsity must be in [0, 1): the fraction of weights set to zero (0.9 keeps 10%); got {value!r}"
        )
    return value


Sparsity = Annotated[float, AfterValidator(_check_sparsity)]


class SchemeBase(BaseModel):
    """Fields common to every scheme. Subclasses set `kind`, `syntax` and `summary`, and implement `plan`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    syntax: ClassVar[str]
    """The CLI form, e.g. "nm:<n>:<m>"."""
    summary: ClassVar[str]
    """One line for `accelsim list`."""

    exclude: tuple[str, ...] = ()
    """Module names left dense (a container such as "classifier" covers every layer inside it)."""

    @property
    def text(self) -> str:
        """The scheme in CLI form; `parse_scheme(s.text)` gives back `s` (less `exclude`, which the CLI passes
        separately)."""
        raise NotImplementedError

    def plan(self, weights: Sequence[PrunableWeight]) -> dict[str, Decision]:
        """A decision for every weight that is not excluded, keyed by `PrunableWeight.name`. `weights` is every
        prunable weight of the model in module order, excluded ones included (and marked): han2015 recognises the
        model by all of them."""
        raise NotImplementedError


class PerLayerScheme(SchemeBase):
    """A scheme that decides each weight on its own: `mask` works on a single tensor and raises
    `LayerMismatch` when the weight's shape does not fit; at model level that layer is left dense."""

    def mask(self, weight: torch.Tensor, *, layer_name: str = "") -> torch.Tensor:
        """Bool keep-mask of `weight`'s shape (`layer_name` only seeds random schemes)."""
        raise NotImplementedError

    def plan(self, weights: Sequence[PrunableWeight]) -> dict[str, Decision]:
        decisions: dict[str, Decision] = {}
        for weight in weights:
            if weight.excluded:
                continue
            try:
                decisions[weight.name] = self.mask(weight.tensor, layer_name=weight.name)
            except LayerMismatch as mismatch:
                decisions[weight.name] = mismatch.reason
        return decisions


def magnitude_scores(weight: torch.Tensor) -> torch.Tensor:
    """|w|, in a float type numpy can partition (abs is exact, so the order is the weights' own)."""
    scores = weight.detach().abs()
    return scores if scores.dtype in (torch.float32, torch.float64) else scores.float()


def gemm_view(weight: torch.Tensor) -> torch.Tensor:
    """The 2-D GEMM view of a weight: linear (K, C) as is, conv (K, C, R, S) as (K, C*R*S) in torch's flatten
    order."""
    return weight.reshape(weight.shape[0], -1)

"""What every pruning scheme config shares: pydantic v2, frozen, unknown keys refused, an `exclude` list, and
`plan`, which decides per weight a keep-mask or the reason it stays dense. `apply` (apply.py) does the writing.

Sparsity is the fraction of zeros a weight ends with; density = 1 - sparsity. A weight that already holds zeros
(or a live torch prune mask) counts them: its zeros are the first to go, nothing pruned is revived, so a layer
already sparser than the target keeps its own density.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, ClassVar

import torch
from pydantic import AfterValidator, BaseModel, ConfigDict

from accelsim.pruning.errors import LayerMismatch
from accelsim.pruning.scores import LayerScores
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

    ranks_by_criterion: ClassVar[bool] = True
    """False for schemes that rank by their own rule (random draws, none): a --criterion is refused for them."""

    exclude: tuple[str, ...] = ()
    """Module names left dense (a container such as "classifier" covers every layer inside it)."""

    @property
    def text(self) -> str:
        """The scheme in CLI form; `parse_scheme(s.text)` gives back `s` (less `exclude`, which the CLI passes
        separately)."""
        raise NotImplementedError

    def plan(self, weights: Sequence[PrunableWeight],
             scores: Mapping[str, LayerScores] | None = None) -> dict[str, Decision]:
        """A decision for every weight that is not excluded, keyed by `PrunableWeight.name`. `weights` is every
        prunable weight of the model in module order, excluded ones included (and marked): han2015 recognises the
        model by all of them. `scores` ranks the weights (a criterion's, by weight name; accelsim/pruning/scores.py
        says how each structure uses them); `None` ranks by magnitude."""
        raise NotImplementedError

    def with_sparsity(self, sparsity: float) -> SchemeBase:
        """The same scheme at another overall sparsity (the intermediate targets of iterative and gradual
        schedules). A scheme whose density is fixed by its pattern (N:M, han2015, none) returns itself."""
        if "sparsity" not in type(self).model_fields:
            return self
        return self.model_copy(update={"sparsity": sparsity})

    @property
    def target_sparsity(self) -> float | None:
        """The sparsity `with_sparsity` scales, or None for a scheme whose density its pattern fixes."""
        return getattr(self, "sparsity", None)


class PerLayerScheme(SchemeBase):
    """A scheme that decides each weight on its own: `mask` works on a single tensor and raises
    `LayerMismatch` when the weight's shape does not fit; at model level that layer is left dense."""

    def mask(self, weight: torch.Tensor, *, layer_name: str = "", scores: LayerScores | None = None) -> torch.Tensor:
        """Bool keep-mask of `weight`'s shape, ranked by `scores` (`None`: magnitude); `layer_name` only seeds
        random schemes."""
        raise NotImplementedError

    def plan(self, weights: Sequence[PrunableWeight],
             scores: Mapping[str, LayerScores] | None = None) -> dict[str, Decision]:
        decisions: dict[str, Decision] = {}
        for weight in weights:
            if weight.excluded:
                continue
            try:
                layer_scores = None if scores is None else scores[weight.name]
                decisions[weight.name] = self.mask(weight.tensor, layer_name=weight.name, scores=layer_scores)
            except LayerMismatch as mismatch:
                decisions[weight.name] = mismatch.reason
        return decisions


def gemm_view(weight: torch.Tensor) -> torch.Tensor:
    """The 2-D GEMM view of a weight: linear (K, C) as is, conv (K, C, R, S) as (K, C*R*S) in torch's flatten
    order."""
    return weight.reshape(weight.shape[0], -1)

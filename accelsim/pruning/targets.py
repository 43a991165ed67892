"""Which weights of a model are prunable, how to read them, and how a mask is made permanent.

Prunable: the `weight` of every nn.Conv2d and nn.Linear, and nn.MultiheadAttention's `in_proj_weight` (or its
`q/k/v_proj_weight` when key and value sizes differ); attention's `out_proj` is an nn.Linear and is found as
such. Biases are never pruned. Other layers with weights (norms, embeddings) are not prunable and not listed.

A weight may already carry a live torch.nn.utils.prune mask (`weight_orig` x `weight_mask`, applied by a forward
pre-hook), or a parametrization such as torch.ao.pruning's FakeSparsity (`parametrizations.weight.original`
and a mask). We read either as the effective weight, so that the mask counts as zeros, and fold it when writing
(`prune.remove`, `parametrize.remove_parametrizations(leave_parametrized=True)`): afterwards every prunable weight
is a plain Parameter whose zeros are the sparsity.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize, prune

from accelsim.pruning.errors import PruningError

PRUNABLE_TYPES = "nn.Conv2d, nn.Linear, nn.MultiheadAttention"


@dataclass(frozen=True, eq=False)
class PrunableWeight:
    """One prunable weight: the module that owns it, the parameter's name, and whether it is excluded."""

    module_name: str
    module: nn.Module
    param: str
    excluded: bool = False

    @property
    def name(self) -> str:
        """The module name, with the parameter appended when it is not `weight` ("attn.in_proj_weight")."""
        if self.param == "weight":
            return self.module_name
        return f"{self.module_name}.{self.param}" if self.module_name else self.param

    @property
    def has_live_mask(self) -> bool:
        return hasattr(self.module, f"{self.param}_orig") and hasattr(self.module, f"{self.param}_mask")

    @property
    def tensor(self) -> torch.Tensor:
        """The effective weight (detached): a live torch prune mask is multiplied in."""
        if self.has_live_mask:
            orig = getattr(self.module, f"{self.param}_orig")
            return (orig * getattr(self.module, f"{self.param}_mask")).detach()
        return getattr(self.module, self.param).detach()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tensor.shape)

    def fold_live_mask(self) -> None:
        """Make a live torch prune mask or parametrization permanent in the parameter (no-op without one)."""
        if self.has_live_mask:
            prune.remove(self.module, self.param)
        if parametrize.is_parametrized(self.module, self.param):
            parametrize.remove_parametrizations(self.module, self.param, leave_parametrized=True)

    def write_mask(self, keep: torch.Tensor) -> None:
        """Zero the weights where `keep` is False, permanently, through torch.nn.utils.prune."""
        self.fold_live_mask()
        device = getattr(self.module, self.param).device
        with torch.no_grad():
            prune.custom_from_mask(self.module, self.param, keep.to(device))
            prune.remove(self.module, self.param)


def _params_of(module: nn.Module) -> tuple[str, ...]:
    if isinstance(module, nn.Conv2d | nn.Linear):
        return ("weight",)
    if isinstance(module, nn.MultiheadAttention):
        if module.in_proj_weight is not None:
            return ("in_proj_weight",)
        return ("q_proj_weight", "k_proj_weight", "v_proj_weight")
    return ()


def _is_excluded(module_name: str, exclude: Sequence[str]) -> bool:
    return any(module_name == name or module_name.startswith(f"{name}.") for name in exclude)


def find_prunable_weights(model: nn.Module, exclude: Sequence[str] = ()) -> list[PrunableWeight]:
    """Every prunable weight of `model` in module order; those inside a module named in `exclude` are marked.

    A name in `exclude` must be a module of the model (a container such as "classifier" covers everything in it).
    """
    module_names = [name for name, _ in model.named_modules() if name]
    unknown = [name for name in exclude if name not in module_names]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, module_names, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise PruningError(
            f"exclude names {', '.join(hints)}, which {'is' if len(unknown) == 1 else 'are'} not a module of the "
            f"model; exclude takes module names as model.named_modules() spells them, e.g. "
            f"{', '.join(repr(n) for n in module_names[:4])}."
        )
    found = []
    for module_name, module in model.named_modules():
        for param in _params_of(module):
            weight = getattr(module, f"{param}_orig", None)
            if weight is None:
                weight = getattr(module, param)
            if isinstance(weight, nn.parameter.UninitializedParameter):
                raise PruningError(
                    f"module {module_name!r} ({type(module).__name__}) is a lazy module whose {param} is not "
                    f"initialised yet; run one forward pass before pruning it."
                )
            found.append(PrunableWeight(module_name, module, param, _is_excluded(module_name, exclude)))
    return found

"""Which weights of a model are prunable, how to read them, and how a mask is made permanent.

Prunable: every weight a lowered layer multiplies: the `weight` of nn.Linear, nn.Conv1d/2d/3d,
nn.ConvTranspose1d/2d/3d and transformers' Conv1D (GPT-2); nn.MultiheadAttention's `in_proj_weight` (or its
`q/k/v_proj_weight` when key and value sizes differ; attention's `out_proj` is an nn.Linear and is found as
such); every `weight_ih_l*`, `weight_hh_l*` and `weight_hr_l*` (reverse directions included) of nn.LSTM, nn.GRU and
nn.RNN, and `weight_ih`/`weight_hh` of their cells. Biases are never pruned. Other layers with weights (norms,
embeddings: a lookup does no multiply-accumulate) are not prunable and not listed.

Schemes see each weight in its GEMM layout (layouts.py: (K, C/groups, taps...), the weight of the lowered layer):
`PrunableWeight.tensor` and `.shape` are in it, and `write_mask` takes a keep-mask in it.

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

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize, prune

from accelsim.pruning.errors import PruningError
from accelsim.pruning.layouts import AS_STORED, TRANSPOSED, WeightLayout, conv3d_layout, transposed_conv_layout

PRUNABLE_TYPES = ("nn.Linear, nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d, nn.MultiheadAttention, nn.LSTM/GRU/RNN "
                  "and their cells, transformers' Conv1D")


@dataclass(frozen=True, eq=False)
class PrunableWeight:
    """One prunable weight: the module that owns it, the parameter's name, and whether it is excluded."""

    module_name: str
    module: nn.Module
    param: str
    excluded: bool = False
    layout: WeightLayout = AS_STORED
    """How the parameter maps to its GEMM layout (layouts.py)."""

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
    def state_dict_key(self) -> str:
        """The parameter's name in the model's state_dict ("conv1.weight", "lstm.weight_hh_l0")."""
        return f"{self.module_name}.{self.param}" if self.module_name else self.param

    @property
    def stored(self) -> torch.Tensor:
        """The effective parameter as stored (detached): a live torch prune mask is multiplied in."""
        if self.has_live_mask:
            orig = getattr(self.module, f"{self.param}_orig")
            return (orig * getattr(self.module, f"{self.param}_mask")).detach()
        return getattr(self.module, self.param).detach()

    @property
    def tensor(self) -> torch.Tensor:
        """The effective weight in its GEMM layout (detached)."""
        return self.layout.to_gemm(self.stored)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape in the GEMM layout."""
        return tuple(self.tensor.shape)

    @property
    def stored_shape(self) -> tuple[int, ...]:
        return tuple(self.stored.shape)

    @property
    def nonzeros(self) -> int:
        return count_nonzero(self.stored)

    def fold_live_mask(self) -> None:
        """Make a live torch prune mask or parametrization permanent in the parameter (no-op without one)."""
        if self.has_live_mask:
            prune.remove(self.module, self.param)
        if parametrize.is_parametrized(self.module, self.param):
            parametrize.remove_parametrizations(self.module, self.param, leave_parametrized=True)

    def write_mask(self, keep: torch.Tensor) -> None:
        """Zero the weights where `keep` (in the GEMM layout) is False, permanently: in place in the parameter, as
        torch.nn.utils.prune's custom_from_mask and remove leave it (the same Parameter, its pruned entries zero),
        without their copies of the weight (four passes over GPT-2's 124M weights)."""
        self.fold_live_mask()
        param = getattr(self.module, self.param)
        with torch.no_grad():
            param.masked_fill_(~self.layout.from_gemm(keep).to(param.device), 0)


def count_nonzero(tensor: torch.Tensor) -> int:
    """Nonzero entries: numpy's count on CPU tensors, several times faster than torch.count_nonzero there (GPT-2's
    124M weights are counted four times in one pruning)."""
    if tensor.device.type == "cpu" and tensor.dtype in (torch.float32, torch.float64, torch.float16, torch.bool):
        return int(np.count_nonzero(tensor.detach().numpy()))
    return int(torch.count_nonzero(tensor))


def is_transformers_conv1d(module: nn.Module) -> bool:
    """transformers' Conv1D (GPT-2): a linear layer whose weight is stored (C, K). Recognised by name, so that
    accelsim does not import transformers to look."""
    kind = type(module)
    return kind.__name__ == "Conv1D" and kind.__module__.startswith("transformers")


def _params_of(module: nn.Module) -> tuple[str, ...]:
    if isinstance(module, nn.Linear | nn.modules.conv._ConvNd) or is_transformers_conv1d(module):
        return ("weight",)
    if isinstance(module, nn.MultiheadAttention):
        if module.in_proj_weight is not None:
            return ("in_proj_weight",)
        return ("q_proj_weight", "k_proj_weight", "v_proj_weight")
    if isinstance(module, nn.RNNBase):
        return tuple(name for name in module._flat_weights_names if name.startswith("weight_"))
    if isinstance(module, nn.RNNCellBase):
        return ("weight_ih", "weight_hh")
    return ()


def _layout_of(module: nn.Module, weight: torch.Tensor) -> WeightLayout:
    if is_transformers_conv1d(module):
        return TRANSPOSED
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        spatial = weight.dim() - 2
        return transposed_conv_layout(module.groups, spatial, weight.shape[2] if spatial == 3 else None)
    if isinstance(module, nn.Conv3d):
        return conv3d_layout(weight.shape[2])
    return AS_STORED


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
            found.append(PrunableWeight(module_name, module, param, _is_excluded(module_name, exclude),
                                        _layout_of(module, weight)))
    return found

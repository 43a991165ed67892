"""Collects the layers seen during one forward pass and names them after the module that ran them.

Naming: the one conv/linear call of a conv or linear module (nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d,
nn.Linear, transformers' Conv1D) takes the module's path (`layer1.0.conv1`),
every other call takes `<module path>.<kind>` (`encoder.layer.0.attention.self.attention_scores`), with an index
from 1 on for the second and later calls of one kind in one module call (`block.matmul`, `block.matmul1`).
A module run more than once (weights shared across steps) gets `#2`, `#3` ... on its later calls, so names
stay unique."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from accelsim.pruning.targets import is_transformers_conv1d
from accelsim.workload import Layer

# The module type whose own call of a kind of op takes the module's bare path as the layer's name.
_PRIMARY = {"conv1d": nn.Conv1d, "conv2d": nn.Conv2d, "conv3d": nn.Conv3d, "conv_transpose1d": nn.ConvTranspose1d,
            "conv_transpose2d": nn.ConvTranspose2d, "conv_transpose3d": nn.ConvTranspose3d, "linear": nn.Linear}


def _is_primary(kind: str, module: nn.Module | None) -> bool:
    if kind == "linear" and is_transformers_conv1d(module):
        return True
    primary = _PRIMARY.get(kind)
    return primary is not None and isinstance(module, primary)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float32 copy: captured activations must not change when the model later writes in place (ReLU(inplace)).
    A tensor on the meta device (a model run for its shapes alone) gives zeros of its shape that take no memory."""
    if tensor.is_meta:
        return np.broadcast_to(np.zeros((), dtype=np.float32), tuple(tensor.shape))
    return tensor.detach().to(device="cpu", dtype=torch.float32).numpy().copy()


class LayerRecorder:
    """Holds the module-path stack (pushed and popped by module hooks) and the layers recorded so far."""

    def __init__(self, model: nn.Module, on_layer: Callable[[Layer], None] | None = None,
                 time_steps_per_layer: int = 1):
        self.module_names = {module: name for name, module in model.named_modules()}
        self.time_steps_per_layer = time_steps_per_layer
        """Recurrent steps per lowered layer of an RNN's recurrent projection (0: all steps in one)."""
        self.stack: list[nn.Module] = []
        self.layers: list[Layer] = []
        self.not_lowered: list[dict] = []
        self.on_layer = on_layer
        self._calls_per_module: Counter = Counter()
        self._kinds_in_call: Counter = Counter()
        self._taken: set[str] = set()
        self.static_ids: set[int] = {id(p) for p in model.parameters()} | {id(b) for b in model.buffers()}

    # --- module stack, driven by forward pre-hooks and hooks --------------------------------------------------
    def enter(self, module: nn.Module) -> None:
        self.stack.append(module)
        self._calls_per_module[module] += 1
        # torch.nn.utils.prune recomputes `weight = weight_orig * weight_mask` in its own pre-hook, which runs
        # before ours: the product is a parameter in all but type.
        for name in list(module._parameters):
            if name.endswith("_orig") and hasattr(module, name[: -len("_orig")]):
                self.static_ids.add(id(getattr(module, name[: -len("_orig")])))

    def leave(self, module: nn.Module) -> None:
        if self.stack and self.stack[-1] is module:
            self.stack.pop()

    def is_static(self, tensor: torch.Tensor) -> bool:
        return isinstance(tensor, nn.Parameter) or id(tensor) in self.static_ids

    # --- naming ----------------------------------------------------------------------------------------------
    def name_for(self, kind: str) -> str:
        module = self.stack[-1] if self.stack else None
        path = self.module_names.get(module, "") if module is not None else ""
        call = self._calls_per_module[module] if module is not None else 1
        key = (module, call, kind)
        index = self._kinds_in_call[key]
        self._kinds_in_call[key] += 1
        if _is_primary(kind, module) and index == 0 and path:
            name = path
        else:
            label = f"{kind}{index}" if index else kind
            name = f"{path}.{label}" if path else label
        if call > 1:
            name = f"{name}#{call}"
        while name in self._taken:  # a model that calls one function twice under one path in odd ways
            name += "'"
        self._taken.add(name)
        return name

    # --- recording -------------------------------------------------------------------------------------------
    def add(self, layer: Layer, source: torch.Tensor | None = None) -> None:
        """Record `layer`; `source` is the parameter its weight comes from (None for a product of activations)."""
        self.layers.append(layer)
        if self.on_layer is not None:
            self.on_layer(layer)

    def add_linear(self, input: torch.Tensor, weight: torch.Tensor, kind: str = "linear",
                   source: torch.Tensor | None = None) -> None:
        """A GEMM with a static weight (K, C); every leading dimension of the input is flattened into N. `source`
        is the parameter behind `weight` when `weight` is a view of it (a transpose), else `weight` itself."""
        self.add(Layer(name=self.name_for(kind), op="linear", input=to_numpy(input.reshape(-1, input.shape[-1])),
                       weight=to_numpy(weight)), source=weight if source is None else source)

    def add_matmul(self, left: torch.Tensor, right: torch.Tensor, kind: str = "matmul") -> None:
        """A product of two activations, left (..., N, C) @ right (..., C, K), leading dimensions flattened."""
        self.add(Layer(name=self.name_for(kind), op="matmul", input=to_numpy(left.reshape(-1, *left.shape[-2:])),
                       weight=to_numpy(right.reshape(-1, *right.shape[-2:])), weight_is_static=False))

    def skip(self, kind: str, reason: str) -> None:
        self.not_lowered.append({"name": self.name_for(kind), "op": kind, "reason": reason})

"""`lower(model, example_input)`: run any nn.Module once on a sample input and return the `Workload` of every
convolution, linear, matmul and recurrent projection it executed, with the operands it actually saw (pruned weights,
real activations)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone

import torch
from torch import nn

import accelsim
from accelsim.frontend.capture import CaptureMode
from accelsim.frontend.recorder import LayerRecorder
from accelsim.workload import Layer, Workload


class LoweringError(RuntimeError):
    """The model could not be lowered (it raised on the input, or ran no lowerable op)."""


def lower(model: nn.Module, example_input, *, provenance: Mapping | None = None,
          on_layer: Callable[[Layer], None] | None = None, time_steps_per_layer: int = 1) -> Workload:
    """Lower `model` on `example_input`: a tensor, a tuple of positional arguments, or a dict of keyword
    arguments (e.g. a transformers tokenizer output). The model runs once in eval mode under `torch.no_grad()`; its
    previous training/eval mode is restored. Ops that do MACs but cannot be lowered are listed in
    `Workload.not_lowered`; a model with no lowerable op raises `LoweringError`. `time_steps_per_layer` groups
    that many steps of an RNN's recurrent projection into one layer (0: all; recurrent.py)."""
    if time_steps_per_layer < 0:
        raise ValueError(f"time_steps_per_layer must be 0 (all steps in one layer) or more; got "
                         f"{time_steps_per_layer}")
    recorder = LayerRecorder(model, on_layer=on_layer, time_steps_per_layer=time_steps_per_layer)
    run_captured(model, example_input, recorder)
    if not recorder.layers:
        skipped = "; ".join(f"{s['name']}: {s['reason']}" for s in recorder.not_lowered) or "none"
        raise LoweringError(f"{type(model).__name__} ran no conv, linear, matmul or recurrent layer that accelsim "
                            f"can lower (ops seen but not lowered: {skipped})")
    full_provenance = {"model": type(model).__name__, "input": describe_input(example_input),
                       "accelsim_version": accelsim.__version__, "torch_version": torch.__version__,
                       "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if time_steps_per_layer != 1:
        full_provenance["time_steps_per_layer"] = time_steps_per_layer
    full_provenance.update(provenance or {})
    return Workload(layers=tuple(recorder.layers), provenance=full_provenance,
                    not_lowered=tuple(recorder.not_lowered))


def run_captured(model: nn.Module, example_input, recorder: LayerRecorder) -> None:
    """Run `model` once on `example_input` in eval mode under `torch.no_grad()`, every op captured into
    `recorder`; the model's training/eval mode is restored."""
    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(lambda m, _args: recorder.enter(m)))
        handles.append(module.register_forward_hook(lambda m, _args, _out: recorder.leave(m)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), CaptureMode(recorder):
            if isinstance(example_input, Mapping):
                model(**example_input)
            elif isinstance(example_input, tuple):
                model(*example_input)
            else:
                model(example_input)
    except Exception as error:
        raise LoweringError(f"{type(model).__name__} raised while running on the example input "
                            f"({describe_input(example_input)}): {type(error).__name__}: {error}") from error
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)


def describe_input(example_input) -> str:
    if isinstance(example_input, torch.Tensor):
        return f"tensor{list(example_input.shape)} {str(example_input.dtype).removeprefix('torch.')}"
    if isinstance(example_input, Mapping):
        return "{" + ", ".join(f"{k}: {describe_input(v)}" for k, v in example_input.items()) + "}"
    if isinstance(example_input, tuple | list):
        return "(" + ", ".join(describe_input(v) for v in example_input) + ")"
    return type(example_input).__name__


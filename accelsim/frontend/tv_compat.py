"""Importing torchvision on the CPU torch wheel.

The torchvision 0.28.0 wheel pip installs is a CUDA build; its Python side registers fake kernels for the ops
`torchvision::nms` and `torchvision::qnms`, whose schemas live in the (CUDA) C++ extension that cannot load on CPU
torch, so `import torchvision` fails with "operator torchvision::nms does not exist". Defining the two schemas
through torch.library first lets the import succeed; the models accelsim uses never call those ops, and calling
them raises torch's own "no kernel" error rather than computing something wrong.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import torch

_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_library: torch.library.Library | None = None  # kept alive: dropping it would unregister the schemas


def _schema_exists(op_name: str) -> bool:
    try:
        torch._C._get_schema(f"torchvision::{op_name}", "")
    except RuntimeError:
        return False
    return True


def import_torchvision() -> ModuleType:
    """Import torchvision, first defining the op schemas its CPU-less wheel expects where they are missing."""
    global _library
    missing = [name for name in _SCHEMAS if not _schema_exists(name)]
    if missing:
        _library = _library or torch.library.Library("torchvision", "FRAGMENT")
        for name in missing:
            _library.define(_SCHEMAS[name])
    return importlib.import_module("torchvision")

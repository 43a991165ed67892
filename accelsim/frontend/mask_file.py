"""`--mask FILE`: a user's own pruning masks, a state_dict of 0/1 tensors saved with torch.save, applied to a model.

Keys name the weights as the model's state_dict does ("conv1.weight"); torch.nn.utils.prune's buffer names
("conv1.weight_mask") are accepted too, so `{k: v for k, v in model.state_dict().items() if k.endswith("_mask")}`
from a model pruned with torch works as it is. The file is read with `torch.load(weights_only=True)` (checkpoint.py),
every key must be a prunable weight of the model with the weight's shape, and every value 0 or 1; weights the file
does not name are left as they are."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from accelsim.frontend.checkpoint import CheckpointError, read_state_dict
from accelsim.pruning.option_text import close_match_hint
from accelsim.pruning.targets import find_prunable_weights


class MaskFileError(CheckpointError):
    pass


def read_mask_file(path: str | Path, model: nn.Module) -> dict[str, torch.Tensor]:
    """The masks of `path` as bool keep-masks keyed by prunable weight name (`PrunableWeight.name`), checked, in
    each weight's GEMM layout (accelsim/pruning/layouts.py; the file holds them as the parameters are stored)."""
    state = read_state_dict(path)
    weights = {w.state_dict_key: w for w in find_prunable_weights(model)}
    masks = {}
    for key, value in state.items():
        name = key.removesuffix("_mask")
        if name not in weights:
            raise MaskFileError(f"mask file {path}: key {key!r} is not a prunable weight of {type(model).__name__}."
                                f"{close_match_hint(name, weights)} Keys name weights as the state_dict does: "
                                f"{', '.join(list(weights)[:6])}")
        weight = weights[name]
        if tuple(value.shape) != weight.stored_shape:
            raise MaskFileError(f"mask file {path}: {key!r} has shape {tuple(value.shape)}, the weight "
                                f"{weight.stored_shape}")
        if value.is_complex() or not bool(((value == 0) | (value == 1)).all()):
            raise MaskFileError(f"mask file {path}: {key!r} holds values other than 0 and 1 (a mask keeps a weight "
                                f"with 1 and prunes it with 0)")
        masks[weight.name] = weight.layout.to_gemm(value != 0)
    if not masks:
        raise MaskFileError(f"mask file {path} holds no masks")
    return masks


def apply_mask_file(path: str | Path, model: nn.Module) -> int:
    """Zero the weights `path` masks out, permanently; returns how many weights the file names."""
    masks = read_mask_file(path, model)
    for weight in find_prunable_weights(model):
        if weight.name in masks:
            weight.write_mask(masks[weight.name])
    return len(masks)

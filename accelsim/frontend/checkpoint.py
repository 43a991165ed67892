"""Loading users' checkpoints into a zoo model, safely: `torch.load(weights_only=True)` only, so a checkpoint that
would run arbitrary code on unpickling is refused. Checkpoints saved with live torch.nn.utils.prune masks
(`weight_orig` + `weight_mask`), or parametrizations saved with their mask (`parametrizations.weight.original` +
`parametrizations.weight.0.mask`), are folded into plain pruned weights, so an already-pruned model lowers as it is.
torch.ao.pruning's sparsifiers do not save their masks in the model's state_dict (only `original`, the unpruned
weights): such a checkpoint is refused with the fix (`sparsifier.squash_mask()` before saving), never read dense."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import nn


class CheckpointError(ValueError):
    pass


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "global" not in str(error).lower():  # refused objects are named "Unsupported global: ..."; else garbage
            raise CheckpointError(f"checkpoint {path} is not a readable torch file ({error})") from None
        raise CheckpointError(
            f"checkpoint {path} is not safe to load: it holds objects other than tensors and plain containers, "
            f"which torch.load(weights_only=True) refuses ({str(error).splitlines()[0]}). Save a state_dict "
            "instead: torch.save(model.state_dict(), path).") from None
    except Exception as error:  # torch raises many types on garbage (RuntimeError, KeyError, EOFError, ...)
        raise CheckpointError(f"checkpoint {path} is not a readable torch file "
                              f"({type(error).__name__}: {error})") from None
    if isinstance(loaded, dict):
        for key in ("state_dict", "model"):
            if isinstance(loaded.get(key), dict):
                loaded = loaded[key]
                break
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise CheckpointError(f"checkpoint {path} is not a state_dict (a dict of tensors, possibly under "
                              "'state_dict' or 'model')")
    return fold_prune_masks(loaded, path)


def fold_prune_masks(state: dict[str, torch.Tensor], path: str | Path = "") -> dict[str, torch.Tensor]:
    """Replace each `X_orig` / `X_mask` pair by `X = X_orig * X_mask`, and each parametrized
    `M.parametrizations.P.original` with a `M.parametrizations.P.0.mask` by `M.P = original * mask`."""
    state = _fold_parametrizations(state, path)
    folded = {}
    for key, value in state.items():
        if key.endswith("_mask") and key[: -len("_mask")] + "_orig" in state:
            continue
        if key.endswith("_orig") and key[: -len("_orig")] + "_mask" in state:
            base = key[: -len("_orig")]
            folded[base] = value * state[base + "_mask"]
        else:
            folded[key] = value
    return folded


def _fold_parametrizations(state: dict[str, torch.Tensor], path: str | Path) -> dict[str, torch.Tensor]:
    folded = {}
    for key, value in state.items():
        module, marker, rest = key.rpartition(".parametrizations.")
        if marker and rest.endswith(".original"):
            param = rest.removesuffix(".original")
            mask = state.get(f"{module}.parametrizations.{param}.0.mask")
            if mask is None:
                raise CheckpointError(
                    f"checkpoint {path}: {key} is a parametrized weight saved without its mask (torch.ao.pruning "
                    f"sparsifiers keep masks outside model.state_dict()), so its pruning cannot be read; call "
                    f"sparsifier.squash_mask() before torch.save(model.state_dict(), ...)")
            folded[f"{module}.{param}"] = value * mask
        elif not (marker and rest.endswith(".0.mask")):
            folded[key] = value
    return folded


def load_checkpoint(model: nn.Module, path: str | Path) -> None:
    """Load a state_dict into `model`; every missing or unexpected key is an error, named."""
    state = read_state_dict(path)
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    wrong_shape = [f"{key} {list(state[key].shape)} (model: {list(value.shape)})" for key, value in expected.items()
                   if key in state and state[key].shape != value.shape]
    if missing or unexpected or wrong_shape:  # checked before loading, so a misfit leaves the model untouched
        raise CheckpointError(f"checkpoint {path} does not fit {type(model).__name__}: missing keys "
                              f"{missing[:8] or 'none'}, unexpected keys {unexpected[:8] or 'none'}, wrong shapes "
                              f"{wrong_shape[:8] or 'none'}")
    model.load_state_dict(state)

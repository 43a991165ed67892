"""Saving and loading a `Workload`: a folder holding `manifest.json` (layer metadata, provenance, a SHA-256 per
array) and `tensors.npz` (each operand stored sparse, as a packed nonzero bitmask plus its nonzero values:
smaller than zlib on pruned float weights and an order of magnitude faster to write). Loading re-checks every
shape and hash, so a truncated, edited or mismatched file fails with one clear error instead of a wrong
simulation."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from accelsim.workload import Layer, Workload, WorkloadError

FORMAT_VERSION = 2
MANIFEST_NAME = "manifest.json"
TENSORS_NAME = "tensors.npz"
_LAYER_FIELDS = ("name", "op", "stride", "padding", "dilation", "groups", "weight_is_static")


def _sha256(array: np.ndarray) -> str:
    """Hash of the values with -0.0 read as 0.0: the sparse storage keeps zeros, not their sign."""
    if array.dtype.kind == "f":
        array = array + array.dtype.type(0)  # -0.0 + 0.0 == +0.0
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def save_workload(workload: Workload, path: str | Path) -> Path:
    """Write `workload` into the folder `path` (created if needed) and return it."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    layers_meta = []
    for index, layer in enumerate(workload.layers):
        meta = {key: getattr(layer, key) for key in _LAYER_FIELDS}
        for role in ("input", "weight"):
            array = getattr(layer, role)
            key = f"{index}.{role}"
            nonzero = array != 0
            arrays[f"{key}.mask"] = np.packbits(nonzero, axis=None)
            arrays[f"{key}.values"] = array[nonzero]
            meta[role] = {"key": key, "shape": list(array.shape), "dtype": str(array.dtype),
                          "sha256": _sha256(array)}
        layers_meta.append(meta)
    manifest = {"format": "accelsim-workload", "format_version": FORMAT_VERSION,
                "provenance": workload.provenance, "not_lowered": list(workload.not_lowered),
                "layers": layers_meta}
    # Tensors first, manifest last: a folder whose manifest exists was written whole.
    np.savez(folder / TENSORS_NAME, **arrays)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, default=_json_default))
    return folder


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"provenance value {value!r} of type {type(value).__name__} is not JSON-serialisable")


def load_workload(path: str | Path) -> Workload:
    """Read a folder written by `save_workload`; every shape and hash is checked."""
    folder = Path(path)
    manifest_path, tensors_path = folder / MANIFEST_NAME, folder / TENSORS_NAME

    def fail(message: str) -> WorkloadError:
        return WorkloadError(f"workload {folder}: {message}")

    if not folder.is_dir():
        raise fail("no such folder (a workload is a folder with manifest.json and tensors.npz, "
                   "written by `accelsim lower ... -o FOLDER`)")
    for needed in (manifest_path, tensors_path):
        if not needed.is_file():
            raise fail(f"{needed.name} is missing")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise fail(f"{MANIFEST_NAME} is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "accelsim-workload":
        raise fail(f"{MANIFEST_NAME} is not an accelsim workload manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise fail(f"format_version {manifest.get('format_version')!r} is not supported "
                   f"(this accelsim reads version {FORMAT_VERSION})")
    layers_meta = manifest.get("layers")
    if not isinstance(layers_meta, list) or not all(isinstance(meta, dict) for meta in layers_meta):
        raise fail(f"{MANIFEST_NAME}: 'layers' must be a list of layer objects")
    try:
        with np.load(tensors_path, allow_pickle=False) as npz:
            layers = [_load_layer(meta, npz, fail) for meta in layers_meta]
    except WorkloadError as error:
        if str(error).startswith(f"workload {folder}:"):
            raise
        raise fail(f"{MANIFEST_NAME} describes an invalid layer: {error}") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise fail(f"{TENSORS_NAME} is truncated or corrupted ({error})") from None
    except (KeyError, TypeError) as error:
        raise fail(f"{MANIFEST_NAME} lacks a key or has a value of the wrong type ({error!r})") from None
    return Workload(layers=tuple(layers), provenance=manifest.get("provenance", {}),
                    not_lowered=tuple(manifest.get("not_lowered", ())))


def _load_layer(meta: dict, npz, fail) -> Layer:
    operands = {}
    for role in ("input", "weight"):
        info = meta[role]
        mask_key, values_key = f"{info['key']}.mask", f"{info['key']}.values"
        for key in (mask_key, values_key):
            if key not in npz.files:
                raise fail(f"layer {meta['name']!r}: {role} array {key!r} is missing from {TENSORS_NAME}")
        shape, size = tuple(info["shape"]), int(np.prod(info["shape"]))
        packed_mask, values = npz[mask_key], npz[values_key]
        if packed_mask.size != (size + 7) // 8 or str(values.dtype) != info["dtype"]:
            raise fail(f"layer {meta['name']!r}: {role} holds {packed_mask.size} mask bytes of {values.dtype}; "
                       f"the manifest's shape {list(shape)} {info['dtype']} needs {(size + 7) // 8}")
        nonzero = np.unpackbits(packed_mask, count=size).astype(bool)
        if int(nonzero.sum()) != values.size:
            raise fail(f"layer {meta['name']!r}: {role} has {values.size} values for {int(nonzero.sum())} "
                       "nonzero positions")
        array = np.zeros(size, dtype=values.dtype)
        array[nonzero] = values
        array = array.reshape(shape)
        if _sha256(array) != info["sha256"]:
            raise fail(f"layer {meta['name']!r}: {role} does not match its SHA-256 in the manifest "
                       "(the file was changed or corrupted)")
        operands[role] = array
    return Layer(name=meta["name"], op=meta["op"], input=operands["input"], weight=operands["weight"],
                 stride=tuple(meta["stride"]), padding=tuple(meta["padding"]), dilation=tuple(meta["dilation"]),
                 groups=meta["groups"], weight_is_static=meta["weight_is_static"])

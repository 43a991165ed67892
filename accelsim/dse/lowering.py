"""Lowered workloads, once per (model, scheme, seed, input) and across runs: a cache folder holding one workload
folder per lowering key (`Point.lowering_key`, a hash of everything the lowered workload depends on, accelsim's
version included). A lowering runs as a task on the sweep's workers; the driver stores what it returns, written
beside its place and renamed there, so a killed sweep never leaves half a workload where a later one reads it."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from accelsim.cache_folder import cache_dir
from accelsim.dse.pruning_choice import PruningChoice
from accelsim.workload import Workload
from accelsim.workload_io import MANIFEST_NAME, save_workload


def default_cache_folder() -> Path:
    """`workloads` in accelsim's cache folder (accelsim.cache_folder: the one digits models are cached in)."""
    return cache_dir() / "workloads"


@dataclass(frozen=True)
class LoweringTask:
    key: str
    source: str
    """A zoo model or table name, or a CSV path (what `build_workload` takes)."""
    pruning: PruningChoice
    seed: int
    input_shape: tuple[int, ...] | None
    checkpoint: str | None


@dataclass(frozen=True)
class LoweringOutcome:
    key: str
    workload: Workload | None
    error: str | None
    seconds: float


def cached_workload(cache_folder: Path, key: str) -> Path | None:
    """The cached workload folder of `key`, or None when it was never written whole."""
    path = cache_folder / key
    return path if (path / MANIFEST_NAME).is_file() else None


def layer_names(workload_folder: Path) -> list[str]:
    """The layer names of a saved workload, from its manifest alone (no tensors read)."""
    manifest = json.loads((workload_folder / MANIFEST_NAME).read_text())
    return [str(layer["name"]) for layer in manifest["layers"]]


def store_in_cache(workload, cache_folder: Path, key: str) -> Path:
    """Save a lowered workload under `key`, written beside its place and renamed there."""
    cache_folder.mkdir(parents=True, exist_ok=True)
    final = cache_folder / key
    temporary = cache_folder / f".{key}.{os.getpid()}.partial"
    shutil.rmtree(temporary, ignore_errors=True)
    save_workload(workload, temporary)
    try:
        os.replace(temporary, final)
    except OSError:  # another sweep wrote the same key first: theirs is as good
        shutil.rmtree(temporary, ignore_errors=True)
        if cached_workload(cache_folder, key) is None:
            raise
    return final


def lower_workload(task: LoweringTask) -> LoweringOutcome:
    """Prune and lower one model (runs on a worker; the driver stores the result, so workers need no shared disk).
    An error is returned, not raised: every point of this lowering becomes a failed row that names it."""
    from accelsim.frontend.build import build_workload

    started = time.perf_counter()
    try:
        pruning = task.pruning
        workload = build_workload(task.source, pruning.scheme, seed=task.seed, input_shape=task.input_shape,
                                  checkpoint=task.checkpoint, criterion=pruning.criterion,
                                  schedule=pruning.schedule, fine_tune_epochs=pruning.fine_tune_epochs).workload
    except Exception as error:  # whatever the model or the scheme raised is this lowering's error
        return LoweringOutcome(task.key, None, f"lowering failed: {type(error).__name__}: {error}",
                               time.perf_counter() - started)
    return LoweringOutcome(task.key, workload, None, time.perf_counter() - started)

"""What a validated spec's names point to: each model resolved (zoo model, layer table, workload folder) with the
schemes it takes, each arch loaded with every override value it will see. Every problem is a `SweepSpecError`
naming the spec file, the key path and what is allowed, before any work starts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim.arch_configs import ARCH_SUFFIXES, ArchError, load_arch, resolve_dense_twin
from accelsim.dataflows.catalog import get_dataflow
from accelsim.dse import axes
from accelsim.dse.pruning_choice import PruningChoice
from accelsim.dse.spec import Axis, SweepSpec, SweepSpecError
from accelsim.names import did_you_mean


@dataclass(frozen=True)
class ModelChoice:
    index: int
    name: str
    """As the spec writes it (the `model` column)."""
    kind: str
    """zoo, table (a synthetic table's name or a CSV) or folder (a lowered workload)."""
    source: str
    """What `build_workload` or `load_workload` is given: a name or an absolute path."""
    input_text: str | None
    input_shape: tuple[int, ...] | None
    seed: int | None
    checkpoint: str | None
    layers: tuple[str, ...] | None
    schemes: tuple[PruningChoice, ...]
    identity: dict
    """Everything that determines the lowered workload, for point ids and the lowering cache."""


@dataclass(frozen=True)
class ArchChoice:
    index: int
    name: str
    """As the spec writes it (the `arch` column)."""
    source: str
    """What `load_arch` is given: a name or an absolute path."""
    free: dict[str, Axis]
    """Override key -> the axis it is drawn from."""
    tied: dict[str, Axis]
    """Override key -> the tie (`follows`) that computes it."""
    identity: dict

    def overrides(self, chosen: dict[str, Any]) -> dict[str, Any]:
        """`chosen` (a value per free key) plus every tied key, sorted by key."""
        values = dict(chosen)
        for key, axis in self.tied.items():
            values[key] = axes.tied_value(axis, chosen[axis.follows])
        return dict(sorted(values.items()))


@dataclass(frozen=True)
class Space:
    spec: SweepSpec
    models: tuple[ModelChoice, ...]
    archs: tuple[ArchChoice, ...]
    override_values: dict[str, list]
    """Every value each override key can take that is known in advance (for the column types)."""
    stall_causes: tuple[str, ...]
    """Union of the stall causes of every dataflow the archs use, in first-seen order."""


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _is_path(text: str, suffixes: tuple[str, ...]) -> bool:
    return "/" in text or text.endswith(suffixes)


def build_space(spec: SweepSpec, source: str, base_dir: Path) -> Space:
    """Resolve and check every name of `spec` (read from `source`, relative paths from `base_dir`)."""
    if spec.search.kind == "grid":
        for index, entry in enumerate(spec.archs):
            for key, axis in entry.set.items():
                if axis.follows is None and axes.discrete_values(axis) is None:
                    raise SweepSpecError(f"{source}: archs.{index}.set.{key}: a grid needs a list of values or a "
                                         f"range with a step; an open range (low/high) is for random and nsga2 "
                                         f"searches")
    models = tuple(_model_choice(spec, index, source, base_dir) for index in range(len(spec.models)))
    archs, values, causes = [], {}, {}
    for index, entry in enumerate(spec.archs):
        choice, seen_values, kinds = _arch_choice(entry, index, source, base_dir)
        archs.append(choice)
        for key, items in seen_values.items():
            values.setdefault(key, []).extend(items)
        for kind in kinds:
            causes.update(dict.fromkeys(get_dataflow(kind).stall_causes))
    return Space(spec, models, tuple(archs), values, tuple(causes))


def _model_choice(spec: SweepSpec, index: int, source: str, base_dir: Path) -> ModelChoice:
    from accelsim.frontend.synthetic import SYNTHETIC_TABLES
    from accelsim.frontend.zoo import MODELS, parse_shape

    entry = spec.models[index]
    where = f"{source}: models.{index}"
    seed = spec.seed if entry.seed is None else entry.seed
    schemes = tuple(PruningChoice(prune.scheme, prune.criterion, prune.schedule, prune.fine_tune_epochs)
                    for prune in (entry.prune if entry.prune is not None else spec.prune))
    if not schemes:
        raise SweepSpecError(f"{where}.prune: give at least one scheme (none for no pruning)")
    layers = tuple(entry.layers) if entry.layers is not None else None
    if entry.model in MODELS:
        shape = None
        if entry.input is not None:
            try:
                shape = parse_shape(entry.input)
            except ValueError as error:
                raise SweepSpecError(f"{where}.input: {error}") from None
        checkpoint = None
        if entry.checkpoint is not None:
            checkpoint = str((base_dir / entry.checkpoint).resolve())
            if not Path(checkpoint).is_file():
                raise SweepSpecError(f"{where}.checkpoint: no such file {checkpoint}")
        identity = {"zoo": entry.model, "input": list(shape) if shape else None, "seed": seed,
                    "checkpoint_sha256": file_sha256(checkpoint) if checkpoint else None}
        return ModelChoice(index, entry.model, "zoo", entry.model, entry.input, shape, seed, checkpoint, layers,
                           schemes, identity)
    path = (base_dir / entry.model).resolve()
    if entry.model in SYNTHETIC_TABLES:
        kind, identity = "table", {"table": entry.model, "seed": seed}
        resolved = entry.model
    elif path.is_file() and path.suffix == ".csv":
        kind, identity, resolved = "table", {"csv_sha256": file_sha256(path), "seed": seed}, str(path)
    elif (path / "manifest.json").is_file():
        kind, identity, resolved = "folder", {"workload_sha256": file_sha256(path / "manifest.json")}, str(path)
        seed = None
    else:
        known = sorted([*MODELS, *SYNTHETIC_TABLES])
        looks_like_path = _is_path(entry.model, (".csv",))
        what = f"no such CSV file or workload folder {path}" if looks_like_path else \
            f"unknown model {entry.model!r}.{did_you_mean(entry.model, known)} Known: {', '.join(known)}"
        raise SweepSpecError(f"{where}.model: {what} (a zoo model, a layer table, a CSV or a folder written by "
                             f"`accelsim lower -o`)")
    for key in ("input", "checkpoint"):
        if getattr(entry, key) is not None:
            raise SweepSpecError(f"{where}.{key}: applies to zoo models; {entry.model} is a {_kind_text(kind)}")
    if any(choice.prunes for choice in schemes):
        raise SweepSpecError(f"{where}: {entry.model} is a {_kind_text(kind)}, which pruning does not apply to, but "
                             f"its schemes are {[choice.label for choice in schemes]}; give it its own "
                             f"`prune: [none]`")
    return ModelChoice(index, entry.model, kind, resolved, None, None, seed, None, layers, schemes, identity)


def _kind_text(kind: str) -> str:
    return {"table": "layer table (its densities are part of it)", "folder": "lowered workload folder"}[kind]


def _arch_choice(entry, index: int, source: str, base_dir: Path) -> tuple[ArchChoice, dict[str, list], set[str]]:
    where = f"{source}: archs.{index}"
    name = entry.arch
    arch_source = str((base_dir / name).resolve()) if _is_path(name, ARCH_SUFFIXES) else name
    tied = {key: axis for key, axis in entry.set.items() if axis.follows is not None}
    free = {key: axis for key, axis in entry.set.items() if axis.follows is None}
    for key, axis in tied.items():
        if axis.follows not in free:
            raise SweepSpecError(f"{where}.set.{key}.follows: {axis.follows!r} is not another override of this "
                                 f"arch.{did_you_mean(axis.follows, free)} Free overrides here: "
                                 f"{', '.join(free) or '(none)'}")
    choice = ArchChoice(index, name, arch_source, free, tied, {})
    first = {key: axes.check_values(axis)[0] for key, axis in free.items()}
    try:
        base = load_arch(arch_source)
    except ArchError as error:
        raise SweepSpecError(f"{where}.arch: {error}") from None
    kinds = {base.dataflow.kind}
    seen: dict[str, list] = {key: [] for key in entry.set}
    trials = [first] + [{**first, key: value} for key, axis in free.items() for value in axes.check_values(axis)[1:]]
    for chosen in trials:
        try:
            overrides = choice.overrides(chosen)
            arch = load_arch(arch_source, [override_text(key, value) for key, value in overrides.items()])
        except (ArchError, ValueError) as error:
            shown = ", ".join(f"{key}={value!r}" for key, value in chosen.items())
            raise SweepSpecError(f"{where}.set ({shown}): {error}") from None
        kinds.add(arch.dataflow.kind)
        for key, value in overrides.items():
            seen[key].append(value)
    identity = {"arch_sha256": _arch_files_sha256(base)}
    return ArchChoice(index, name, arch_source, free, tied, identity), seen, kinds


def _arch_files_sha256(arch) -> str:
    """One hash over the arch's file and its dense twin's (so a point is recomputed when either changes)."""
    digest = hashlib.sha256()
    twin = resolve_dense_twin(arch)
    for candidate in (arch, twin):
        if candidate is not None and candidate.file is not None:
            digest.update(Path(candidate.file).read_bytes())
    return digest.hexdigest()


def override_text(key: str, value: Any) -> str:
    """`key=value` as `--set` takes it: the value as JSON, which YAML reads back as the same value."""
    return f"{key}={json.dumps(value)}"

"""The archs accelsim knows (YAML files in arch_configs/ and $ACCELSIM_ARCH_PATH) and how one is loaded: read the
YAML (or a SCALE-Sim .cfg), apply `--set` overrides, validate the spec and the dataflow's own `Config`, check that
the dataflow can run on it and that every action it can take is priced.

Every error is one `ArchError` naming the file, each offending key path, what was wrong and, for unknown keys, the
closest allowed name. This module sits above the dataflows and the energy model (it needs both); the spec it
fills in is `accelsim.arch`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from accelsim.arch.spec import Arch, DataflowSpec
from accelsim.arch.yaml_io import ArchError, apply_overrides, describe_errors, read_yaml_mapping
from accelsim.dataflows.catalog import (
    DataflowSourceError,
    UnknownDataflowError,
    get_dataflow,
    load_dataflow_file,
)
from accelsim.energy import EnergyModel
from accelsim.names import unknown

ARCH_SUFFIXES = (".yaml", ".yml", ".cfg")
REPOSITORY_ARCHS = Path(__file__).resolve().parents[1] / "arch_configs"
PYTHON_FILE_KEY = "python_file"
"""Key of `dataflow:` naming a user's Python file that defines the dataflow (relative to the arch file)."""


def arch_dirs() -> list[Path]:
    """Folders searched for arch names: $ACCELSIM_ARCH_PATH (os.pathsep-separated), then the repo's arch_configs/."""
    extra = [Path(p) for p in os.environ.get("ACCELSIM_ARCH_PATH", "").split(os.pathsep) if p]
    return [*extra, REPOSITORY_ARCHS]


def known_archs() -> dict[str, Path]:
    """Arch name (file stem) -> YAML path, earlier folders first."""
    found: dict[str, Path] = {}
    for folder in arch_dirs():
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            found.setdefault(path.stem, path)
    return found


def load_arch(name_or_path: str | Path, overrides: Iterable[str] = ()) -> Arch:
    """An arch by name (see `known_archs`) or path (.yaml/.yml, or SCALE-Sim .cfg), with `key.path=value` overrides."""
    path = _resolve(name_or_path)
    if path.suffix == ".cfg":
        from accelsim.arch.scalesim_cfg import read_scalesim_cfg

        raw = read_scalesim_cfg(path)
    else:
        raw = read_yaml_mapping(path)
    overrides = list(overrides)
    source = str(path) + (f" (with --set {', '.join(overrides)})" if overrides else "")
    return arch_from_dict(apply_overrides(raw, overrides, source), source=source, default_name=path.stem,
                          file=path)


def _resolve(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    path = Path(text)
    if path.suffix in ARCH_SUFFIXES or os.sep in text or "/" in text:
        if not path.is_file():
            raise ArchError(f"{path}: no such arch file")
        return path
    archs = known_archs()
    if text not in archs:
        raise ArchError(unknown("arch", text, archs) + " Or give a path to a .yaml or SCALE-Sim .cfg file.")
    return archs[text]


def arch_from_dict(raw: Mapping[str, Any], *, source: str = "<dict>", default_name: str | None = None,
                   file: Path | None = None) -> Arch:
    """Validate a raw mapping (as read from YAML) into an `Arch`, its dataflow Config included."""
    raw = dict(raw)
    if default_name is not None:
        raw.setdefault("name", default_name)
    raw["source"] = source
    raw["file"] = None if file is None else str(file)
    problems: list[str] = []
    dataflow_raw = raw.get("dataflow")
    dataflow_class = None
    if not isinstance(dataflow_raw, dict) or "kind" not in dataflow_raw:
        problems.append("dataflow: must be a mapping with a 'kind' (a registered dataflow) and its parameters")
        raw["dataflow"] = DataflowSpec(kind="?", config=None)
    else:
        kind = str(dataflow_raw["kind"])
        params = {key: value for key, value in dataflow_raw.items() if key not in ("kind", PYTHON_FILE_KEY)}
        config = None
        try:
            dataflow_class = _dataflow_class(kind, dataflow_raw.get(PYTHON_FILE_KEY), file)
            config = dataflow_class.Config.model_validate(params)
        except UnknownDataflowError as error:
            problems.append(f"dataflow.kind: {error}")
        except DataflowSourceError as error:
            problems.append(str(error))
        except ValidationError as error:
            problems += describe_errors(error, dataflow_class.Config, prefix=("dataflow",))
        raw["dataflow"] = DataflowSpec(kind=kind, config=config)
    arch = None
    try:
        arch = Arch.model_validate(raw)
    except ValidationError as error:
        problems += describe_errors(error, Arch)
    if problems:
        raise ArchError(f"{source}: invalid arch:\n  " + "\n  ".join(problems))
    try:
        dataflow_class().check_arch(arch)
    except ValueError as error:
        raise ArchError(f"{source}: dataflow {arch.dataflow.kind!r} cannot run on this arch: {error}") from error
    EnergyModel.for_arch(arch)  # prices every action now, so a bad table, size or precision fails at load time
    return arch


def _dataflow_class(kind: str, python_file, arch_file: Path | None) -> type:
    if python_file is None:
        return get_dataflow(kind)
    if not isinstance(python_file, str) or not python_file:
        raise DataflowSourceError(f"dataflow.{PYTHON_FILE_KEY}: give the path of a .py file, got {python_file!r}")
    path = Path(python_file).expanduser()
    if not path.is_absolute() and arch_file is not None:
        path = Path(arch_file).parent / path
    return load_dataflow_file(path, kind)


def resolve_dense_twin(arch: Arch) -> Arch | None:
    """The arch named by `arch.dense_twin` (a name, or a path relative to the arch's own file), or None."""
    if arch.dense_twin is None:
        return None
    twin = arch.dense_twin
    if twin.endswith(ARCH_SUFFIXES) or "/" in twin:
        twin = str(arch.folder / twin) if arch.folder is not None else twin
    return load_arch(twin)


__all__ = ["ARCH_SUFFIXES", "ArchError", "arch_dirs", "arch_from_dict", "known_archs", "load_arch",
           "resolve_dense_twin"]

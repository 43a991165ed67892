"""Read an arch from YAML (or a SCALE-Sim .cfg), apply `--set` overrides, validate, and say exactly what is wrong.

Every error is one `ArchError` naming the file, each offending key path, what was wrong and, for unknown keys, the
closest allowed name. The dataflow's parameters are validated by that dataflow's own `Config`.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from accelsim.arch.spec import Arch, DataflowSpec
from accelsim.names import did_you_mean, unknown

ARCH_SUFFIXES = (".yaml", ".yml", ".cfg")


class ArchError(ValueError):
    """An arch that cannot be read or is invalid. The message names the file and every bad key path."""


def arch_dirs() -> list[Path]:
    """Folders searched for arch names: $ACCELSIM_ARCH_PATH (os.pathsep-separated), then the repo's arch_configs/."""
    extra = [Path(p) for p in os.environ.get("ACCELSIM_ARCH_PATH", "").split(os.pathsep) if p]
    return [*extra, Path(__file__).resolve().parents[2] / "arch_configs"]


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


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word; an arch file with a repeated key is an error."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} repeated (line {line})",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 reads 2:4 as the base-60 integer 124; in an arch file it is always an N:M ratio, so keep it a string.
_UniqueKeyLoader.yaml_implicit_resolvers = {key: list(value)
                                            for key, value in yaml.SafeLoader.yaml_implicit_resolvers.items()}
for _digit in "0123456789":
    _UniqueKeyLoader.yaml_implicit_resolvers.setdefault(_digit, []).insert(
        0, ("tag:yaml.org,2002:str", re.compile(r"^[0-9]+:[0-9]+$")))


def parse_yaml_text(text: str):
    """YAML as arch files are read: repeated keys refused, '2:4' kept as text."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping; syntax errors name the line and column."""
    try:
        data = parse_yaml_text(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ArchError(f"{path}: cannot read: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ArchError(f"{path}: {where}not valid YAML: {problem}") from error
    if not isinstance(data, dict):
        raise ArchError(f"{path}: the top level must be a mapping of keys (name, clock_mhz, ...), "
                        f"got {type(data).__name__}")
    return data


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str], source: str = "<arch>") -> dict[str, Any]:
    """A deep copy of `raw` with each 'dotted.key.path=value' set; values are parsed as YAML ('16', 'ws', '[1, 2]')."""
    import copy

    result = copy.deepcopy(dict(raw))
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            raise ArchError(f"{source}: override {item!r} must look like key.path=value, e.g. dataflow.fifo_depth=16")
        try:
            value = parse_yaml_text(text)
        except yaml.YAMLError as error:
            raise ArchError(f"{source}: override {item!r}: value is not valid YAML") from error
        node = result
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ArchError(f"{source}: override {item!r}: {'.'.join(parts[:depth + 1])} is a value, not a "
                                f"mapping, so it has no key {parts[depth + 1]!r}")
            node = child
        node[parts[-1]] = value
    return result


def arch_from_dict(raw: Mapping[str, Any], *, source: str = "<dict>", default_name: str | None = None,
                   file: Path | None = None) -> Arch:
    """Validate a raw mapping (as read from YAML) into an `Arch`, its dataflow Config included."""
    from accelsim.dataflows.registry import UnknownDataflowError, get_dataflow

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
        params = {key: value for key, value in dataflow_raw.items() if key != "kind"}
        try:
            dataflow_class = get_dataflow(str(dataflow_raw["kind"]))
            config = dataflow_class.Config.model_validate(params)
        except UnknownDataflowError as error:
            problems.append(f"dataflow.kind: {error}")
            config = None
        except ValidationError as error:
            problems += _describe(error, dataflow_class.Config, prefix=("dataflow",))
            config = None
        raw["dataflow"] = DataflowSpec(kind=str(dataflow_raw["kind"]), config=config)
    arch = None
    try:
        arch = Arch.model_validate(raw)
    except ValidationError as error:
        problems += _describe(error, Arch)
    if problems:
        raise ArchError(f"{source}: invalid arch:\n  " + "\n  ".join(problems))
    try:
        dataflow_class().check_arch(arch)
    except ValueError as error:
        raise ArchError(f"{source}: dataflow {arch.dataflow.kind!r} cannot run on this arch: {error}") from error
    from accelsim.energy import EnergyModel

    EnergyModel.for_arch(arch)  # prices every action now, so a bad table, size or precision fails at load time
    return arch


def resolve_dense_twin(arch: Arch) -> Arch | None:
    """The arch named by `arch.dense_twin` (a name, or a path relative to the arch's own file), or None."""
    if arch.dense_twin is None:
        return None
    twin = arch.dense_twin
    if twin.endswith(ARCH_SUFFIXES) or "/" in twin:
        twin = str(arch.folder / twin) if arch.folder is not None else twin
    return load_arch(twin)


def _describe(error: ValidationError, model: type[BaseModel], prefix: tuple = ()) -> list[str]:
    lines = []
    for item in error.errors():
        loc = tuple(prefix) + tuple(item["loc"])
        path = ".".join(str(part) for part in loc) or "(top level)"
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, tuple(item["loc"]))
            lines.append(f"{path}: unknown key.{did_you_mean(str(loc[-1]), allowed)} "
                         f"Allowed here: {', '.join(allowed)}.")
        else:
            message = item["msg"].removeprefix("Value error, ")
            shown = "" if item["type"] == "missing" else f" (got {item.get('input')!r})"
            lines.append(f"{path}: {message}{shown if not isinstance(item.get('input'), dict) else ''}")
    return lines


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model at `loc` minus its last element (the unknown key), walking dicts and lists."""
    annotation: Any = model
    for part in loc[:-1]:
        annotation = _strip_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if part not in annotation.model_fields:
                return []
            annotation = annotation.model_fields[part].annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = _strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [name for name in annotation.model_fields if name not in ("source", "file")]
    return []


def _strip_optional(annotation: Any) -> Any:
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation

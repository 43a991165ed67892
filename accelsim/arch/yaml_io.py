"""Reading arch files: YAML as accelsim reads it (repeated keys refused, '2:4' kept as text), `--set` overrides,
and pydantic errors turned into one line per key path with "did you mean". Everything here is the spec layer: it
knows no dataflow (`accelsim.arch_configs` joins the two when it loads an arch).
"""

from __future__ import annotations

import copy
import functools
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from accelsim.names import did_you_mean


class ArchError(ValueError):
    """An arch that cannot be read or is invalid. The message names the file and every bad key path."""


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


@functools.lru_cache(maxsize=256)
def _parse_yaml_text_cached(text: str):
    return parse_yaml_text(text)


def read_yaml_mapping(path: Path, expected_keys: str = "name, clock_mhz, ...") -> dict[str, Any]:
    """A YAML file whose top level is a mapping; syntax errors name the line and column, and a file that is not
    text (random bytes, a binary) is named as such. Each text is parsed once per process (a sweep loads the same
    arch and energy files for every point); the caller gets its own deep copy."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ArchError(f"{path}: cannot read: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise ArchError(f"{path}: not a YAML file: byte {error.start} is not UTF-8 text") from None
    try:
        data = copy.deepcopy(_parse_yaml_text_cached(text))
    except yaml.reader.ReaderError as error:
        character = chr(error.character) if isinstance(error.character, int) else error.character
        raise ArchError(f"{path}: not a YAML file: character {character!r} at position {error.position} is not "
                        f"allowed in YAML") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ArchError(f"{path}: {where}not valid YAML: {problem}") from error
    if not isinstance(data, dict):
        raise ArchError(f"{path}: the top level must be a mapping of keys ({expected_keys}), "
                        f"got {type(data).__name__}")
    return data


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str], source: str = "<arch>") -> dict[str, Any]:
    """A deep copy of `raw` with each 'dotted.key.path=value' set; values are parsed as YAML ('16', 'ws', '[1, 2]')."""
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


def describe_errors(error: ValidationError, model: type[BaseModel], prefix: tuple = ()) -> list[str]:
    """One line per problem: the key path, what is wrong, and for an unknown key the closest allowed name."""
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

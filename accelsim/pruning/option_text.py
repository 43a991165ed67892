"""The CLI form shared by criteria and schedules, `name[:positional][:key=value...]`, read into a pydantic config
with errors that quote the text, name what is allowed and suggest the closest name."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from pydantic import BaseModel, ValidationError

from accelsim.pruning.errors import PruningError


def close_match_hint(name: str, known) -> str:
    """' Did you mean 'x'?' for the closest of `known`, or ''."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def parse_option_text(text: str, kind: str, registry: Mapping[str, type[BaseModel]],
                      positional: Mapping[str, str] | None = None) -> BaseModel:
    """The config `text` names in `registry` (a `kind` such as "criterion"); `positional` maps a name to the field
    its one positional argument fills (e.g. "iterative" -> "rounds")."""
    parts = [part.strip() for part in text.strip().split(":")]
    name = parts[0].lower()
    if name not in registry:
        known = "; ".join(cls.syntax for cls in registry.values())
        raise PruningError(f"unknown {kind} {name!r} in {text!r}.{close_match_hint(name, registry)} Known: {known}.")
    cls = registry[name]

    def fail(problem: str) -> PruningError:
        return PruningError(f"{kind} {text!r}: {problem}; {name} is written {cls.syntax}.")

    fields: dict[str, str] = {}
    arguments = [part for part in parts[1:] if "=" not in part]
    field = (positional or {}).get(name)
    if len(arguments) > (1 if field else 0):
        raise fail("too many arguments")
    if arguments:
        fields[field] = arguments[0]
    options = [name for name in cls.model_fields if name != "kind"]
    for part in parts[1:]:
        key, equals, value = part.partition("=")
        if equals:
            if key not in options:
                raise fail(f"unknown option {key!r} (allowed: {', '.join(f'{o}=' for o in options) or 'none'})")
            fields[key] = value
    try:
        return cls(**fields)
    except ValidationError as error:
        from accelsim.pruning.parse import validation_message

        raise fail(validation_message(error)) from None

"""The CLI form of a pruning scheme, `name[:arg...][:key=value...]`, and the list `accelsim list` prints.

    unstructured:0.9        global:0.9              global:0.9:min_layer_density=0.05     erk:0.9
    random:0.5              random:0.5:seed=3       (seed from the text, else parse_scheme's `seed`, else 0)
    nm:2:4                  block:4x4:0.75          block:1x16:0.5
    channel:0.5             channel:0.5:l2          han2015        none

Names are case-insensitive. Sparsity is the fraction of zeros, in [0, 1). `exclude` is not part of the text: the
CLI passes it as its own option (`parse_scheme(text, exclude=[...])`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from accelsim.pruning.base import SchemeBase
from accelsim.pruning.block import Block
from accelsim.pruning.channel import Channel
from accelsim.pruning.erk import ERK
from accelsim.pruning.errors import PruningError
from accelsim.pruning.global_magnitude import Global
from accelsim.pruning.han2015 import Han2015
from accelsim.pruning.nm import NM
from accelsim.pruning.no_pruning import NoPruning
from accelsim.pruning.uniform_random import Random
from accelsim.pruning.unstructured import Unstructured


@dataclass(frozen=True)
class SchemeInfo:
    name: str
    syntax: str
    summary: str
    config: type[SchemeBase]


SCHEMES: dict[str, SchemeInfo] = {
    cls.model_fields["kind"].default: SchemeInfo(cls.model_fields["kind"].default, cls.syntax, cls.summary, cls)
    for cls in (Unstructured, Global, ERK, Random, NM, Block, Channel, Han2015, NoPruning)
}


class _Text:
    """The pieces of one scheme text, with errors that quote it."""

    def __init__(self, text: str, default_seed: int | None) -> None:
        self.text = text
        self.default_seed = default_seed
        parts = [part.strip() for part in text.strip().split(":")]
        self.name = parts[0].lower()
        self.args = [p for p in parts[1:] if "=" not in p]
        self.options = dict(p.split("=", 1) for p in parts[1:] if "=" in p)

    def fail(self, problem: str) -> PruningError:
        info = SCHEMES[self.name]
        return PruningError(f"pruning scheme {self.text!r}: {problem}; {self.name} is written {info.syntax}.")

    def arity(self, low: int, high: int | None = None) -> list[str]:
        high = low if high is None else high
        if not low <= len(self.args) <= high:
            raise self.fail(f"expected {low if low == high else f'{low} to {high}'} argument(s), got {len(self.args)}")
        return self.args

    def options_allowed(self, *allowed: str) -> None:
        unknown = sorted(set(self.options) - set(allowed))
        if unknown:
            allowed_text = ", ".join(f"{a}=" for a in allowed) or "none"
            raise self.fail(f"unknown option {', '.join(unknown)} (allowed: {allowed_text})")

    def number(self, token: str, what: str) -> float:
        try:
            return float(token)
        except ValueError:
            raise self.fail(f"{what} {token!r} is not a number (a fraction such as 0.9)") from None

    def integer(self, token: str, what: str) -> int:
        try:
            return int(token)
        except ValueError:
            raise self.fail(f"{what} {token!r} is not an integer") from None


def _unstructured(t: _Text) -> dict:
    t.options_allowed()
    return {"sparsity": t.number(t.arity(1)[0], "sparsity")}


def _global(t: _Text) -> dict:
    t.options_allowed("min_layer_density")
    fields = {"sparsity": t.number(t.arity(1)[0], "sparsity")}
    if "min_layer_density" in t.options:
        fields["min_layer_density"] = t.number(t.options["min_layer_density"], "min_layer_density")
    return fields


def _random(t: _Text) -> dict:
    t.options_allowed("seed")
    fields = {"sparsity": t.number(t.arity(1)[0], "sparsity")}
    if "seed" in t.options:
        fields["seed"] = t.integer(t.options["seed"], "seed")
    elif t.default_seed is not None:
        fields["seed"] = t.default_seed
    return fields


def _nm(t: _Text) -> dict:
    t.options_allowed()
    n, m = t.arity(2)
    return {"n": t.integer(n, "n"), "m": t.integer(m, "m")}


def _block(t: _Text) -> dict:
    t.options_allowed()
    size, sparsity = t.arity(2)
    rows, x, cols = size.lower().partition("x")
    if not x:
        raise t.fail(f"block size {size!r} is not <rows>x<cols> (e.g. 4x4, 1x16)")
    return {
        "block_rows": t.integer(rows, "block rows"),
        "block_cols": t.integer(cols, "block cols"),
        "sparsity": t.number(sparsity, "sparsity"),
    }


def _channel(t: _Text) -> dict:
    t.options_allowed()
    args = t.arity(1, 2)
    fields = {"sparsity": t.number(args[0], "sparsity")}
    if len(args) == 2:
        norms = {"l1": 1, "l2": 2}
        if args[1].lower() not in norms:
            raise t.fail(f"norm {args[1]!r} is not l1 or l2")
        fields["norm"] = norms[args[1].lower()]
    return fields


def _bare(t: _Text) -> dict:
    t.options_allowed()
    t.arity(0)
    return {}


_FIELDS: dict[str, Callable[[_Text], dict]] = {
    "unstructured": _unstructured,
    "global": _global,
    "erk": _unstructured,
    "random": _random,
    "nm": _nm,
    "block": _block,
    "channel": _channel,
    "han2015": _bare,
    "none": _bare,
}


def parse_scheme(text: str, *, exclude: Sequence[str] = (), seed: int | None = None) -> SchemeBase:
    """The scheme config that `text` names, e.g. parse_scheme("nm:2:4") == NM(n=2, m=4).

    `seed` is the random scheme's seed when the text gives none (a CLI's global --seed); other schemes ignore it.
    """
    t = _Text(text, seed)
    if t.name not in SCHEMES:
        close = difflib.get_close_matches(t.name, SCHEMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        known = "; ".join(info.syntax for info in SCHEMES.values())
        raise PruningError(f"unknown pruning scheme {t.name!r} in {text!r}.{hint} Known schemes: {known}.")
    fields = _FIELDS[t.name](t)
    try:
        return SCHEMES[t.name].config(**fields, exclude=tuple(exclude))
    except ValidationError as error:
        raise t.fail(validation_message(error)) from None


def validation_message(error: ValidationError) -> str:
    """The messages of a pydantic error, without pydantic's "Value error, " prefixes and URLs."""
    parts = []
    for item in error.errors():
        cause = item.get("ctx", {}).get("error")
        where = ".".join(str(part) for part in item["loc"])
        parts.append(str(cause) if cause is not None else f"{where}: {item['msg']}")
    return "; ".join(parts)

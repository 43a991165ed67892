"""Did-you-mean hints for every place that looks a name up: models, archs, dataflows, YAML keys."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the closest known name, or '' when nothing is close."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """One sentence for an unknown name: the hint, then every known name."""
    known = sorted(known)
    return f"unknown {kind} {name!r}.{did_you_mean(name, known)} Known {kind}s: {', '.join(known) or '(none)'}."

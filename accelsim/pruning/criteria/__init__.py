"""Criteria: how weights are ranked for pruning, each usable with every structure (accelsim/pruning/scores.py).

    magnitude   |w| (default)                   random    seeded uniform scores (the baseline)
    taylor      |w x dL/dw| over a few batches  snip      |w x dL/dw| on one batch (at initialisation)
    grasp       w x Hg (signed)                 synflow   data-free |w x dR/dw|, 100 iterative steps

CLI form `name[:key=value...]`, e.g. `taylor:batches=8`, `synflow:iterations=20`.
"""

from __future__ import annotations

import difflib

from pydantic import ValidationError

from accelsim.pruning.criteria.base import Criterion, ScoringContext
from accelsim.pruning.criteria.gradients import GraSP, Snip, Taylor
from accelsim.pruning.criteria.magnitude import Magnitude, RandomScores
from accelsim.pruning.criteria.synflow import SynFlow
from accelsim.pruning.errors import PruningError

CRITERIA: dict[str, type[Criterion]] = {cls.name: cls for cls in (Magnitude, RandomScores, Taylor, Snip, GraSP,
                                                                    SynFlow)}


def parse_criterion(text: str) -> Criterion:
    """The criterion `text` names, e.g. parse_criterion("taylor:batches=8") == Taylor(batches=8)."""
    parts = [part.strip() for part in text.strip().split(":")]
    name = parts[0].lower()
    if name not in CRITERIA:
        close = difflib.get_close_matches(name, CRITERIA, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise PruningError(f"unknown criterion {name!r} in {text!r}.{hint} Known criteria: "
                           f"{'; '.join(cls.syntax for cls in CRITERIA.values())}.")
    cls = CRITERIA[name]
    options = {}
    for part in parts[1:]:
        key, equals, value = part.partition("=")
        if not equals or key not in cls.model_fields:
            allowed = ", ".join(f"{field}=" for field in cls.model_fields) or "none"
            raise PruningError(f"criterion {text!r}: {part!r} is not an option of {name} (allowed: {allowed}); "
                               f"{name} is written {cls.syntax}.")
        options[key] = value
    try:
        return cls(**options)
    except ValidationError as error:
        from accelsim.pruning.parse import validation_message

        raise PruningError(f"criterion {text!r}: {validation_message(error)}; {name} is written {cls.syntax}.") \
            from None


__all__ = ["CRITERIA", "Criterion", "GraSP", "Magnitude", "RandomScores", "ScoringContext", "Snip", "SynFlow",
           "Taylor", "parse_criterion"]

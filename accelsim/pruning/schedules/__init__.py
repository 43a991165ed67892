"""Schedules: when and how often a model is pruned, and the training around it.

    oneshot         prune once (default); --fine-tune-epochs E fine-tunes after
    iterative:K     K rounds of prune + fine-tune (Han et al. 2015)
    lr-rewind:K     K rounds of prune + retrain at the original learning rate (Renda et al. 2020)
    gradual[:N]     cubic sparsity ramp during training (Zhu and Gupta 2017)
    lottery:K       iterative pruning with rewinding to the initial (or epoch-E: rewind=E) weights (Frankle, Carbin)
    at-init         prune at initialisation, train the sparse network from scratch (SNIP, GraSP, SynFlow)

Every schedule but a plain oneshot trains on the model's own data, with the masks enforced.
"""

from __future__ import annotations

import difflib

from pydantic import ValidationError

from accelsim.pruning.errors import PruningError
from accelsim.pruning.schedules.base import PruningJob, Schedule, ScheduleResult, TrainingProgress
from accelsim.pruning.schedules.gradual import Gradual
from accelsim.pruning.schedules.iterative import Iterative, LRRewind, OneShot
from accelsim.pruning.schedules.lottery import AtInit, Lottery

SCHEDULES: dict[str, type[Schedule]] = {cls.name: cls for cls in (OneShot, Iterative, LRRewind, Gradual, Lottery,
                                                                    AtInit)}
_POSITIONAL = {"iterative": "rounds", "lr-rewind": "rounds", "lottery": "rounds", "gradual": "steps"}


def parse_schedule(text: str) -> Schedule:
    """The schedule `text` names, e.g. parse_schedule("lottery:5:rewind=1") == Lottery(rounds=5, rewind=1)."""
    parts = [part.strip() for part in text.strip().split(":")]
    name = parts[0].lower()
    if name not in SCHEDULES:
        close = difflib.get_close_matches(name, SCHEDULES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise PruningError(f"unknown schedule {name!r} in {text!r}.{hint} Known schedules: "
                           f"{'; '.join(cls.syntax for cls in SCHEDULES.values())}.")
    cls = SCHEDULES[name]
    fields: dict[str, str] = {}
    positional = [part for part in parts[1:] if "=" not in part]
    if len(positional) > (1 if name in _POSITIONAL else 0):
        raise PruningError(f"schedule {text!r}: too many arguments; {name} is written {cls.syntax}.")
    if positional:
        fields[_POSITIONAL[name]] = positional[0]
    for part in parts[1:]:
        key, equals, value = part.partition("=")
        if equals:
            if key not in cls.model_fields or key == "kind":
                raise PruningError(f"schedule {text!r}: unknown option {key!r}; {name} is written {cls.syntax}.")
            fields[key] = value
    try:
        return cls(**fields)
    except ValidationError as error:
        from accelsim.pruning.parse import validation_message

        raise PruningError(f"schedule {text!r}: {validation_message(error)}; {name} is written {cls.syntax}.") \
            from None


__all__ = ["SCHEDULES", "AtInit", "Gradual", "Iterative", "LRRewind", "Lottery", "OneShot", "PruningJob",
           "Schedule", "ScheduleResult", "TrainingProgress", "parse_schedule"]

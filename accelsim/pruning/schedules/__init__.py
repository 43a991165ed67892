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

from accelsim.pruning.option_text import parse_option_text
from accelsim.pruning.schedules.base import PruningJob, Schedule, ScheduleResult, TrainingProgress
from accelsim.pruning.schedules.gradual import Gradual
from accelsim.pruning.schedules.iterative import Iterative, LRRewind, OneShot
from accelsim.pruning.schedules.lottery import AtInit, Lottery

SCHEDULES: dict[str, type[Schedule]] = {cls.name: cls for cls in (OneShot, Iterative, LRRewind, Gradual, Lottery,
                                                                    AtInit)}
_POSITIONAL = {"iterative": "rounds", "lr-rewind": "rounds", "lottery": "rounds", "gradual": "steps"}


def parse_schedule(text: str) -> Schedule:
    """The schedule `text` names, e.g. parse_schedule("lottery:5:rewind=1") == Lottery(rounds=5, rewind=1)."""
    return parse_option_text(text, "schedule", SCHEDULES, _POSITIONAL)


__all__ = ["SCHEDULES", "AtInit", "Gradual", "Iterative", "LRRewind", "Lottery", "OneShot", "PruningJob",
           "Schedule", "ScheduleResult", "TrainingProgress", "parse_schedule"]

"""Criteria: how weights are ranked for pruning, each usable with every structure (accelsim/pruning/scores.py).

    magnitude   |w| (default)                   random    seeded uniform scores (the baseline)
    taylor      |w x dL/dw| over a few batches  snip      |w x dL/dw| on one batch (at initialisation)
    grasp       w x Hg (signed)                 synflow   data-free |w x dR/dw|, 100 iterative steps
    wanda       |w| x ||x||_2 on the sample input, per output row (LLMs)

CLI form `name[:key=value...]`, e.g. `taylor:batches=8`, `synflow:iterations=20`.
"""

from __future__ import annotations

from accelsim.pruning.criteria.base import Criterion, ScoringContext
from accelsim.pruning.criteria.gradients import GraSP, Snip, Taylor
from accelsim.pruning.criteria.magnitude import Magnitude, RandomScores
from accelsim.pruning.criteria.synflow import SynFlow
from accelsim.pruning.criteria.wanda import Wanda
from accelsim.pruning.option_text import parse_option_text

CRITERIA: dict[str, type[Criterion]] = {cls.name: cls for cls in (Magnitude, RandomScores, Taylor, Snip, GraSP,
                                                                    SynFlow, Wanda)}


def parse_criterion(text: str) -> Criterion:
    """The criterion `text` names, e.g. parse_criterion("taylor:batches=8") == Taylor(batches=8)."""
    return parse_option_text(text, "criterion", CRITERIA)


__all__ = ["CRITERIA", "Criterion", "GraSP", "Magnitude", "RandomScores", "ScoringContext", "Snip", "SynFlow",
           "Taylor", "Wanda", "parse_criterion"]

"""Pruning schemes applied in place to a torch model, each a small frozen pydantic config.

    report = apply(model, parse_scheme("nm:2:4"))     # or apply(model, NM(n=2, m=4)), or apply(model, "nm:2:4")
    print(report)                                     # one row per prunable weight: density before/after, status

    prune(model, parse_scheme("global:0.9"), Snip(), ScoringContext(model, data))   # ranked by a criterion
                                                     # (criteria/; schedules/ adds the training around it)

Prunable: every weight a lowered layer multiplies (targets.py: linear, conv1d/2d/3d, transposed convs, attention's
in_proj, LSTM/GRU/RNN matrices, GPT-2's Conv1D), seen in its GEMM layout (layouts.py); never biases. Sparsity is the
fraction of zeros; counts round half up and ties keep the earlier index (selection.py). Zeros already in a
weight, and live torch.nn.utils.prune masks, are respected: nothing pruned is revived.
"""

from typing import Annotated

from pydantic import Field

from accelsim.pruning.apply import apply
from accelsim.pruning.base import PerLayerScheme, SchemeBase
from accelsim.pruning.block import Block
from accelsim.pruning.channel import Channel
from accelsim.pruning.erk import ERK
from accelsim.pruning.errors import LayerMismatch, PruningError
from accelsim.pruning.global_magnitude import Global
from accelsim.pruning.han2015 import Han2015
from accelsim.pruning.nm import NM
from accelsim.pruning.no_pruning import NoPruning
from accelsim.pruning.parse import SCHEMES, SchemeInfo, parse_scheme
from accelsim.pruning.prune import prune
from accelsim.pruning.report import LayerRow, PruneReport
from accelsim.pruning.targets import PrunableWeight, find_prunable_weights
from accelsim.pruning.uniform_random import Random
from accelsim.pruning.unstructured import Unstructured

Scheme = Annotated[
    Unstructured | Global | ERK | Random | NM | Block | Channel | Han2015 | NoPruning, Field(discriminator="kind")
]
"""Any scheme config; as a pydantic field it validates from a dict by its `kind` (e.g. in a sweep's YAML)."""

__all__ = [
    "ERK",
    "NM",
    "SCHEMES",
    "Block",
    "Channel",
    "Global",
    "Han2015",
    "LayerMismatch",
    "LayerRow",
    "NoPruning",
    "PerLayerScheme",
    "PrunableWeight",
    "PruneReport",
    "PruningError",
    "Random",
    "Scheme",
    "SchemeBase",
    "SchemeInfo",
    "Unstructured",
    "apply",
    "find_prunable_weights",
    "parse_scheme",
    "prune",
]

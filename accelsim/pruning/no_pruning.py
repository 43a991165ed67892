"""The dense baseline: nothing pruned, every layer listed as left dense."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Literal

from accelsim.pruning.base import Decision, SchemeBase
from accelsim.pruning.scores import LayerScores
from accelsim.pruning.targets import PrunableWeight


class NoPruning(SchemeBase):
    """Leaves every weight as it is (zeros already there stay; live torch prune masks are folded in)."""

    syntax: ClassVar[str] = "none"
    ranks_by_criterion: ClassVar[bool] = False
    summary: ClassVar[str] = "no pruning: the dense baseline (a model's own zeros are kept)"

    kind: Literal["none"] = "none"

    @property
    def text(self) -> str:
        return "none"

    def plan(self, weights: Sequence[PrunableWeight],
             scores: Mapping[str, LayerScores] | None = None) -> dict[str, Decision]:
        return {w.name: "scheme 'none'" for w in weights if not w.excluded}

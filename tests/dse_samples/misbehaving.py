"""A dataflow for the sweep's tests that behaves as its config says: `ok` runs one cycle per effectual MAC on one
lane, `fail` raises (a failed point), `crash` ends its process at once on a conv layer (a lost worker); `sleep_s`
makes it slow."""

from __future__ import annotations

import os
import time
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from accelsim.dataflows.registry import register_dataflow
from accelsim.reference import effectual_macs
from accelsim.results import ActionCounts, LayerResult, Metric


@register_dataflow("misbehaving")
class Misbehaving:
    stall_causes: ClassVar[dict[str, str]] = {}
    metrics: ClassVar[dict[str, Metric]] = {}

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        behaviour: Literal["ok", "fail", "crash"] = "ok"
        """What simulate does."""
        cycles_per_mac: int = 1
        """Cycles each effectual MAC takes."""
        sleep_s: float = 0.0
        """Wall time each layer takes (a slow point, to interrupt a sweep in the middle)."""

    def check_arch(self, arch) -> None:
        """Runs on any arch (the YAML gives it the SRAM its actions name)."""

    def dense_config(self, config: Config) -> Config:
        return config

    def simulate(self, layer, arch, *, compute_output: bool = False) -> LayerResult:
        behaviour = arch.dataflow.config.behaviour
        if behaviour == "fail":
            raise ValueError("told to fail")
        if behaviour == "crash" and layer.op == "conv2d":
            os._exit(3)
        time.sleep(arch.dataflow.config.sleep_s)
        macs = effectual_macs(layer)
        return LayerResult(name=layer.name, op=layer.op, cycles=max(1, macs * arch.dataflow.config.cycles_per_mac),
                           macs=layer.macs, macs_issued=macs, effectual_macs=macs, multipliers=1,
                           actions=ActionCounts({("mac", "compute"): macs, ("sram", "read"): 2 * macs}))

"""DCNN: the dense CNN accelerator the SCNN paper (Parashar et al., ISCA 2017) compares against, with SCNN's 1,024
multipliers (8 x 8 PEs of F x I = 4 x 4) and its own dense loop nest.

The paper gives DCNN's multipliers, its 2 MB of activation SRAM and its area, not its loop nest; this one is ours
(docs/scnn.md): output-stationary planar tiles, each step F output channels x I output positions at one (c, r, s)
with the inputs gathered through the stride (accelsim.dataflows.dcnn.mapping), weights broadcast to every PE per
output-channel group, accumulators double-buffered and drained to the OARAM, weights streamed from DRAM during
the group before. Its cycles are the exact count of that static schedule; `accelsim.dataflows.dcnn.jit` walks it
and computes the output, and the tests check the two agree. FC layers and static matmuls split their output
channels over the PEs, batch rows as positions.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from accelsim.arch import Arch
from accelsim.dataflows.dcnn import cost
from accelsim.dataflows.registry import register_dataflow
from accelsim.dataflows.shared.operands import refuse_activation_product
from accelsim.reference import effectual_macs
from accelsim.results import LayerResult, Metric, common_causes
from accelsim.workload import Layer

MEMORY_LEVELS = ("iaram", "oaram", "dram")
COMPONENTS = ("accumulator", "weight_fifo", "weight_broadcast")


@register_dataflow("dcnn")
class DCNN:
    """Dense, output-stationary, F output channels x I output positions per step on every PE."""

    stall_causes: ClassVar[dict[str, str]] = {
        "accumulator_drain": "waiting for an output-channel group's accumulators to drain into the OARAM where the "
                             "next group could not hide it",
        **common_causes(
            "memory_bandwidth", "barrier", "fragmentation",
            memory_bandwidth="waiting for a group's weights (and, with spatial passes, activations) from DRAM",
            barrier="PEs with fewer output positions (edge tiles, planes smaller than the PE grid) waiting for "
                    "the slowest at each output-channel group",
            fragmentation="multiplier slots left empty: output channels or positions not a multiple of F or I"),
    }
    metrics: ClassVar[dict[str, Metric]] = {
        "output_channel_group_size": Metric("Kc: output channels whose partial sums fit a PE's accumulators"),
        "rounds": Metric("output-channel groups run one after another (x conv groups x passes x images)"),
        "temporal_passes": Metric("spatial passes (strips of output rows) when a PE's inputs or outputs overflow "
                                  "its IARAM or OARAM"),
    }

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        weight_vector: int = Field(4, ge=1, le=64)
        """F: output channels per step (weights broadcast as vectors of F)."""
        position_vector: int = Field(4, ge=1, le=64)
        """I: output positions per step; F x I must equal pe_array.macs_per_pe."""
        accumulator_banks: int = Field(32, ge=1, le=1024)
        """Accumulator banks (components.accumulator is one bank): their entries bound the output-channel group,
        and a drain moves one entry per bank per cycle."""

    def check_arch(self, arch: Arch) -> None:
        config: DCNN.Config = arch.dataflow.config
        missing = [name for name in MEMORY_LEVELS if name not in arch.memory]
        missing += [name for name in COMPONENTS if name not in arch.components]
        if missing:
            raise ValueError(f"DCNN needs memory levels {', '.join(MEMORY_LEVELS)} and components "
                             f"{', '.join(COMPONENTS)}; missing {', '.join(missing)}")
        if arch.pe_array.macs_per_pe != config.weight_vector * config.position_vector:
            raise ValueError(f"pe_array.macs_per_pe ({arch.pe_array.macs_per_pe}) must equal dataflow weight_vector "
                             f"x position_vector = {config.weight_vector * config.position_vector}")
        if cost.accumulator_entries(arch) < 1:
            raise ValueError("components.accumulator must hold at least one data.accumulator_bits partial sum")

    def dense_config(self, config: Config) -> Config:
        return config  # dense already

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        config: DCNN.Config = arch.dataflow.config
        refuse_activation_product(layer, "DCNN", "its weights are broadcast per output-channel group from DRAM")
        if layer.op == "conv2d":
            schedule = cost.conv_schedule(layer, arch, config, compute_output)
        else:
            schedule = cost.split_schedule(layer, arch, config, compute_output)
        return _layer_result(layer, arch, config, schedule)


def _layer_result(layer: Layer, arch: Arch, config: DCNN.Config, s: cost.Schedule) -> LayerResult:
    lanes = config.weight_vector * config.position_vector
    pes = arch.pe_array.pes
    compute = int(s.group_cycles.sum())
    slots = compute * pes * lanes
    filled = layer.macs
    shares = {"fragmentation": int(s.pe_steps.sum()) * lanes - filled,
              "barrier": int((s.group_cycles[:, None] - s.pe_steps).sum()) * lanes}
    stalls = {cause: round(compute * share / slots) if slots else 0 for cause, share in shares.items()}
    stalls = {"accumulator_drain": s.drain_cycles, "memory_bandwidth": s.memory_stall_cycles, **stalls}
    cycles = compute + s.drain_cycles + s.memory_stall_cycles
    notes = list(s.notes)
    return LayerResult(
        name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs, macs_issued=filled,
        effectual_macs=effectual_macs(layer), multipliers=pes * lanes, actions=cost.actions(arch, layer, s),
        stall_cycles=stalls, output=s.output, notes=tuple(notes),
        metrics={"output_channel_group_size": s.kc, "rounds": int(s.group_cycles.size),
                 "temporal_passes": s.passes})


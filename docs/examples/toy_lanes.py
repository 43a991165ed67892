"""A toy sparse accelerator, written outside accelsim as a user would: P lanes, each owning every P-th output, one
cycle per effectual MAC (nonzero weight x nonzero activation) of the outputs it owns; the layer ends with the
busiest lane. Run it with `accelsim run --arch docs/examples/toy_lanes.yaml --model digits-cnn`."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from accelsim.dataflows.registry import register_dataflow
from accelsim.dataflows.shared.gemm_view import gemm_operands, gemm_output_to_layer
from accelsim.reference import effectual_macs
from accelsim.results import ActionCounts, LayerResult, Metric, common_causes


@register_dataflow("toy-lanes")
class ToyLanes:
    """P lanes, outputs dealt round-robin, zero operands skipped."""

    stall_causes: ClassVar[dict[str, str]] = common_causes("load_imbalance")
    metrics: ClassVar[dict[str, Metric]] = {
        "busiest_lane_share": Metric("the busiest lane's MACs over an even share", table_header="busiest %")}

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        skip_zeros: bool = True
        """False: every MAC takes its cycle, zeros included (the dense reference)."""

    def check_arch(self, arch) -> None:
        if "sram" not in arch.memory:
            raise ValueError("toy-lanes reads both operands from a memory level named sram")

    def dense_config(self, config: Config) -> Config:
        return config.model_copy(update={"skip_zeros": False})

    def simulate(self, layer, arch, *, compute_output: bool = False) -> LayerResult:
        lanes = arch.pe_array.multipliers
        work = np.zeros(lanes, dtype=np.int64)  # MACs (= cycles) of each lane
        outputs = []
        for a, b in gemm_operands(layer):  # out (M x K) = a (M x Wr) @ b (Wr x K), one GEMM per group
            if arch.dataflow.config.skip_zeros:
                macs = (a != 0).astype(np.int64) @ (b != 0).astype(np.int64)  # effectual MACs of each output
            else:
                macs = np.full((a.shape[0], b.shape[1]), a.shape[1], dtype=np.int64)
            np.add.at(work, np.arange(macs.size) % lanes, macs.ravel())  # output i goes to lane i mod P
            if compute_output:
                outputs.append(a @ b)  # each lane sums its outputs' products; skipped zeros add nothing
        cycles, issued = int(work.max()), int(work.sum())
        return LayerResult(
            name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs, macs_issued=issued,
            effectual_macs=effectual_macs(layer),
            multipliers=lanes, actions=ActionCounts({("mac", "compute"): issued, ("sram", "read"): 2 * issued}),
            stall_cycles={"load_imbalance": cycles - -(-issued // lanes)},
            metrics={"busiest_lane_share": cycles / max(issued / lanes, 1)},
            output=gemm_output_to_layer(layer, outputs) if compute_output else None)

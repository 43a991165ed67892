"""Eyeriss v2 (Chen, Yang, Emer, Sze, "Eyeriss v2: A Flexible Accelerator for Emerging Deep Neural Networks on
Mobile Devices", JETCAS 2019, arXiv 1807.07928) and its dense predecessor Eyeriss v1 (Chen et al., JSSC 2017;
row stationary: ISCA 2016), cycle by cycle on the real nonzeros.

Both are row-stationary machines (accelsim.dataflows.eyeriss.mapping): a PE convolves one filter row of C0 channels
and M0 output channels with a stream of iact windows; psums accumulate down the PE columns. Eyeriss v2's PE reads
its iacts and weights in CSC (a zero iact costs no cycle, only the weights of a nonzero iact's column are read),
two weights per cycle (SIMD-2), and its hierarchical-mesh NoC feeds every cluster of 3 x 4 PEs through its own
ports; Eyeriss v1's PE reads every value (it only gates the MAC of a zero ifmap, saving energy, not cycles) and one
bus per data type feeds its 12 x 14 PEs. docs/eyeriss.md says what is modelled, from where, and what we chose.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from accelsim.arch import Arch
from accelsim.dataflows.eyeriss import cost, jit
from accelsim.dataflows.eyeriss.config import V1Config, V2Config
from accelsim.dataflows.eyeriss.machine import V1_LEVELS, V2_LEVELS, Machine, check_levels, v1_machine, v2_machine
from accelsim.dataflows.eyeriss.mapping import plan_mapping
from accelsim.dataflows.eyeriss.problem import layer_output, problem_of
from accelsim.dataflows.eyeriss.tiles import column_csc, plan_tiles
from accelsim.dataflows.eyeriss.traffic import phase_traffic
from accelsim.dataflows.eyeriss.walk import walk_layer
from accelsim.dataflows.registry import register_dataflow
from accelsim.results import LayerResult, Metric
from accelsim.workload import Layer


def simulate_on(machine: Machine, layer: Layer, arch: Arch, compute_output: bool) -> LayerResult:
    """One layer on a row-stationary machine: tiles, mapping, the walk of every job, each phase's traffic."""
    problem = problem_of(layer, machine.accelerator)
    tiles = plan_tiles(problem, machine)
    mapping = plan_mapping(problem, machine, tiles)
    jobs = mapping.jobs
    walked, counters = walk_layer(problem, machine, mapping)
    (uh, uw), (ph, pw), (dh, dw) = problem.stride, problem.padding, problem.dilation
    traffic = phase_traffic(problem, machine, mapping, walked[:, jit.JOB_PES])
    output = None
    if compute_output:
        pointers, channels, values = column_csc(problem, tiles)
        out = np.zeros((problem.n, problem.groups, problem.mg, problem.p, problem.q))
        jit.output_through_jobs(problem.x, pointers, channels, values, tiles.block_group, tiles.block_start,
                                mapping.items_cb, mapping.items_r, jobs.n, jobs.block, jobs.slice, jobs.p, jobs.q0,
                                jobs.q1, mapping.chain_length, tiles.c0, problem.r, problem.s, uh, uw, ph, pw, dh,
                                dw, out)
        output = layer_output(layer, out)
    return cost.layer_result(layer, arch, machine, mapping, walked, counters, traffic, output)


@register_dataflow("eyeriss_v2")
class EyerissV2:
    """Row stationary plus on 8 x 2 clusters of 3 x 4 sparse PEs (CSC iacts and weights, SIMD-2), hierarchical
    mesh NoC, weights DRAM -> PE, iacts and psums in the GLB clusters."""

    Config = V2Config
    stall_causes: ClassVar[dict[str, str]] = cost.STALL_CAUSES
    metrics: ClassVar[dict[str, Metric]] = cost.METRICS

    def check_arch(self, arch: Arch) -> None:
        check_levels(arch, "Eyeriss v2", V2_LEVELS)
        config: V2Config = arch.dataflow.config
        rows, cols = arch.pe_array.rows, arch.pe_array.cols
        if rows % config.cluster_rows or cols % config.cluster_cols:
            raise ValueError(f"Eyeriss v2: pe_array {rows} x {cols} is not a whole number of "
                             f"{config.cluster_rows} x {config.cluster_cols} PE clusters (dataflow.cluster_rows/"
                             f"cluster_cols)")
        if arch.pe_array.macs_per_pe != config.simd_width:
            raise ValueError(f"Eyeriss v2: pe_array.macs_per_pe ({arch.pe_array.macs_per_pe}) must equal "
                             f"dataflow.simd_width ({config.simd_width})")
        machine = v2_machine(arch, config)
        for name, value in (("iact_spad", machine.iact_entries), ("weight_spad", machine.weight_values),
                            ("psum_spad", machine.psum_entries), ("weight_addr_spad", machine.weight_columns)):
            if value < 1:
                raise ValueError(f"Eyeriss v2: memory.{name} holds no entry (size_bytes too small for its "
                                 f"width)")

    def dense_config(self, config: V2Config) -> V2Config:
        return config.model_copy(update={"iact_format": "uncompressed", "weight_format": "uncompressed"})

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        return simulate_on(v2_machine(arch, arch.dataflow.config), layer, arch, compute_output)


@register_dataflow("eyeriss_v1")
class EyerissV1:
    """Row stationary on 12 x 14 dense PEs (16-bit), one multicast bus per data type, a 108 KB GLB for iacts and
    psums; zero ifmaps gate the MAC (energy) but take their cycle."""

    Config = V1Config
    stall_causes: ClassVar[dict[str, str]] = cost.STALL_CAUSES
    metrics: ClassVar[dict[str, Metric]] = cost.METRICS

    def check_arch(self, arch: Arch) -> None:
        check_levels(arch, "Eyeriss v1", V1_LEVELS)
        if arch.pe_array.macs_per_pe != 1:
            raise ValueError("Eyeriss v1: a PE has one MAC (pe_array.macs_per_pe must be 1)")

    def dense_config(self, config: V1Config) -> V1Config:
        return config.model_copy(update={"gate_zero_iacts": False, "rlc_dram": False})

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        return simulate_on(v1_machine(arch, arch.dataflow.config), layer, arch, compute_output)

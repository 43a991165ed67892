"""DCNN's schedule in numbers: each PE's steps per output-channel group (the exact count of its static loop nest),
the groups' cycles (the slowest PE), accumulator drains and weight waits between groups, spatial passes through
DRAM, and the action counts. With `compute_output` the output is computed through the schedule
(accelsim.dataflows.dcnn.jit), which also counts the steps: they must equal the closed form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from accelsim.arch import Arch
from accelsim.dataflows.dcnn import jit
from accelsim.dataflows.dcnn.mapping import group_channels, group_size, plan_passes
from accelsim.dataflows.shared.group_overlap import overlap_waits
from accelsim.results import ActionCounts
from accelsim.workload import Layer


@dataclass
class Schedule:
    pe_steps: np.ndarray  # (groups in run order, PEs): each PE's steps in each group
    group_cycles: np.ndarray  # (groups,): the slowest PE's steps
    drain_cycles: int
    memory_stall_cycles: int
    kc: int
    passes: int
    weight_vectors_delivered: int  # F-wide weight vectors written into PEs' weight FIFOs
    drain_reads: int  # accumulator entries drained (all PEs)
    dram_read_bytes: float
    dram_write_bytes: float
    oaram_write_bytes: float
    notes: list[str] = field(default_factory=list)
    output: np.ndarray | None = None


def accumulator_entries(arch: Arch) -> int:
    per_bank = (arch.components["accumulator"].size_bytes or 0) * 8 // arch.data.accumulator_bits
    return arch.dataflow.config.accumulator_banks * per_bank


def conv_schedule(layer: Layer, arch: Arch, config, compute_output: bool) -> Schedule:
    d = layer.dims
    f, i = config.weight_vector, config.position_vector
    act_bytes, weight_bytes = arch.data.activation_bits / 8, arch.data.weight_bits / 8
    rows, cols = arch.pe_array.rows, arch.pe_array.cols
    passes = plan_passes(d, layer.stride, layer.dilation, rows, cols, act_bytes, arch.memory["iaram"].size_bytes,
                         arch.memory["oaram"].size_bytes)
    k_group, c_group, taps = d["K"] // d["G"], d["C"] // d["G"], d["R"] * d["S"]
    kc = group_size(k_group, int(max(int(p.positions.max()) for p in passes)), accumulator_entries(arch))
    channels = group_channels(k_group, kc)
    steps_per_k = np.ceil(channels / f).astype(np.int64) * c_group * taps  # per group, per vector of I positions
    one_image = []
    for plan in passes:
        position_vectors = np.ceil(plan.positions / i).astype(np.int64)
        one_image.append(np.tile(steps_per_k[:, None] * position_vectors[None, :], (d["G"], 1)))
    pe_steps = np.concatenate(one_image * d["N"])
    group_cycles = pe_steps.max(axis=1)
    # A group drains its Kc x (the largest tile's positions) accumulators, one entry per bank per cycle.
    largest = np.concatenate([np.full(channels.size * d["G"], plan.positions.max()) for plan in passes] * d["N"])
    drains = np.ceil(np.tile(np.tile(channels, d["G"]), len(passes) * d["N"]) * largest / config.accumulator_banks)
    # Weights of each group stream from DRAM during the group before; every pass re-reads them.
    group_weight_bytes = np.tile(np.tile(channels, d["G"]) * c_group * taps * weight_bytes, len(passes) * d["N"])
    spill_bytes = 0.0
    notes = []
    if len(passes) > 1:
        spill_bytes = _pass_traffic(layer, passes, act_bytes)
        notes.append(f"a PE's inputs or outputs overflow its IARAM/OARAM: {len(passes)} spatial passes (strips of "
                     f"output rows) move activations through DRAM and re-read the weights each pass")
    overflow = max(p.input_bytes_pe for p in passes) > arch.memory["iaram"].size_bytes or max(
        p.output_bytes_pe for p in passes) > arch.memory["oaram"].size_bytes
    if overflow:
        notes.append("even one output row per pass overflows a PE's IARAM or OARAM: the overflow is not modelled")
    transfers = _transfer_cycles(arch, group_weight_bytes, spill_bytes)
    drain, memory = overlap_waits(group_cycles.astype(float), drains, transfers)
    active = sum(int(np.count_nonzero(p.positions)) for p in passes) * d["N"]
    vectors = int(np.ceil(channels / f).sum()) * c_group * taps * d["G"]
    output = _conv_output(layer, passes, channels, config, pe_steps) if compute_output else None
    outputs = d["N"] * d["K"] * d["P"] * d["Q"]
    return Schedule(pe_steps=pe_steps, group_cycles=group_cycles, drain_cycles=drain, memory_stall_cycles=memory,
                    kc=kc, passes=len(passes), weight_vectors_delivered=vectors * active,
                    drain_reads=outputs, dram_read_bytes=float(group_weight_bytes.sum()) + spill_bytes / 2,
                    dram_write_bytes=spill_bytes / 2, oaram_write_bytes=outputs * act_bytes, notes=notes,
                    output=output)


def _pass_traffic(layer: Layer, passes, act_bytes: float) -> float:
    """Bytes of activations moved through DRAM by spatial passes: each pass reads its tiles' input regions (halo
    included) and writes its outputs."""
    d = layer.dims
    total = 0.0
    for plan in passes:
        inputs = plan.input_bytes_pe * int(np.count_nonzero(plan.positions))  # bounded by the largest region
        outputs = (plan.p1 - plan.p0) * d["Q"] * d["K"] * act_bytes
        total += inputs + outputs
    return total * d["N"]


def _transfer_cycles(arch: Arch, group_weight_bytes: np.ndarray, spill_bytes: float) -> np.ndarray:
    bandwidth = arch.bytes_per_cycle("dram")
    if bandwidth is None:
        return np.zeros(group_weight_bytes.size)
    return (group_weight_bytes + spill_bytes / group_weight_bytes.size) / bandwidth


def _conv_output(layer: Layer, passes, channels: np.ndarray, config, pe_steps: np.ndarray) -> np.ndarray:
    d = layer.dims
    (ph, pw) = layer.padding
    x = np.pad(layer.input.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    weight = layer.weight.astype(np.float64)
    out = np.zeros((d["N"], d["K"], d["P"], d["Q"]))
    walked = []
    for n in range(d["N"]):
        for plan in passes:
            walked.append(jit.dense_schedule(x[n], weight, plan.tile_rows, plan.tile_cols, channels, d["G"],
                                             *layer.stride, *layer.dilation, config.weight_vector,
                                             config.position_vector, out[n]))
    if not np.array_equal(np.concatenate(walked), pe_steps):
        raise AssertionError(f"layer {layer.name!r}: DCNN's walked schedule and its closed-form step counts differ")
    return out


def split_schedule(layer: Layer, arch: Arch, config, compute_output: bool) -> Schedule:
    """FC and static matmul: output channels split over the PEs, batch rows as the positions of every PE."""
    f, i = config.weight_vector, config.position_vector
    pes = arch.pe_array.pes
    act_bytes, weight_bytes = arch.data.activation_bits / 8, arch.data.weight_bits / 8
    problems = [(layer.input, layer.weight.T)] if layer.op == "linear" else list(
        zip(layer.input, layer.weight, strict=True))  # (rows x C) times (C x K)
    rows, c = problems[0][0].shape
    k = problems[0][1].shape[1]
    per_pe = math.ceil(k / pes)
    kc = group_size(per_pe, rows, accumulator_entries(arch))
    own = np.clip(k - np.arange(pes) * per_pe, 0, per_pe)  # output channels each PE holds
    starts = np.arange(math.ceil(per_pe / kc)) * kc
    in_group = np.clip(own[None, :] - starts[:, None], 0, kc)  # (groups, PEs)
    steps = np.ceil(in_group / f).astype(np.int64) * math.ceil(rows / i) * c
    pe_steps = np.tile(steps, (len(problems), 1))
    group_cycles = pe_steps.max(axis=1)
    drains = np.ceil(np.tile(in_group.max(axis=1), len(problems)) * rows / config.accumulator_banks)
    group_weight_bytes = np.tile(in_group.sum(axis=1) * c * weight_bytes, len(problems))
    transfers = _transfer_cycles(arch, group_weight_bytes, 0.0)
    drain, memory = overlap_waits(group_cycles.astype(float), drains, transfers)
    vectors = int(np.ceil(in_group / f).sum()) * c * len(problems)  # each PE its own weights
    output = None
    if compute_output:
        outs = [a.astype(np.float64) @ b.astype(np.float64) for a, b in problems]
        output = outs[0] if layer.op == "linear" else np.stack(outs)
    outputs = len(problems) * rows * k
    return Schedule(pe_steps=pe_steps, group_cycles=group_cycles, drain_cycles=drain, memory_stall_cycles=memory,
                    kc=kc, passes=1, weight_vectors_delivered=vectors, drain_reads=outputs,
                    dram_read_bytes=float(group_weight_bytes.sum()), dram_write_bytes=0.0,
                    oaram_write_bytes=outputs * act_bytes,
                    notes=["output channels split over the PEs, batch rows as positions: with few rows most "
                           "position lanes idle"], output=output)


def actions(arch: Arch, layer: Layer, s: Schedule) -> ActionCounts:
    def accesses(level: str, count_bits: float) -> int:
        return math.ceil(count_bits / arch.memory[level].width_bits)

    steps = int(s.pe_steps.sum())
    return ActionCounts({
        ("mac", "compute"): layer.macs,
        ("accumulator", "read"): layer.macs + s.drain_reads,  # read-modify-write per product, then the drain
        ("accumulator", "write"): layer.macs,
        ("iaram", "read"): steps,  # one vector of I gathered activations per step
        ("weight_fifo", "read"): steps,
        ("weight_fifo", "write"): s.weight_vectors_delivered,
        ("weight_broadcast", "transfer"): s.weight_vectors_delivered,
        ("oaram", "write"): accesses("oaram", s.oaram_write_bytes * 8),
        ("dram", "read"): accesses("dram", s.dram_read_bytes * 8),
        ("dram", "write"): accesses("dram", s.dram_write_bytes * 8),
    })

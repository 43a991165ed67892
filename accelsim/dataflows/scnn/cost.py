"""SCNN's cost model: from the Cartesian-product walk's per-PE cycles and counters to the layer's cycles by cause, its
memory traffic (IARAM/OARAM capacity, spatial passes, DRAM) and action counts. Counts only; accelsim.energy prices them.

Cycle split. The compute cycles are, per output-channel group, the slowest PE's cycles (the barrier). Over those,
every multiplier slot (compute cycles x PEs x F x I) is one of: a useful product (busy), a product that landed on
no output (wasted_products: stride > 1, padded borders), an empty lane of a short vector (fragmentation), a cycle
a step spent serialising products in one bank (bank_conflict), or a PE waiting for the slowest (barrier). The
split reports each share of the slots as cycles. On top come the accumulator drains the next group could not
hide (accumulator_drain) and the waits for weights (and spilled activations) from DRAM (memory_bandwidth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from accelsim.arch import Arch
from accelsim.dataflows.scnn import jit
from accelsim.dataflows.scnn.mapping import Mapping
from accelsim.dataflows.shared.group_overlap import overlap_waits
from accelsim.results import ActionCounts, LayerResult
from accelsim.workload import Layer


@dataclass
class Run:
    """One product (a conv, a linear layer, one matrix of a static matmul) on the array."""

    counters: np.ndarray
    compute_cycles: int
    barrier_pe_cycles: int
    drain_cycles: int  # accumulator drains not hidden under the next group
    memory_stall_cycles: int
    halo_transfers: int
    drain_reads: int
    weight_deliveries: int  # weight vectors written into a PE's weight FIFO (a broadcast reaches every PE)
    dram_read_bits: int
    dram_write_bits: int
    oaram_write_bits: int
    passes: int
    kc: int
    groups: int
    iaram_fill: float  # the fullest PE's input tile over the IARAM
    oaram_fill: float
    output: np.ndarray | None = None
    straddling_partial_sums: int = 0  # spatial passes: partial sums of outputs two strips feed (through DRAM)


_MAXED = {"passes", "kc", "iaram_fill", "oaram_fill"}  # reported as the worst over a layer's products


def combine(runs: list[Run]) -> Run:
    """A layer's products run one after another: counts add, capacities report the worst."""
    total = runs[0]
    for run in runs[1:]:
        values = {}
        for item in fields(Run):
            a, b = getattr(total, item.name), getattr(run, item.name)
            if item.name == "output":
                values["output"] = None
            else:
                values[item.name] = max(a, b) if item.name in _MAXED else a + b
        total = Run(**values)
    return total


class Capacity(NamedTuple):
    """What a run's activations take of the PEs' buffers, and the passes that makes necessary."""

    passes: int
    in_bits_pe: int  # the fullest PE's input tile (compressed)
    out_bits_pe: int
    iaram_bits: int
    oaram_bits: int
    act_entries: np.ndarray  # (images, tiles) stored input entries
    out_entries: np.ndarray  # (images, PEs) output entries written to the OARAM


def capacity(arch: Arch, config, mapping: Mapping, values: np.ndarray | None, pes: int) -> Capacity:
    """The fullest PE's inputs and outputs against its IARAM and OARAM: more than 1 pass when either overflows.
    Needs the mapping and the output values (when outputs are compressed), not the walk's cycles."""
    act_bits = arch.data.activation_bits + (config.index_bits if config.skip_zero_activations else 0)
    act_entries = mapping.acts.entries().reshape(mapping.n_images, mapping.n_tiles, -1).sum(axis=2)
    in_bits_pe = int(act_entries.max()) * act_bits  # split mapping: every PE holds the whole vector
    out_entries = _output_entries_per_pe(mapping, values, pes)
    out_bits_pe = int(out_entries.max()) * act_bits
    iaram_bits = arch.memory["iaram"].size_bytes * 8
    oaram_bits = arch.memory["oaram"].size_bytes * 8
    passes = max(1, math.ceil(in_bits_pe / iaram_bits), math.ceil(out_bits_pe / oaram_bits))
    return Capacity(passes, in_bits_pe, out_bits_pe, iaram_bits, oaram_bits, act_entries, out_entries)


def summarise_run(arch: Arch, config, mapping: Mapping, pe_cycles: np.ndarray, counters: np.ndarray,
                  values: np.ndarray | None, output: np.ndarray | None, strip: bool = False) -> Run:
    """Barrier, drains, capacity, DRAM traffic and bandwidth stalls of one product, or (`strip`) of one spatial pass
    of a conv: its inputs come from DRAM, its outputs go there, and it re-reads every weight. `passes` is what the
    run needs: more than 1 when its activations overflow the IARAM or OARAM (a conv is then run again pass by pass,
    accelsim.dataflows.scnn.passes; an FC layer keeps this run and the formula below)."""
    group_cycles = pe_cycles.max(axis=2)  # (images, groups): the slowest PE sets each group's time
    pes = pe_cycles.shape[2]
    barrier = int((group_cycles[:, :, None] - pe_cycles).sum())
    banks = config.accumulator_banks
    active = mapping.region_positions > 0
    region = mapping.region_h * mapping.region_w
    drain_per_group = np.ceil(mapping.kc_of_group * region / banks).astype(np.int64)  # one entry per bank-cycle
    sequence = group_cycles.ravel()
    drains = np.tile(drain_per_group, mapping.n_images)
    drain_reads = int(mapping.n_images * mapping.kc_of_group.sum() * region * active.sum())
    halo = np.maximum(mapping.region_positions - mapping.owned_positions, 0)[active].sum()
    halo_transfers = int(mapping.n_images * mapping.kc_of_group.sum() * halo) if mapping.planar else 0

    fill = capacity(arch, config, mapping, values, pes)
    passes, act_entries, out_entries = fill.passes, fill.act_entries, fill.out_entries
    act_bits = arch.data.activation_bits + (config.index_bits if config.skip_zero_activations else 0)
    weight_bits = arch.data.weight_bits + (config.index_bits if config.skip_zero_weights else 0)
    repeats = 1 if strip else passes  # FC overflow (a formula): the weights re-read once per pass, not walked
    weight_entries = mapping.weights.entries().reshape(mapping.kc_of_group.size, -1).sum(axis=1)  # per group
    weight_bits_group = weight_entries * weight_bits
    dram_read = int(weight_bits_group.sum()) * repeats * mapping.n_images
    dram_write = 0
    out_bits_total = int(out_entries.sum()) * act_bits
    spill_bytes_per_image = 0.0
    if passes > 1 or strip:  # activations go through DRAM
        in_total = int(act_entries.sum()) * act_bits
        dram_read += in_total
        dram_write += out_bits_total
        spill_bytes_per_image = (in_total + out_bits_total) / 8 / mapping.n_images
    bandwidth = arch.bytes_per_cycle("dram")
    transfers = np.zeros(sequence.size)
    if bandwidth is not None:
        per_group = weight_bits_group / 8 * repeats + spill_bytes_per_image / weight_bits_group.size
        transfers = np.tile(per_group, mapping.n_images) / bandwidth
    drain_cycles, stall = overlap_waits(sequence, drains, transfers)
    per_class = np.diff(mapping.weights.phase_ptr.reshape(-1, mapping.weights.phases + 1), axis=1)
    vectors = int(mapping.n_images * np.ceil(per_class / config.weight_vector).sum())  # weights move per phase class
    deliveries = vectors * pes if mapping.planar else vectors  # split mapping: each PE its own weights
    return Run(counters=counters.copy(), compute_cycles=int(sequence.sum()), barrier_pe_cycles=barrier,
               drain_cycles=drain_cycles, memory_stall_cycles=int(stall), halo_transfers=halo_transfers,
               drain_reads=drain_reads, weight_deliveries=deliveries, dram_read_bits=dram_read,
               dram_write_bits=dram_write, oaram_write_bits=out_bits_total, passes=passes, kc=mapping.kc,
               groups=int(group_cycles.size), iaram_fill=fill.in_bits_pe / fill.iaram_bits,
               oaram_fill=fill.out_bits_pe / fill.oaram_bits,
               output=output)


def _output_entries_per_pe(mapping: Mapping, values: np.ndarray | None, pes: int) -> np.ndarray:
    """Output entries each PE writes to its OARAM per image, (images, PEs): the nonzeros after the PPU's ReLU when
    outputs are compressed (values given), every output otherwise."""
    if mapping.planar:
        owner = mapping.owner_tile.ravel()
        mine = owner >= 0  # a spatial pass owns only the outputs whose window centre lies in its strip
        if values is None:
            per_tile = np.bincount(owner[mine], minlength=mapping.n_tiles) * mapping.kc_of_group.sum()
            return np.tile(per_tile, (mapping.n_images, 1))
        positive = (values > 0).sum(axis=1).reshape(values.shape[0], -1)  # (images, P*Q)
        return np.stack([np.bincount(owner[mine], weights=row[mine], minlength=mapping.n_tiles) for row in positive])
    k_total = values.shape[1] if values is not None else int(mapping.kc_of_group.sum()) * pes
    per_pe = math.ceil(k_total / pes)
    if values is None:
        return np.full((1, pes), per_pe * mapping.region_w)
    positive = (values[0, :, 0, :] > 0).sum(axis=1)  # per output channel
    padded = np.zeros(per_pe * pes)
    padded[:positive.size] = positive
    return padded.reshape(1, pes, per_pe).sum(axis=2)


def notes(layer: Layer, arch: Arch, config, run: Run) -> list[str]:
    out = []
    if run.passes > 1 and layer.op == "conv2d":
        out.append(f"activations do not fit: {run.passes} spatial passes (strips of rows, each walked on its own; "
                   f"the fullest PE then needs {run.iaram_fill:.0%} of its IARAM and {run.oaram_fill:.0%} of its "
                   f"OARAM) move them through DRAM, re-read the weights each pass and exchange "
                   f"{run.straddling_partial_sums:,} partial sums of outputs two strips feed")
    elif run.passes > 1:
        out.append(f"activations do not fit: every PE holds the whole input vector ({run.iaram_fill:.0%} of its "
                   f"IARAM); {run.passes} passes through DRAM, counted by a formula (the weights re-read each pass, "
                   f"the compute not walked again)")
    c = run.counters
    wasted = int(c[jit.PRODUCTS] - c[jit.VALID_PRODUCTS])
    if wasted and c[jit.PRODUCTS]:
        strided = max(layer.stride) > 1 and not config.stride_phases
        cause = "stride > 1 skips outputs" if strided else "windows hang over the plane's borders"
        out.append(f"{wasted / c[jit.PRODUCTS]:.0%} of products land on no output ({cause}): wasted work")
    if config.scatter_crossbar:
        out.append(f"crossbar: {config.accumulator_banks} accumulator banks, {config.bank_mapping} bank hash, bank "
                   f"queues {config.crossbar_queue_depth} deep: our choices (the paper gives neither hash nor "
                   f"queue); bank conflicts move with them (docs/scnn.md)")
    return out


def layer_result(layer: Layer, arch: Arch, config, run: Run, notes: list[str], output: np.ndarray | None,
                 effectual: int) -> LayerResult:
    c = run.counters
    pes = arch.pe_array.pes
    lanes = config.weight_vector * config.activation_vector
    slots = run.compute_cycles * pes * lanes
    shares = {
        "wasted_products": int(c[jit.PRODUCTS] - c[jit.VALID_PRODUCTS]),
        "fragmentation": int(c[jit.EMPTY_SLOTS]),
        "bank_conflict": int(c[jit.CONFLICT_CYCLES]) * lanes,
        "barrier": run.barrier_pe_cycles * lanes,
    }
    stalls = {cause: round(run.compute_cycles * share / slots) if slots else 0 for cause, share in shares.items()}
    excess = sum(stalls.values()) - run.compute_cycles  # rounding must not exceed the compute cycles
    if excess > 0:
        stalls["barrier"] -= min(excess, stalls["barrier"])
    stalls["accumulator_drain"] = run.drain_cycles
    stalls["memory_bandwidth"] = run.memory_stall_cycles
    cycles = run.compute_cycles + run.drain_cycles + run.memory_stall_cycles
    valid = int(c[jit.VALID_PRODUCTS])
    actions = {
        ("mac", "compute"): int(c[jit.PRODUCTS]),
        ("accumulator", "read"): valid + run.drain_reads,
        ("accumulator", "write"): valid,
        ("iaram", "read"): int(c[jit.ACTIVATION_VECTORS]),
        ("weight_fifo", "read"): int(c[jit.STEPS]),
        ("weight_fifo", "write"): run.weight_deliveries,
        ("weight_broadcast", "transfer"): run.weight_deliveries,
        ("halo_link", "transfer"): run.halo_transfers,
        ("oaram", "write"): math.ceil(run.oaram_write_bits / arch.memory["oaram"].width_bits),
        ("dram", "read"): math.ceil(run.dram_read_bits / arch.memory["dram"].width_bits),
        ("dram", "write"): math.ceil(run.dram_write_bits / arch.memory["dram"].width_bits),
    }
    if config.scatter_crossbar:
        actions[("output_coordinate", "compute")] = int(c[jit.PRODUCTS])
        actions[("scatter_crossbar", "transfer")] = valid
    metrics = {
        "output_channel_group_size": run.kc,
        "rounds": run.groups,
        "temporal_passes": run.passes,
        "halo_partial_sums": run.halo_transfers,
        "wasted_products": shares["wasted_products"],
        "iaram_fill": run.iaram_fill,
        "oaram_fill": run.oaram_fill,
    }
    return LayerResult(name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs,
                       macs_issued=int(c[jit.PRODUCTS]), effectual_macs=effectual, multipliers=pes * lanes,
                       actions=ActionCounts(actions), stall_cycles=stalls, output=output, notes=tuple(notes),
                       metrics=metrics)

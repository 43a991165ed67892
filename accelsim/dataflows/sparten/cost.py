"""SparTen's cost model: from the walk's CU-cycle slots and counts to the layer's cycles by cause, its storage (exact
bits from accelsim.formats.bitmask), its memory traffic and its action counts. Counts only; accelsim.energy prices.

Cycles. The compute cycles are the slowest cluster's. Every CU-cycle up to then is one slot: a product (busy), a
chunk join's empty cycle, waiting for a held or still-moving broadcast, waiting at a pass's end for the slowest CU
or at the layer's end for the slowest cluster (load_imbalance), the pipeline draining, a filter load, or a CU
with no filter (fragmentation). Each cause's share of the slots is reported as cycles, as SCNN does.

Memory is a layer-level formula, not walked: weights come from DRAM once per layer (compressed); the layer's input
and output maps stay in the global buffer when both fit, and otherwise are read from and written to DRAM once;
DRAM time beyond the compute time is a stall (memory_bandwidth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.arch import Arch
from accelsim.dataflows.sparten import jit
from accelsim.dataflows.sparten.chunks import Problem
from accelsim.dataflows.sparten.schedule import Plan
from accelsim.formats import bitmask
from accelsim.results import ActionCounts
from accelsim.workload import Layer

SLOT_CAUSES = {
    "empty_join": jit.EMPTY_JOIN, "broadcast_stall": jit.BROADCAST_HELD, "broadcast_bandwidth": jit.BROADCAST_BUS,
    "load_imbalance": jit.IMBALANCE, "pipeline_fill": jit.PIPELINE, "filter_load": jit.FILTER_LOAD,
    "fragmentation": jit.IDLE_CU,
}


@dataclass(frozen=True)
class Walk:
    """What the numba walk returned for a layer."""

    cluster_cycles: np.ndarray
    slots: np.ndarray
    counts: np.ndarray
    balance: np.ndarray


@dataclass(frozen=True)
class Storage:
    """Bits of each operand as the design stores it."""

    weight_bits: int
    input_bits: int
    output_bits: int
    pointer_bits: int  # width of one chunk pointer in the weights (0 when stored dense)


def chunk_storage_bits(problem: Problem, config, arch: Arch, pointer_bits: int) -> np.ndarray:
    """(filters, J): bits a filter chunk takes in a CU's filter buffer: mask, nonzeros and pointer, or uncompressed."""
    weight_bits = arch.data.weight_bits
    if config.sparsity == "none":
        return np.broadcast_to(problem.chunk_len[None, :] * weight_bits, problem.filters.nnz.shape)
    return config.chunk_size + problem.filters.nnz * weight_bits + pointer_bits


def weight_storage(problem: Problem, config, arch: Arch) -> tuple[int, int]:
    """(bits of the layer's weights, pointer width): the weight layout in the bitmask format, from the filter chunks'
    nonzeros (the layout's chunks are the filter chunks)."""
    if config.sparsity == "none":
        return int(problem.chunk_len.sum()) * problem.filters.nnz.shape[0] * arch.data.weight_bits, 0
    return bitmask.chunked_bits(problem.weight_layout.size, int(problem.filters.nnz.sum()),
                                value_bits=arch.data.weight_bits, chunk_size=config.chunk_size)


def storage_bits(layer: Layer, problem: Problem, config, arch: Arch, positive_outputs: int | None) -> Storage:
    """Weights compressed unless dense; activations compressed by the two-sided design only (the collector writes
    its outputs' nonzeros after ReLU, so the count of positive outputs is needed then). Bits of the bitmask format
    (accelsim.formats.bitmask) of the layouts SparTen stores: the input map's channels chunked at each position; the
    output map likewise, (position, output channel) for a conv or FC layer, (matrix, row, column) for a matmul."""
    weights, pointer = weight_storage(problem, config, arch)
    act = arch.data.activation_bits
    if config.sparsity != "two_sided":
        return Storage(weights, layer.input.size * act, math.prod(layer.output_shape) * act, pointer)
    inputs = bitmask.chunked_bits(problem.input_layout.size, int(np.count_nonzero(problem.input_layout)),
                                  value_bits=act, chunk_size=config.chunk_size)[0]
    filters = problem.filters.nnz.shape[0]
    per_row = filters // problem.groups if layer.op == "matmul" else filters
    rows = filters * problem.positions // per_row
    outputs = bitmask.chunked_bits(rows * math.ceil(per_row / config.chunk_size) * config.chunk_size,
                                   positive_outputs, value_bits=act, chunk_size=config.chunk_size)[0]
    return Storage(weights, inputs, outputs, pointer)


def layer_result_parts(layer: Layer, arch: Arch, config, problem: Problem, plan: Plan, walk: Walk,
                       store: Storage) -> dict:
    """Everything of the LayerResult but the notes and output: cycles, stalls, actions, metrics."""
    cus, clusters = arch.pe_array.cols, arch.pe_array.rows
    compute = int(walk.cluster_cycles.max(initial=0))
    slots = walk.slots.astype(np.int64).copy()
    slots[jit.IMBALANCE] += int((compute - walk.cluster_cycles).sum()) * cus  # clusters done before the slowest
    total = compute * clusters * cus
    stalls = {cause: round(compute * int(slots[i]) / total) if total else 0 for cause, i in SLOT_CAUSES.items()}
    excess = sum(stalls.values()) - compute  # rounding must not exceed the compute cycles
    while excess > 0:
        largest = max(stalls, key=stalls.get)
        cut = min(excess, stalls[largest])
        stalls[largest] -= cut
        excess -= cut
    memory = _memory(arch, store, compute)
    stalls["memory_bandwidth"] = memory["stall_cycles"]
    c = walk.counts
    busiest, mean = walk.balance
    return {
        "cycles": compute + memory["stall_cycles"], "stall_cycles": stalls, "macs_issued": int(c[jit.ISSUED]),
        "effectual_macs": int(c[jit.MATCHES]), "multipliers": clusters * cus,
        "actions": _actions(layer, arch, config, problem, plan, walk, store, memory),
        "metrics": {"cu_imbalance": float(busiest / mean - 1) if mean else 0.0, "chunks_per_window": problem.chunks,
                    "broadcasts": int(c[jit.BROADCASTS]),
                    "filter_groups": math.ceil(problem.filters_per_group / cus), "reduction_slices": plan.slices,
                    "passes": int(c[jit.PASSES]), "global_buffer_fill": memory["fill"]},
        "memory": memory,
    }


def _memory(arch: Arch, store: Storage, compute_cycles: int) -> dict:
    capacity = arch.memory["global_buffer"].size_bytes * 8
    activations = store.input_bits + store.output_bits
    on_chip = activations <= capacity
    read = store.weight_bits + (0 if on_chip else store.input_bits)
    write = 0 if on_chip else store.output_bits
    bandwidth = arch.bytes_per_cycle("dram")
    dram_cycles = 0 if bandwidth is None else math.ceil((read + write) / 8 / bandwidth)
    return {"read_bits": read, "write_bits": write, "on_chip": on_chip, "fill": activations / capacity,
            "dram_cycles": dram_cycles, "stall_cycles": max(0, dram_cycles - compute_cycles)}


def _actions(layer: Layer, arch: Arch, config, problem: Problem, plan: Plan, walk: Walk, store: Storage,
             memory: dict) -> ActionCounts:
    c = walk.counts
    joins, issued, matches = int(c[jit.JOINS]), int(c[jit.ISSUED]), int(c[jit.MATCHES])
    act, weight = arch.data.activation_bits, arch.data.weight_bits
    mask = config.chunk_size
    cycles_of_encoder = issued + int(walk.slots[jit.EMPTY_JOIN])
    outputs = problem.filters.nnz.shape[0] * problem.positions
    psums = outputs * (plan.slices - 1) * arch.data.accumulator_bits  # each way, per extra slice
    if config.sparsity == "two_sided":
        input_reads, filter_reads = joins * mask + matches * act, joins * mask + matches * weight
    elif config.sparsity == "weights":
        input_reads, filter_reads = issued * act, joins * mask + issued * weight
    else:
        input_reads, filter_reads = issued * act, issued * weight

    def accesses(level: str, bits: int) -> int:
        return math.ceil(bits / arch.memory[level].width_bits)

    actions = {
        ("mac", "compute"): issued,
        ("input_buffer", "write"): accesses("input_buffer", int(c[jit.RECEIVED_BITS])),
        ("input_buffer", "read"): accesses("input_buffer", input_reads),
        ("filter_buffer", "write"): accesses("filter_buffer", int(c[jit.LOAD_BITS])),
        ("filter_buffer", "read"): accesses("filter_buffer", filter_reads),
        ("broadcast_bus", "transfer"): int(c[jit.BUS_CYCLES]),
        ("global_buffer", "read"): accesses("global_buffer", int(c[jit.BROADCAST_BITS] + c[jit.LOAD_BITS]) + psums),
        ("global_buffer", "write"): accesses("global_buffer", store.output_bits + psums + memory["read_bits"]),
        ("output_collector", "compute"): outputs,
        ("dram", "read"): accesses("dram", memory["read_bits"]),
        ("dram", "write"): accesses("dram", memory["write_bits"]),
    }
    if config.sparsity != "none":
        actions[("priority_encoder", "compute")] = cycles_of_encoder
        actions[("prefix_sum", "compute")] = 2 * matches if config.sparsity == "two_sided" else issued
    if config.sparsity == "two_sided":
        actions[("mask_and", "compute")] = joins
    if config.balancing == "gb-h":
        actions[("permute_unit", "transfer")] = joins
    return ActionCounts(actions)

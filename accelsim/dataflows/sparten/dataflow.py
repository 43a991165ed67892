"""SparTen (Gondimalla et al., "SparTen: A Sparse Tensor Accelerator for Convolutional Neural Networks", MICRO
2019, doi 10.1145/3352460.3358291), cycle by cycle on the real bitmasks; with sparsity "weights" the one-sided
design on the same hardware, with "none" the dense twin.

Clusters (pe_array.rows) of compute units (pe_array.cols), one multiplier and accumulator each. Every filter and
every input window is cut into chunks along the reduction, each a SparseMap bitmask plus its packed nonzeros
(accelsim.dataflows.sparten.chunks). A CU holds a filter of its cluster's broadcast group (consecutive CUs,
consecutive output channels, unless the greedy balancing reorders them: accelsim.dataflows.sparten.balance);
each window chunk is broadcast to the cluster's CUs, which join it with their filter chunk (AND of the masks, a
priority encoder picking one match per cycle, prefix sums locating both operands) behind input buffers of
`input_buffer_depth` chunks, asynchronously; a broadcast waits for a full buffer (accelsim.dataflows.sparten.jit).
Partial sums stay in the CU until its window is done; the output collector applies ReLU and compacts the outputs
into the next layer's format. Stride and FC layers need nothing special: a window names exactly the inputs its
output needs. The layer's output vectors are shared out over independent clusters
(accelsim.dataflows.sparten.schedule); the cost model turns the walk into cycles by cause, traffic and actions
(accelsim.dataflows.sparten.cost).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from accelsim.arch import Arch
from accelsim.dataflows.registry import register_dataflow
from accelsim.dataflows.shared.operands import refuse_activation_product
from accelsim.dataflows.sparten import balance, chunks, cost, jit, outputs_jit, schedule
from accelsim.results import LayerResult, Metric, common_causes
from accelsim.workload import Layer

MEMORY_LEVELS = ("input_buffer", "filter_buffer", "global_buffer", "dram")
COMPONENTS = ("broadcast_bus", "output_collector")
SPARSE_COMPONENTS = ("priority_encoder", "prefix_sum")
MODES = {"two_sided": jit.TWO_SIDED, "weights": jit.WEIGHTS_ONLY, "none": jit.DENSE}
METRICS = {
    "cu_imbalance": Metric("over every pass, the busiest CU's cycles over the mean CU's, minus one: the imbalance "
                           "between a broadcast group's CUs that the balancing leaves", table_header="imbal.",
                           summary_label="CU imbalance left by the balancing"),
    "chunks_per_window": Metric("chunks of one output's reduction (J)"),
    "broadcasts": Metric("input chunks broadcast to a cluster (window chunks wholly in the padding are not, except "
                         "by the dense twin)"),
    "filter_groups": Metric("broadcast groups of one conv group's filters (ceil(K/G / CUs per cluster))"),
    "reduction_slices": Metric("slices of the reduction a CU's filter buffer holds at once (1: the whole filter)"),
    "passes": Metric("passes of all clusters (a broadcast group over a range of positions, one slice)"),
    "global_buffer_fill": Metric("the layer's input and output maps, as stored, over the global buffer"),
}


@register_dataflow("sparten")
class SparTen:
    """Clusters of inner-join compute units, input chunks broadcast, greedy filter balancing."""

    stall_causes: ClassVar[dict[str, str]] = {
        "empty_join": "a CU's cycles on chunk joins with fewer products than a chunk's minimum cycles: the AND and "
                      "the priority encoder found no (or too few) matches, and still took their cycle",
        **common_causes(
            "broadcast_stall", "load_imbalance", "pipeline_fill", "fragmentation", "memory_bandwidth",
            broadcast_stall="a CU idle because the next input chunk's broadcast was held back by another CU's "
                            "full input buffer",
            load_imbalance="a CU done with its pass waiting for the slowest CU of its cluster, and clusters done "
                           "with their share waiting for the slowest cluster",
            pipeline_fill="the CUs' pipelines draining at the end of each pass",
            fragmentation="CUs without a filter: broadcast groups with fewer filters than CUs (K/G not a multiple "
                          "of the cluster, grouped and depthwise convs)",
            memory_bandwidth="DRAM time beyond the compute time (a layer-level formula: weights once, activations "
                             "when they overflow the global buffer)"),
        "broadcast_bandwidth": "a CU idle while the cluster bus still moves the next input chunk",
        "filter_load": "CUs idle while a pass's filter chunks are loaded over the cluster bus",
    }
    metrics: ClassVar[dict[str, Metric]] = METRICS

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        chunk_size: int = Field(128, ge=1, le=4096)
        """Positions per chunk (one SparseMap register): 128 is the paper's figure."""
        chunking: Literal["channel", "window"] = "channel"
        """channel: chunks never cross a kernel tap (stored input-map chunks); window: the flattened window cut
        every chunk_size positions (our alternative for layers with few channels)."""
        sparsity: Literal["two_sided", "weights", "none"] = "two_sided"
        """What the CUs skip: zeros of both operands (SparTen), of the weights only (the one-sided design), none
        (the dense twin: every position multiplied, operands stored uncompressed)."""
        balancing: Literal["none", "gb-s", "gb-h"] = "gb-h"
        """Greedy balancing: none; GB-S (filters grouped by whole-filter density, software only); GB-H (GB-S plus
        chunks dealt to CUs by chunk density, through a hardware permute unit)."""
        input_buffer_depth: int = Field(4, ge=1, le=256)
        """Chunks each CU's input buffer holds; a broadcast waits while any CU's buffer is full (our choice)."""
        pipeline_depth: int = Field(4, ge=1, le=64)
        """Stages of a CU (AND, priority encoder, prefix sums, MAC): depth - 1 cycles drain at each pass's end."""
        empty_join_cycles: int = Field(1, ge=1, le=16)
        """Cycles a chunk join costs at the least, with fewer matches (the AND and the encoder's look)."""
        broadcast_bits_per_cycle: int = Field(256, ge=1, le=65536)
        """Width of each cluster's bus: input-chunk broadcasts and filter loads (our choice)."""

    def check_arch(self, arch: Arch) -> None:
        config: SparTen.Config = arch.dataflow.config
        needed = COMPONENTS + (SPARSE_COMPONENTS if config.sparsity != "none" else ())
        needed += ("mask_and",) if config.sparsity == "two_sided" else ()
        needed += ("permute_unit",) if config.balancing == "gb-h" else ()
        missing = [name for name in MEMORY_LEVELS if name not in arch.memory]
        missing += [name for name in needed if name not in arch.components]
        if missing:
            raise ValueError(f"SparTen needs memory levels {', '.join(MEMORY_LEVELS)} and components "
                             f"{', '.join(needed)}; missing {', '.join(missing)}")
        if arch.pe_array.macs_per_pe != 1:
            raise ValueError(f"pe_array.macs_per_pe is {arch.pe_array.macs_per_pe}: a SparTen CU has one multiplier "
                             f"(pe_array.rows = clusters, pe_array.cols = CUs per cluster)")
        pes = arch.pe_array.pes
        for name in ("input_buffer", "filter_buffer"):
            if arch.memory[name].instances != pes:
                raise ValueError(f"memory.{name}.instances is {arch.memory[name].instances} but must be {pes} (one "
                                 f"per CU); use --set memory.{name}.instances={pes}")
        chunk_bits = largest_chunk_bits(config, arch.data.activation_bits)
        held = arch.memory["input_buffer"].size_bytes * 8
        if held < config.input_buffer_depth * chunk_bits:
            raise ValueError(f"memory.input_buffer.size_bytes ({arch.memory['input_buffer'].size_bytes}) holds less "
                             f"than dataflow.input_buffer_depth = {config.input_buffer_depth} chunks of up to "
                             f"{chunk_bits} bits; use size_bytes >= "
                             f"{-(-config.input_buffer_depth * chunk_bits // 8)}")

    def dense_config(self, config: Config) -> Config:
        return config.model_copy(update={"sparsity": "none", "balancing": "none"})

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        config: SparTen.Config = arch.dataflow.config
        refuse_activation_product(layer, "SparTen", "its filters are compressed into SparseMaps offline and held "
                                                    "in the CUs")
        problem, assignment, plan = plan_layer(layer, arch)
        outputs = None
        if compute_output or config.sparsity == "two_sided":  # the collector compacts the real outputs
            outputs = outputs_later(layer, config, problem)  # mostly summed on a second thread while this one walks
        walk = walk_layer(problem, assignment, plan, arch)
        out = None if outputs is None else outputs()
        if config.sparsity != "two_sided":
            walk.counts[jit.MATCHES] = effectual_products(layer, problem)
        positive = None if out is None else int(np.count_nonzero(np.maximum(out, 0)))
        store = cost.storage_bits(layer, problem, config, arch, positive)
        parts = cost.layer_result_parts(layer, arch, config, problem, plan, walk, store)
        output = chunks.output_to_layer(layer, out) if compute_output else None
        return LayerResult(name=layer.name, op=layer.op, macs=layer.macs, output=output,
                           notes=tuple(_notes(layer, arch, config, problem, plan, parts)),
                           **{key: value for key, value in parts.items() if key != "memory"})


OUTPUTS_THREAD_SHARE = 0.75
"""Share of a layer's filters whose outputs the outputs thread sums (the rest: the walking thread, after its walk)."""

_RECENT: weakref.WeakKeyDictionary[Layer, dict] = weakref.WeakKeyDictionary()
"""What a layer's runs share, for the most recent layer only (a network run simulates each layer on the arch, then
on its dense twin): its chunks per (chunk size, chunking), its effectual products, its outputs."""


def _shared(layer: Layer) -> dict:
    if layer not in _RECENT:
        _RECENT.clear()  # one layer at a time: a whole network's chunks would double a run's memory
        _RECENT[layer] = {}
    return _RECENT[layer]


def layer_outputs(layer: Layer, config: SparTen.Config, problem: chunks.Problem) -> np.ndarray:
    """(filters, M): every output summed through the chunk joins in the CUs' order (accelsim.dataflows.sparten.
    outputs_jit), the same for every design, cluster count or balancing; remembered with the effectual products."""
    return outputs_later(layer, config, problem)()


def outputs_later(layer: Layer, config: SparTen.Config, problem: chunks.Problem) -> Callable[[], np.ndarray]:
    """layer_outputs, started on the outputs thread (the kernels release the GIL): the function returned sums the
    last filters' outputs on the calling thread, then waits for the rest. A caller walks in between, so that a run
    takes about half the walk and the outputs together instead of their sum (OUTPUTS_THREAD_SHARE: the outputs
    cost about twice the walk). Each output is summed by one thread in the CUs' order and nothing else is shared
    but read-only inputs: the results are the same however the threads run."""
    known = _shared(layer)
    key = ("outputs", config.chunk_size, config.chunking)  # the problem's chunks set the order of the sums
    if key in known:
        return lambda: known[key]
    f, x = problem.filters, problem.inputs
    out = np.zeros((f.nnz.shape[0], problem.positions))
    operands = (f.mask, f.dense, x.mask, x.dense, problem.window, problem.filters_per_group)
    split = round(out.shape[0] * OUTPUTS_THREAD_SHARE)
    pending = _outputs_thread().submit(outputs_jit.window_outputs, *operands, 0, split, out)

    def finish() -> np.ndarray:
        matches = outputs_jit.window_outputs(*operands, split, out.shape[0], out) + pending.result()
        known[key] = out
        known.setdefault("effectual_products", matches)
        return out
    return finish


@functools.cache
def _outputs_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sparten-outputs")


def effectual_products(layer: Layer, problem: chunks.Problem) -> int:
    """Products with both operands nonzero: every chunk join's matches (what the two-sided walk counts as it goes)."""
    known = _shared(layer)
    if "effectual_products" not in known:
        known["effectual_products"] = outputs_jit.effectual_products(
            problem.filters.mask, problem.inputs.mask, problem.window, problem.filters_per_group)
    return known["effectual_products"]


def plan_layer(layer: Layer, arch: Arch) -> tuple[chunks.Problem, np.ndarray, schedule.Plan]:
    """The layer's chunks, which filter each CU slot holds, and every cluster's passes."""
    config: SparTen.Config = arch.dataflow.config
    known = _shared(layer)
    if ("chunks", config.chunk_size, config.chunking) not in known:
        known["chunks", config.chunk_size, config.chunking] = chunks.build(layer, config.chunk_size, config.chunking)
    problem = known["chunks", config.chunk_size, config.chunking]
    assignment = balance.assign(problem.filters.nnz, problem.groups, arch.pe_array.cols, config.balancing)
    _, pointer_bits = cost.weight_storage(problem, config, arch)
    capacity = arch.memory["filter_buffer"].size_bytes * 8
    try:
        plan = schedule.plan(assignment, cost.chunk_storage_bits(problem, config, arch, pointer_bits),
                             _chunk_work(problem, config), problem.positions, arch.pe_array.rows, capacity)
    except ValueError as error:
        raise ValueError(f"layer {layer.name!r}: {error}") from None
    return problem, assignment, plan


def _chunk_work(problem: chunks.Problem, config: SparTen.Config) -> np.ndarray:
    """(filters, J): a filter chunk's cycles per position as known offline: its nonzeros (the dense twin: its
    positions), at least the empty-join cycles."""
    work = problem.filters.nnz if config.sparsity != "none" else np.broadcast_to(problem.chunk_len,
                                                                               problem.filters.nnz.shape)
    return np.maximum(work, config.empty_join_cycles)


def largest_chunk_bits(config: SparTen.Config, activation_bits: int) -> int:
    """Bits of the largest input chunk a CU's buffer receives: a full mask and every value, or every value."""
    values = config.chunk_size * activation_bits
    return values + (config.chunk_size if config.sparsity == "two_sided" else 0)


def walk_layer(problem: chunks.Problem, assignment: np.ndarray, plan: schedule.Plan, arch: Arch,
               one_lane: bool = True) -> cost.Walk:
    """Every cluster's passes through the numba walk (one_lane: the dense design's CUs walked as one, exact)."""
    config: SparTen.Config = arch.dataflow.config
    f, x = problem.filters, problem.inputs
    act = arch.data.activation_bits
    x_bits = config.chunk_size + x.nnz * act  # a two-sided broadcast: the mask and the nonzeros
    dense_bits = problem.chunk_len * act
    cycles, slots, counts, balance_sums = jit.walk_clusters(
        f.mask, f.nnz, x.mask, x_bits, problem.window, problem.chunk_len, dense_bits, assignment, plan.seg_ptr,
        plan.seg_group, plan.seg_fgroup, plan.seg_j0, plan.seg_j1, plan.seg_m0, plan.seg_m1, plan.seg_load_bits,
        arch.pe_array.cols, MODES[config.sparsity], config.input_buffer_depth, config.empty_join_cycles,
        config.pipeline_depth, config.broadcast_bits_per_cycle, one_lane)
    return cost.Walk(cycles, slots, counts, balance_sums)


def _notes(layer: Layer, arch: Arch, config: SparTen.Config, problem: chunks.Problem, plan: schedule.Plan,
           parts: dict) -> list[str]:
    cus = arch.pe_array.cols
    notes = [f"{problem.filters_per_group} filters per {'conv group' if problem.groups > 1 else 'layer'} in "
             f"{parts['metrics']['filter_groups']} broadcast group(s) of {cus} CUs ({config.balancing} balancing), "
             f"{problem.positions:,} output positions x {problem.groups} group(s) shared over "
             f"{arch.pe_array.rows} clusters; {problem.chunks} chunk(s) of {config.chunk_size} per window "
             f"({config.chunking} chunking)"]
    if problem.filters_per_group < cus:
        notes.append(f"only {problem.filters_per_group} of {cus} CUs of a cluster hold a filter (K/G = "
                     f"{problem.filters_per_group}): the rest idle (fragmentation)")
    if plan.slices > 1:
        notes.append(f"a CU's filter does not fit its {arch.memory['filter_buffer'].size_bytes} B filter buffer: "
                     f"{plan.slices} reduction slices, each output's partial sum through the global buffer between "
                     f"them")
    memory = parts["memory"]
    if not memory["on_chip"]:
        notes.append(f"input and output maps ({memory['fill']:.0%} of the global buffer) go through DRAM")
    notes.append(f"memory: a layer-level formula (DRAM {memory['dram_cycles']:,} cycles against the compute), not "
                 f"walked; chunk cost max(products, {config.empty_join_cycles}), {config.input_buffer_depth}-chunk "
                 f"input buffers, {config.broadcast_bits_per_cycle}-bit bus, pipeline depth {config.pipeline_depth}: "
                 f"our choices (docs/sparten.md)")
    return notes

"""EIE (Han et al., "EIE: Efficient Inference Engine on Compressed Deep Neural Network", ISCA 2016), cycle by cycle.

A sparse weight matrix times a sparse activation vector on N PEs. Row i of the weight matrix belongs to PE i mod N
(interleaved CSC, 4-bit relative row index with padding entries, 4-bit codebook index: accelsim.dataflows.eie.layout_jit
and accelsim.dataflows.shared.weight_sharing). The central control unit scans the input activations one row of N (one
per PE) at a time and broadcasts at most one nonzero (index, value) per cycle into every PE's activation FIFO; the
broadcast stalls while any FIFO is full, and moving on to the next row can cost a cycle. A PE pops an activation,
reads the column's two pointers from its even/odd pointer banks, then processes one entry per cycle from 64-bit Spmat
SRAM lines (codebook decode, multiply, accumulate into a destination register). A PE whose FIFO is empty idles: EIE's
load imbalance. The timing follows the layer's actual nonzeros through every broadcast and every PE
(accelsim.dataflows.eie.rounds_jit, event by event, equal cycle for cycle to the walk of cycle_walk_jit); this module
builds its inputs and turns its counters into a LayerResult. How each kind of layer runs:
accelsim.dataflows.eie.problems.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from accelsim.arch import Arch
from accelsim.dataflows.eie import counters as k
from accelsim.dataflows.eie.problems import MatrixVectorProblem, matrix_vector_problems
from accelsim.dataflows.eie.rounds import run_layer
from accelsim.dataflows.registry import register_dataflow
from accelsim.dataflows.shared.gemm_view import gemm_output_to_layer
from accelsim.dataflows.shared.weight_sharing import Codebook
from accelsim.results import ActionCounts, LayerResult, Metric, common_causes
from accelsim.workload import Layer

MEMORY_LEVELS = ("spmat_sram", "ptr_sram", "act_sram")
COMPONENTS = ("act_fifo", "codebook", "src_act_regs", "dst_act_regs", "act_broadcast", "ccu")
METRICS = {
    "load_balance_efficiency": Metric("1 - PE bubble cycles (starved: FIFO empty) / (PEs x computation cycles), as "
                                      "EIE (Han et al., ISCA 2016, Sec. VI-C) defines it", table_header="load bal. %"),
    "broadcast_stall_cycles": Metric("cycles a broadcast was held back because some PE's FIFO was full"),
    "scan_cycles": Metric("cycles the CCU spent moving to the next row of input activations, broadcasting nothing"),
    "fifo_empty_pe_cycles": Metric("PE-cycles spent idle with an empty activation FIFO"),
    "empty_column_pe_cycles": Metric("PE-cycles spent reading the pointers of a column with no entries on that PE"),
    "stored_entries": Metric("weight entries held in the sparse format, padding entries included"),
    "padding_entries": Metric("stored entries that are padding zeros (zero runs too long for the relative index)"),
    "codebook_relative_rms_error": Metric(
        "weight sharing error: sqrt(sum (w - shared w)^2 / sum w^2) over nonzero weights",
        summary_label="weight-sharing error (relative RMS over nonzero weights)"),
    "rounds": Metric("matrix-vector rounds run one after another (vectors x output batches)"),
}


@register_dataflow("eie")
class EIE:
    """N PEs fed by one activation broadcast; each PE holds an interleaved slice of every column."""

    stall_causes: ClassVar[dict[str, str]] = common_causes(
        "pipeline_fill", "load_imbalance", "format_overhead",
        pipeline_fill="each round's first cycle (every PE waits for the first broadcast) and its pipeline drain",
        activation_scan="PE-cycles idle with an empty FIFO because the CCU spent the cycle before moving to the next "
                        "row of input activations instead of broadcasting (as chip cycles)",
        load_imbalance="PE-cycles idle with an empty activation FIFO while other PEs work (as chip cycles)",
        format_overhead="PE-cycles spent on padding entries (zero runs too long for the relative index) and on "
                        "the pointer reads of columns with no entries on the PE (as chip cycles)")
    metrics: ClassVar[dict[str, Metric]] = METRICS

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        fifo_depth: int = Field(8, ge=1, le=4096)
        """Entries of each PE's activation FIFO (the chip has 8)."""
        activation_scan: Literal["rows", "ideal"] = "rows"
        """How the CCU finds nonzero input activations. rows: the leading-nonzero-detection tree over the PEs (paper
        Sec. IV) looks at one register row of N activations (activation j in PE j mod N) at a time and takes a
        cycle to move to the next row unless the activation it just broadcast was the row's last, as the authors'
        simulator does (nzfetch.cpp). ideal: the next nonzero every cycle, wherever it is."""
        relative_index_bits: int = Field(4, ge=1, le=16)
        """Bits of the relative row index z; a zero run longer than 2^bits - 1 costs a padding entry."""
        weight_index_bits: int = Field(4, ge=1, le=8)
        """Bits of the codebook index: 2^bits shared weights per layer, code 0 reserved for zero."""
        pointer_bits: int = Field(16, ge=1, le=32)
        """Width of a column pointer (the chip's are 16 bits)."""
        pipeline_drain_cycles: int = Field(3, ge=0)
        """Cycles after a round's last Spmat read until its last accumulator write: EIE's PE pipeline has four
        stages (pointer/Spmat read, codebook + multiply, shift and add, write), paid once per round."""
        skip_zero_weights: bool = True
        """False stores every weight (no relative index needed): the dense reference."""
        skip_zero_activations: bool = True
        """False broadcasts every activation, zero or not: the dense reference."""

    def check_arch(self, arch: Arch) -> None:
        missing = [name for name in MEMORY_LEVELS if name not in arch.memory]
        missing += [name for name in COMPONENTS if name not in arch.components]
        if missing:
            raise ValueError(f"EIE needs memory levels {', '.join(MEMORY_LEVELS)} and components "
                             f"{', '.join(COMPONENTS)}; missing {', '.join(missing)}")
        pes = arch.pe_array.pes
        if arch.pe_array.macs_per_pe != 1:
            raise ValueError("an EIE PE has one multiplier: pe_array.macs_per_pe must be 1")
        per_pe = {"spmat_sram": 1, "ptr_sram": 2, "act_sram": 1}  # the pointer SRAM is an even and an odd bank
        wrong = [name for name, count in per_pe.items() if arch.memory[name].instances != count * pes]
        if wrong:
            fixes = " ".join(f"--set memory.{name}.instances={count * pes}" for name, count in per_pe.items())
            raise ValueError(f"memory.{wrong[0]}.instances is {arch.memory[wrong[0]].instances} but must be "
                             f"{per_pe[wrong[0]] * pes} ({per_pe[wrong[0]]} per PE) for a pe_array of {pes} PEs; "
                             f"with {pes} PEs use {fixes}")
        config: EIE.Config = arch.dataflow.config
        entry_bits = config.weight_index_bits + config.relative_index_bits
        if arch.memory["spmat_sram"].width_bits % entry_bits:
            raise ValueError(f"memory.spmat_sram.width_bits ({arch.memory['spmat_sram'].width_bits}) must be a "
                             f"multiple of one entry, weight_index_bits + relative_index_bits = {entry_bits}")
        fifo = arch.components["act_fifo"]
        if fifo.size_bytes is None or fifo.size_bytes * 8 < config.fifo_depth * fifo.width_bits:
            raise ValueError(f"components.act_fifo holds {fifo.size_bytes} bytes, less than fifo_depth "
                             f"{config.fifo_depth} x width_bits {fifo.width_bits}; enlarge its size_bytes")
        if _rows_per_batch(arch) < 1:
            raise ValueError("components.dst_act_regs must hold at least one activation of data.activation_bits")

    def dense_config(self, config: Config) -> Config:
        return config.model_copy(update={"skip_zero_weights": False, "skip_zero_activations": False})

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        config: EIE.Config = arch.dataflow.config
        problems, notes = matrix_vector_problems(layer)
        run = run_layer(layer, problems, arch.pe_array.pes, _rows_per_batch(arch), config,
                        arch.memory["spmat_sram"].width_bits, compute_output)
        notes += _batch_notes(problems, run.batches[0], arch.pe_array.pes, _rows_per_batch(arch))
        notes += _capacity_notes(arch, config, int(run.entries_per_pe.max()), run.pointers_per_pe, problems)
        moves = _activation_moves(arch, problems, run.batches, int(run.counters[k.ROUNDS]))
        return _layer_result(layer, arch, config, run.counters, moves, run.stored, run.padding, run.codebook,
                             run.effectual_macs, notes,
                             gemm_output_to_layer(layer, run.outputs) if compute_output else None)


def _rows_per_batch(arch: Arch) -> int:
    """Output rows one PE accumulates per round: its destination register file's entries."""
    return _register_entries(arch, "dst_act_regs")


def _register_entries(arch: Arch, name: str) -> int:
    return (arch.components[name].size_bytes or 0) * 8 // arch.data.activation_bits


def _activation_moves(arch: Arch, problems: list[MatrixVectorProblem], batches: list[int],
                      rounds: int) -> dict[tuple[str, str], int]:
    """Where each round's nonzero detection reads its input activations, and where finished outputs go.

    One input vector that fits the source registers (64 per PE) is read from them; several vectors (batch,
    tokens, conv positions) or a longer one live in the activation SRAM, as in the paper. A layer done in one
    round leaves its outputs in the destination registers (swapped into sources for the next layer); otherwise
    each round writes the outputs it finished to the activation SRAM.
    """
    pes = arch.pe_array.pes
    vectors_total = sum(problem.n_vectors for problem in problems)
    inputs_in_registers = vectors_total == 1 and all(
        problem.n_inputs <= pes * _register_entries(arch, "src_act_regs") for problem in problems)
    reads = writes = 0
    for problem, matrix_batches in zip(problems, batches, strict=True):
        reads += problem.n_vectors * matrix_batches * problem.n_inputs
        writes += problem.n_vectors * problem.n_outputs
    source = "src_act_regs" if inputs_in_registers else "act_sram"
    return {(source, "read"): reads, ("act_sram", "write"): 0 if rounds == 1 else writes}


def _batch_notes(problems: list[MatrixVectorProblem], batches: int, pes: int, rows_per_batch: int) -> list[str]:
    outputs = problems[0].n_outputs
    if batches <= 1:
        return []
    return [f"{outputs} outputs over {pes} PEs exceed the destination registers ({rows_per_batch} per PE): "
            f"{batches} batches, each broadcasting the input again (the paper's batches of {rows_per_batch * pes})"]


def _capacity_notes(arch: Arch, config: EIE.Config, entries: int, pointers: int,
                    problems: list[MatrixVectorProblem]) -> list[str]:
    """What does not fit the chip (all of a layer's groups at once). Reported, not refused: the paper's scaling
    studies run such layers too."""
    notes = []
    entry_bits = config.weight_index_bits + config.relative_index_bits
    spmat_bytes = arch.memory["spmat_sram"].size_bytes
    if entries * entry_bits > spmat_bytes * 8:
        notes.append(f"weights do not fit on chip: the fullest PE stores {entries:,} entries "
                     f"({entries * entry_bits / 8 / 1024:.0f} KB) but spmat_sram holds {spmat_bytes / 1024:g} KB "
                     f"(EIE keeps all weights on chip; reloading them is not modelled)")
    pointer_bytes = 2 * arch.memory["ptr_sram"].size_bytes
    if pointers * config.pointer_bits > pointer_bytes * 8:
        notes.append(f"column pointers do not fit: {pointers:,} per PE x {config.pointer_bits} bits "
                     f"> ptr_sram {pointer_bytes / 1024:g} KB per PE; timed as if they did, as the paper's Table IV "
                     f"is (reloading them mid-layer is not modelled)")
    if entries >= 1 << config.pointer_bits:
        notes.append(f"a {config.pointer_bits}-bit pointer cannot address the fullest PE's {entries:,} entries "
                     f"(needs {entries.bit_length()} bits); timing assumes it can")
    act_entries = arch.memory["act_sram"].size_bytes * 8 // arch.data.activation_bits
    per_pe = max(math.ceil(problem.n_inputs / arch.pe_array.pes) for problem in problems)
    if per_pe > act_entries:
        notes.append(f"an input vector puts {per_pe} activations on a PE but act_sram holds {act_entries}")
    return notes


def _layer_result(layer: Layer, arch: Arch, config: EIE.Config, c: np.ndarray, moves: dict, stored: int,
                  padding: int, codebook: Codebook, effectual_macs: int, notes: list[str],
                  output: np.ndarray | None) -> LayerResult:
    pes = arch.pe_array.pes
    drain = config.pipeline_drain_cycles * int(c[k.ACTIVE_ROUNDS])  # a round that broadcasts nothing drains nothing
    cycles = int(c[k.CYCLES]) + drain
    processed = int(c[k.ENTRY_CYCLES] + c[k.PADDING_CYCLES])
    pe_cycles = pes * int(c[k.CYCLES])
    # In a round's first cycle every PE waits for the first broadcast: pipeline latency, not starvation.
    fill = int(c[k.STARTED_ROUNDS])
    starved = int(c[k.FIFO_EMPTY_CYCLES]) - pes * fill
    scan_starved = int(c[k.SCAN_STARVED_PE_CYCLES])
    # PE-cycles by what the PE did, as chip cycles (divided by the PEs); busy is what is left: real entries.
    overhead = round(int(c[k.PADDING_CYCLES] + c[k.EMPTY_COLUMN_CYCLES]) / pes)
    stalls = {"pipeline_fill": drain + fill, "format_overhead": min(overhead, cycles - drain - fill)}
    left = cycles - drain - fill - stalls["format_overhead"]
    stalls["activation_scan"] = min(round(scan_starved / pes), left)
    stalls["load_imbalance"] = min(round((starved - scan_starved) / pes), left - stalls["activation_scan"])
    broadcasts = int(c[k.BROADCASTS])
    actions = ActionCounts({
        ("mac", "compute"): processed,
        ("codebook", "read"): processed,
        ("dst_act_regs", "read"): processed - int(c[k.ACCUMULATOR_BYPASSES]),
        ("dst_act_regs", "write"): processed,
        ("spmat_sram", "read"): int(c[k.SPMAT_LINE_READS]),
        ("ptr_sram", "read"): 2 * int(c[k.POINTER_READS]),  # p_j and p_j+1 from the even and odd banks
        ("act_fifo", "write"): broadcasts * pes,
        ("act_fifo", "read"): int(c[k.POINTER_READS]),
        ("act_broadcast", "transfer"): broadcasts * pes,
        ("ccu", "cycle"): cycles,
        **moves,
    })
    metrics = {
        "load_balance_efficiency": 1 - starved / pe_cycles if pe_cycles else 1.0,
        "broadcast_stall_cycles": int(c[k.BROADCAST_STALL_CYCLES]),
        "scan_cycles": int(c[k.SCAN_CYCLES]),
        "fifo_empty_pe_cycles": starved,
        "empty_column_pe_cycles": int(c[k.EMPTY_COLUMN_CYCLES]),
        "stored_entries": stored,
        "padding_entries": padding,
        "codebook_relative_rms_error": codebook.relative_rms_error,
        "rounds": int(c[k.ROUNDS]),
    }
    return LayerResult(
        name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs, macs_issued=processed,
        effectual_macs=effectual_macs, multipliers=pes,
        actions=actions, stall_cycles=stalls,
        output=output, notes=tuple(notes), metrics=metrics)

"""The systolic array's SRAM side: words the array reads and writes (as SCALE-Sim's demand matrices count them, and
as N:M hardware reads its activations), the check that a stationary block fits, and the action counts with the
fills and drains of the DRAM traffic (`accelsim.dataflows.systolic.dram_walk`). Plain numpy: a dense run from a
SCALE-Sim topology needs no numba (start-up time)."""

from __future__ import annotations

import math

from accelsim.arch import Arch
from accelsim.dataflows.shared.gemm_view import GemmShape
from accelsim.dataflows.systolic.dram_walk import DramTraffic
from accelsim.results import ActionCounts
from accelsim.workload import Layer


def check_stationary_block_fits(layer: Layer, arch: Arch, stationary: str) -> None:
    """The stationary block of a WS or IS fold (rows x cols operands) must fit one buffer half of its SRAM. (OS keeps
    its partial sums in the PEs. Archs read from SCALE-Sim .cfg files skip this check, as SCALE-Sim runs any size.)"""
    level, bits = {"ws": ("filter_sram", arch.data.weight_bits), "is": ("ifmap_sram", arch.data.activation_bits)}[
        stationary]
    needed = arch.pe_array.rows * arch.pe_array.cols * bits / 8
    usable = arch.memory[level].buffer_bytes
    if needed > usable:
        raise ValueError(f"layer {layer.name!r} cannot be mapped on {arch.name}: one {stationary.upper()} fold holds "
                         f"{arch.pe_array.rows}x{arch.pe_array.cols} operands of {bits} bits ({needed:g} bytes) but "
                         f"{level} offers {usable:g} bytes per buffer; enlarge memory.{level}.size_bytes")


def traffic_words(stationary: str, shape: GemmShape, row_folds: int, col_folds: int,
                  nm: tuple[int, int] | None = None) -> dict[str, int]:
    """SRAM words the array moves, as SCALE-Sim's demand matrices count them (one read per operand element a fold
    streams), plus the partial-sum reads of WS and IS, which SCALE-Sim does not count. Partial sums are counted as
    words of the activation width, as SCALE-Sim counts them, although the array accumulates at accumulator_bits.

    Weight-stationary N:M hardware reads all M activations of every group and multiplexes the N it needs (sparse
    tensor cores do): its ifmap reads are those of the N:M-compressed rows times M / N, as SCALE-Sim counts them."""
    m, w, k, g = shape.m, shape.reduction, shape.k, shape.count  # w: the reduction Wr (N:M-compressed if any)
    if stationary == "os":
        words = {"ifmap_read": m * w * col_folds, "filter_read": w * k * row_folds, "ofmap_write": m * k}
    elif stationary == "ws":
        reads = m * w * col_folds if nm is None else round(m * w * col_folds * nm[1] / nm[0])
        words = {"ifmap_read": reads, "filter_read": w * k, "ofmap_write": m * k * row_folds}
    else:
        words = {"ifmap_read": w * m, "filter_read": k * w * col_folds, "ofmap_write": k * m * row_folds}
    # WS and IS add each row fold's partial sums to those of the previous one: a read per write after the first.
    words["ofmap_read"] = 0 if stationary == "os" else m * k * (row_folds - 1)
    return {key: value * g for key, value in words.items()}


def actions(arch: Arch, macs: int, words: dict[str, int], traffic: DramTraffic) -> ActionCounts:
    """MACs, the array's SRAM reads and writes, the SRAM fills from DRAM and drains to it, and the DRAM accesses."""
    def accesses(level: str, bits: float) -> int:
        return math.ceil(bits / arch.memory[level].width_bits)

    act_bits, weight_bits = arch.data.activation_bits, arch.data.weight_bits
    read, written = traffic.read_bytes * 8, traffic.write_bytes * 8  # bits by port: ifmap, filter, ofmap
    return ActionCounts({
        ("mac", "compute"): macs,
        ("ifmap_sram", "read"): accesses("ifmap_sram", words["ifmap_read"] * act_bits),
        ("ifmap_sram", "write"): accesses("ifmap_sram", read[0]),  # filled from DRAM
        ("filter_sram", "read"): accesses("filter_sram", words["filter_read"] * weight_bits),
        ("filter_sram", "write"): accesses("filter_sram", read[1]),
        # the array's writes and partial-sum reads, plus spilled partial sums read back from DRAM into it (writes)
        # and everything drained to DRAM out of it (reads)
        ("ofmap_sram", "write"): accesses("ofmap_sram", words["ofmap_write"] * act_bits + read[2]),
        ("ofmap_sram", "read"): accesses("ofmap_sram", words["ofmap_read"] * act_bits + written[2]),
        ("dram", "read"): accesses("dram", read.sum()),
        ("dram", "write"): accesses("dram", written.sum()),
    })

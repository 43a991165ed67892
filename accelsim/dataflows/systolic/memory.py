"""The systolic array's memory: SRAM words moved (as SCALE-Sim's demand matrices count them), DRAM bytes per
operand and how many stream while the array computes, the stalls of double-buffered streaming fold by fold, and the
action counts. Plain numpy: a dense run from a SCALE-Sim topology needs no numba (start-up time)."""

from __future__ import annotations

import math

import numpy as np

from accelsim.arch import Arch
from accelsim.dataflows.shared.gemm_view import GemmShape
from accelsim.results import ActionCounts
from accelsim.workload import Layer


def double_buffered_stalls(fold_cycles: np.ndarray, fold_dram_bytes: np.ndarray, bytes_per_cycle: float) -> int:
    """Stall cycles when fold f's operands (fold_dram_bytes[f]) stream from DRAM into the idle buffer half while
    fold f - 1 computes: fold f waits max(0, transfer - previous fold's compute). The first fold's data is
    prefetched before the layer starts (SCALE-Sim's convention), so it never stalls."""
    if fold_cycles.shape[0] < 2:
        return 0
    waits = np.maximum(fold_dram_bytes[1:] / bytes_per_cycle - fold_cycles[:-1], 0.0)
    return int(np.ceil(np.cumsum(waits)[-1] - 1e-9))  # cumsum adds in order, as a loop over the folds would


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


def traffic_words(stationary: str, shape: GemmShape, row_folds: int, col_folds: int) -> dict[str, int]:
    """SRAM words moved, as SCALE-Sim's demand matrices count them (one read per operand element a fold streams),
    plus the partial-sum reads of WS and IS, which SCALE-Sim does not count. Partial sums are counted as words of
    the activation width, as SCALE-Sim counts them, although the array accumulates at accumulator_bits."""
    m, w, k, g = shape.m, shape.reduction, shape.k, shape.count  # w: the reduction Wr
    if stationary == "os":
        words = {"ifmap_read": m * w * col_folds, "filter_read": w * k * row_folds, "ofmap_write": m * k}
    elif stationary == "ws":
        words = {"ifmap_read": m * w * col_folds, "filter_read": w * k, "ofmap_write": m * k * row_folds}
    else:
        words = {"ifmap_read": w * m, "filter_read": k * w * col_folds, "ofmap_write": k * m * row_folds}
    # WS and IS add each row fold's partial sums to those of the previous one: a read per write after the first.
    words["ofmap_read"] = 0 if stationary == "os" else m * k * (row_folds - 1)
    return {key: value * g for key, value in words.items()}


def dram_bytes(layer: Layer, arch: Arch, stationary: str, shape: GemmShape, row_folds: int, col_folds: int,
                nm) -> dict[str, int]:
    """DRAM bytes per operand, and how many of them stream while the array computes ("streamed").

    An operand that fits half its double-buffered SRAM is fetched once, before the layer starts (SCALE-Sim's
    prefetch; in a network it overlaps the previous layer), and an output that fits drains after it. An operand
    that does not fit is fetched once per pass the loop order makes over it (for fc: for fr), while the array
    computes. Weight and input stationary accumulate a column fold's partial sums (M x C or K x C words) over its
    row folds: if that block does not fit the ofmap SRAM they spill to DRAM and are read back once per row fold.
    """
    act_bytes, weight_bytes = arch.data.activation_bits / 8, arch.data.weight_bits / 8
    ifmap = layer.input.size * act_bytes
    weights = shape.reduction * shape.k * shape.count * weight_bytes  # the stored (N:M-compressed) weight slots
    ofmap = shape.m * shape.k * shape.count * act_bytes  # outputs as the array computes them (SCALE-Sim's size)

    def fits(footprint: float, level: str) -> bool:
        return footprint <= arch.memory[level].buffer_bytes

    cols = arch.pe_array.cols
    # OS reuses a column fold's filter block (W x C) over its row folds only if that block fits.
    os_filter_passes = 1 if fits(shape.reduction * cols * weight_bytes, "filter_sram") else row_folds
    passes = {"os": (col_folds, os_filter_passes, 1), "ws": (col_folds, 1, row_folds),
              "is": (1, col_folds, row_folds)}[stationary]
    psum_block = {"os": 0, "ws": shape.m * cols, "is": shape.k * cols}[stationary] * arch.data.accumulator_bits / 8
    spills = not fits(psum_block, "ofmap_sram")
    ifmap_fits, weights_fit = fits(ifmap, "ifmap_sram"), fits(weights, "filter_sram")
    spilled_psums = shape.m * shape.k * shape.count * arch.data.accumulator_bits / 8 * (passes[2] - 1) * spills
    traffic = {"ifmap_read": ifmap if ifmap_fits else ifmap * passes[0],
               "filter_read": weights if weights_fit else weights * passes[1],
               "ofmap_write": ofmap + spilled_psums, "ofmap_read": spilled_psums}
    streamed = (0 if ifmap_fits else traffic["ifmap_read"]) + (0 if weights_fit else traffic["filter_read"])
    if spills or not fits(ofmap, "ofmap_sram"):
        streamed += traffic["ofmap_write"] + traffic["ofmap_read"]
    return {key: round(value) for key, value in traffic.items()} | {"streamed": round(streamed)}


def actions(arch: Arch, macs: int, words: dict[str, int], dram_bytes: dict[str, int]) -> ActionCounts:
    def accesses(level: str, count_bits: float) -> int:
        return math.ceil(count_bits / arch.memory[level].width_bits)

    act_bits, weight_bits = arch.data.activation_bits, arch.data.weight_bits
    return ActionCounts({
        ("mac", "compute"): macs,
        ("ifmap_sram", "read"): accesses("ifmap_sram", words["ifmap_read"] * act_bits),
        ("filter_sram", "read"): accesses("filter_sram", words["filter_read"] * weight_bits),
        ("ofmap_sram", "write"): accesses("ofmap_sram", words["ofmap_write"] * act_bits),
        ("ofmap_sram", "read"): accesses("ofmap_sram", words["ofmap_read"] * act_bits),
        ("dram", "read"): accesses("dram", (dram_bytes["ifmap_read"] + dram_bytes["filter_read"]
                                            + dram_bytes["ofmap_read"]) * 8),
        ("dram", "write"): accesses("dram", dram_bytes["ofmap_write"] * 8),
    })

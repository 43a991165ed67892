"""Dense systolic array (output, weight or input stationary) with SCALE-Sim's timing conventions, plus an N:M mode.

Timing: SCALE-Sim v3 (Samajdar et al.) maps a layer to operand matrices and folds them onto the R x C array; each
fold takes a fixed number of cycles (fill, stream, drain), and a layer's compute cycles are folds x per-fold
cycles. `fold_cycles` holds the formula; validation/scalesim/ holds SCALE-Sim's own outputs, which tests compare
against exactly. Memory: three double-buffered SRAMs (ifmap, filter, ofmap) over DRAM; an operand is fetched from
DRAM once if it fits half its SRAM, else once per pass the loop order makes over it. Bandwidth stalls are
computed fold by fold (`accelsim.kernels.systolic.double_buffered_stalls`).

N:M mode: weights stored N of every M consecutive reduction elements in (r, s, c) order (along C when M divides C,
NVIDIA ASP's layout) shorten the reduction to floor(W/M)*N + min(W mod M, N), as sparse tensor cores and SCALE-Sim
v3's layer-wise sparsity do. The layer's real weights are checked: a layer that does not fit runs dense, and says so.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from accelsim.arch import Arch
from accelsim.dataflows.gemm_view import GemmShape, gemm_operands, gemm_output_to_layer, gemm_shape, gemm_weights
from accelsim.dataflows.registry import register_dataflow
from accelsim.kernels.systolic import (
    STATIONARY_CODES,
    double_buffered_stalls,
    folded_gemm,
    nm_compress,
    nm_compressed_length,
    nm_gemm,
)
from accelsim.reference import effectual_macs
from accelsim.results import ActionCounts, LayerResult
from accelsim.workload import Layer, scalesim_conv_output_size

MEMORY_LEVELS = ("ifmap_sram", "filter_sram", "ofmap_sram", "dram")


def fold_cycles(stationary: str, temporal: int, rows: int, cols: int) -> int:
    """Cycles of one fold, as the rows of SCALE-Sim's demand matrices (compute/systolic_compute_{os,ws,is}.py).

    Output stationary streams T operand pairs skewed over the rows and drains over the columns: T + R + C - 2.
    Weight and input stationary first load the stationary operand (R cycles), then stream and drain:
    2R + C + T - 2. See validation/scalesim/FORMULAS.md.
    """
    if stationary == "os":
        return temporal + rows + cols - 2
    return 2 * rows + cols + temporal - 2


def operand_matrix_dims(stationary: str, shape: GemmShape) -> tuple[int, int, int]:
    """(spatial rows Sr, spatial columns Sc, temporal T) of SCALE-Sim's operand matrices for one GEMM."""
    if stationary == "os":
        return shape.m, shape.k, shape.w
    if stationary == "ws":
        return shape.w, shape.k, shape.m
    return shape.w, shape.m, shape.k


def parse_nm(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    n, m = (int(part) for part in str(text).split(":"))
    return n, m


@register_dataflow("systolic")
class Systolic:
    """A rows x cols array of MACs fed from three SRAMs, in one of SCALE-Sim's three dataflows."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        stationary: Literal["os", "ws", "is"]
        """Which operand stays in the PEs: outputs, weights or inputs."""
        nm: str | None = None
        """'N:M' turns on structured-sparse mode (e.g. '2:4'); 'detect' supports any N:M with M in 2, 4, 8, 16 and
        gives each layer the pattern that stores its real weights in the fewest slots (SCALE-Sim v3's layer-wise
        sparsity); left out: dense."""
        ofmap_size: Literal["exact", "scalesim"] = "exact"
        """'scalesim' counts ceil((H - R + stride) / stride) outputs per row, as SCALE-Sim does (one more than the
        convolution has where the stride does not divide H - R); 'exact' uses the layer's true output size."""

        @field_validator("nm")
        @classmethod
        def _nm_format(cls, value: str | None) -> str | None:
            if value is None or value == "detect":
                return value
            parts = str(value).split(":")
            if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 0 < int(parts[0]) <= int(parts[1]):
                raise ValueError(f"nm must be 'detect' or look like 'N:M' with 0 < N <= M, e.g. '2:4'; got {value!r}")
            return str(value)

    def check_arch(self, arch: Arch) -> None:
        missing = [name for name in MEMORY_LEVELS if name not in arch.memory]
        if missing:
            raise ValueError(f"memory needs levels {', '.join(MEMORY_LEVELS)}; missing {', '.join(missing)}")
        if arch.pe_array.macs_per_pe != 1:
            raise ValueError("a systolic PE holds one MAC: pe_array.macs_per_pe must be 1")

    def dense_config(self, config: Config) -> Config:
        return config.model_copy(update={"nm": None})

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        config: Systolic.Config = arch.dataflow.config
        rows, cols = arch.pe_array.rows, arch.pe_array.cols
        shape = gemm_shape(layer, *self._scalesim_output_size(layer, config))
        notes: list[str] = []
        nm = _detect_nm(layer) if config.nm == "detect" else parse_nm(config.nm)
        if config.nm == "detect" and nm is None:
            notes.append("runs dense: no N:M pattern (M <= 16) stores its weights in fewer slots")
        compressed = None
        if nm is not None:
            compressed, reason = _nm_compressed_weights(layer, *nm)
            if compressed is None:
                notes.append(f"runs dense: {reason}")
                nm = None
        if config.stationary != "os" and config.ofmap_size == "exact":
            _check_stationary_block_fits(layer, arch, config.stationary)
        reduction = shape.w if nm is None else nm_compressed_length(shape.w, *nm)
        run_shape = GemmShape(m=shape.m, w=reduction, k=shape.k, count=shape.count)
        sr, sc, t = operand_matrix_dims(config.stationary, run_shape)
        row_folds, col_folds = math.ceil(sr / rows), math.ceil(sc / cols)
        per_fold = fold_cycles(config.stationary, t, rows, cols)
        folds = row_folds * col_folds * run_shape.count
        # SCALE-Sim reports the index of the last cycle (its demand matrices' rows minus one), once per run; groups
        # (and matmul batches) run one after another, as SCALE-Sim runs the layers of a depthwise expansion.
        compute_cycles = folds * per_fold - run_shape.count
        traffic = _traffic_words(config.stationary, run_shape, row_folds, col_folds)
        dram_bytes = _dram_bytes(layer, arch, config.stationary, run_shape, row_folds, col_folds, nm)
        bandwidth = arch.bytes_per_cycle("dram")
        stall = 0
        if bandwidth is not None and folds > 1:
            spread = np.full(folds, dram_bytes["streamed"] / folds)
            stall = double_buffered_stalls(np.full(folds, float(per_fold)), spread, float(bandwidth))
        cycles = compute_cycles + stall
        # Cycles beyond MACs / array size: fill and drain of every fold, then the PEs a partial fold leaves idle.
        fill = max(folds * (per_fold - t) - run_shape.count, 0)
        busy = min(math.ceil(run_shape.macs / (rows * cols)), compute_cycles - fill)
        stalls = {"pipeline_fill": fill, "fragmentation": compute_cycles - fill - busy, "memory_bandwidth": stall}
        output = self._output(layer, config, compressed, rows, cols) if compute_output else None
        return LayerResult(
            name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs, macs_issued=run_shape.macs,
            effectual_macs=effectual_macs(layer), multipliers=rows * cols,
            actions=_actions(arch, run_shape.macs, traffic, dram_bytes), stall_cycles=stalls, output=output,
            notes=tuple(notes))

    @staticmethod
    def _scalesim_output_size(layer: Layer, config: Config) -> tuple[int | None, int | None]:
        if config.ofmap_size == "exact" or layer.op != "conv2d":
            return None, None
        d = layer.dims
        return scalesim_conv_output_size(d["H"], d["W"], d["R"], d["S"], layer.stride, layer.padding, layer.dilation)

    @staticmethod
    def _output(layer: Layer, config: Config, compressed, rows: int, cols: int) -> np.ndarray:
        """The layer's output through the array's fold order (dense) or through the N:M-compressed weights."""
        code = STATIONARY_CODES[config.stationary]
        outputs = []
        for group, (a, b) in enumerate(gemm_operands(layer)):
            if compressed is None:
                outputs.append(folded_gemm(a, b, rows, cols, code))
            else:
                values, indices = compressed[group]
                outputs.append(nm_gemm(a, values, indices))
        return gemm_output_to_layer(layer, outputs)


def _check_stationary_block_fits(layer: Layer, arch: Arch, stationary: str) -> None:
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


def _traffic_words(stationary: str, shape: GemmShape, row_folds: int, col_folds: int) -> dict[str, int]:
    """SRAM words moved, as SCALE-Sim's demand matrices count them (one read per operand element a fold streams),
    plus the partial-sum reads of WS and IS, which SCALE-Sim does not count. Partial sums are counted as words of
    the activation width, as SCALE-Sim counts them, although the array accumulates at accumulator_bits."""
    m, w, k, g = shape.m, shape.w, shape.k, shape.count
    if stationary == "os":
        words = {"ifmap_read": m * w * col_folds, "filter_read": w * k * row_folds, "ofmap_write": m * k}
    elif stationary == "ws":
        words = {"ifmap_read": m * w * col_folds, "filter_read": w * k, "ofmap_write": m * k * row_folds}
    else:
        words = {"ifmap_read": w * m, "filter_read": k * w * col_folds, "ofmap_write": k * m * row_folds}
    # WS and IS add each row fold's partial sums to those of the previous one: a read per write after the first.
    words["ofmap_read"] = 0 if stationary == "os" else m * k * (row_folds - 1)
    return {key: value * g for key, value in words.items()}


def _dram_bytes(layer: Layer, arch: Arch, stationary: str, shape: GemmShape, row_folds: int, col_folds: int,
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
    weights = shape.w * shape.k * shape.count * weight_bytes  # the stored (N:M-compressed) weight slots
    ofmap = shape.m * shape.k * shape.count * act_bytes  # outputs as the array computes them (SCALE-Sim's size)

    def fits(footprint: float, level: str) -> bool:
        return footprint <= arch.memory[level].buffer_bytes

    cols = arch.pe_array.cols
    # OS reuses a column fold's filter block (W x C) over its row folds only if that block fits.
    os_filter_passes = 1 if fits(shape.w * cols * weight_bytes, "filter_sram") else row_folds
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


def _actions(arch: Arch, macs: int, words: dict[str, int], dram_bytes: dict[str, int]) -> ActionCounts:
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


def _detect_nm(layer: Layer, largest_m: int = 16) -> tuple[int, int] | None:
    """The (N, M) with M in 2, 4, .., largest_m whose compressed reduction is shortest for this layer's weights (ties:
    the smaller M), or None when no pattern beats dense. N is the most nonzeros any group of M holds."""
    if not layer.weight_is_static:
        return None
    matrices = gemm_weights(layer)
    w = matrices[0].shape[0]
    best, best_length = None, w
    m = 2
    while m <= largest_m:
        n = 0
        for b in matrices:
            padded = np.zeros((-(-w // m) * m, b.shape[1]), dtype=bool)
            padded[:w] = b != 0
            n = max(n, int(padded.reshape(-1, m, b.shape[1]).sum(axis=1).max(initial=0)))
        length = nm_compressed_length(w, max(n, 1), m)
        if n < m and length < best_length:
            best, best_length = (max(n, 1), m), length
        m *= 2
    return best


def _nm_compressed_weights(layer: Layer, n: int, m: int):
    """Per-group (values, indices) of the weight compressed N:M along C, or (None, reason) when it does not fit."""
    if not layer.weight_is_static:
        return None, "the right operand is an activation, which N:M hardware cannot compress ahead of time"
    compressed = []
    for b in gemm_weights(layer):
        values, indices, fits = nm_compress(b, n, m)
        if not fits:
            return None, (f"its weights are not {n}:{m} (some group of {m} consecutive reduction elements, "
                          f"(r, s, c) order, has more than {n} nonzeros)")
        compressed.append((values, indices))
    return compressed, ""


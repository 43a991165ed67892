"""Dense systolic array (output, weight or input stationary) with SCALE-Sim's timing conventions, plus an N:M mode.

Timing: SCALE-Sim v3 (Samajdar et al.) maps a layer to operand matrices and folds them onto the R x C array; each
fold takes a fixed number of cycles (fill, stream, drain), and a layer's compute cycles are folds x per-fold
cycles. `fold_cycles` holds the formula; validation/scalesim/ holds SCALE-Sim's own outputs, which tests compare
against exactly. Memory: three double-buffered SRAMs (ifmap, filter, ofmap) over DRAM; an operand is fetched from
DRAM once if it fits half its SRAM, else once per pass the loop order makes over it. Bandwidth stalls are
computed fold by fold (`accelsim.dataflows.systolic.memory`).

N:M mode: weights stored N of every M consecutive reduction elements in (r, s, c) order (along C when M divides C,
NVIDIA ASP's layout) shorten the reduction to floor(W/M)*N + min(W mod M, N), as sparse tensor cores and SCALE-Sim
v3's layer-wise sparsity do. The layer's real weights are checked: a layer that does not fit runs dense, and says so.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from accelsim.arch import Arch
from accelsim.dataflows.registry import register_dataflow
from accelsim.dataflows.shared.gemm_view import GemmShape, gemm_operands, gemm_output_to_layer, gemm_shape, gemm_weights
from accelsim.dataflows.systolic.dram_walk import DramTraffic, memory_timing, walk_traffic
from accelsim.dataflows.systolic.memory import actions, check_stationary_block_fits, traffic_words
from accelsim.dataflows.systolic.nm import detect_nm, nm_compressed_length, parse_nm
from accelsim.reference import effectual_macs
from accelsim.results import LayerResult, Metric, common_causes
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
        return shape.m, shape.k, shape.reduction
    if stationary == "ws":
        return shape.reduction, shape.k, shape.m
    return shape.reduction, shape.m, shape.k


@register_dataflow("systolic")
class Systolic:
    """A rows x cols array of MACs fed from three SRAMs, in one of SCALE-Sim's three dataflows."""

    stall_causes: ClassVar[dict[str, str]] = common_causes(
        "pipeline_fill", "memory_bandwidth", "fragmentation", "first_fetch", "final_drain",
        pipeline_fill="systolic fill and drain of every fold: PEs waiting for operands to ripple in or results to "
                      "drain out",
        fragmentation="PEs a partial fold leaves idle (the layer's rows or columns are not a multiple of the "
                      "array's)",
        memory_bandwidth="between folds: waiting for a window's DRAM transfers (the next fold's operands, "
                         "finished outputs, spilled partial sums) that outlast the fold computing meanwhile")
    metrics: ClassVar[dict[str, Metric]] = {
        "compute_cycles": Metric("cycles of the folds themselves, without memory stalls: what matches SCALE-Sim's "
                                 "Total Cycles minus its Stall Cycles exactly"),
        "dram_read_bytes": Metric("bytes read from DRAM: operands (resident ones once) and partial sums read back"),
        "dram_write_bytes": Metric("bytes written to DRAM: outputs and spilled partial sums"),
        "partial_sums_read_back_bytes": Metric("WS/IS partial sums read back from DRAM (0 when they stay on chip)"),
    }

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
        nm = detect_nm(layer) if config.nm == "detect" else parse_nm(config.nm)
        if config.nm == "detect" and nm is None:
            notes.append("runs dense: no N:M pattern (M <= 16) stores its weights in fewer slots")
        compressed = None
        if nm is not None:
            compressed, reason = _nm_compressed_weights(layer, *nm)
            if compressed is None:
                notes.append(f"runs dense: {reason}")
                nm = None
        if config.stationary != "os" and config.ofmap_size == "exact":
            check_stationary_block_fits(layer, arch, config.stationary)
        reduction = shape.reduction if nm is None else nm_compressed_length(shape.reduction, *nm)
        run_shape = GemmShape(m=shape.m, reduction=reduction, k=shape.k, count=shape.count)
        sr, sc, t = operand_matrix_dims(config.stationary, run_shape)
        row_folds, col_folds = math.ceil(sr / rows), math.ceil(sc / cols)
        per_fold = fold_cycles(config.stationary, t, rows, cols)
        folds = row_folds * col_folds * run_shape.count
        # SCALE-Sim reports the index of the last cycle (its demand matrices' rows minus one), once per run; groups
        # (and matmul batches) run one after another, as SCALE-Sim runs the layers of a depthwise expansion.
        compute_cycles = folds * per_fold - run_shape.count
        words = traffic_words(config.stationary, run_shape, row_folds, col_folds, nm)
        dram = walk_traffic(arch, config.stationary, run_shape, layer.input.size * arch.data.activation_bits / 8,
                            per_fold)
        timing = memory_timing(arch, dram)
        cycles = (timing.first_fetch_cycles + compute_cycles + timing.stall_cycles + timing.final_drain_cycles)
        # Cycles beyond MACs / array size: fill and drain of every fold, then the PEs a partial fold leaves idle.
        fill = max(folds * (per_fold - t) - run_shape.count, 0)
        busy = min(math.ceil(run_shape.macs / (rows * cols)), compute_cycles - fill)
        stalls = {"pipeline_fill": fill, "memory_bandwidth": timing.stall_cycles,
                  "fragmentation": compute_cycles - fill - busy, "first_fetch": timing.first_fetch_cycles,
                  "final_drain": timing.final_drain_cycles}
        notes += _memory_notes(dram)
        output = self._output(layer, config, compressed, rows, cols) if compute_output else None
        return LayerResult(
            name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs, macs_issued=run_shape.macs,
            effectual_macs=effectual_macs(layer), multipliers=rows * cols,
            actions=actions(arch, run_shape.macs, words, dram), stall_cycles=stalls, output=output,
            notes=tuple(notes), metrics={"compute_cycles": compute_cycles,
                                         "dram_read_bytes": float(dram.read_bytes.sum()),
                                         "dram_write_bytes": float(dram.write_bytes.sum()),
                                         "partial_sums_read_back_bytes": float(dram.read_bytes[2])},
            hideable_first_fetch_cycles=timing.hideable_first_fetch_cycles,
            prefetch_window_cycles=timing.prefetch_window_cycles)

    @staticmethod
    def _scalesim_output_size(layer: Layer, config: Config) -> tuple[int | None, int | None]:
        if config.ofmap_size == "exact" or layer.op != "conv2d":
            return None, None
        d = layer.dims
        return scalesim_conv_output_size(d["H"], d["W"], d["R"], d["S"], layer.stride, layer.padding, layer.dilation)

    @staticmethod
    def _output(layer: Layer, config: Config, compressed, rows: int, cols: int) -> np.ndarray:
        """The layer's output through the array's fold order (dense) or through the N:M-compressed weights."""
        from accelsim.dataflows.systolic.jit import STATIONARY_CODES, folded_gemm, nm_gemm

        code = STATIONARY_CODES[config.stationary]
        outputs = []
        for group, (a, b) in enumerate(gemm_operands(layer)):
            if compressed is None:
                outputs.append(folded_gemm(a, b, rows, cols, code))
            else:
                values, indices = compressed[group]
                outputs.append(nm_gemm(a, values, indices))
        return gemm_output_to_layer(layer, outputs)


def _memory_notes(dram: DramTraffic) -> list[str]:
    notes = []
    streamed = [name for name, resident in dram.resident.items() if not resident]
    if streamed:
        notes.append(f"{' and '.join(streamed)} do not fit half their SRAM: streamed fold by fold")
    if dram.spilled_partial_sums:
        notes.append("partial sums do not fit half the ofmap SRAM: written to DRAM and read back every row fold")
    return notes


def _nm_compressed_weights(layer: Layer, n: int, m: int):
    """Per-group (values, indices) of the weight compressed N:M along C, or (None, reason) when it does not fit."""
    if not layer.weight_is_static:
        return None, "the right operand is an activation, which N:M hardware cannot compress ahead of time"
    from accelsim.dataflows.systolic.jit import nm_compress  # numba on first use: a dense run never loads it

    compressed = []
    for b in gemm_weights(layer):
        values, indices, fits = nm_compress(b, n, m)
        if not fits:
            return None, (f"its weights are not {n}:{m} (some group of {m} consecutive reduction elements, "
                          f"(r, s, c) order, has more than {n} nonzeros)")
        compressed.append((values, indices))
    return compressed, ""

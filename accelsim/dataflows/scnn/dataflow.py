"""SCNN (Parashar et al., "SCNN: An Accelerator for Compressed-sparse Convolutional Neural Networks", ISCA 2017,
arXiv 1708.04485), cycle by cycle: the PT-IS-CP-sparse dataflow, and with zero skipping off its dense twin DCNN.

rows x cols PEs, each an F x I multiplier array. The input plane is tiled over the PEs (each PE holds its tile of
every input channel, compressed, in its IARAM); output channels are processed in groups of Kc, sized so that a
PE's Kc x (tile + halo) partial sums fit its accumulator buffer; each group's weights are broadcast to all PEs.
Per input channel a PE forms the Cartesian product of F nonzero weights and I nonzero activations per step,
computes each product's output coordinate and scatters the F*I products through a crossbar to A accumulator
banks; products meeting in one bank are serialised. Halo partial sums go to the neighbouring PEs when a group
drains, through the PPU, into the OARAM (double-buffered accumulators: the drain overlaps the next group). All
PEs wait at the end of each group for the slowest (barrier). What does not fit the IARAM/OARAM is processed in
spatial passes (temporal tiling) that re-read the weights from DRAM; weights stream from DRAM during the previous
group, and a group waits when they arrive late.

Layer mapping (accelsim.dataflows.scnn.mapping): conv layers by planar tiling, groups and depthwise included;
linear layers and static matmuls split their output channels over the PEs (a 1 x 1 plane cannot be tiled) and run
as poorly as the paper says. Attention's product of two activations is refused.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from accelsim.arch import Arch
from accelsim.dataflows.registry import register_dataflow
from accelsim.dataflows.scnn import cost as scnn_cost
from accelsim.dataflows.scnn import jit
from accelsim.dataflows.scnn import mapping as scnn_mapping
from accelsim.dataflows.scnn import passes as scnn_passes
from accelsim.dataflows.scnn import walk as scnn_walk
from accelsim.dataflows.shared.operands import refuse_activation_product
from accelsim.formats.runs import max_run_for
from accelsim.reference import effectual_macs
from accelsim.results import LayerResult, Metric, common_causes
from accelsim.workload import Layer

MEMORY_LEVELS = ("iaram", "oaram", "dram")
COMPONENTS = ("accumulator", "weight_fifo", "weight_broadcast", "halo_link")
CROSSBAR_COMPONENTS = ("scatter_crossbar", "output_coordinate")
METRICS = {
    "rounds": Metric("output-channel groups run one after another (x images)"),
    "output_channel_group_size": Metric("Kc: output channels whose partial sums fit a PE's accumulator buffer at once"),
    "temporal_passes": Metric("spatial passes a layer needs when its activations overflow the on-chip buffers"),
    "halo_partial_sums": Metric("partial sums sent to a neighbouring PE because they fell in its output tile"),
    "wasted_products": Metric("products computed that land on no output (stride > 1, padded borders)"),
    "iaram_fill": Metric("the fullest PE's input activations (compressed) over its input buffer capacity"),
    "oaram_fill": Metric("the fullest PE's output activations (compressed) over its output buffer capacity"),
}


@register_dataflow("scnn")
class SCNN:
    """PT-IS-CP: planar-tiled, input-stationary, Cartesian-product dataflow over F x I multiplier arrays."""

    stall_causes: ClassVar[dict[str, str]] = {
        "accumulator_drain": "waiting for an output-channel group's accumulators to drain (through the PPU, halos "
                             "to the neighbours) where the next group could not hide it",
        **common_causes(
            "memory_bandwidth", "bank_conflict", "barrier", "fragmentation", "wasted_products",
            memory_bandwidth="waiting for a group's weights (and spilled activations) from DRAM",
            wasted_products="multiplier slots spent on products that land on no output (the Cartesian product on "
                            "a stride > 1 layer, windows hanging over padded borders)"),
    }
    metrics: ClassVar[dict[str, Metric]] = METRICS

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        weight_vector: int = Field(4, ge=1, le=64)
        """F: nonzero weights per multiplier-array step."""
        activation_vector: int = Field(4, ge=1, le=64)
        """I: nonzero activations per step; F x I must equal pe_array.macs_per_pe."""
        accumulator_banks: int = Field(32, ge=1, le=1024)
        """A: accumulator banks behind the scatter crossbar (the paper's A = 2 F I = 32)."""
        bank_mapping: Literal["xor_fold", "modulo"] = "xor_fold"
        """Accumulator address -> bank: modulo A, or the address's base-A digits XOR-ed (needs A a power of 2)."""
        crossbar_queue_depth: int = Field(2, ge=1, le=64)
        """Products each accumulator bank's crossbar queue holds (the patent's arbitrated crossbar buffers each
        result). 1 = no buffering: a step lasts as many cycles as its busiest bank receives products."""
        index_bits: int = Field(4, ge=1, le=16)
        """Zero-run index of the compressed format; a longer run costs a padding entry (storage, not cycles)."""
        skip_zero_weights: bool = True
        """False: every weight is an operand (SCNN-SparseA when activations are still skipped)."""
        skip_zero_activations: bool = True
        """False: every activation is an operand (SCNN-SparseW when weights are still skipped)."""
        stride_phases: bool = True
        """Pair only activations and weights of the same stride phase, so no product of a strided conv lands
        between output positions (DNNsim's SCNN does this; the paper is silent). False: the Cartesian product of
        every pair, the off-grid products wasted."""
        scatter_crossbar: bool = True
        """False: products write their accumulators directly, without bank conflicts (DCNN's dense datapath,
        whose fixed vectorisation never collides)."""

    def check_arch(self, arch: Arch) -> None:
        config: SCNN.Config = arch.dataflow.config
        needed = COMPONENTS + (CROSSBAR_COMPONENTS if config.scatter_crossbar else ())
        missing = [name for name in MEMORY_LEVELS if name not in arch.memory]
        missing += [name for name in needed if name not in arch.components]
        if missing:
            raise ValueError(f"SCNN needs memory levels {', '.join(MEMORY_LEVELS)} and components "
                             f"{', '.join(needed)}; missing {', '.join(missing)}")
        f_i = config.weight_vector * config.activation_vector
        if arch.pe_array.macs_per_pe != f_i:
            raise ValueError(f"pe_array.macs_per_pe ({arch.pe_array.macs_per_pe}) must equal dataflow "
                             f"weight_vector x activation_vector = {f_i}")
        banks = config.accumulator_banks
        if config.bank_mapping == "xor_fold" and banks & (banks - 1):
            raise ValueError(f"bank_mapping xor_fold needs accumulator_banks to be a power of two, got {banks}")
        pes = arch.pe_array.pes
        for name in ("iaram", "oaram"):
            if arch.memory[name].instances != pes:
                raise ValueError(f"memory.{name}.instances is {arch.memory[name].instances} but must be {pes} "
                                 f"(one per PE); use --set memory.{name}.instances={pes}")
        if _accumulator_entries(arch) < 1:
            raise ValueError("components.accumulator must hold at least one data.accumulator_bits partial sum")

    def dense_config(self, config: Config) -> Config:
        return config.model_copy(update={"skip_zero_weights": False, "skip_zero_activations": False,
                                         "scatter_crossbar": False})

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        config: SCNN.Config = arch.dataflow.config
        problems, notes = _problems(layer)
        runs = [_run(layer, x, weight, arch, config, compute_output) for x, weight in problems]
        totals = scnn_cost.combine(runs)
        notes += scnn_cost.notes(layer, arch, config, totals)
        output = _assemble(layer, [run.output for run in runs]) if compute_output else None
        both = config.skip_zero_weights and config.skip_zero_activations
        # Skipping both operands' zeros, every product that reached an accumulator was effectual, each pair once.
        effectual = int(totals.counters[jit.VALID_PRODUCTS]) if both else effectual_macs(layer)
        return scnn_cost.layer_result(layer, arch, config, totals, notes, output, effectual)


def _accumulator_entries(arch: Arch) -> int:
    """Partial sums one accumulator buffer holds: banks x entries of one bank (components.accumulator is one
    bank; double buffering adds a second, identical buffer that the drain uses)."""
    per_bank = (arch.components["accumulator"].size_bytes or 0) * 8 // arch.data.accumulator_bits
    return arch.dataflow.config.accumulator_banks * per_bank


def _problems(layer: Layer) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """(activations, weights) of each product the layer runs, one after another, and what the mapping did."""
    if layer.op == "conv2d":
        return [(layer.input, layer.weight)], []
    refuse_activation_product(layer, "SCNN", "its weights are compressed offline and broadcast per output-channel "
                                             "group")
    note = ("output channels split over the PEs (a 1 x 1 plane cannot be tiled), batch rows as the plane: "
            "with few rows most activation lanes idle, as in the paper's FC layers")
    if layer.op == "linear":
        return [(layer.input, layer.weight)], [note]
    return ([(a, np.ascontiguousarray(b.T)) for a, b in zip(layer.input, layer.weight, strict=True)],
            [note, f"{layer.input.shape[0]} batched weight matrices run one after another"])


def _run(layer: Layer, x: np.ndarray, weight: np.ndarray, arch: Arch, config: SCNN.Config,
         compute_output: bool) -> scnn_cost.Run:
    """One product through the Cartesian-product walk; per-group cycles and the counts the cost model needs. A conv
    whose activations overflow the IARAM/OARAM runs in spatial passes instead (accelsim.dataflows.scnn.passes)."""
    # Outputs are needed when asked for, and when compressed into the OARAM (their zeros decide its size).
    skip_a = config.skip_zero_activations
    needs_values = compute_output or skip_a
    if layer.op == "conv2d":
        out_shape = (x.shape[0], weight.shape[0], layer.dims["P"], layer.dims["Q"])
    else:
        out_shape = (1, weight.shape[0], 1, x.shape[0])
    out = np.zeros(out_shape if needs_values else (1, 1, 1, 1))
    pes = arch.pe_array.pes
    mapping = _plan(layer, x, weight, arch, config)
    before = scnn_cost.capacity(arch, config, mapping, None, pes)  # exact unless outputs are compressed
    overflows = before.in_bits_pe > before.iaram_bits or (not skip_a and before.out_bits_pe > before.oaram_bits)
    # Compressed outputs that will likely overflow the OARAM: the values are found first, without the crossbar.
    likely = skip_a and config.scatter_crossbar and layer.op == "conv2d" and _oaram_likely_overflows(before, x)
    if layer.op == "conv2d" and (overflows or likely):
        if skip_a:  # the output values the OARAM counts, through the same walk (the crossbar changes no sum)
            scnn_walk.cartesian_walk(mapping, _output_hw(layer, mapping), *_geometry(layer), config.stride_phases,
                                     config, pes, out, True, crossbar=False)
        first_guess = scnn_cost.capacity(arch, config, mapping, out if skip_a else None, pes).passes
        if first_guess == 1:  # the guess was wrong: the walk with the crossbar, `out` already holding the outputs
            return _walk(layer, mapping, arch, config, out, False, compute_output)
    else:
        full = _walk(layer, mapping, arch, config, out, needs_values, compute_output)
        if full.passes == 1 or layer.op != "conv2d":
            return full
        first_guess = full.passes
    values = out if skip_a else None
    strip_out = np.zeros(out_shape if compute_output else (1, 1, 1, 1))
    plans: dict[tuple[int, int], scnn_mapping.Mapping] = {}

    def plan_strip(start: int, stop: int) -> scnn_mapping.Mapping:
        if (start, stop) not in plans:
            plans[start, stop] = _plan(layer, x[:, :, start:stop], weight, arch, config, row_offset=start)
        return plans[start, stop]

    def fits(start: int, stop: int) -> bool:
        return scnn_cost.capacity(arch, config, plan_strip(start, stop), values, pes).passes == 1

    def run_strip(start: int, stop: int) -> scnn_cost.Run:
        return _walk(layer, plan_strip(start, stop), arch, config, strip_out, compute_output, compute_output,
                     strip=True, oaram_values=values)

    total, cuts = scnn_passes.run_in_strips(run_strip, fits, x.shape[2], first_guess)
    d = layer.dims
    straddling = scnn_passes.boundary_partial_sums(d["P"], d["Q"], d["K"], d["N"], cuts, layer.stride[0],
                                                   layer.padding[0], d["R"], layer.dilation[0])
    psum_bits = straddling * arch.data.accumulator_bits
    total.dram_read_bits += psum_bits
    total.dram_write_bits += psum_bits
    total.straddling_partial_sums = straddling
    total.output = strip_out if compute_output else None
    return total


def _oaram_likely_overflows(before: scnn_cost.Capacity, x: np.ndarray) -> bool:
    """A guess from the input's density (outputs after ReLU are about as sparse): it only chooses the order of the
    walks, values first or crossbar first, never their results."""
    return before.out_bits_pe * np.count_nonzero(x) / x.size > before.oaram_bits


def _plan(layer: Layer, x: np.ndarray, weight: np.ndarray, arch: Arch, config: SCNN.Config,
          row_offset: int | None = None) -> scnn_mapping.Mapping:
    """The mapping of x (the plane, or with `row_offset` a strip of it) on the PEs."""
    entries = _accumulator_entries(arch)
    max_run = max_run_for(config.index_bits)
    skip_w, skip_a = config.skip_zero_weights, config.skip_zero_activations
    if layer.op == "conv2d":
        strip = row_offset is not None
        return scnn_mapping.plan_conv(x, weight, layer.dims, layer.stride, layer.padding, layer.dilation,
                                      arch.pe_array.rows, arch.pe_array.cols, entries, skip_w, skip_a, max_run,
                                      config.stride_phases, row_offset or 0, layer.dims["H"] if strip else None)
    return scnn_mapping.plan_split(x, weight, arch.pe_array.pes, entries, skip_w, skip_a, max_run)


def _geometry(layer: Layer) -> tuple:
    """(stride, padding, dilation) the walk uses: the conv's, or those of a 1 x N plane for FC and matmul."""
    if layer.op == "conv2d":
        return layer.stride, layer.padding, layer.dilation
    return (1, 1), (0, 0), (1, 1)


def _output_hw(layer: Layer, mapping: scnn_mapping.Mapping) -> tuple[int, int]:
    """The output plane: the conv's, or 1 x (batch rows) for FC and matmul."""
    return (layer.dims["P"], layer.dims["Q"]) if layer.op == "conv2d" else (1, mapping.region_w)


def _walk(layer: Layer, mapping: scnn_mapping.Mapping, arch: Arch, config: SCNN.Config, out: np.ndarray,
          needs_values: bool, compute_output: bool, strip: bool = False,
          oaram_values: np.ndarray | None = None) -> scnn_cost.Run:
    """The walk over a mapping (of the plane, or of a strip of it) adding products into `out`."""
    pes = arch.pe_array.pes
    output_hw = _output_hw(layer, mapping)
    stride, padding, dilation = _geometry(layer)
    if config.scatter_crossbar or needs_values:
        pe_cycles, counters = scnn_walk.cartesian_walk(mapping, output_hw, stride, padding, dilation,
                                                       config.stride_phases, config, pes, out, needs_values)
    else:
        kernel_hw = layer.weight.shape[2:] if layer.op == "conv2d" else (1, 1)
        pe_cycles, counters = scnn_walk.dense_counts(mapping, output_hw, stride, padding, dilation, kernel_hw,
                                                     config, pes)
    # Only compressed outputs (SCNN, SparseA) take OARAM space by their nonzeros; dense ones by their count.
    values = oaram_values if strip else (out if config.skip_zero_activations else None)
    return scnn_cost.summarise_run(arch, config, mapping, pe_cycles, counters, values,
                                   out if compute_output else None, strip=strip)


def _assemble(layer: Layer, outputs: list[np.ndarray]) -> np.ndarray:
    if layer.op == "conv2d":
        return outputs[0]
    rows = [out[0, :, 0, :].T for out in outputs]  # (N, K) per product
    return rows[0] if layer.op == "linear" else np.stack(rows)

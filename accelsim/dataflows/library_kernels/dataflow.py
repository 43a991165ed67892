"""A GPU or CPU running one vendor library kernel per layer: dense (cuBLAS / MKL), CSR and BSR SpMM (cuSPARSE /
MKL), or 2:4 semi-structured (cuSPARSELt). The time model is `accelsim.dataflows.library_kernels.kernel_models`
(one object per kernel); what it reads from the layer's real weights (nonzeros, the densest row, nonzero blocks
and the densest block row, whether the weight is 2:4) is `accelsim.dataflows.library_kernels.features`.

This is an analytical model of library kernels, not a cycle walk of a GPU: its coefficients are fitted to, and
checked against, real timings (validation/kernels/, `accelsim kernel-bench`), or come from datasheets: then
`parameters_measured` is false and every layer's notes say that its latency and energy are unvalidated. Cycles are
the predicted time at the arch's clock; the time's parts are reported as stall causes.

With `compute_output` the layer's output is computed from the format's own stored entries (CSR rows, BSR
blocks, 2:4 kept pairs), so a test can check that the entries the time was charged for are the whole product.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from accelsim.arch import Arch
from accelsim.dataflows.library_kernels.features import GemmFeatures, gemm_features
from accelsim.dataflows.library_kernels.kernel_models import LIBRARY_KERNELS, LibraryKernel, library_kernel
from accelsim.dataflows.library_kernels.params import VALUE_BYTES, DeviceKernels, TimeBreakdown
from accelsim.dataflows.registry import register_dataflow
from accelsim.dataflows.shared.gemm_view import gemm_operands, gemm_output_to_layer
from accelsim.reference import effectual_macs
from accelsim.results import ActionCounts, LayerResult, Metric, common_causes
from accelsim.workload import Layer

UNMEASURED_NOTE = ("device parameters are datasheet-derived, not fitted to measured timings of this device: "
                   "latency and energy are unvalidated estimates (docs/kernels.md)")
# TimeBreakdown part -> the stall cause it is reported as.
_CAUSES = {"fragmentation_s": "fragmentation", "memory_bandwidth_s": "memory_bandwidth",
           "load_imbalance_s": "load_imbalance", "format_overhead_s": "format_overhead", "launch_s": "launch_overhead"}


@register_dataflow("library_kernels")
class LibraryKernels:
    """One library kernel per layer on a device described by fitted or datasheet parameters."""

    stall_causes: ClassVar[dict[str, str]] = common_causes(
        "memory_bandwidth", "load_imbalance", "fragmentation", "format_overhead",
        memory_bandwidth="time the memory roofline adds beyond the compute, and first-touch page faults of a "
                         "freshly mapped output (CPUs)",
        load_imbalance="the busiest unit's extra work over an even share: rows (tasks) too few or one too dense",
        fragmentation="tile and wave quantisation: partial tiles, a last wave that leaves units idle",
        format_overhead="per-entry index work of a sparse format, per-output row bookkeeping, packing panels",
        launch_overhead="the fixed cost of one library call: launch, heuristics, tail")
    metrics: ClassVar[dict[str, Metric]] = {}

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        kernel: Literal[tuple(LIBRARY_KERNELS)] = "csr"
        """The kernel every layer runs with (the dense twin runs `dense` in the same dtype)."""
        dtype: Literal[tuple(VALUE_BYTES)] = "fp32"
        block_rows: int = Field(16, ge=1)
        """BSR block height (output channels)."""
        block_cols: int = Field(16, ge=1)
        """BSR block width (along the reduction, torch's C, R, S order)."""
        parallel_units: int = Field(ge=1)
        """Workers the kernels split work over: SMs on a GPU, threads on a CPU."""
        kernels: DeviceKernels
        """The device's parameters per kernel and dtype (see accelsim.dataflows.library_kernels.params)."""
        parameters_source: str = ""
        """Where the parameters come from: a datasheet, or the fit that produced them (for reports)."""
        parameters_measured: bool = False
        """True only for parameters fitted to measured timings of this device: validation/kernels/report.py writes
        it into the arch it generates. False (datasheet peaks x assumed efficiencies): every run says so."""

    def check_arch(self, arch: Arch) -> None:
        config: LibraryKernels.Config = arch.dataflow.config
        if "dram" not in arch.memory:
            raise ValueError("the library_kernels dataflow counts its traffic against a memory level named dram")
        library_kernel(config.kernel).params(config.kernels, config.dtype)  # raises naming what the device has
        library_kernel("dense").params(config.kernels, config.dtype)

    def dense_config(self, config: Config) -> Config:
        return config.model_copy(update={"kernel": "dense"})

    def simulate(self, layer: Layer, arch: Arch, *, compute_output: bool = False) -> LayerResult:
        config: LibraryKernels.Config = arch.dataflow.config
        features, kernel, time, notes = _layer_time(layer, config)
        if not config.parameters_measured:
            notes = (*notes, UNMEASURED_NOTE)
        cycles = max(1, math.ceil(time.total_s * arch.clock_hz))
        stalls = {cause: int(getattr(time, part) * arch.clock_hz) for part, cause in _CAUSES.items()}
        issued = kernel.macs_issued(features)
        output = _output(layer, kernel, features) if compute_output else None
        return LayerResult(name=layer.name, op=layer.op, cycles=cycles, macs=layer.macs, macs_issued=issued,
                           effectual_macs=effectual_macs(layer), multipliers=arch.pe_array.multipliers,
                           actions=_actions(arch, features, kernel, config.dtype, issued), stall_cycles=stalls,
                           output=output, notes=notes)


def predicted_time(layer: Layer, arch: Arch) -> TimeBreakdown:
    """The time breakdown of `layer` on a library_kernels arch, without building a LayerResult."""
    return _layer_time(layer, arch.dataflow.config)[2]


def _layer_time(layer: Layer, config: LibraryKernels.Config
                ) -> tuple[GemmFeatures, LibraryKernel, TimeBreakdown, tuple[str, ...]]:
    """The layer's features, the kernel it really runs (a weight that is not 2:4 runs dense), its time, notes."""
    features = gemm_features(layer, parallel_units=config.parallel_units,
                             block=(config.block_rows, config.block_cols))
    kernel, notes = library_kernel(config.kernel).runs_as(layer, features)
    return features, kernel, kernel.predict(features, config.dtype, config.kernels), notes


def _actions(arch: Arch, f: GemmFeatures, kernel: LibraryKernel, dtype: str, issued: int) -> ActionCounts:
    value = VALUE_BYTES[dtype]
    read_bytes = kernel.weight_bytes(f, value) + f.reduction * f.m * f.groups * value
    write_bytes = f.k * f.m * f.groups * value
    access_bytes = arch.memory["dram"].width_bits / 8
    return ActionCounts({("mac", "compute"): issued, ("dram", "read"): math.ceil(read_bytes / access_bytes),
                         ("dram", "write"): math.ceil(write_bytes / access_bytes)})


def _output(layer: Layer, kernel: LibraryKernel, features: GemmFeatures):
    """Y = X W through the format's stored entries only (float64), in the layer's output layout."""
    return gemm_output_to_layer(layer, [kernel.product(layer, a, b.T, features) for a, b in gemm_operands(layer)])

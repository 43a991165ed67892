"""Predicted time of a library GEMM kernel on a GPU or CPU, from a layer's `GemmFeatures` and a device's parameters.

Y (K x M) = W (K x Wr) @ X (Wr x M) per group, on `units` parallel workers (SMs, or CPU threads):

- dense (cuBLAS / MKL sgemm): the output is cut into tile_k x tile_m tiles that the units take in waves; each tile
  costs tile_k x tile_m x Wr MACs at the unit's sustained rate, so a partial tile or a last, partly filled wave
  costs as much as a full one (tile and wave quantisation). Under a memory roofline: the time is the larger of
  that and the compulsory traffic (W, X read once, Y written once) at the sustained bandwidth. Plus the packing
  of both operands (CPU GEMMs copy panels into cache-friendly order; 0 on GPUs) and a fixed launch cost.
- 2:4 (cuSPARSELt / CUTLASS): the same tiled tensor-core GEMM on half the reduction (sparse tensor cores skip
  the zero half), the compressed weight and its 2-bit metadata as traffic.
- csr (MKL / cuSPARSE SpMM): rows are split over the units; the busiest unit's work sets the time: per output
  element (row pointers, writing Y), per stored nonzero (index decode, fetching a row of X) and per nonzero x
  column (the multiply-add stream, dearer as X outgrows each cache level). Row imbalance comes from the real
  pattern (`nnz_busiest_unit`).
- bsr: the same with nonzero blocks: per block and per block x column of dense block_rows x block_cols MACs.

Every coefficient is a device parameter, read from the arch YAML: from datasheets for devices without
measurements, fitted on a training subset of measured kernels otherwise (validation/kernels/). The result is a
`TimeBreakdown` whose parts are the stall causes accelsim reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accelsim.dataflows.gpu_features import GemmFeatures

_STRICT = ConfigDict(extra="forbid", frozen=True)
KERNEL_FIELDS = {"dense": "dense", "csr": "csr", "bsr": "bsr", "2:4": "semi_structured"}
"""Each kernel's parameter table in `DeviceKernels`."""
KERNELS = tuple(KERNEL_FIELDS)
# Bytes per value; sparse indices are 32-bit (torch's CSR/BSR int32/int64 index tensors: 4 bytes counted).
VALUE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
INDEX_BYTES = 4


class TiledGemmParams(BaseModel):
    """A dense (or 2:4 sparse) GEMM library kernel in one dtype."""

    model_config = _STRICT
    launch_us: float = Field(ge=0)
    """Fixed cost of one call: launch, heuristics, tail (CUDA-event time on GPUs, wall time on CPUs)."""
    macs_per_s_per_unit: float = Field(gt=0)
    """Sustained multiply-accumulates per second of one unit (SM or core) inside a full tile."""
    tile_k: int = Field(ge=1)
    """Tile rows (output channels)."""
    tile_m: int = Field(ge=1)
    """Tile columns (output pixels x batch, tokens)."""
    bandwidth_gbytes_per_s: float = Field(gt=0)
    """Sustained memory bandwidth for the compulsory traffic (GB/s = 10^9 B/s)."""
    pack_ns_per_element: float = Field(0.0, ge=0)
    """Time to copy one operand element into packed panels, per unit (CPU GEMMs; 0 on GPUs)."""
    ns_per_fresh_output: float = Field(0.0, ge=0)
    """Per output element, split over the units, when the output is larger than the device's
    `fresh_output_bytes`: first-touch page faults of a freshly mapped output buffer."""


class RowSparseParams(BaseModel):
    """A sparse x dense kernel split by rows over the units (CSR, or BSR with blocks for nonzeros)."""

    model_config = _STRICT
    launch_us: float = Field(ge=0)
    ns_per_output: float = Field(ge=0)
    """Per output element K x M (row bookkeeping, writing Y), split evenly over the units."""
    ns_per_entry: float = Field(ge=0)
    """Per stored nonzero (CSR) or nonzero block (BSR) of the busiest unit."""
    ns_per_entry_column: float | dict[float, float]
    """Per stored entry x column of X of the busiest unit: the multiply-add stream (a BSR entry is a block). Each
    entry streams a row of X (row-major, M columns), so the cost is set by where X lives: a number, or a curve
    {MiB of one group's X: ns}, log-linear between its points and flat beyond its ends (a CPU streams X from L2,
    the last-level cache or DRAM as it grows; MKL's SpMM does not block X for the cache)."""
    ns_per_fresh_output: float = Field(0.0, ge=0)
    """As for dense kernels: per output element of an output larger than `fresh_output_bytes`."""

    @field_validator("ns_per_entry_column")
    @classmethod
    def _non_negative_curve(cls, value):
        points = list(value.items()) if isinstance(value, dict) else [(1.0, value)]
        if not points or not all(math.isfinite(mib) and mib > 0 and math.isfinite(ns) and ns >= 0
                                 for mib, ns in points):
            raise ValueError("must be a finite number >= 0 or a non-empty map {MiB > 0: ns >= 0}, all finite")
        return value


class DeviceKernels(BaseModel):
    """Parameters per kernel and dtype: `dense: {fp32: {...}, fp16: {...}}`, `csr: {fp32: ...}`, ..."""

    model_config = _STRICT
    dense: dict[str, TiledGemmParams] = Field(default_factory=dict)
    semi_structured: dict[str, TiledGemmParams] = Field(default_factory=dict)
    """2:4 sparse tensor-core GEMM; `macs_per_s_per_unit` counts the MACs actually done (half the dense ones)."""
    csr: dict[str, RowSparseParams] = Field(default_factory=dict)
    bsr: dict[str, RowSparseParams] = Field(default_factory=dict)
    fresh_output_bytes: int | None = Field(None, ge=1)
    """Outputs (one group's Y) larger than this are mapped fresh by the allocator on every call and pay page
    faults: on Linux CPUs glibc's largest mmap threshold, 32 MiB (torch's CPU allocator does not cache). None:
    never (GPU caching allocators reuse memory)."""

    def params(self, kernel: str, dtype: str):
        table = getattr(self, KERNEL_FIELDS[kernel])
        if dtype not in table:
            have = ", ".join(sorted(table)) or "none"
            raise ValueError(f"this device has no {kernel} parameters for {dtype} (it has: {have})")
        return table[dtype]


@dataclass(frozen=True)
class TimeBreakdown:
    """Seconds by cause; `total_s` is their sum."""

    busy_s: float
    """The work itself at the unit's sustained rate, evenly spread."""
    fragmentation_s: float = 0.0
    """Tile and wave quantisation: partial tiles, a last wave that leaves units idle."""
    memory_bandwidth_s: float = 0.0
    """Time the memory roofline adds beyond the compute."""
    load_imbalance_s: float = 0.0
    """The busiest unit's extra work over an even share."""
    format_overhead_s: float = 0.0
    """Per-entry index work of a sparse format, and packing panels."""
    launch_s: float = 0.0

    @property
    def total_s(self) -> float:
        return (self.busy_s + self.fragmentation_s + self.memory_bandwidth_s + self.load_imbalance_s
                + self.format_overhead_s + self.launch_s)


def predict(features: GemmFeatures, kernel: str, dtype: str, kernels: DeviceKernels) -> TimeBreakdown:
    """Predicted time of `kernel` in `dtype` on a layer with `features` (see the module docstring), on
    `features.parallel_units` units."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel {kernel!r}: allowed {', '.join(KERNELS)}")
    params = kernels.params(kernel, dtype)
    units = features.parallel_units
    if kernel in ("dense", "2:4"):
        return _scalar(tiled_time(features, params, VALUE_BYTES[dtype], sparse_2_4=kernel == "2:4",
                                  fresh_output_bytes=kernels.fresh_output_bytes))
    entries = features.nnz if kernel == "csr" else features.nonzero_blocks
    busiest = features.nnz_busiest_unit if kernel == "csr" else _busiest_blocks(features)
    width = 1 if kernel == "csr" else features.block_rows * features.block_cols
    fresh = _fresh_outputs(features, VALUE_BYTES[dtype], kernels.fresh_output_bytes)
    return _row_sparse(features, params, units, entries, busiest, width, fresh, VALUE_BYTES[dtype])


def tiled_time(f, p: TiledGemmParams, value_bytes: int, sparse_2_4: bool,
               fresh_output_bytes: int | None = None) -> TimeBreakdown:
    """The tiled-GEMM time. `f` needs k, m, w, groups and parallel_units, as numbers or numpy arrays (the fit
    evaluates many layers at once); the breakdown's parts then are arrays too."""
    units = f.parallel_units
    reduction = f.w / 2 if sparse_2_4 else f.w
    tiles = np.ceil(f.k / p.tile_k) * np.ceil(f.m / p.tile_m) * f.groups
    waves = np.ceil(tiles / units)
    tile_s = p.tile_k * p.tile_m * reduction / p.macs_per_s_per_unit
    busy = f.k * f.m * f.groups * reduction / p.macs_per_s_per_unit / units
    compute = waves * tile_s
    # 2:4 keeps half the values, each with 2 bits of position metadata
    weight_bytes = f.k * f.w * f.groups * (value_bytes / 2 + 1 / 8 if sparse_2_4 else value_bytes)
    traffic = weight_bytes + (f.w * f.m + f.k * f.m) * f.groups * value_bytes
    memory = traffic / (p.bandwidth_gbytes_per_s * 1e9)
    packing = (f.w * f.m + f.k * f.w) * f.groups * p.pack_ns_per_element * 1e-9 / units
    faults = _fresh_outputs(f, value_bytes, fresh_output_bytes) * p.ns_per_fresh_output * 1e-9 / units
    return TimeBreakdown(busy_s=busy, fragmentation_s=compute - busy,
                         memory_bandwidth_s=np.maximum(0.0, memory - compute) + faults, format_overhead_s=packing,
                         launch_s=p.launch_us * 1e-6)


def _fresh_outputs(f, value_bytes: int, threshold: int | None):
    """Output elements that land in freshly mapped pages: all of Y when one group's Y exceeds `threshold`."""
    outputs = f.k * f.m * f.groups
    if threshold is None:
        return 0 * outputs
    return np.where(f.k * f.m * value_bytes > threshold, outputs, 0)


def entry_column_ns(curve: float | dict[float, float], input_bytes):
    """`RowSparseParams.ns_per_entry_column` for an X of `input_bytes` (a number or a numpy array)."""
    if not isinstance(curve, dict):
        return curve + 0 * np.asarray(input_bytes, dtype=float)
    mib, ns = zip(*sorted(curve.items()), strict=True)
    return np.interp(np.log2(np.asarray(input_bytes, dtype=float) / 2**20), np.log2(mib), ns)


def _row_sparse(f: GemmFeatures, p: RowSparseParams, units: int, entries: int, busiest: float,
                width: int, fresh_outputs: int, value_bytes: int) -> TimeBreakdown:
    ns_per_entry_column = float(entry_column_ns(p.ns_per_entry_column, f.w * f.m * value_bytes))
    per_entry_s = (p.ns_per_entry + ns_per_entry_column * width * f.m) * 1e-9
    even = entries / units * per_entry_s
    outputs = f.k * f.m * f.groups * p.ns_per_output / units * 1e-9
    stream = entries / units * ns_per_entry_column * width * f.m * 1e-9
    return TimeBreakdown(busy_s=stream, load_imbalance_s=max(0.0, busiest * per_entry_s - even),
                         memory_bandwidth_s=float(fresh_outputs) / units * p.ns_per_fresh_output * 1e-9,
                         format_overhead_s=outputs + entries / units * p.ns_per_entry * 1e-9,
                         launch_s=p.launch_us * 1e-6)


def _scalar(time: TimeBreakdown) -> TimeBreakdown:
    return TimeBreakdown(**{field.name: float(getattr(time, field.name)) for field in fields(time)})


def _busiest_blocks(f: GemmFeatures) -> float:
    """Block imbalance is taken as the nonzero imbalance (blocks follow the same rows)."""
    return f.nonzero_blocks / f.parallel_units * f.row_imbalance

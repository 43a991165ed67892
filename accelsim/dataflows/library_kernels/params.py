"""A device's parameters for the library-kernel time model, as the arch YAML gives them (datasheet-derived or
fitted to measured timings), and the time breakdown the model returns. The model itself is
`accelsim.dataflows.library_kernels.kernel_models`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)
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
    """A sparse x dense kernel whose work is cut into tasks of one row of W (a block row for BSR) times a tile of
    columns of X, shared out over the units (`accelsim.dataflows.library_kernels.kernel_models.row_sparse_time`)."""

    model_config = _STRICT
    launch_us: float = Field(ge=0)
    ns_per_output: float = Field(ge=0)
    """Per output element K x M (row bookkeeping, writing Y), split evenly over the units."""
    ns_per_entry: float = Field(ge=0)
    """Per stored nonzero (CSR) or nonzero block (BSR) per task: each task decodes its row's indices once."""
    ns_per_entry_column: float | dict[float, float]
    """Per stored entry x column of X: the multiply-add stream (a BSR entry is a block). Each entry streams a row of
    X (row-major, M columns), so the cost is set by where X lives: a number, or a curve {MiB of one group's X: ns},
    log-linear between its points and flat beyond its ends (a CPU streams X from L2, the last-level cache or DRAM
    as it grows; MKL's SpMM does not block X for the cache)."""
    columns_per_task: int | None = Field(None, ge=1)
    """Columns of X one task covers: a task is one row of W times this many columns. None: all M columns, the rows
    alone are shared out (how the CPU model reads MKL, which does not document its split). GPU row-split SpMM
    kernels give each warp one row and a warp's width of columns (rocSPARSE's, which hipSPARSE maps cuSPARSE's
    CSR_ALG2 to; cuSPARSE's own is not public)."""
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

    def table(self, field: str) -> dict:
        """The {dtype: params} table of one field (dense, semi_structured, csr, bsr)."""
        return getattr(self, field)


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

"""The vendor library kernels a layer can run as on a GPU or CPU, each an object that knows its own time, the MACs
it issues, the bytes it moves and how its format computes the product.

Y (K x M) = W (K x Wr) @ X (Wr x M) per group, on `units` parallel workers (SMs, or CPU threads):

- dense (cuBLAS / MKL sgemm): the output is cut into tile_k x tile_m tiles that the units take in waves; each tile
  costs tile_k x tile_m x Wr MACs at the unit's sustained rate, so a partial tile or a last, partly filled wave
  costs as much as a full one (tile and wave quantisation). Under a memory roofline: the time is the larger of
  that and the compulsory traffic (W, X read once, Y written once) at the sustained bandwidth. Plus the packing
  of both operands (CPU GEMMs copy panels into cache-friendly order; 0 on GPUs) and a fixed launch cost.
- 2:4 (cuSPARSELt / CUTLASS): the same tiled tensor-core GEMM on half the reduction (sparse tensor cores skip
  the zero half), the compressed weight and its 2-bit metadata as traffic.
- csr (MKL / cuSPARSE SpMM): the product is cut into tasks, one row of W times a tile of columns of X
  (`RowSparseParams.columns_per_task`; all M columns when None), shared out over the units; the busiest unit's
  work sets the time: per output element (row pointers, writing Y), per stored nonzero per task (index decode) and
  per nonzero x column (the multiply-add stream, dearer as X outgrows each cache level). See `row_sparse_time` for
  how the busiest unit's share is bounded; the real pattern enters through the nonzeros and the densest row.
- bsr: the same with nonzero blocks and block rows: per block and per block x column of dense block_rows x
  block_cols MACs.

Every coefficient is a device parameter (`accelsim.dataflows.library_kernels.params`), read from the arch YAML:
from datasheets for devices without measurements, fitted on a training subset of measured kernels otherwise
(validation/kernels/). This is an analytical model of library kernels, not a cycle walk of a GPU.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import ClassVar

import numpy as np

from accelsim.dataflows.library_kernels.features import GemmFeatures
from accelsim.dataflows.library_kernels.params import (
    INDEX_BYTES,
    VALUE_BYTES,
    DeviceKernels,
    RowSparseParams,
    TiledGemmParams,
    TimeBreakdown,
)
from accelsim.workload import Layer


class LibraryKernel:
    """One library kernel. Subclasses set the class attributes and implement `time`, `macs_issued`,
    `weight_bytes` and `product`."""

    name: ClassVar[str]
    """The kernel's name in arch YAMLs and kernel-bench CSVs."""
    params_field: ClassVar[str]
    """Its parameter table in `DeviceKernels`."""
    fit_family: ClassVar[str]
    """How its parameters are fitted to timings: 'tiled' or 'row_sparse' (accelsim.kernel_bench.fit)."""

    def params(self, kernels: DeviceKernels, dtype: str):
        table = kernels.table(self.params_field)
        if dtype not in table:
            have = ", ".join(sorted(table)) or "none"
            raise ValueError(f"this device has no {self.name} parameters for {dtype} (it has: {have})")
        return table[dtype]

    def runs_as(self, layer: Layer, features: GemmFeatures) -> tuple[LibraryKernel, tuple[str, ...]]:
        """The kernel that really runs this layer (a fallback where the library would take one), with notes."""
        return self, ()

    def predict(self, features: GemmFeatures, dtype: str, kernels: DeviceKernels) -> TimeBreakdown:
        """The time of this kernel in `dtype` on a layer with `features`, on `features.parallel_units` units."""
        return _scalar(self.time(features, self.params(kernels, dtype), VALUE_BYTES[dtype],
                                 kernels.fresh_output_bytes))

    def time(self, features, params, value_bytes: int, fresh_output_bytes: int | None) -> TimeBreakdown:
        raise NotImplementedError

    def macs_issued(self, f: GemmFeatures) -> int:
        raise NotImplementedError

    def weight_bytes(self, f: GemmFeatures, value_bytes: int) -> float:
        """Bytes of the weight in the kernel's storage format, indices and metadata included."""
        raise NotImplementedError

    def product(self, layer: Layer, a: np.ndarray, weight: np.ndarray, f: GemmFeatures) -> np.ndarray:
        """A (M x Wr) times the weight (K x Wr, reduction in (r, s, c) order) computed from the format's stored
        entries only (float64): M x K."""
        raise NotImplementedError


class DenseGemm(LibraryKernel):
    name, params_field, fit_family = "dense", "dense", "tiled"
    sparse_2_4: ClassVar[bool] = False

    def time(self, features, params: TiledGemmParams, value_bytes, fresh_output_bytes) -> TimeBreakdown:
        return tiled_time(features, params, value_bytes, sparse_2_4=self.sparse_2_4,
                          fresh_output_bytes=fresh_output_bytes)

    def macs_issued(self, f: GemmFeatures) -> int:
        return f.macs

    def weight_bytes(self, f: GemmFeatures, value_bytes: int) -> float:
        return f.k * f.reduction * f.groups * value_bytes

    def product(self, layer, a, weight, f) -> np.ndarray:
        return _row_products(a, weight, dense=True)


class SemiStructured24(DenseGemm):
    """2:4 semi-structured sparsity on sparse tensor cores; a weight that is not 2:4 runs dense."""

    name, params_field = "2:4", "semi_structured"
    sparse_2_4 = True

    def runs_as(self, layer, features):
        if not features.is_2_4:
            return DENSE, ("weight is not 2:4 along its channels-last reduction: runs dense",)
        return self, ()

    def macs_issued(self, f: GemmFeatures) -> int:
        return f.macs // 2

    def weight_bytes(self, f: GemmFeatures, value_bytes: int) -> float:
        return f.k * f.reduction * f.groups * value_bytes // 2

    def product(self, layer, a, weight, f) -> np.ndarray:
        """Compress each group of 4 to its 2 kept values and their 2-bit positions, then multiply by gathering."""
        k, w = weight.shape
        groups = weight.reshape(k, w // 4, 4)
        positions = np.argsort(groups == 0, axis=2, kind="stable")[:, :, :2]  # nonzeros first, then padding
        values = np.take_along_axis(groups, positions, axis=2)
        columns = (np.arange(w // 4)[None, :, None] * 4 + positions).reshape(k, -1)
        return np.stack([a[:, columns[row]] @ values[row].reshape(-1) for row in range(k)], axis=1)


class CsrSpmm(LibraryKernel):
    name, params_field, fit_family = "csr", "csr", "row_sparse"

    def time(self, features, params: RowSparseParams, value_bytes, fresh_output_bytes) -> TimeBreakdown:
        fresh = fresh_outputs(features, value_bytes, fresh_output_bytes)
        return row_sparse_time(features, params, features.nnz, features.nnz_densest_row, 1, fresh, value_bytes)

    def macs_issued(self, f: GemmFeatures) -> int:
        return f.nnz * f.m

    def weight_bytes(self, f: GemmFeatures, value_bytes: int) -> float:
        return f.nnz * (value_bytes + INDEX_BYTES) + (f.k + 1) * f.groups * INDEX_BYTES

    def product(self, layer, a, weight, f) -> np.ndarray:
        return _row_products(a, weight, dense=False)


class BsrSpmm(LibraryKernel):
    name, params_field, fit_family = "bsr", "bsr", "row_sparse"

    def runs_as(self, layer, features):
        if not features.nonzero_blocks and features.nnz:
            raise ValueError(f"layer {layer.name!r}: {features.block_rows}x{features.block_cols} BSR blocks do not "
                             f"tile its {features.k} x {features.reduction} weight; choose block sizes that divide "
                             f"both")
        return self, ()

    def time(self, features, params: RowSparseParams, value_bytes, fresh_output_bytes) -> TimeBreakdown:
        fresh = fresh_outputs(features, value_bytes, fresh_output_bytes)
        return row_sparse_time(features, params, features.nonzero_blocks, features.blocks_densest_row,
                               features.block_rows * features.block_cols, fresh, value_bytes)

    def macs_issued(self, f: GemmFeatures) -> int:
        return f.nonzero_blocks * f.block_rows * f.block_cols * f.m

    def weight_bytes(self, f: GemmFeatures, value_bytes: int) -> float:
        return f.nonzero_blocks * (f.block_rows * f.block_cols * value_bytes + INDEX_BYTES)

    def product(self, layer, a, weight, f) -> np.ndarray:
        """Blocks cut torch's (c, r, s) view of the reduction, as block pruning and torch's BSR do."""
        order = _crs_order(layer, weight.shape[1])
        a, weight = a[:, order], weight[:, order]
        k, w = weight.shape
        out = np.zeros((a.shape[0], k))
        for i in range(0, k, f.block_rows):
            for j in range(0, w, f.block_cols):
                block = weight[i:i + f.block_rows, j:j + f.block_cols]
                if np.any(block):
                    out[:, i:i + f.block_rows] += a[:, j:j + f.block_cols] @ block.T
        return out


DENSE = DenseGemm()
LIBRARY_KERNELS: dict[str, LibraryKernel] = {kernel.name: kernel for kernel in
                                             (DENSE, CsrSpmm(), BsrSpmm(), SemiStructured24())}


def library_kernel(name: str) -> LibraryKernel:
    if name not in LIBRARY_KERNELS:
        raise ValueError(f"kernel {name!r}: allowed {', '.join(LIBRARY_KERNELS)}")
    return LIBRARY_KERNELS[name]


def predict(features: GemmFeatures, kernel: str, dtype: str, kernels: DeviceKernels) -> TimeBreakdown:
    """Predicted time of the kernel named `kernel` (see `LibraryKernel.predict`)."""
    return library_kernel(kernel).predict(features, dtype, kernels)


def tiled_time(f, p: TiledGemmParams, value_bytes: int, sparse_2_4: bool,
               fresh_output_bytes: int | None = None) -> TimeBreakdown:
    """The tiled-GEMM time. `f` needs k, m, reduction, groups and parallel_units, as numbers or numpy arrays (the
    fit evaluates many layers at once); the breakdown's parts then are arrays too."""
    units = f.parallel_units
    reduction = f.reduction / 2 if sparse_2_4 else f.reduction
    tiles = np.ceil(f.k / p.tile_k) * np.ceil(f.m / p.tile_m) * f.groups
    waves = np.ceil(tiles / units)
    tile_s = p.tile_k * p.tile_m * reduction / p.macs_per_s_per_unit
    busy = f.k * f.m * f.groups * reduction / p.macs_per_s_per_unit / units
    compute = waves * tile_s
    # 2:4 keeps half the values, each with 2 bits of position metadata
    weight_bytes = f.k * f.reduction * f.groups * (value_bytes / 2 + 1 / 8 if sparse_2_4 else value_bytes)
    traffic = weight_bytes + (f.reduction * f.m + f.k * f.m) * f.groups * value_bytes
    memory = traffic / (p.bandwidth_gbytes_per_s * 1e9)
    packing = (f.reduction * f.m + f.k * f.reduction) * f.groups * p.pack_ns_per_element * 1e-9 / units
    faults = fresh_outputs(f, value_bytes, fresh_output_bytes) * p.ns_per_fresh_output * 1e-9 / units
    return TimeBreakdown(busy_s=busy, fragmentation_s=compute - busy,
                         memory_bandwidth_s=np.maximum(0.0, memory - compute) + faults, format_overhead_s=packing,
                         launch_s=p.launch_us * 1e-6)


def fresh_outputs(f, value_bytes: int, threshold: int | None):
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


def row_sparse_time(f: GemmFeatures, p: RowSparseParams, entries: int, densest_row: int, width: int,
                    fresh: int, value_bytes: int) -> TimeBreakdown:
    """The time of a row-sparse kernel over `entries` stored entries (nonzeros, or blocks of `width` values), the
    densest row (block row) holding `densest_row` of them.

    The work is cut into tasks of one row times `columns_per_task` columns of X (all M when None): each task
    decodes its row's indices once (`ns_per_entry` per entry) and streams its entries against its columns
    (`ns_per_entry_column` per entry x column x width). The units share the tasks out, a GPU's block scheduler
    dynamically, MKL's threads by a partition it does not document; for each of the two costs the busiest unit does
    the larger of an even share of all tasks and the largest task (the densest row's): balanced scheduling's lower
    bound, a formula rather than a walk of the schedule. It is monotone in the work (more nonzeros, rows or columns
    never cost less) and has no cliff where the rows stop dividing by the units. What the busiest unit does beyond
    the even share is `load_imbalance`: rows too few, or one row too dense, to keep every unit busy. Groups run one
    after another; the features sum each group's entries and densest row, and the bound is taken on the sums."""
    units = f.parallel_units
    columns = f.m if p.columns_per_task is None else min(p.columns_per_task, f.m)
    tasks_per_row = math.ceil(f.m / columns)
    stream_ns = float(entry_column_ns(p.ns_per_entry_column, f.reduction * f.m * value_bytes)) * width
    even_stream_s = entries * f.m * stream_ns / units * 1e-9
    even_index_s = entries * tasks_per_row * p.ns_per_entry / units * 1e-9
    busiest_stream_s = max(even_stream_s, densest_row * columns * stream_ns * 1e-9)
    busiest_index_s = max(even_index_s, densest_row * p.ns_per_entry * 1e-9)
    outputs_s = f.k * f.m * f.groups * p.ns_per_output / units * 1e-9
    return TimeBreakdown(busy_s=even_stream_s,
                         load_imbalance_s=busiest_stream_s - even_stream_s + busiest_index_s - even_index_s,
                         memory_bandwidth_s=float(fresh) / units * p.ns_per_fresh_output * 1e-9,
                         format_overhead_s=outputs_s + even_index_s, launch_s=p.launch_us * 1e-6)


def _scalar(time: TimeBreakdown) -> TimeBreakdown:
    return TimeBreakdown(**{field.name: float(getattr(time, field.name)) for field in fields(time)})


def _row_products(a: np.ndarray, weight: np.ndarray, dense: bool) -> np.ndarray:
    """Each output row from the entries a row format stores: every entry (dense) or its nonzeros (CSR)."""
    out = np.zeros((a.shape[0], weight.shape[0]))
    for row in range(weight.shape[0]):
        columns = np.arange(weight.shape[1]) if dense else np.flatnonzero(weight[row])
        out[:, row] = a[:, columns] @ weight[row, columns]
    return out


def _crs_order(layer: Layer, reduction: int) -> np.ndarray:
    """Indices into the (r, s, c) reduction that list it in torch's (c, r, s) order (BSR blocks cut that view)."""
    if layer.op != "conv2d":
        return np.arange(reduction)
    d = layer.dims
    channels, taps = reduction // (d["R"] * d["S"]), d["R"] * d["S"]
    return (np.arange(taps)[None, :] * channels + np.arange(channels)[:, None]).reshape(-1)

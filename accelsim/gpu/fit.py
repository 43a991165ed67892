"""Fitting a device's kernel parameters (`accelsim.dataflows.gpu_model`) to measured timings.

Both fits minimise relative error, since kernel times span five decades and a microsecond kernel matters as much
as a second-long one:
- CSR and BSR are linear in their four coefficients, so the fit is a non-negative least squares on residuals
  divided by the measured time (deterministic, no starting point).
- Dense GEMMs have a max (compute vs memory) and tile sizes; for each candidate tile the three coefficients and
  the packing cost are fitted in log space (scipy least_squares), and the tile with the lowest loss is kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from types import SimpleNamespace

import numpy as np
from scipy.optimize import least_squares, nnls

from accelsim.dataflows.gpu_features import GemmFeatures
from accelsim.dataflows.gpu_model import (
    VALUE_BYTES,
    DeviceKernels,
    RowSparseParams,
    TiledGemmParams,
    predict,
    tiled_time,
)

FEATURE_FIELDS = ("m", "w", "k", "groups", "nnz", "nnz_busiest_unit", "parallel_units", "nonzero_blocks")
TILE_CANDIDATES = (8, 16, 32, 64, 128, 256)


def features_from_row(row: Mapping) -> GemmFeatures:
    """The GemmFeatures recorded in a kernel-bench CSV row (block from its `block` column, 16x16 if empty)."""
    values = {name: int(float(row[name])) for name in FEATURE_FIELDS}
    block = str(row.get("block") or "16x16").split("x")
    is_2_4 = str(row["is_2_4"]).strip().lower() in ("true", "1")
    return GemmFeatures(**values, block_rows=int(block[0]), block_cols=int(block[1]), is_2_4=is_2_4)


def fit_row_sparse(rows: Iterable[Mapping], kernel: str, fresh_output_bytes: int | None = None) -> RowSparseParams:
    """CSR or BSR coefficients from measured rows of that kernel."""
    rows = list(rows)
    if len(rows) < 5:
        raise ValueError(f"fitting {kernel} needs at least 5 measured rows, got {len(rows)}")
    # The model is linear in these coefficients: each design column is its time with that coefficient 1, the rest 0.
    names = ("launch_us", "ns_per_output", "ns_per_input", "ns_per_entry", "ns_per_entry_column",
             "ns_per_fresh_output")
    basis = [RowSparseParams(**{other: float(other == name) for other in names}) for name in names]
    design = np.array([[predict(features_from_row(row), kernel, row["dtype"],
                                DeviceKernels(**{kernel: {row["dtype"]: params}},
                                              fresh_output_bytes=fresh_output_bytes)).total_s
                        for params in basis] for row in rows])
    times = np.array([float(row["median_s"]) for row in rows])
    coefficients, _ = nnls(design / times[:, None], np.ones(len(times)), maxiter=10_000)
    return RowSparseParams(**{name: float(value) for name, value in zip(names, coefficients, strict=True)})


def fit_tiled(rows: Iterable[Mapping], dtype: str, tiles: Iterable[int] = TILE_CANDIDATES,
              fresh_output_bytes: int | None = None) -> TiledGemmParams:
    """Dense GEMM coefficients from measured rows; the tile (tile_k x tile_m) with the lowest loss wins."""
    rows = list(rows)
    if len(rows) < 4:
        raise ValueError(f"fitting dense {dtype} needs at least 4 measured rows, got {len(rows)}")
    features = [features_from_row(row) for row in rows]
    log_times = np.log([float(row["median_s"]) for row in rows])
    best = None
    for tile_k, tile_m in itertools.product(tiles, repeat=2):
        params, loss = _fit_one_tile(features, log_times, dtype, tile_k, tile_m, fresh_output_bytes)
        if best is None or loss < best[1]:
            best = (params, loss)
    return best[0]


def _fit_one_tile(features, log_times, dtype, tile_k, tile_m, fresh_output_bytes) -> tuple[TiledGemmParams, float]:
    shapes = SimpleNamespace(**{name: np.array([getattr(f, name) for f in features], dtype=float)
                                for name in ("k", "m", "w", "groups", "parallel_units")})
    macs = shapes.k * shapes.m * shapes.w * shapes.groups
    start = np.log([5.0, float(np.median(macs / np.exp(log_times) / shapes.parallel_units)), 20.0, 0.05, 1.0])

    def make(theta) -> TiledGemmParams:
        launch, rate, bandwidth, pack, fresh = np.exp(theta)
        return TiledGemmParams(launch_us=launch, macs_per_s_per_unit=rate, tile_k=tile_k, tile_m=tile_m,
                               bandwidth_gbytes_per_s=bandwidth, pack_ns_per_element=pack,
                               ns_per_fresh_output=fresh)

    def residuals(theta) -> np.ndarray:
        time = tiled_time(shapes, make(theta), VALUE_BYTES[dtype], sparse_2_4=False,
                          fresh_output_bytes=fresh_output_bytes)
        return np.log(time.total_s) - log_times

    solution = least_squares(residuals, start, method="trf", max_nfev=400)
    return make(solution.x), float(np.sum(solution.fun ** 2))

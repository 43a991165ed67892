"""Fitting a device's kernel parameters (`accelsim.dataflows.gpu_model`) to measured timings.

Both fits minimise relative error, since kernel times span five decades and a microsecond kernel matters as much
as a second-long one:
- CSR and BSR are linear in their coefficients (the points of the entry x column curve included), so the fit
  is a non-negative least squares on residuals divided by the measured time (deterministic, no starting point).
- Dense GEMMs have a max (compute vs memory) and tile sizes; for each candidate tile the three coefficients and
  the packing cost are fitted in log space (scipy least_squares), and the tile with the lowest loss is kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
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
# Points of the entry x column cost curve, MiB of X: every factor of 4 from well inside a 2 MiB L2 to the largest
# im2col input of the grid (resnet50 conv1 at batch 32, 225 MiB).
INPUT_MIB_KNOTS = (0.25, 1.0, 4.0, 16.0, 64.0, 256.0)


def features_from_row(row: Mapping) -> GemmFeatures:
    """The GemmFeatures recorded in a kernel-bench CSV row (block from its `block` column, 16x16 if empty)."""
    values = {name: int(float(row[name])) for name in FEATURE_FIELDS}
    block = str(row.get("block") or "16x16").split("x")
    is_2_4 = str(row["is_2_4"]).strip().lower() in ("true", "1")
    return GemmFeatures(**values, block_rows=int(block[0]), block_cols=int(block[1]), is_2_4=is_2_4)


def fit_row_sparse(rows: Iterable[Mapping], kernel: str, fresh_output_bytes: int | None = None,
                   input_mib_knots: Sequence[float] = INPUT_MIB_KNOTS) -> RowSparseParams:
    """CSR or BSR coefficients from measured rows of that kernel; the entry x column cost as a curve over the
    size of X with points at `input_mib_knots`."""
    rows = list(rows)
    if len(rows) < 5:
        raise ValueError(f"fitting {kernel} needs at least 5 measured rows, got {len(rows)}")
    if not input_mib_knots or list(input_mib_knots) != sorted(set(input_mib_knots)) or input_mib_knots[0] <= 0:
        raise ValueError(f"input_mib_knots must be increasing sizes > 0 MiB, got {tuple(input_mib_knots)}")
    # The model is linear in its coefficients (a curve's points included: interpolation is linear in them), so
    # each design column is the time with that coefficient 1 and the rest 0.
    scalars = ("launch_us", "ns_per_output", "ns_per_entry", "ns_per_fresh_output")
    zero = dict.fromkeys(scalars, 0.0)
    basis = [RowSparseParams(**{**zero, name: 1.0}, ns_per_entry_column=0.0) for name in scalars]
    basis += [RowSparseParams(**zero, ns_per_entry_column={mib: float(mib == knot) for mib in input_mib_knots})
              for knot in input_mib_knots]
    design = np.array([[predict(features_from_row(row), kernel, row["dtype"],
                                DeviceKernels(**{kernel: {row["dtype"]: params}},
                                              fresh_output_bytes=fresh_output_bytes)).total_s
                        for params in basis] for row in rows])
    times = np.array([float(row["median_s"]) for row in rows])
    # A curve point no measured X comes near has no information: left out, the curve stays flat beyond the data.
    informed = np.ones(design.shape[1], dtype=bool)
    informed[len(scalars):] = np.any(design[:, len(scalars):] > 0, axis=0)
    if not informed[len(scalars):].any():
        raise ValueError(f"fitting {kernel}: no row streams any entries of X (every weight is empty)")
    coefficients = np.zeros(design.shape[1])
    coefficients[informed], _ = nnls(design[:, informed] / times[:, None], np.ones(len(times)), maxiter=10_000)
    curve = {float(mib): float(ns) for mib, ns, used in
             zip(input_mib_knots, coefficients[len(scalars):], informed[len(scalars):], strict=True) if used}
    return RowSparseParams(**{name: float(value) for name, value in
                              zip(scalars, coefficients[:len(scalars)], strict=True)}, ns_per_entry_column=curve)


def fit_tiled(rows: Iterable[Mapping], dtype: str, tiles: Iterable[int] = TILE_CANDIDATES,
              fresh_output_bytes: int | None = None, sparse_2_4: bool = False) -> TiledGemmParams:
    """Dense GEMM (or, `sparse_2_4`, 2:4 sparse GEMM) coefficients from measured rows; the tile (tile_k x tile_m)
    with the lowest loss wins."""
    rows = list(rows)
    if len(rows) < 4:
        name = "2:4" if sparse_2_4 else "dense"
        raise ValueError(f"fitting {name} {dtype} needs at least 4 measured rows, got {len(rows)}")
    features = [features_from_row(row) for row in rows]
    log_times = np.log([float(row["median_s"]) for row in rows])
    best = None
    for tile_k, tile_m in itertools.product(tiles, repeat=2):
        params, loss = _fit_one_tile(features, log_times, dtype, tile_k, tile_m, fresh_output_bytes,
                                     sparse_2_4)
        if best is None or loss < best[1]:
            best = (params, loss)
    return best[0]


def _fit_one_tile(features, log_times, dtype, tile_k, tile_m, fresh_output_bytes,
                  sparse_2_4) -> tuple[TiledGemmParams, float]:
    shapes = SimpleNamespace(**{name: np.array([getattr(f, name) for f in features], dtype=float)
                                for name in ("k", "m", "w", "groups", "parallel_units")})
    # start from the rate that explains the median time with every dense MAC counted (also for 2:4: starting
    # from half the MACs leads least_squares to a worse local minimum on the synthetic 2:4 test)
    macs = shapes.k * shapes.m * shapes.w * shapes.groups
    faults = fresh_output_bytes is not None  # else no output pays page faults: nothing to fit, and 0 is written
    start = np.log([5.0, float(np.median(macs / np.exp(log_times) / shapes.parallel_units)), 20.0, 0.05,
                    *([1.0] if faults else [])])

    def make(theta) -> TiledGemmParams:
        launch, rate, bandwidth, pack = np.exp(theta[:4])
        return TiledGemmParams(launch_us=launch, macs_per_s_per_unit=rate, tile_k=tile_k, tile_m=tile_m,
                               bandwidth_gbytes_per_s=bandwidth, pack_ns_per_element=pack,
                               ns_per_fresh_output=float(np.exp(theta[4])) if faults else 0.0)

    def residuals(theta) -> np.ndarray:
        time = tiled_time(shapes, make(theta), VALUE_BYTES[dtype], sparse_2_4=sparse_2_4,
                          fresh_output_bytes=fresh_output_bytes)
        return np.log(time.total_s) - log_times

    solution = least_squares(residuals, start, method="trf", max_nfev=400)
    return make(solution.x), float(np.sum(solution.fun ** 2))

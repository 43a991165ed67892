"""Fitting a device's library-kernel parameters (`accelsim.dataflows.library_kernels`) to measured timings.

Every fit is well-posed: each parameter has physical bounds (`BOUNDS`), the solver is a bounded linear least
squares (scipy's BVLS) on columns scaled to unit norm with a vanishing ridge toward the prior, so its answer is
unique and does not drift with the BLAS, the CPU or the row order; a parameter the timings cannot inform (no row
depends on it) is held at its prior, and every parameter held or pinned at a bound is said so in `Fit.notes`.

Both fits minimise relative error, since kernel times span five decades and a microsecond kernel matters as much
as a second-long one:
- CSR and BSR are linear in their coefficients (the points of the entry x column curve included).
- Dense (and 2:4) GEMMs are linear in 1/rate, the launch, the packing and the page-fault costs once each row's
  regime (compute- or memory-bound) is known; the bandwidth is searched on a log grid (then refined), the regimes
  settled by iteration, and the tile (tile_k x tile_m) with the lowest loss kept.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from scipy.optimize import lsq_linear

from accelsim.dataflows.library_kernels.features import GemmFeatures
from accelsim.dataflows.library_kernels.kernel_models import fresh_outputs, predict
from accelsim.dataflows.library_kernels.params import VALUE_BYTES, DeviceKernels, RowSparseParams, TiledGemmParams

FEATURE_FIELDS = ("m", "reduction", "k", "groups", "nnz", "nnz_densest_row", "parallel_units", "nonzero_blocks",
                  "blocks_densest_row")
TILE_CANDIDATES = (8, 16, 32, 64, 128, 256)
# Points of the entry x column cost curve, MiB of X: every factor of 4 from well inside a 2 MiB L2 to the largest
# im2col input of the grid (resnet50 conv1 at batch 32, 225 MiB).
INPUT_MIB_KNOTS = (0.25, 1.0, 4.0, 16.0, 64.0, 256.0)
# Physical bounds of every fitted parameter. A library call costs at least a microsecond (a CUDA launch, or
# torch's dispatch on a CPU) and at most a millisecond of fixed overhead; a unit (SM or core) sustains between
# 1e8 and 1e14 MACs/s; memory between 1 GB/s and 20 TB/s; per-element costs are non-negative and below 100 ns
# (a BSR entry, a whole block, below 100 us).
BOUNDS: dict[str, tuple[float, float]] = {
    "launch_us": (1.0, 1000.0),
    "macs_per_s_per_unit": (1e8, 1e14),
    "bandwidth_gbytes_per_s": (1.0, 20000.0),
    "pack_ns_per_element": (0.0, 100.0),
    "ns_per_fresh_output": (0.0, 100.0),
    "ns_per_output": (0.0, 100.0),
    "ns_per_entry": (0.0, 1e5),
    "ns_per_entry_column": (0.0, 100.0),
}
RIDGE = 1e-10
"""Weight of the pull toward the prior, on unit-norm columns: far below any informed direction's curvature, so it
moves informed parameters by ~1e-10 relative and only decides directions the data leaves flat."""
BANDWIDTH_GRID = 41
TILES_REFINED = 3


@dataclass(frozen=True)
class Fit:
    params: TiledGemmParams | RowSparseParams
    notes: tuple[str, ...]
    """Parameters held at a prior (uninformed by the timings) or pinned at a bound, and why."""
    loss: float
    """Mean squared relative error over the training rows."""


def features_from_row(row: Mapping) -> GemmFeatures:
    """The GemmFeatures recorded in a kernel-bench CSV row (block from its `block` column, 16x16 if empty)."""
    values = {name: int(float(row[name])) for name in FEATURE_FIELDS}
    block = str(row.get("block") or "16x16").split("x")
    is_2_4 = str(row["is_2_4"]).strip().lower() in ("true", "1")
    return GemmFeatures(**values, block_rows=int(block[0]), block_cols=int(block[1]), is_2_4=is_2_4)


def fit_row_sparse(rows: Iterable[Mapping], kernel: str, fresh_output_bytes: int | None = None,
                   input_mib_knots: Sequence[float] = INPUT_MIB_KNOTS, columns_per_task: int | None = None) -> Fit:
    """CSR or BSR coefficients from measured rows of that kernel; the entry x column cost as a curve over the
    size of X with points at `input_mib_knots` (a point no measured X comes near is left out: the curve stays
    flat beyond the data). `columns_per_task` is the library's work split, given, not fitted
    (`RowSparseParams.columns_per_task`)."""
    rows = list(rows)
    if len(rows) < 5:
        raise ValueError(f"fitting {kernel} needs at least 5 measured rows, got {len(rows)}")
    if not input_mib_knots or list(input_mib_knots) != sorted(set(input_mib_knots)) or input_mib_knots[0] <= 0:
        raise ValueError(f"input_mib_knots must be increasing sizes > 0 MiB, got {tuple(input_mib_knots)}")
    # Linear in its coefficients (interpolation is linear in the curve's points): each design column is the time
    # with that coefficient 1 and the rest 0.
    scalars = ("launch_us", "ns_per_output", "ns_per_entry", "ns_per_fresh_output")
    zero = dict.fromkeys(scalars, 0.0)
    basis = [RowSparseParams(**{**zero, name: 1.0}, ns_per_entry_column=0.0, columns_per_task=columns_per_task)
             for name in scalars]
    basis += [RowSparseParams(**zero, ns_per_entry_column={mib: float(mib == knot) for mib in input_mib_knots},
                              columns_per_task=columns_per_task) for knot in input_mib_knots]
    design = np.array([[predict(features_from_row(row), kernel, row["dtype"],
                                DeviceKernels(**{kernel: {row["dtype"]: params}},
                                              fresh_output_bytes=fresh_output_bytes)).total_s
                        for params in basis] for row in rows])
    times = np.array([float(row["median_s"]) for row in rows])
    knots = [f"ns_per_entry_column@{mib:g}MiB" for mib in input_mib_knots]
    names = [*scalars, *knots]
    bounds = [BOUNDS[name] for name in scalars] + [BOUNDS["ns_per_entry_column"]] * len(knots)
    if not np.any(design[:, len(scalars):] > 0):
        raise ValueError(f"fitting {kernel}: no row streams any entries of X (every weight is empty)")
    values, loss, notes = bounded_linear_fit(design, times, names, bounds, held={})
    informed_knots = np.any(design[:, len(scalars):] > 0, axis=0)
    curve = {float(mib): float(value) for mib, value, used in
             zip(input_mib_knots, values[len(scalars):], informed_knots, strict=True) if used}
    notes = [note for note in notes if not note.startswith("ns_per_entry_column@") or "bound" in note]
    params = RowSparseParams(**{name: float(value) for name, value in zip(scalars, values[:len(scalars)], strict=True)},
                             ns_per_entry_column=curve, columns_per_task=columns_per_task)
    return Fit(params, tuple(notes), loss)


def fit_tiled(rows: Iterable[Mapping], dtype: str, tiles: Iterable[int] = TILE_CANDIDATES,
              fresh_output_bytes: int | None = None, sparse_2_4: bool = False,
              bandwidth_prior_gbytes_per_s: float | None = None) -> Fit:
    """Dense GEMM (or, `sparse_2_4`, 2:4 sparse GEMM) coefficients from measured rows; the tile (tile_k x tile_m)
    with the lowest loss wins. A bandwidth the timings do not inform (no row is memory-bound at any bandwidth
    that fits them best) is held at `bandwidth_prior_gbytes_per_s` (a datasheet figure), or without one at the
    lowest bandwidth that keeps every row compute-bound."""
    rows = list(rows)
    if len(rows) < 4:
        name = "2:4" if sparse_2_4 else "dense"
        raise ValueError(f"fitting {name} {dtype} needs at least 4 measured rows, got {len(rows)}")
    features = [features_from_row(row) for row in rows]
    shapes = SimpleNamespace(**{name: np.array([getattr(f, name) for f in features], dtype=float)
                                for name in ("k", "m", "reduction", "groups", "parallel_units")})
    times = np.array([float(row["median_s"]) for row in rows])
    fits = {tile: _TileFit(shapes, times, VALUE_BYTES[dtype], *tile, fresh_output_bytes, sparse_2_4)
            for tile in itertools.product(tiles, repeat=2)}
    # Every tile's bandwidth on a grid, then the few best tiles refined.
    ranked = sorted(fits, key=lambda tile: fits[tile].grid_loss())[:TILES_REFINED]
    best = None
    for tile in ranked:
        candidate = fits[tile].fit(bandwidth_prior_gbytes_per_s)
        if best is None or candidate.loss < best.loss * (1 - 1e-9):
            best = candidate
    return best


class _TileFit:
    """The dense fit for one tile: linear in 1/rate, the launch, packing and page faults once each row's regime
    is known; the bandwidth searched."""

    def __init__(self, f, times, value_bytes, tile_k, tile_m, fresh_output_bytes, sparse_2_4):
        units = f.parallel_units
        reduction = f.reduction / 2 if sparse_2_4 else f.reduction
        waves = np.ceil(np.ceil(f.k / tile_k) * np.ceil(f.m / tile_m) * f.groups / units)
        self.tile = (tile_k, tile_m)
        self.times = times
        self.compute_macs = waves * tile_k * tile_m * reduction  # seconds = compute_macs / rate
        weight_bytes = f.k * f.reduction * f.groups * (value_bytes / 2 + 1 / 8 if sparse_2_4 else value_bytes)
        self.traffic_gb = (weight_bytes + (f.reduction * f.m + f.k * f.m) * f.groups * value_bytes) / 1e9
        # Columns besides 1/rate (s per MAC): launch (us), packing (ns per element), page faults (ns per output).
        self.others = np.column_stack([np.full(times.size, 1e-6),
                                       (f.reduction * f.m + f.k * f.reduction) * f.groups * 1e-9 / units,
                                       fresh_outputs(f, value_bytes, fresh_output_bytes) * 1e-9 / units])
        rate_low, rate_high = BOUNDS["macs_per_s_per_unit"]
        self.bounds = [(1 / rate_high, 1 / rate_low), BOUNDS["launch_us"], BOUNDS["pack_ns_per_element"],
                       BOUNDS["ns_per_fresh_output"]]
        self.held = {} if fresh_output_bytes is not None else {"ns_per_fresh_output": 0.0}
        # Every bandwidth's iteration starts with no row memory-bound: that linear fit is the same for all of them.
        design = np.column_stack([self.compute_macs, self.others])
        self.unbound = bounded_linear_fit(design, self.times, _TILED_NAMES, self.bounds, held=self.held)
        self.compute_only = self.solve(math.inf)

    def solve(self, bandwidth: float):
        """(values, loss, notes) of the best linear part at one bandwidth, the regimes settled by iteration."""
        memory_s = self.traffic_gb / bandwidth if math.isfinite(bandwidth) else np.zeros_like(self.times)
        bound = np.zeros(self.times.size, dtype=bool)
        result = None
        for _ in range(30):
            if bound.any():
                design = np.column_stack([np.where(bound, 0.0, self.compute_macs), self.others])
                values, _, notes = bounded_linear_fit(design, self.times - np.where(bound, memory_s, 0.0),
                                                      _TILED_NAMES, self.bounds, held=self.held)
            else:
                values, _, notes = self.unbound
            predicted = np.maximum(values[0] * self.compute_macs, memory_s) + self.others @ values[1:]
            loss = float(np.mean((predicted / self.times - 1) ** 2))
            if result is None or loss < result[1]:
                result = (values, loss, notes)
            now_bound = memory_s > values[0] * self.compute_macs
            if np.array_equal(now_bound, bound):
                break
            bound = now_bound
        return result

    def grid_loss(self) -> float:
        """The lowest loss over the bandwidth grid (and no roofline); fills `self.grid` and `self.losses`."""
        low, high = BOUNDS["bandwidth_gbytes_per_s"]
        # Above the bandwidth at which every row is compute-bound the loss is the compute-only one: search below.
        self.needed = float(np.max(self.traffic_gb / (self.compute_only[0][0] * self.compute_macs)))
        grid = np.geomspace(low, high, BANDWIDTH_GRID)
        self.grid = grid[grid <= self.needed * 4]
        self.losses = [self.solve(bandwidth)[1] for bandwidth in self.grid]
        return min([self.compute_only[1], *self.losses])

    def fit(self, prior: float | None) -> Fit:
        low, high = BOUNDS["bandwidth_gbytes_per_s"]
        grid, losses, needed = self.grid, self.losses, self.needed
        index = int(np.argmin(losses)) if losses else 0
        notes: list[str] = []
        if losses and losses[index] < self.compute_only[1] * (1 - 1e-6):
            bandwidth = _refine_log(lambda b: self.solve(b)[1], grid[max(index - 1, 0)],
                                    grid[min(index + 1, grid.size - 1)])
            values, loss, linear_notes = self.solve(bandwidth)
            if bandwidth <= low * (1 + 1e-6) or bandwidth >= high * (1 - 1e-6):
                notes.append(f"bandwidth_gbytes_per_s at its bound {bandwidth:.4g}")
        else:
            values, loss, linear_notes = self.compute_only
            # Any bandwidth at which every row stays compute-bound fits as well: the timings only bound it below.
            bandwidth = min(max(prior, needed) if prior is not None else max(needed, low), high)
            source = (f"the datasheet figure {prior:g}" if prior is not None and prior >= needed else
                      "the lowest that keeps every measured row compute-bound")
            notes.append(f"bandwidth_gbytes_per_s held at {bandwidth:.4g} ({source}): no measured row is "
                         f"memory-bound, so the timings only say it is at least {needed:.3g}")
        notes += [note.replace("inverse_rate at its lower bound", "macs_per_s_per_unit at its upper bound")
                      .replace("inverse_rate at its upper bound", "macs_per_s_per_unit at its lower bound")
                  for note in linear_notes]
        params = TiledGemmParams(launch_us=float(values[1]), macs_per_s_per_unit=float(1 / values[0]),
                                 tile_k=self.tile[0], tile_m=self.tile[1], bandwidth_gbytes_per_s=float(bandwidth),
                                 pack_ns_per_element=float(values[2]), ns_per_fresh_output=float(values[3]))
        return Fit(params, tuple(notes), loss)


_TILED_NAMES = ("inverse_rate", "launch_us", "pack_ns_per_element", "ns_per_fresh_output")


def bounded_linear_fit(design: np.ndarray, times: np.ndarray, names: Sequence[str],
                       bounds: Sequence[tuple[float, float]], held: Mapping[str, float]
                       ) -> tuple[np.ndarray, float, list[str]]:
    """Coefficients x within `bounds` minimising mean((design @ x / times - 1)^2): (x, that loss, notes).

    A coefficient in `held`, or whose column is zero on every row (no timing depends on it), is held at its
    `held` value or its lower bound and said so. The rest are solved on unit-norm columns with a ridge of weight
    RIDGE toward their lower bounds, which makes the minimum unique."""
    relative = design / times[:, None]
    norms = np.linalg.norm(relative, axis=0)
    values = np.array([held.get(name, low) for name, (low, _) in zip(names, bounds, strict=True)], dtype=float)
    free = np.array([name not in held and norm > 0 for name, norm in zip(names, norms, strict=True)])
    notes = [f"{name} held at {values[i]:g}: " + ("given" if name in held else "no measured row depends on it")
             for i, name in enumerate(names) if not free[i]]
    target = np.ones(times.size) - relative[:, ~free] @ values[~free]
    if free.any():
        scale = norms[free]
        lows = np.array([bounds[i][0] for i in np.flatnonzero(free)]) * scale
        highs = np.array([bounds[i][1] for i in np.flatnonzero(free)]) * scale
        ridge = math.sqrt(RIDGE) * np.eye(int(free.sum()))
        system = np.vstack([relative[:, free] / scale, ridge])
        goal = np.concatenate([target, ridge @ lows])
        scaled = _box_least_squares(system, goal, lows, highs)
        values[free] = scaled / scale
        for i, x, low, high in zip(np.flatnonzero(free), scaled, lows, highs, strict=True):
            if x <= low + 1e-9 * max(1.0, abs(low)):
                notes.append(f"{names[i]} at its lower bound {bounds[i][0]:g}: the timings would put it lower")
            elif x >= high - 1e-9 * max(1.0, abs(high)):
                notes.append(f"{names[i]} at its upper bound {bounds[i][1]:g}: the timings would put it higher")
    loss = float(np.mean((relative @ values - 1) ** 2))
    return values, loss, notes


def _box_least_squares(a: np.ndarray, b: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """argmin ||a x - b|| with lows <= x <= highs, for the few columns of these fits: an active-set search (clamp
    what leaves the box, release a clamped coefficient whose gradient points inside) that checks the optimality
    conditions before it answers, and falls back to scipy's BVLS if it has not settled."""
    n = a.shape[1]
    clamped = np.zeros(n, dtype=bool)
    x = np.clip(np.zeros(n), lows, highs)
    for _ in range(4 * n + 4):
        free = ~clamped
        x[free] = np.linalg.lstsq(a[:, free], b - a[:, clamped] @ x[clamped], rcond=None)[0]
        outside = free & ((x < lows) | (x > highs))
        if outside.any():
            x[outside] = np.clip(x[outside], lows[outside], highs[outside])
            clamped |= outside
            continue
        gradient = a.T @ (a @ x - b)
        wrong = clamped & (((x <= lows) & (gradient < 0)) | ((x >= highs) & (gradient > 0)))
        if not wrong.any():
            return x
        clamped[int(np.argmax(np.where(wrong, np.abs(gradient), -1.0)))] = False
    return lsq_linear(a, b, bounds=(lows, highs), method="bvls").x


def _refine_log(loss, low: float, high: float, steps: int = 30) -> float:
    """Golden-section search for the minimum of loss(bandwidth) on [low, high] in log space (deterministic)."""
    a, b = math.log(low), math.log(high)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    loss_c, loss_d = loss(math.exp(c)), loss(math.exp(d))
    for _ in range(steps):
        if loss_c <= loss_d:
            b, d, loss_d = d, c, loss_c
            c = b - ratio * (b - a)
            loss_c = loss(math.exp(c))
        else:
            a, c, loss_c = c, d, loss_d
            d = a + ratio * (b - a)
            loss_d = loss(math.exp(d))
    return math.exp((a + b) / 2)

"""How DCNN lays a layer out on its PEs: output-stationary planar tiles (conv), or output channels split over the PEs
(FC, static matmul), output-channel groups sized to the accumulators, and spatial passes when a PE's input region
or outputs overflow its IARAM/OARAM. Pure numpy; the schedule itself is in accelsim.dataflows.dcnn.jit.

Every step a PE multiplies F weights (F output channels at one input channel c and kernel offset (r, s)) by I
activations (the inputs of I of its output positions through that offset, a strided gather), accumulating F x I
outputs: a dense outer product that wastes no slot on strides (the gather picks the inputs each output needs).
Per output-channel group of Kc channels and conv group, a PE takes ceil(Kc / F) x ceil(positions / I) x C/G x R x S
steps; the group ends with its slowest PE (weights are broadcast), so edge tiles wait.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pass:
    """One spatial pass: the output rows [p0, p1) of every image, tiled over the PEs."""

    p0: int
    p1: int
    positions: np.ndarray  # (PEs,) output positions each PE owns
    tile_rows: np.ndarray  # (PEs, 2) first and last + 1 output row of each PE (absolute)
    tile_cols: np.ndarray  # (PEs, 2) first and last + 1 output column
    input_bytes_pe: float  # the largest PE's input region (all channels)
    output_bytes_pe: float  # the largest PE's outputs (all channels)


def _spans(size: int, parts: int) -> np.ndarray:
    """(parts, 2) [start, stop) of `size` cut into `parts` tiles of ceil(size / parts) (the last ones may be empty)."""
    step = math.ceil(size / parts)
    starts = np.minimum(np.arange(parts) * step, size)
    return np.stack([starts, np.minimum(starts + step, size)], axis=1)


def plan_passes(dims: dict, stride, dilation, rows: int, cols: int, act_bytes: float, iaram_bytes: float,
                oaram_bytes: float) -> list[Pass]:
    """The fewest strips of output rows whose per-PE input region and outputs fit the PE's buffers (one strip when
    the plane fits; one output row per strip at most)."""
    p_size, q_size = dims["P"], dims["Q"]
    for passes in range(1, p_size + 1):
        strips = _spans(p_size, passes)
        planned = [_one_pass(int(p0), int(p1), q_size, dims, stride, dilation, rows, cols, act_bytes)
                   for p0, p1 in strips if p1 > p0]
        if all(p.input_bytes_pe <= iaram_bytes and p.output_bytes_pe <= oaram_bytes for p in planned):
            return planned
    return planned  # one output row per strip still overflows: the caller reports it


def _one_pass(p0: int, p1: int, q_size: int, dims: dict, stride, dilation, rows: int, cols: int,
              act_bytes: float) -> Pass:
    row_spans = _spans(p1 - p0, rows) + p0
    col_spans = _spans(q_size, cols)
    tile_rows = np.repeat(row_spans, cols, axis=0)
    tile_cols = np.tile(col_spans, (rows, 1))
    heights = tile_rows[:, 1] - tile_rows[:, 0]
    widths = tile_cols[:, 1] - tile_cols[:, 0]
    positions = heights * widths
    # The inputs a tile's windows reach (halo included), rows and columns, for all input channels.
    reach_h = np.where(heights > 0, (heights - 1) * stride[0] + (dims["R"] - 1) * dilation[0] + 1, 0)
    reach_w = np.where(widths > 0, (widths - 1) * stride[1] + (dims["S"] - 1) * dilation[1] + 1, 0)
    input_bytes = float((reach_h * reach_w).max(initial=0)) * dims["C"] * act_bytes
    output_bytes = float(positions.max(initial=0)) * dims["K"] * act_bytes
    return Pass(p0, p1, positions, tile_rows, tile_cols, input_bytes, output_bytes)


def group_size(out_channels: int, positions: int, accumulator_entries: int) -> int:
    """Kc: output channels whose partial sums over a PE's positions fit the accumulator buffer."""
    kc = min(out_channels, accumulator_entries // max(positions, 1))
    if kc < 1:
        raise ValueError(f"a PE's {positions} output positions exceed the accumulator buffer "
                         f"({accumulator_entries} entries) even for one output channel; enlarge "
                         f"components.accumulator.size_bytes or the PE array (pe_array.rows/cols)")
    return kc


def group_channels(out_channels: int, kc: int) -> np.ndarray:
    """Output channels in each group (the last may be short)."""
    groups = math.ceil(out_channels / kc)
    return np.minimum(kc, out_channels - np.arange(groups) * kc)

"""Spatial passes of a conv whose activations overflow SCNN's IARAM or OARAM: the input plane is cut into strips of
rows, and each strip is tiled over the PEs and run through the Cartesian-product walk on its own, reading its
inputs from DRAM, writing the outputs it owns there and re-reading every weight (temporal tiling, as the SCNN paper
does for nine VGG layers). Outputs whose windows straddle two strips receive partial sums from both: the first
strip writes them to DRAM at the accumulator's width and the second reads them back (that traffic is a count, its
time the bandwidth formula of the group overlap). Strips are equal in rows; more are cut until every strip fits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accelsim.dataflows.scnn.cost import Run, combine

MAX_PASSES = 64


def strips(rows: int, passes: int) -> list[tuple[int, int]]:
    """[start, stop) of `rows` cut into `passes` strips of ceil(rows / passes) (fewer if the rows run out)."""
    step = -(-rows // passes)
    return [(start, min(start + step, rows)) for start in range(0, rows, step)]


def boundary_partial_sums(output_rows: int, columns: int, channels: int, images: int, cuts: list[int], stride: int,
                          padding: int, kernel: int, dilation: int) -> int:
    """Partial sums of outputs whose input window spans a cut between two strips (the row before `cut` and `cut`)."""
    first = np.arange(output_rows) * stride - padding  # the first input row of each output's window
    last = first + (kernel - 1) * dilation
    straddle = sum(int(np.count_nonzero((first < cut) & (last >= cut))) for cut in cuts)
    return straddle * columns * channels * images


def run_in_strips(run_strip: Callable[[int, int], Run], fits: Callable[[int, int], bool], rows: int,
                  first_guess: int) -> tuple[Run, list[int]]:
    """Run the plane in strips, starting at `first_guess` passes and cutting more until every strip `fits` its
    buffers (decided from its mapping and the layer's outputs, before walking it); only the final strips are walked.
    Returns (combined run with passes = strips, the cut rows)."""
    passes = max(2, first_guess)
    while True:
        spans = strips(rows, passes)
        if passes >= min(rows, MAX_PASSES) or all(fits(start, stop) for start, stop in spans):
            runs = [run_strip(start, stop) for start, stop in spans]
            total = combine(runs)
            total.passes = len(spans)
            total.iaram_fill = max(run.iaram_fill for run in runs)
            total.oaram_fill = max(run.oaram_fill for run in runs)
            return total, [start for start, _ in spans[1:]]
        passes += 1

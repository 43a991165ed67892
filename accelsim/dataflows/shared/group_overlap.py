"""Output-channel groups run back to back on double-buffered accumulators, with each group's weights streaming from
DRAM during the group before: the cycles the array waits between groups, and what it waits for (SCNN and DCNN)."""

from __future__ import annotations

import math

import numpy as np


def overlap_waits(compute: np.ndarray, drains: np.ndarray, transfers: np.ndarray) -> tuple[int, int]:
    """Cycles the groups wait between them: (for accumulator drains, for DRAM).

    Group m starts when group m - 1 has computed, its weights (transfers[m], streamed during group m - 1; the
    first group's are fetched before the layer) have arrived, and the accumulator buffer it reuses is drained:
    group m - 2's, which drained during group m - 1 (double buffering). The wait before m is the longer of
    the two overruns, charged to its cause; after the last group, the previous drain's overrun and the last
    group's whole drain.
    """
    memory = drain = 0.0
    for m in range(1, compute.size):
        previous_drain = drains[m - 2] if m >= 2 else 0.0
        wait = max(transfers[m], previous_drain) - compute[m - 1]
        if wait > 0:
            if transfers[m] >= previous_drain:
                memory += wait
            else:
                drain += wait
    last = compute.size - 1
    drain += max(0.0, (drains[last - 1] if last >= 1 else 0.0) - compute[last]) + drains[last]
    return math.ceil(drain - 1e-9), math.ceil(memory - 1e-9)

"""The jobs of a layer (mapping._jobs) dealt in one numba pass, in run order, where numpy built each strip's jobs
from meshgrids, repeats and a lexsort (about 0.4 ms a strip; issue 20)."""

from __future__ import annotations

import numpy as np
from numba import njit

FIELDS = ("n", "block", "slice", "p", "q0", "q1", "strip", "slot", "phase")
"""The rows of deal_jobs's result."""


@njit(cache=True)
def deal_jobs(images, strip_p0, strip_p1, row_parts, column_parts, row_edges, column_edges, blocks, slices, group,
              per_block):
    """(9, jobs) int64, the FIELDS of every job in run order: images, then strips; in a strip, waves (groups of
    `group` blocks x slices, one phase each); in a wave, chain slots; in a slot, output rows. Block b of a wave's
    group takes slots (b % group) * per_block + part, part = row part x column parts + column part.
    row_edges[s, :row_parts[s] + 1]: strip s's row cuts (absolute rows); column_edges[s, :column_parts[s] + 1]:
    its column cuts."""
    strips = strip_p0.shape[0]
    waves = ((blocks + group - 1) // group) * slices
    total = 0
    for s in range(strips):
        total += blocks * slices * column_parts[s] * (strip_p1[s] - strip_p0[s])
    total *= images
    out = np.empty((9, total), dtype=np.int64)
    j = 0
    phase = 0
    for n in range(images):
        for s in range(strips):
            for wave in range(waves):
                block_group, slice_ = wave // slices, wave % slices
                for member in range(group):
                    block = block_group * group + member
                    if block >= blocks:
                        break
                    for part in range(row_parts[s] * column_parts[s]):
                        row_part, column_part = part // column_parts[s], part % column_parts[s]
                        for p in range(row_edges[s, row_part], row_edges[s, row_part + 1]):
                            out[0, j] = n
                            out[1, j] = block
                            out[2, j] = slice_
                            out[3, j] = p
                            out[4, j] = column_edges[s, column_part]
                            out[5, j] = column_edges[s, column_part + 1]
                            out[6, j] = s
                            out[7, j] = member * per_block + part
                            out[8, j] = phase + wave
                            j += 1
            phase += waves
    return out


"""One layer's walk on a row-stationary machine: the fast walk of accelsim.dataflows.eyeriss.walk_jit, with the
counters it leaves to a per-layer sum filled in; the same (per-job figures, counters) as jit.walk_jobs."""

from __future__ import annotations

import numpy as np

from accelsim.dataflows.eyeriss import jit, taps_jit, walk_jit
from accelsim.dataflows.eyeriss.machine import Machine
from accelsim.dataflows.eyeriss.mapping import Mapping
from accelsim.dataflows.eyeriss.problem import Problem

NO_TAPS = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int16)


def walk_layer(problem: Problem, machine: Machine, mapping: Mapping) -> tuple[np.ndarray, np.ndarray]:
    tiles, jobs = mapping.tiles, mapping.jobs
    (uh, uw), (ph, pw), (dh, dw) = problem.stride, problem.padding, problem.dilation
    window = tiles.c0 * problem.s
    if window > np.iinfo(np.int16).max:
        raise ValueError(f"{machine.accelerator}: a PE window of {window} iacts (C0 x S) is over what the walk "
                         f"indexes ({np.iinfo(np.int16).max}); use smaller scratch pads")
    pointers, taps = (taps_jit.window_taps(problem.x, tiles.c0, problem.s, uw, pw, dw, problem.q)
                      if mapping.csc_iacts else NO_TAPS)
    walked, counters = walk_jit.walk_windows(
        tiles.col_entries, tiles.col_nonzeros, tiles.block_group, tiles.block_count, mapping.items_cb,
        mapping.items_r, jobs.n, jobs.block, jobs.slice, jobs.p, jobs.q0, jobs.q1, jobs.slot, jobs.carry,
        np.where(jobs.loads, machine.fill, 0).astype(np.int64), mapping.slots, mapping.chain_length, tiles.c0,
        problem.groups, problem.x.shape[3], problem.q, uh, ph, dh, mapping.csc_iacts, pointers, taps, machine.simd,
        machine.fetch_buffer, mapping.psum_buffer, machine.link_values)
    if not mapping.csc_iacts:  # every tap read: the value-dependent counters per layer (walk_jit docstring)
        meets = taps_jit.nonzero_tap_counts(problem.x, problem.r, problem.s, uh, uw, ph, pw, dh, dw, problem.p,
                                            problem.q)[tiles.block_group]
        words = (tiles.col_entries + machine.simd - 1) // machine.simd
        counters[jit.EFFECTUAL] = int((tiles.col_nonzeros * meets).sum())
        counters[jit.NONZERO_IACT_WORDS] = int((words * meets).sum())
        counters[jit.NONZERO_IACT_MACS] = int((tiles.col_entries * meets).sum())
    return walked, counters

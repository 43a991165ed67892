"""How a layer's work is cut into the passes each cluster runs.

The output vectors of a layer (conv group g, broadcast group f, output position m), in that order, are cut into
one contiguous range per cluster, of equal estimated work: a vector of broadcast group f is estimated at its busiest
CU's filter work (nonzeros, or positions for the dense twin; at least a cycle per chunk), known offline from the
weights, so that clusters given dense groups (GB-S puts them first) get fewer positions. A cluster runs one pass
per broadcast group its range touches (usually one or two: few filter loads), loading the group's filters first.
Clusters are independent: each has its own bus and walks its own positions.

A CU keeps its filter chunks in its filter buffer for the whole pass. When a filter (compressed, pointers included)
does not fit, the reduction is cut into slices of whole chunks that do (the fewest equal slices): the positions are
walked once per slice, each output's partial sum leaving for the global buffer at the end of one slice and coming
back at the start of the next (counted as traffic; the CU overlaps it with its work).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Plan:
    slices: int
    slice_bounds: np.ndarray  # (slices + 1,) chunk boundaries
    seg_ptr: np.ndarray  # (clusters + 1,)
    seg_group: np.ndarray
    seg_fgroup: np.ndarray
    seg_j0: np.ndarray
    seg_j1: np.ndarray
    seg_m0: np.ndarray  # positions m0 .. m1 - 1
    seg_m1: np.ndarray
    seg_load_bits: np.ndarray
    largest_cu_filter_bits: int  # the most filter bits one CU holds in one pass


def cu_chunk_bits(assignment: np.ndarray, chunk_bits: np.ndarray) -> np.ndarray:
    """(groups, filter groups, J, cus): the storage bits of the chunk each CU slot holds (0 for none)."""
    chunks = np.arange(assignment.shape[2])[None, None, :, None]
    return np.where(assignment >= 0, chunk_bits[np.maximum(assignment, 0), chunks], 0)


def held_per_slice(per_cu_bits: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """(groups, filter groups, slices, cus): the filter bits each CU holds during each slice."""
    return np.add.reduceat(per_cu_bits, bounds[:-1], axis=2)


def slice_bounds(per_cu_bits: np.ndarray, capacity_bits: int) -> np.ndarray:
    """Boundaries of the fewest equal slices of the J chunks such that every CU's chunks of a slice fit its filter
    buffer; per_cu_bits (groups, filter groups, J, cus). A single chunk too big is a ValueError."""
    chunks = per_cu_bits.shape[2]
    biggest = int(per_cu_bits.max(initial=0))
    if biggest > capacity_bits:
        raise ValueError(f"one filter chunk takes {biggest} bits but a CU's filter buffer holds {capacity_bits}; "
                         f"enlarge memory.filter_buffer.size_bytes or shrink dataflow.chunk_size")
    for slices in range(1, chunks + 1):
        bounds = np.linspace(0, chunks, slices + 1).round().astype(np.int64)
        if held_per_slice(per_cu_bits, bounds).max(initial=0) <= capacity_bits:
            return bounds
    raise AssertionError("a slice of one chunk always fits once every chunk does")


def group_work(assignment: np.ndarray, chunk_work: np.ndarray) -> np.ndarray:
    """(groups, filter groups): the busiest CU's estimated cycles for one position (chunk_work (filters, J))."""
    return cu_chunk_bits(assignment, chunk_work).sum(axis=2).max(axis=2)


def plan(assignment: np.ndarray, chunk_bits: np.ndarray, chunk_work: np.ndarray, positions: int, clusters: int,
         capacity_bits: int) -> Plan:
    """The passes of every cluster: chunk_bits (filters, J) are the storage bits of each filter chunk, chunk_work
    its estimated cycles per position."""
    per_cu = cu_chunk_bits(assignment, chunk_bits)
    bounds = slice_bounds(per_cu, capacity_bits)
    held = held_per_slice(per_cu, bounds)
    load = held.sum(axis=3)  # bits each pass loads: all CUs of its group over its slice's chunks
    fgroups = assignment.shape[1]
    work = np.repeat(group_work(assignment, chunk_work).ravel().astype(np.float64), positions)
    ends = np.cumsum(work)
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, clusters) / clusters, side="right")
    starts = np.concatenate([[0], cuts, [work.size]])
    rows: list[tuple[int, ...]] = []
    seg_ptr = [0]
    for cluster in range(clusters):
        index, stop = int(starts[cluster]), int(starts[cluster + 1])
        while index < stop:
            group_index, m0 = divmod(index, positions)
            m1 = min(positions, m0 + stop - index)
            g, f = divmod(group_index, fgroups)
            for s in range(bounds.size - 1):
                rows.append((g, f, int(bounds[s]), int(bounds[s + 1]), m0, m1, int(load[g, f, s])))
            index += m1 - m0
        seg_ptr.append(len(rows))
    table = np.array(rows, dtype=np.int64).reshape(-1, 7)
    columns = (np.ascontiguousarray(table[:, i]) for i in range(7))
    return Plan(bounds.size - 1, bounds, np.array(seg_ptr, dtype=np.int64), *columns,
                largest_cu_filter_bits=int(held.max(initial=0)))

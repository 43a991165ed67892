"""Which filter each CU of a broadcast group holds, chunk by chunk: SparTen's greedy balancing (Config.balancing).

- "none": broadcast group f of conv group g holds its filters f * cus .. in order; CU s the s-th (consecutive CUs,
  consecutive output channels).
- "gb-s" (software only): each conv group's filters sorted by whole-filter nonzeros, densest first, then cut into
  broadcast groups of `cus`: the filters sharing a broadcast have about the same work, so their CUs finish together.
  The collector writes the output channels in this order; the next layer's weights are permuted offline to match,
  at no hardware cost (our output is in the true order: the permutation is undone in software).
- "gb-h" (software and hardware): GB-S's groups, then chunk by chunk the group's filter chunks are dealt to its CUs
  greedily (densest chunk to the CU with the least work so far), so that each CU's work over a window evens out at
  chunk granularity. A CU then works on different filters' chunks, so each chunk's partial sum goes through the
  permute unit to its filter's accumulator (counted per chunk join).

All of it is decided offline from the weights alone (nonzeros per filter or chunk), as the paper's software does.
"""

from __future__ import annotations

import math

import numpy as np


def assign(filter_nnz: np.ndarray, groups: int, cus: int, balancing: str) -> np.ndarray:
    """(groups, filter groups, J, cus): the filter (global index) of each CU slot per chunk, -1 for none. Active CUs
    are the first ones of a group, the same for every chunk. filter_nnz (groups * Kg, J)."""
    filters, chunks = filter_nnz.shape
    per_group = filters // groups
    fgroups = math.ceil(per_group / cus)
    order = np.tile(np.arange(per_group), (groups, 1))
    if balancing in ("gb-s", "gb-h"):
        whole = filter_nnz.sum(axis=1).reshape(groups, per_group)
        order = np.argsort(-whole, axis=1, kind="stable")
    slots = np.full((groups, fgroups * cus), -1, dtype=np.int64)
    slots[:, :per_group] = order + np.arange(groups)[:, None] * per_group
    slots = slots.reshape(groups, fgroups, cus)
    result = np.repeat(slots[:, :, None, :], chunks, axis=2)
    if balancing == "gb-h":
        _deal_chunks(result, filter_nnz)
    return result


def _deal_chunks(result: np.ndarray, filter_nnz: np.ndarray) -> None:
    """GB-H, in place: for each chunk, the group's filters' chunks, densest first, to its CUs, least loaded first."""
    groups, fgroups, chunks, cus = result.shape
    table = result.reshape(groups * fgroups, chunks, cus)
    members = table[:, 0, :]  # the group's filters (ascending slot order), -1 padding at the end
    active = members >= 0
    load = np.where(active, 0, np.iinfo(np.int64).max // 2)  # inactive slots never receive a chunk
    rows = np.arange(table.shape[0])[:, None]
    for j in range(chunks):
        nnz = np.where(active, filter_nnz[np.maximum(members, 0), j], -1)  # inactive filters sort last
        by_density = np.argsort(-nnz, axis=1, kind="stable")
        by_load = np.argsort(load, axis=1, kind="stable")
        table[rows, j, by_load] = members[rows, by_density]
        load[rows, by_load] += np.maximum(nnz[rows, by_density], 0)

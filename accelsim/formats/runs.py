"""Zero-run encoding with padding entries, shared by RLE (SCNN, Eyeriss) and EIE's relative row index.

A sequence is split into groups (RLE: one group; EIE: one per PE and column). Each nonzero of a group is stored
as (run, value), where run counts the zeros since the previous stored entry of the group (or since the group's
start). A run field of k bits holds at most M = 2^k - 1. A longer gap is bridged by padding entries
(run = M, value = 0): each one skips M zeros and then is itself the next zero position, so it consumes M + 1
positions. A gap of g zeros therefore needs g // (M + 1) padding entries and leaves g % (M + 1) as the run of
the nonzero that follows. With k = 4: g = 15 -> no padding, run 15; g = 16 -> one padding, run 0;
g = 31 -> one padding, run 15; g = 32 -> two paddings, run 0. Zeros after a group's last nonzero are not stored.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Runs(NamedTuple):
    """Stored entries of every group, concatenated group after group in group order."""

    slots: np.ndarray
    """Slot of each nonzero in the stored sequence (the other slots are padding)."""
    runs: np.ndarray
    """Run field of every stored entry (M for padding entries)."""
    entries_per_group: np.ndarray
    padding_per_group: np.ndarray


def max_run_for(run_bits: int) -> int:
    """Largest run a `run_bits` field holds. Capped at 2^62 so that numpy int64 arithmetic cannot overflow; no
    array has a gap that long."""
    return min((1 << run_bits) - 1, 1 << 62)


def encode_runs(group: np.ndarray, position: np.ndarray, n_groups: int, max_run: int) -> Runs:
    """Runs for nonzeros at `position` (0-based, within their group) in groups `group`, both sorted by
    (group, position)."""
    group = group.astype(np.int64, copy=False)
    position = position.astype(np.int64, copy=False)
    previous = np.full(position.shape, -1, dtype=np.int64)
    if position.size > 1:
        same_group = group[1:] == group[:-1]
        previous[1:] = np.where(same_group, position[:-1], -1)
    gap = position - previous - 1
    pads = gap // (max_run + 1)
    run = gap - pads * (max_run + 1)
    # Each nonzero is preceded by its own padding entries and everything stored before it.
    slots = np.arange(position.size, dtype=np.int64) + np.cumsum(pads)
    n_stored = position.size + int(pads.sum())
    runs = np.full(n_stored, max_run, dtype=np.int64)
    runs[slots] = run
    padding_per_group = np.zeros(n_groups, dtype=np.int64)
    np.add.at(padding_per_group, group, pads)
    entries_per_group = np.bincount(group, minlength=n_groups).astype(np.int64) + padding_per_group
    return Runs(slots, runs, entries_per_group, padding_per_group)


def decode_positions(runs: np.ndarray, entries_per_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group, position within group) of every stored entry, padding entries included, from the run fields."""
    n_groups = entries_per_group.size
    group = np.repeat(np.arange(n_groups, dtype=np.int64), entries_per_group)
    steps = np.cumsum(runs + 1)
    group_start = np.concatenate(([0], np.cumsum(entries_per_group)))[:-1]
    steps_before_group = np.concatenate(([0], steps))[group_start]
    position = steps - steps_before_group[group] - 1
    return group, position

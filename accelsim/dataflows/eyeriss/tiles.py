"""What one PE holds: C0 input channels x one filter row of S taps (the iact window, C0 x S entries) and the weights
of M0 output channels at those columns, an M0 x (C0 x S) matrix stored column by column (CSC: per column its
nonzeros, each with a zero-run count; a run longer than the count field holds costs a padding entry).

C0 is the most channels whose window fits the iact scratch pad (and, in Eyeriss v2, whose columns fit the weight
address scratch pad). M0 is chosen per layer from the real weights (`fit_every_tile`: the largest M0, at most the psum
scratch pad, at which every tile's stored entries fit the weight scratch pad) or fixed with overflowing blocks split
in halves until they fit (`split`). Dense (uncompressed) weights fit by count: M0 x C0 x S values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.eyeriss import tiles_jit
from accelsim.dataflows.eyeriss.machine import Machine
from accelsim.dataflows.eyeriss.problem import Problem
from accelsim.formats.runs import encode_runs, max_run_for


@dataclass(frozen=True, eq=False)
class Tiles:
    c0: int
    block_group: np.ndarray
    """Group of each output-channel block."""
    block_start: np.ndarray
    """First output channel (within its group) of each block."""
    block_count: np.ndarray
    """Output channels of each block (M0, the last of a group may be short)."""
    col_entries: np.ndarray
    """(blocks, Cg, R, S): stored weights of each column (CSC: nonzeros + padding; uncompressed: the block's M0)."""
    col_nonzeros: np.ndarray
    """(blocks, Cg, R, S): nonzero weights of each column."""
    tile_entries: np.ndarray
    """(blocks, channel blocks, R): stored weights of each PE tile."""
    split_blocks: int
    """Blocks the `split` policy cut because a tile overflowed the weight scratch pad."""

    @property
    def m0(self) -> int:
        return int(self.block_count.max())

    @property
    def channel_blocks(self) -> int:
        return self.tile_entries.shape[1]


def choose_c0(problem: Problem, machine: Machine) -> int:
    s = problem.s
    limit = min(machine.iact_entries, machine.weight_values) // s
    if machine.weight_columns is not None:
        limit = min(limit, machine.weight_columns // s)
    if limit < 1:
        columns = "" if machine.weight_columns is None else f", {machine.weight_columns} weight columns"
        raise ValueError(f"{machine.accelerator}: a filter row of S = {s} taps never fits a PE: its scratch pads "
                         f"hold {machine.iact_entries} iacts, {machine.weight_values} weights{columns}; enlarge "
                         f"memory.iact_spad / weight_spad / weight_addr_spad or use another arch")
    return min(problem.cg, limit)


def plan_tiles(problem: Problem, machine: Machine) -> Tiles:
    c0 = choose_c0(problem, machine)
    mask = problem.w != 0
    m_max = min(problem.mg, machine.psum_entries // machine.psum_positions, machine.m0_limit or problem.mg)
    if m_max < 1:
        raise ValueError(f"{machine.accelerator}: the psum scratch pad holds no partial sum")
    max_run = max_run_for(machine.count_bits)
    if not machine.csc_weights:
        m0 = max(1, min(m_max, machine.weight_values // (c0 * problem.s)))
        return _uniform(mask, m0, c0, max_run, csc=False)
    if machine.policy == "split":
        return _split_overflowing(mask, _uniform(mask, m_max, c0, max_run, csc=True), machine, c0, max_run)
    per_channel = _per_channel_tile_entries(mask, c0)
    low, high = 1, m_max  # M0 = 1 always fits: a tile of one channel holds at most C0 x S <= scratch pad entries
    while low < high:
        middle = (low + high + 1) // 2
        if _largest_tile(mask, per_channel, middle, c0, max_run) <= machine.weight_values:
            low = middle
        else:
            high = middle - 1
    return _uniform(mask, low, c0, max_run, csc=True)


def _per_channel_tile_entries(mask: np.ndarray, c0: int) -> np.ndarray:
    """(G, Mg, channel blocks, R): nonzero weights each output channel puts into each PE tile."""
    return tiles_jit.channel_tile_nonzeros(mask, c0)


def _largest_tile(mask: np.ndarray, per_channel: np.ndarray, m0: int, c0: int, max_run: int) -> int:
    """Stored entries of the fullest tile at blocks of m0 channels (padding entries need m0 > max_run + 1)."""
    if m0 > max_run + 1:
        return int(_uniform(mask, m0, c0, max_run, csc=True).tile_entries.max(initial=0))
    g, mg, cb, r = per_channel.shape
    per_group = math.ceil(mg / m0)
    padded = np.zeros((g, per_group * m0, cb, r), dtype=np.int64)
    padded[:, :mg] = per_channel
    return int(padded.reshape(g, per_group, m0, cb, r).sum(axis=2).max(initial=0))


def _uniform(mask: np.ndarray, m0: int, c0: int, max_run: int, csc: bool) -> Tiles:
    """Blocks of m0 consecutive output channels in every group."""
    g, mg, cg, r, s = mask.shape
    per_group = math.ceil(mg / m0)
    starts = np.tile(np.arange(per_group) * m0, g)
    counts = np.minimum(m0, mg - starts)
    groups = np.repeat(np.arange(g), per_group)
    if csc and m0 > max_run + 1:  # padding entries: the blocks' masks themselves
        padded = np.zeros((g, per_group * m0, cg, r, s), dtype=bool)
        padded[:, :mg] = mask
        return _tiles(padded.reshape(g * per_group, m0, cg, r, s), groups, starts, counts, c0, max_run, csc, 0)
    nonzeros = tiles_jit.block_column_nonzeros(mask, m0)
    return _tiles_of(nonzeros, nonzeros if csc else None, groups, starts, counts, c0, 0)


def _tiles(blocks: np.ndarray, groups, starts, counts, c0: int, max_run: int, csc: bool, split: int) -> Tiles:
    """Tiles of blocks given as a (blocks, M0, Cg, R, S) mask (channels past a block's count are False)."""
    m0 = blocks.shape[1]
    nonzeros = np.count_nonzero(blocks, axis=1).astype(np.int64)
    entries = None
    if csc:
        entries = nonzeros + _padding_entries(blocks, max_run) if m0 > max_run + 1 else nonzeros
    return _tiles_of(nonzeros, entries, groups, starts, counts, c0, split)


def _tiles_of(nonzeros: np.ndarray, entries: np.ndarray | None, groups, starts, counts, c0: int,
              split: int) -> Tiles:
    """Tiles from each column's nonzero and stored weights (blocks, Cg, R, S); entries None: uncompressed (every
    block stores its M0 weights per column)."""
    nb, cg, r, s = nonzeros.shape
    if entries is None:
        entries = np.broadcast_to(counts[:, None, None, None], nonzeros.shape).astype(np.int64)
    cb = math.ceil(cg / c0)
    padded = np.zeros((nb, cb * c0, r, s), dtype=np.int64)
    padded[:, :cg] = entries
    tile_entries = padded.reshape(nb, cb, c0, r, s).sum(axis=(2, 4))
    return Tiles(c0, groups.astype(np.int64), starts.astype(np.int64), counts.astype(np.int64),
                 np.ascontiguousarray(entries), np.ascontiguousarray(nonzeros), tile_entries, split)


def _padding_entries(blocks: np.ndarray, max_run: int) -> np.ndarray:
    """Padding entries of every column of every block: zero runs (from the block's first channel, between
    nonzeros) longer than the count field holds."""
    nb, m0, cg, r, s = blocks.shape
    columns = blocks.transpose(0, 2, 3, 4, 1).reshape(-1, m0)
    group, position = np.nonzero(columns)
    runs = encode_runs(group, position, columns.shape[0], max_run)
    return runs.padding_per_group.reshape(nb, cg, r, s)


def _split_overflowing(mask: np.ndarray, tiles: Tiles, machine: Machine, c0: int, max_run: int) -> Tiles:
    """`split` policy: every block with a tile over the weight scratch pad is halved (consecutive channels) until
    each part fits; the parts stream the same iacts one after another."""
    _g, _mg, cg, r, s = mask.shape
    parts: list[tuple[int, int, int]] = []
    split = 0
    pending = [(int(gr), int(st), int(ct)) for gr, st, ct in
               zip(tiles.block_group, tiles.block_start, tiles.block_count, strict=True)]
    while pending:
        group, start, count = pending.pop(0)
        block = np.zeros((1, count, cg, r, s), dtype=bool)
        block[0] = mask[group, start:start + count]
        one = _tiles(block, np.array([group]), np.array([start]), np.array([count]), c0, max_run, True, 0)
        if count > 1 and int(one.tile_entries.max(initial=0)) > machine.weight_values:
            half = (count + 1) // 2
            pending[:0] = [(group, start, half), (group, start + half, count - half)]
            split += 1
        else:
            parts.append((group, start, count))
    m0 = max(count for _, _, count in parts)
    blocks = np.zeros((len(parts), m0, cg, r, s), dtype=bool)
    for i, (group, start, count) in enumerate(parts):
        blocks[i, :count] = mask[group, start:start + count]
    groups, starts, counts = (np.array(column) for column in zip(*parts, strict=True))
    return _tiles(blocks, groups, starts, counts, c0, max_run, True, split)


def column_csc(problem: Problem, tiles: Tiles) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pointer, output channel within the block, value) of the nonzero weights of every column
    ((block x Cg + c) x R + r) x S + s, for the functional output."""
    pointers, channels, values = [np.zeros(1, dtype=np.int64)], [], []
    total = 0
    for g, start, count in zip(tiles.block_group, tiles.block_start, tiles.block_count, strict=True):
        block = problem.w[g, start:start + count].transpose(1, 2, 3, 0).reshape(-1, count)  # (columns, M0)
        column, channel = np.nonzero(block)
        per_column = np.bincount(column, minlength=block.shape[0])
        pointers.append(total + np.cumsum(per_column))
        total += column.size
        channels.append(channel)
        values.append(block[column, channel])
    return (np.concatenate(pointers), np.concatenate(channels).astype(np.int64),
            np.concatenate(values).astype(np.float64))

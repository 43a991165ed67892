"""jobs_jit.deal_jobs (through mapping._jobs) against the numpy dealing it replaced, on random layer sizes, strips,
blocks, slices and slot shares, jitted and as its .py_func (and, under NUMBA_DISABLE_JIT=1, as plain Python)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from test_eyeriss_jit import both

from accelsim.dataflows.eyeriss import jobs_jit, mapping


def numpy_jobs(problem, strips, blocks: int, slices: int, slots: int, per_block: int) -> dict:
    """mapping._jobs's fields as numpy dealt them before issue 20's second Eyeriss speed step."""
    group = slots // per_block
    waves = math.ceil(blocks / group) * slices
    parts = []
    phase = 0
    for n in range(problem.n):
        for index, (p0, p1) in enumerate(strips):
            rows = p1 - p0
            row_parts = min(per_block, rows)
            column_parts = min(problem.q, max(1, per_block // row_parts))
            row_edges = p0 + np.linspace(0, rows, row_parts + 1).round().astype(np.int64)
            column_edges = np.linspace(0, problem.q, column_parts + 1).round().astype(np.int64)
            block, slice_, part = (axis.ravel() for axis in np.meshgrid(
                np.arange(blocks), np.arange(slices), np.arange(row_parts * column_parts), indexing="ij"))
            row_part, column_part = np.divmod(part, column_parts)
            counts = row_edges[row_part + 1] - row_edges[row_part]
            owner = np.repeat(np.arange(block.size), counts)
            p = row_edges[row_part][owner] + np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
            wave = (block // group) * slices + slice_
            slot = (block % group) * per_block + part
            fields = [np.full(owner.size, n), block[owner], slice_[owner], p, column_edges[column_part][owner],
                      column_edges[column_part + 1][owner], np.full(owner.size, index), slot[owner],
                      phase + wave[owner]]
            order = np.lexsort((p, slot[owner], wave[owner]))
            parts.append([field[order] for field in fields])
            phase += waves
    columns = (np.concatenate(column).astype(np.int64) for column in zip(*parts, strict=True))
    return dict(zip(jobs_jit.FIELDS, columns, strict=True))


@pytest.mark.parametrize("kernel", both(jobs_jit.deal_jobs))
@pytest.mark.parametrize("seed", range(12))
def test_dealt_jobs_equal_numpy(kernel, seed, monkeypatch):
    rng = np.random.default_rng(seed)
    problem = SimpleNamespace(n=int(rng.integers(1, 3)), p=int(rng.integers(1, 15)), q=int(rng.integers(1, 15)))
    height = int(rng.integers(1, problem.p + 1))
    strips = [(p0, min(p0 + height, problem.p)) for p0 in range(0, problem.p, height)]
    blocks, slices, slots = int(rng.integers(1, 9)), int(rng.integers(1, 4)), int(rng.integers(1, 30))
    per_block = int(rng.integers(1, slots + 1))
    monkeypatch.setattr(jobs_jit, "deal_jobs", kernel)
    jobs = mapping._jobs(problem, strips, blocks, slices, slots, per_block)
    expected = numpy_jobs(problem, strips, blocks, slices, slots, per_block)
    for field, values in expected.items():
        np.testing.assert_array_equal(getattr(jobs, field), values, err_msg=field)


@pytest.mark.parametrize("kernel", both(jobs_jit.deal_jobs))
def test_two_blocks_on_two_slots_each_split_their_rows(kernel, monkeypatch):
    """By hand: 2 output rows x 4 columns, 2 blocks, 4 slots, 2 slots a block: one phase; block 0 on slots 0 and 1,
    block 1 on slots 2 and 3, each slot one row of every column."""
    monkeypatch.setattr(jobs_jit, "deal_jobs", kernel)
    jobs = mapping._jobs(SimpleNamespace(n=1, p=2, q=4), [(0, 2)], blocks=2, slices=1, slots=4, per_block=2)
    np.testing.assert_array_equal(jobs.block, [0, 0, 1, 1])
    np.testing.assert_array_equal(jobs.slot, [0, 1, 2, 3])
    np.testing.assert_array_equal(jobs.p, [0, 1, 0, 1])
    np.testing.assert_array_equal(jobs.q0, [0, 0, 0, 0])
    np.testing.assert_array_equal(jobs.q1, [4, 4, 4, 4])
    np.testing.assert_array_equal(jobs.phase, [0, 0, 0, 0])
    np.testing.assert_array_equal(jobs.loads, [True, True, True, True])

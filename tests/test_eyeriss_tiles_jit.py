"""tiles_jit's per-layer weight counts against numpy's count_nonzero on the padded blocks they replaced, jitted and
as plain Python."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_eyeriss_jit import both

from accelsim.dataflows.eyeriss import tiles_jit


@pytest.mark.parametrize("shape", [(1, 7, 5, 3, 3), (2, 16, 9, 1, 1), (3, 5, 1, 2, 4)])
@pytest.mark.parametrize("m0", [1, 3, 16])
def test_block_column_nonzeros_equal_numpy(shape, m0):
    mask = np.random.default_rng(m0).random(shape) < 0.4
    g, mg, cg, r, s = shape
    per_group = math.ceil(mg / m0)
    padded = np.zeros((g, per_group * m0, cg, r, s), dtype=bool)
    padded[:, :mg] = mask
    expected = np.count_nonzero(padded.reshape(g * per_group, m0, cg, r, s), axis=1)
    for kernel in both(tiles_jit.block_column_nonzeros):
        np.testing.assert_array_equal(kernel(mask, m0), expected)


@pytest.mark.parametrize("shape", [(1, 7, 5, 3, 3), (2, 16, 9, 1, 1), (3, 5, 1, 2, 4)])
@pytest.mark.parametrize("c0", [1, 2, 4])
def test_channel_tile_nonzeros_equal_numpy(shape, c0):
    mask = np.random.default_rng(c0).random(shape) < 0.4
    g, mg, cg, r, _s = shape
    cb = math.ceil(cg / c0)
    padded = np.zeros((g, mg, cb * c0, r), dtype=np.int64)
    padded[:, :, :cg] = np.count_nonzero(mask, axis=4)
    expected = padded.reshape(g, mg, cb, c0, r).sum(axis=3)
    for kernel in both(tiles_jit.channel_tile_nonzeros):
        np.testing.assert_array_equal(kernel(mask, c0), expected)

"""SCNN's numba compression (accelsim.dataflows.scnn.compress_jit) against a numpy reference built from np.nonzero, a
lexsort by (block, class, position) and accelsim.formats.runs.encode_runs, and its .py_func against the jitted one."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.dataflows.scnn.compress_jit import compress_blocks, compress_tiles
from accelsim.formats.runs import encode_runs


def _reference(values, skip_zeros, keep_rows, keep_row_of, class_rows, class_row_of, phases, max_run):
    keep = keep_rows[keep_row_of] & ((values != 0) if skip_zeros else True)
    block, position = np.nonzero(keep)
    n_blocks = values.shape[0]
    padding = (encode_runs(block, position, n_blocks, max_run).padding_per_group if max_run
               else np.zeros(n_blocks, dtype=np.int64))
    phase = class_rows[class_row_of][block, position]
    order = np.lexsort((position, phase, block))
    block, position, phase = block[order], position[order], phase[order]
    counts = np.bincount(block * phases + phase, minlength=n_blocks * phases).reshape(n_blocks, phases)
    ptr = np.concatenate(([0], np.cumsum(counts.sum(axis=1))))
    phase_ptr = np.zeros((n_blocks, phases + 1), dtype=np.int64)
    phase_ptr[:, 1:] = np.cumsum(counts, axis=1)
    phase_ptr += ptr[:-1, None]
    return ptr, block, position, values[block, position], padding, phase_ptr.ravel()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("skip_zeros", [True, False])
def test_compress_blocks_equals_the_numpy_reference(seed, skip_zeros):
    rng = np.random.default_rng(seed)
    n_blocks, width, phases = rng.integers(1, 12), rng.integers(1, 40), int(rng.integers(1, 5))
    values = rng.standard_normal((n_blocks, width)) * (rng.random((n_blocks, width)) < rng.random())
    keep_rows = rng.random((3, width)) < 0.8
    keep_row_of = rng.integers(0, 3, n_blocks)
    class_rows = rng.integers(0, phases, (2, width))
    class_row_of = rng.integers(0, 2, n_blocks)
    max_run = int(rng.choice([0, 1, 3, 15])) if skip_zeros else 0
    args = (values, skip_zeros, keep_rows, keep_row_of, class_rows, class_row_of, phases, max_run)
    expected = _reference(*args)
    for function in (compress_blocks, getattr(compress_blocks, "py_func", compress_blocks)):
        for got, want in zip(function(*args), expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_padding_by_hand():
    # One block [a 0 0 0 0 b] with a 2-bit run index (M = 3): b follows a gap of 4 zeros, one padding entry (it
    # skips 3 zeros and is the 4th position), run 0. Leading zeros count too: [0 0 0 0 c] needs one.
    values = np.array([[1.0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 3, 0]])
    ptr, _, position, value, padding, _ = compress_blocks(values, True, np.ones((1, 6), bool), np.zeros(2, np.int64),
                                                          np.zeros((1, 6), np.int64), np.zeros(2, np.int64), 1, 3)
    assert list(ptr) == [0, 2, 3] and list(position) == [0, 5, 4] and list(value) == [1, 2, 3]
    assert list(padding) == [1, 1]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("skip_zeros", [True, False])
def test_compress_tiles_equals_compressing_the_tiled_copy(seed, skip_zeros):
    # x (N, C, H, W) cut into rows x cols tiles read in place, against the numpy tiling: pad to whole tiles, move the
    # tile axes before the channel and flatten to (image, tile, channel) x (row, column within the tile).
    rng = np.random.default_rng(seed)
    n, c, h, w = (int(v) for v in rng.integers(1, 7, 4))
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    x = (rng.standard_normal((n, c, h, w)) * (rng.random((n, c, h, w)) < 0.5)).astype(np.float32)
    ht, wt = -(-h // rows), -(-w // cols)
    padded = np.zeros((n, c, rows * ht, cols * wt))
    padded[:, :, :h, :w] = x
    tiled = padded.reshape(n, c, rows, ht, cols, wt).transpose(0, 2, 4, 1, 3, 5).reshape(-1, ht * wt)
    inside = np.zeros((rows * ht, cols * wt), dtype=bool)
    inside[:h, :w] = True
    keep_rows = inside.reshape(rows, ht, cols, wt).transpose(0, 2, 1, 3).reshape(rows * cols, ht * wt)
    tile_of_block = (np.arange(tiled.shape[0]) // c) % (rows * cols)
    classes = rng.integers(0, 2, (rows * cols, ht * wt))
    args = (skip_zeros, keep_rows, tile_of_block, classes, tile_of_block, 2, 3 if skip_zeros else 0)
    expected = _reference(tiled, *args)
    for function in (compress_tiles, getattr(compress_tiles, "py_func", compress_tiles)):
        for got, want in zip(function(x, rows, cols, *args), expected, strict=True):
            np.testing.assert_array_equal(got, want)

"""SCNN's operand compression in numba: the kept entries of every block (a row of a 2-D array, or a PE's tile of one
channel read from the activations in place), ordered by block, then stride phase class, then position, with the
padding entries a zero-run index needs (accelsim.formats.runs gives the rule; here it is counted in the same pass).
One pass to count, one to fill: no sort, no mask array of the operand's size."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def compress_blocks(values, skip_zeros, keep_rows, keep_row_of, class_rows, class_row_of, phases, max_run):
    """Entries of `values` (blocks x positions) kept where keep_rows[keep_row_of[block], position] holds and, with
    `skip_zeros`, the value is nonzero. Each kept entry's phase class is class_rows[class_row_of[block], position].

    Returns (ptr, block, position, value, padding per block, phase_ptr): entries of block b are ptr[b]:ptr[b + 1],
    those of its class j phase_ptr[b * (phases + 1) + j] up to the next pointer. Padding (max_run > 0): a gap of g
    unkept positions before a kept one, in position order, costs g // (max_run + 1) entries; zeros after a block's
    last kept entry are not stored."""
    no_plane = np.zeros((1, 1, 1, 1))
    return _compress(values, no_plane, 1, 1, skip_zeros, keep_rows, keep_row_of, class_rows, class_row_of, phases,
                     max_run)


@njit(cache=True)
def compress_tiles(x, rows, cols, skip_zeros, keep_rows, keep_row_of, class_rows, class_row_of, phases, max_run):
    """`compress_blocks` of the blocks (image, tile, channel) of x (N, C, H, W) cut into rows x cols tiles of
    ceil(H / rows) x ceil(W / cols), positions row-major within the tile, read from x in place: a tile's overhang
    beyond the plane reads as zero."""
    no_matrix = np.zeros((0, 1))
    return _compress(no_matrix, x, rows, cols, skip_zeros, keep_rows, keep_row_of, class_rows, class_row_of, phases,
                     max_run)


@njit(cache=True)
def _tile_row(x, block, rows, cols, row):
    """Block (image, tile, channel) of x into `row`."""
    n_channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    ht, wt = (height + rows - 1) // rows, (width + cols - 1) // cols
    c = block % n_channels
    tile = (block // n_channels) % (rows * cols)
    image = block // (n_channels * rows * cols)
    h0, w0 = (tile // cols) * ht, (tile % cols) * wt
    for i in range(ht):
        for j in range(wt):
            h, w = h0 + i, w0 + j
            row[i * wt + j] = x[image, c, h, w] if h < height and w < width else 0.0


@njit(cache=True)
def _compress(matrix, x, rows, cols, skip_zeros, keep_rows, keep_row_of, class_rows, class_row_of, phases, max_run):
    """The two passes over the blocks of `matrix` (blocks x positions) or, when it has no rows, of x's tiles."""
    tiled = matrix.shape[0] == 0
    if tiled:
        n_blocks = x.shape[0] * rows * cols * x.shape[1]
        width = ((x.shape[2] + rows - 1) // rows) * ((x.shape[3] + cols - 1) // cols)
    else:
        n_blocks, width = matrix.shape
    scratch = np.zeros(width)
    counts = np.zeros(n_blocks * phases, dtype=np.int64)
    padding = np.zeros(n_blocks, dtype=np.int64)
    for b in range(n_blocks):
        if tiled:
            _tile_row(x, b, rows, cols, scratch)
            row = scratch
        else:
            row = matrix[b]
        keep_row = keep_row_of[b]
        class_row = class_row_of[b]
        previous = -1
        for p in range(width):
            if keep_rows[keep_row, p] and (not skip_zeros or row[p] != 0):
                counts[b * phases + class_rows[class_row, p]] += 1
                if max_run > 0:
                    padding[b] += (p - previous - 1) // (max_run + 1)
                previous = p
    phase_ptr = np.zeros(n_blocks * (phases + 1), dtype=np.int64)
    ptr = np.zeros(n_blocks + 1, dtype=np.int64)
    total = 0
    for b in range(n_blocks):
        ptr[b] = total
        for j in range(phases):
            phase_ptr[b * (phases + 1) + j] = total
            total += counts[b * phases + j]
        phase_ptr[b * (phases + 1) + phases] = total
    ptr[n_blocks] = total
    block = np.empty(total, dtype=np.int64)
    position = np.empty(total, dtype=np.int64)
    value = np.empty(total, dtype=np.float64)
    cursor = np.empty(phases, dtype=np.int64)
    for b in range(n_blocks):
        if ptr[b + 1] == ptr[b]:
            continue
        if tiled:
            _tile_row(x, b, rows, cols, scratch)
            row = scratch
        else:
            row = matrix[b]
        for j in range(phases):
            cursor[j] = phase_ptr[b * (phases + 1) + j]
        keep_row = keep_row_of[b]
        class_row = class_row_of[b]
        for p in range(width):
            if keep_rows[keep_row, p] and (not skip_zeros or row[p] != 0):
                j = class_rows[class_row, p]
                i = cursor[j]
                block[i] = b
                position[i] = p
                value[i] = row[p]
                cursor[j] = i + 1
    return ptr, block, position, value, padding, phase_ptr

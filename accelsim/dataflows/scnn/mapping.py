"""How SCNN lays a layer out on its PEs: compressed operand blocks, the per-PE output regions (with halos) and the
output-channel group size Kc. Numpy, with the compression in numba (compress_jit.py); the cycle walk is
accelsim.dataflows.scnn.jit.

Two mappings:
- planar (conv): the input plane is cut into rows x cols tiles of Ht x Wt, one per PE, each holding all input
  channels of its tile (PT-IS); every PE gets every weight (broadcast). A PE's products land in an output region
  that covers its tile plus the halo its kernel window reaches into the neighbours' tiles.
- output-channel split (FC, static matmul): a 1 x 1 plane cannot be tiled, so the output channels are split over
  the PEs and the input vector (batch rows as positions of a 1 x N plane) is given to every PE. With one vector
  only one activation per channel meets F weights per step: I - 1 of I multiplier columns idle, as the paper says.

Stride phases: an activation at input row h meets a weight at kernel row r on the output grid only when
(h + pad) mod stride = (r x dilation) mod stride (likewise for columns). Within each block the entries are ordered by
that phase class (`phase_ptr`), and the Cartesian product pairs only activations and weights of the same class,
as DNNsim's SCNN does: no product of a strided conv lands between output positions. Stride 1 has one class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.scnn.compress_jit import compress_blocks, compress_tiles


@dataclass(frozen=True)
class Blocks:
    """Compressed blocks in kernel form: entries of block b are ptr[b]:ptr[b + 1]."""

    ptr: np.ndarray
    row: np.ndarray  # activations: global h; weights: r
    col: np.ndarray  # activations: global w; weights: s
    k: np.ndarray  # weights: output channel within the group (unused for activations)
    value: np.ndarray
    padding: np.ndarray  # padding entries per block (zero runs longer than the run-length index holds)
    phase_ptr: np.ndarray  # entries of block b in phase class c: phase_ptr[b * (phases + 1) + c] ... [.. + c + 1]
    phases: int

    def entries(self) -> np.ndarray:
        """Stored entries per block, padding included."""
        return np.diff(self.ptr) + self.padding


@dataclass(frozen=True)
class Mapping:
    """Everything the kernel needs about where data sits, plus what the cost model needs afterwards."""

    planar: bool
    n_images: int
    n_tiles: int
    acts: Blocks
    weights: Blocks
    k_base: np.ndarray  # first output channel of each weight slice
    act_c0: np.ndarray  # first input channel of each output-channel group's conv group
    kc: int
    kc_of_group: np.ndarray  # output channels in each group (the last one may be short)
    w_slices: int  # weight slices per group: 1 (broadcast) or one per PE
    region_p0: np.ndarray
    region_q0: np.ndarray
    region_h: int
    region_w: int
    region_positions: np.ndarray  # output positions inside the plane in each PE's region
    owned_positions: np.ndarray  # of those, the ones the PE owns (the rest are halo, sent to neighbours)
    owner_tile: np.ndarray | None  # (P, Q) tile that owns each output position (planar only)


def _compress(blocks2d: np.ndarray, skip_zeros: bool, max_run: int, keep_rows: np.ndarray | None = None,
              keep_row_of: np.ndarray | None = None, classes: np.ndarray | None = None,
              class_row_of: np.ndarray | None = None, phases: int = 1):
    """(ptr, block, position, value, padding per block, phase_ptr) of the kept entries of each row of `blocks2d`
    (accelsim.dataflows.scnn.compress_jit): with `skip_zeros` the nonzeros, else the slots keep_rows[keep_row_of[b]]
    marks (None: every position). Entries are ordered by block, then phase class (classes[class_row_of[b]], None:
    one class), then position; padding entries (storage, when max_run) follow the positions' own order."""
    n_blocks, width = blocks2d.shape
    if keep_rows is None:
        keep_rows, keep_row_of = np.ones((1, width), dtype=np.bool_), np.zeros(n_blocks, dtype=np.int64)
    if classes is None:
        classes, class_row_of = np.zeros((1, width), dtype=np.int64), np.zeros(n_blocks, dtype=np.int64)
    return compress_blocks(np.ascontiguousarray(blocks2d, dtype=np.float64), skip_zeros, keep_rows,
                           keep_row_of.astype(np.int64), classes.astype(np.int64), class_row_of.astype(np.int64),
                           phases, max_run if skip_zeros else 0)


def tile_activations(x: np.ndarray, rows: int, cols: int, skip_zeros: bool, max_run: int, stride=(1, 1),
                     padding=(0, 0), row_offset: int = 0) -> tuple[Blocks, int, int]:
    """Blocks (image, tile, channel) of x (N, C, H, W) cut into rows x cols tiles; also (Ht, Wt). Entries are in
    stride phase classes ((h + pad) mod stride, see the module docstring). `row_offset`: x is a strip of a taller
    plane starting at that row (spatial passes); coordinates are the plane's."""
    n, c, h, w = x.shape
    ht, wt = math.ceil(h / rows), math.ceil(w / cols)
    tile_of_block = (np.arange(n * rows * cols * c) // c) % (rows * cols)
    keep_rows = None
    if not skip_zeros:  # every position of the plane is a slot, zero or not; the tile's overhang beyond it is not
        inside = np.zeros((rows * ht, cols * wt), dtype=bool)
        inside[:h, :w] = True
        keep_rows = inside.reshape(rows, ht, cols, wt).transpose(0, 2, 1, 3).reshape(rows * cols, ht * wt)
    # The phase class of each (tile, position): the same for every image and channel.
    tile_h = (np.arange(rows * cols)[:, None] // cols) * ht + np.arange(ht * wt)[None, :] // wt + row_offset
    tile_w = (np.arange(rows * cols)[:, None] % cols) * wt + np.arange(ht * wt)[None, :] % wt
    classes = ((tile_h + padding[0]) % stride[0]) * stride[1] + (tile_w + padding[1]) % stride[1]
    phases = stride[0] * stride[1]
    if keep_rows is None:
        keep_rows = np.ones((1, ht * wt), dtype=np.bool_)
    ptr, block, position, values, padding_entries, phase_ptr = compress_tiles(
        np.ascontiguousarray(x), rows, cols, skip_zeros, keep_rows,
        tile_of_block if not skip_zeros else np.zeros_like(tile_of_block), classes, tile_of_block, phases,
        max_run if skip_zeros else 0)
    tile = (block // c) % (rows * cols)
    act_h = (tile // cols) * ht + position // wt + row_offset
    act_w = (tile % cols) * wt + position % wt
    blocks = Blocks(ptr, act_h.astype(np.int32), act_w.astype(np.int32), np.zeros(0, np.int32), values,
                    padding_entries, phase_ptr, phases)
    return blocks, ht, wt


def group_weights(weight: np.ndarray, groups: int, kc: int, skip_zeros: bool, max_run: int, stride=(1, 1),
                  dilation=(1, 1)) -> tuple[Blocks, np.ndarray]:
    """Blocks (conv group, output-channel group, input channel) of weight (K, C/G, R, S), each in (r, s, k) order
    with k fastest: a vector of consecutive weights then spans output channels at one kernel offset, so its
    products with one activation vector go to distinct accumulators (collisions only where it crosses an offset).
    Entries are in stride phase classes ((r x dilation) mod stride, see the module docstring)."""
    k, cg, r, s = weight.shape
    kg = k // groups
    slices = math.ceil(kg / kc)
    padded = np.zeros((groups, slices * kc, cg, r, s), dtype=np.float64)
    padded[:, :kg] = weight.reshape(groups, kg, cg, r, s)
    ordered = padded.reshape(groups, slices, kc, cg, r, s).transpose(0, 1, 3, 4, 5, 2).reshape(-1, r * s * kc)
    keep_rows = None
    if not skip_zeros:  # the slots of real output channels (the last slice may be short), per (conv group, slice)
        real = np.zeros((groups, slices * kc), dtype=bool)
        real[:, :kg] = True
        keep_rows = np.broadcast_to(real.reshape(groups * slices, 1, kc), (groups * slices, r * s, kc)).reshape(
            groups * slices, r * s * kc)
    taps = np.arange(r * s * kc)
    classes = ((taps // (s * kc) * dilation[0]) % stride[0]) * stride[1] + (taps // kc % s * dilation[1]) % stride[1]
    slice_of_block = np.arange(ordered.shape[0]) // cg
    ptr, _, position, values, padding, phase_ptr = _compress(
        ordered, skip_zeros, max_run, keep_rows, slice_of_block, classes[None, :], np.zeros_like(slice_of_block),
        stride[0] * stride[1])
    blocks = Blocks(ptr, (position // (s * kc)).astype(np.int32), (position // kc % s).astype(np.int32),
                    (position % kc).astype(np.int32), values, padding, phase_ptr, stride[0] * stride[1])
    k_base = (np.arange(groups)[:, None] * kg + np.arange(slices)[None, :] * kc).ravel()
    return blocks, k_base


def output_span(start: int, stop: int, pad: int, kernel: int, dilation: int, stride: int, size: int) -> tuple[int,
                                                                                                             int]:
    """First and last output index that inputs start..stop-1 feed (last < first: none)."""
    first = max(0, -(((kernel - 1) * dilation - start - pad) // stride))
    last = min(size - 1, (stop - 1 + pad) // stride)
    return first, last


def owner_tiles(n_out: int, n_in: int, tile: int, pad: int, kernel: int, dilation: int, stride: int,
                offset: int = 0, whole: bool = True) -> np.ndarray:
    """Tile index owning each output index: the tile holding the centre of the output's input window. For a strip
    of the plane (rows offset .. offset + n_in, `whole` False) an output whose centre lies outside it has no owner
    here (-1): another pass owns it."""
    centre = np.arange(n_out) * stride - pad + (kernel - 1) * dilation // 2 - offset
    inside = (centre >= 0) & (centre < n_in)
    owners = np.clip(centre, 0, n_in - 1) // tile
    return owners if whole else np.where(inside, owners, -1)


def plan_conv(x: np.ndarray, weight: np.ndarray, dims: dict, stride, padding, dilation, rows: int, cols: int,
              accumulator_entries: int, skip_weights: bool, skip_acts: bool, max_run: int,
              stride_phases: bool = True, row_offset: int = 0, plane_rows: int | None = None) -> Mapping:
    """Planar tiling of a conv layer (input x (N, C, H, W), weight (K, C/G, R, S)); with `stride_phases` the
    operands are split into stride phase classes (see the module docstring). A spatial pass gives the strip of the
    plane's rows as x, its first row as `row_offset` and the plane's height as `plane_rows`."""
    n, c, h, w = x.shape
    groups, p_size, q_size = dims["G"], dims["P"], dims["Q"]
    k, r, s = weight.shape[0], weight.shape[2], weight.shape[3]
    phase_stride = tuple(stride) if stride_phases else (1, 1)
    acts, ht, wt = tile_activations(x, rows, cols, skip_acts, max_run, phase_stride, padding, row_offset)
    whole = plane_rows is None or (row_offset == 0 and h == plane_rows)
    tiles = rows * cols
    p0, q0 = np.zeros(tiles, np.int64), np.zeros(tiles, np.int64)
    spans = np.zeros((tiles, 2), np.int64)
    owner_p = owner_tiles(p_size, h, ht, padding[0], r, dilation[0], stride[0], row_offset, whole)
    owner_q = owner_tiles(q_size, w, wt, padding[1], s, dilation[1], stride[1])
    owned = np.zeros(tiles, np.int64)
    for tile in range(tiles):
        tr, tc = divmod(tile, cols)
        if tr * ht >= h or tc * wt >= w:
            continue  # a tile beyond the plane: this PE idles
        first_p, last_p = output_span(row_offset + tr * ht, row_offset + min(h, (tr + 1) * ht), padding[0], r,
                                      dilation[0], stride[0], p_size)
        first_q, last_q = output_span(tc * wt, min(w, (tc + 1) * wt), padding[1], s, dilation[1], stride[1], q_size)
        p0[tile], q0[tile] = first_p, first_q
        spans[tile] = max(0, last_p - first_p + 1), max(0, last_q - first_q + 1)
        owned[tile] = np.count_nonzero(owner_p == tr) * np.count_nonzero(owner_q == tc)
    region_h, region_w = int(spans[:, 0].max()), int(spans[:, 1].max())
    kc = _group_size(k // groups, region_h * region_w, accumulator_entries, f"{region_h} x {region_w}")
    weights, k_base = group_weights(weight, groups, kc, skip_weights, max_run, phase_stride, dilation)
    slices = math.ceil(k // groups / kc)
    kc_of_group = np.tile(np.minimum(kc, k // groups - np.arange(slices) * kc), groups)
    act_c0 = np.repeat(np.arange(groups) * (c // groups), slices)
    owner = np.where(owner_p[:, None] >= 0, owner_p[:, None] * cols + owner_q[None, :], -1)
    return Mapping(True, n, tiles, acts, weights, k_base, act_c0, kc, kc_of_group, 1, p0, q0, region_h, region_w,
                   spans[:, 0] * spans[:, 1], owned, owner)


def plan_split(x: np.ndarray, weight: np.ndarray, pes: int, accumulator_entries: int, skip_weights: bool,
               skip_acts: bool, max_run: int) -> Mapping:
    """Output channels split over the PEs for x (N, C) times weight (K, C): a 1 x N plane on every PE."""
    n, c = x.shape
    k = weight.shape[0]
    acts, _, _ = tile_activations(x.T.reshape(1, c, 1, n), 1, 1, skip_acts, max_run)
    per_pe = math.ceil(k / pes)
    kc = _group_size(per_pe, n, accumulator_entries, f"1 x {n} (batch rows)")
    slices = math.ceil(per_pe / kc)
    local = np.arange(slices * kc)
    global_k = np.arange(pes)[:, None] * per_pe + local[None, :]  # (PE, local output channel)
    real = (local[None, :] < per_pe) & (global_k < k)
    by_pe = np.zeros((pes, slices * kc, c), dtype=np.float64)
    by_pe[real] = weight[global_k[real]]
    # Blocks ordered (output-channel group, PE, input channel), each over the group's Kc channels: group j of
    # every PE runs at once.
    ordered = by_pe.reshape(pes, slices, kc, c).transpose(1, 0, 3, 2).reshape(-1, kc)
    keep_rows = None
    if not skip_weights:  # real output channels, per (group, PE)
        keep_rows = real.reshape(pes, slices, kc).transpose(1, 0, 2).reshape(slices * pes, kc)
    ptr, _, position, values, padding, phase_ptr = _compress(ordered, skip_weights, max_run, keep_rows,
                                                             np.arange(ordered.shape[0]) // c)
    zero = np.zeros(position.size, np.int32)
    weights = Blocks(ptr, zero, zero, position.astype(np.int32), values, padding, phase_ptr, 1)
    k_base = (np.arange(pes)[None, :] * per_pe + np.arange(slices)[:, None] * kc).ravel()
    kc_of_group = np.minimum(kc, per_pe - np.arange(slices) * kc)  # the last group may be short
    zeros = np.zeros(pes, np.int64)
    positions = np.where(np.arange(pes) * per_pe < k, n, 0)  # PEs past the last output channel hold nothing
    return Mapping(False, 1, 1, acts, weights, k_base, np.zeros(slices, np.int64), kc, kc_of_group, pes, zeros,
                   zeros, 1, n, positions, positions, None)


def _group_size(out_channels: int, region_positions: int, accumulator_entries: int, region: str) -> int:
    """Kc: output channels whose partial sums over a PE's output region fit the accumulator buffer."""
    kc = min(out_channels, accumulator_entries // region_positions)
    if kc < 1:
        raise ValueError(f"a PE's output region of {region} = {region_positions} partial sums exceeds the "
                         f"accumulator buffer ({accumulator_entries} entries) even for one output channel; enlarge "
                         f"components.accumulator.size_bytes or the PE array (pe_array.rows/cols)")
    return kc

"""A layer cut into SparTen's chunks: every filter and every input window along the reduction, each chunk a SparseMap
bitmask (uint64 words) with its count of nonzeros and its positions' values (zeros included), in the form
accelsim.dataflows.sparten.jit walks and accelsim.dataflows.sparten.outputs_jit sums.

The reduction of an output is its window over one conv group, in (r, s, c) order with c fastest (as
accelsim.dataflows.shared.gemm_view orders it). Two ways to cut it (Config.chunking):

- "channel": chunks never cross a kernel tap: each tap's C/G channels are cut into ceil(C/G / chunk_size) chunks.
  A window chunk is then a stored chunk of the input map (chunked along channels at each (h, w), as SparTen's output
  collector writes it), fetched by address; a tap in the padding names no chunk at all.
- "window": the flattened window is cut every chunk_size positions, whatever the taps (what a layer with few
  channels, conv1 or depthwise, would need to fill its chunks; the window chunks are gathered, not stored).

FC layers are a window of C channels at one position; a static matmul is one problem per batch matrix (groups).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.dataflows.shared.gemm_view import gemm_operands
from accelsim.dataflows.sparten import outputs_jit
from accelsim.workload import Layer


@dataclass(frozen=True)
class Chunks:
    """Chunks in kernel form: chunk i has mask words mask[i], nnz[i] nonzeros, its positions' values dense[i]."""

    mask: np.ndarray  # (..., words) uint64
    nnz: np.ndarray  # (...) int64
    dense: np.ndarray  # (..., longest chunk): the chunks as packed, zeros included


@dataclass(frozen=True)
class Problem:
    """One layer as SparTen sees it: G independent reductions (conv groups or batch matrices), each with Kg filters
    and M output positions, every reduction cut into J chunks."""

    groups: int
    filters_per_group: int  # Kg; filter k of group g is filter g * Kg + k
    positions: int  # M: output positions (n, p, q) of a conv, batch rows of FC and matmul
    chunk_len: np.ndarray  # (J,) real positions of each chunk (the rest pads it to chunk_size)
    filters: Chunks  # (G * Kg, J, words)
    inputs: Chunks  # (S, words): the stored input chunks the windows name
    window: np.ndarray  # (G, M, J) int64: stored chunk of each window chunk, -1 wholly in the padding
    weight_layout: np.ndarray  # (G * Kg, J * chunk_size): the weights as stored, chunk by chunk
    input_layout: np.ndarray  # (..., chunk_size * chunks per site): the input map as stored (channels chunked)

    @property
    def chunks(self) -> int:
        return int(self.chunk_len.size)


def words_for(chunk_size: int) -> int:
    return -(-chunk_size // 64)


def pack(dense: np.ndarray, longest: int) -> Chunks:
    """Chunks of `dense` (..., chunk_size), no chunk longer than `longest` positions: bit i % 64 of word i // 64 is
    position i. Words enough for `longest`, and the dense rows cut to it, so that a layer of short chunks (conv1's
    three channels) joins fewer words and reads its values from a compact array."""
    rows = dense.reshape(-1, dense.shape[-1])
    mask, nnz = outputs_jit.pack_masks(rows, words_for(longest))
    kept = dense if longest == dense.shape[-1] else np.ascontiguousarray(dense[..., :longest])
    return Chunks(mask.reshape((*dense.shape[:-1], -1)), nnz.reshape(dense.shape[:-1]), kept)


def pad_last(array: np.ndarray, size: int) -> np.ndarray:
    """`array` zero-padded along its last axis to `size`."""
    if array.shape[-1] == size:
        return array
    out = np.zeros((*array.shape[:-1], size), dtype=array.dtype)
    out[..., :array.shape[-1]] = array
    return out


def build(layer: Layer, chunk_size: int, chunking: str) -> Problem:
    """The layer's chunks (a matmul of two activations is refused before this is called)."""
    if layer.op == "conv2d" and chunking == "channel":
        return _conv_by_channel(layer, chunk_size)
    return _by_window(layer, chunk_size)


def channel_layout(array: np.ndarray, groups: int, chunk_size: int) -> np.ndarray:
    """(..., C) -> (..., G, CB * chunk_size): each group's channels padded to whole chunks."""
    per_group = array.shape[-1] // groups
    blocks = math.ceil(per_group / chunk_size)
    grouped = array.reshape((*array.shape[:-1], groups, per_group))
    return pad_last(grouped, blocks * chunk_size)


def _conv_by_channel(layer: Layer, chunk_size: int) -> Problem:
    d = layer.dims
    groups, cg, kernel_taps = d["G"], d["C"] // d["G"], d["R"] * d["S"]
    blocks = math.ceil(cg / chunk_size)
    # Stored input chunks (n, h, w, g, cb).
    by_position = channel_layout(np.moveaxis(layer.input, 1, -1), groups, chunk_size)  # (N, H, W, G, CB * cs)
    longest = min(cg, chunk_size)
    inputs = pack(np.ascontiguousarray(by_position).reshape(-1, chunk_size), longest)
    # Filter chunks (k, (r, s, cb)).
    by_tap = pad_last(np.moveaxis(layer.weight, 1, -1).reshape(d["K"], kernel_taps, cg), blocks * chunk_size)
    filters = pack(np.ascontiguousarray(by_tap).reshape(d["K"], kernel_taps * blocks, chunk_size), longest)
    # Window chunk (g, (n, p, q), (r, s, cb)) -> stored chunk, or -1 in the padding.
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation
    h = np.arange(d["P"])[:, None] * sh - ph + np.arange(d["R"])[None, :] * dh  # (P, R)
    w = np.arange(d["Q"])[:, None] * sw - pw + np.arange(d["S"])[None, :] * dw  # (Q, S)
    inside = ((h >= 0) & (h < d["H"]))[:, None, :, None] & ((w >= 0) & (w < d["W"]))[None, :, None, :]  # (P, Q, R, S)
    site = h[:, None, :, None] * d["W"] + w[None, :, None, :]  # (P, Q, R, S)
    n = np.arange(d["N"])[:, None, None, None, None]
    base = ((n * d["H"] * d["W"] + site[None]) * groups)  # (N, P, Q, R, S)
    index = (base[None, ..., None] + np.arange(groups)[:, None, None, None, None, None, None]) * blocks \
        + np.arange(blocks)  # (G, N, P, Q, R, S, CB)
    index = np.where(inside[None, None, ..., None], index, -1)
    window = index.reshape(groups, d["N"] * d["P"] * d["Q"], kernel_taps * blocks).astype(np.int64)
    lengths = np.minimum(chunk_size, cg - np.arange(blocks) * chunk_size)
    return Problem(groups, d["K"] // groups, d["N"] * d["P"] * d["Q"], np.tile(lengths, kernel_taps), filters,
                   inputs, window, by_tap.reshape(d["K"], -1), by_position)


def _by_window(layer: Layer, chunk_size: int) -> Problem:
    """Every reduction (a conv window as im2col gives it, an FC input row) cut every chunk_size positions."""
    if layer.op == "matmul":
        operands = [(a, b) for a, b in zip(layer.input, layer.weight, strict=True)]  # (N, C), (C, K) per matrix
    else:
        operands = gemm_operands(layer)  # (M, Wr), (Wr, Kg) per conv group
    reduction = operands[0][0].shape[1]
    chunks = math.ceil(reduction / chunk_size)
    rows = [pad_last(np.asarray(a, dtype=np.float64), chunks * chunk_size).reshape(a.shape[0], chunks, chunk_size)
            for a, _ in operands]
    stacked = np.stack(rows)  # (G, M, J, cs)
    groups, positions = stacked.shape[:2]
    longest = min(reduction, chunk_size)
    inputs = pack(stacked.reshape(-1, chunk_size), longest)
    weights = pad_last(np.concatenate([np.asarray(b, dtype=np.float64).T for _, b in operands]),
                       chunks * chunk_size)  # (G * Kg, J * cs)
    filters = pack(weights.reshape(weights.shape[0], chunks, chunk_size), longest)
    window = np.arange(groups * positions * chunks, dtype=np.int64).reshape(groups, positions, chunks)
    lengths = np.minimum(chunk_size, reduction - np.arange(chunks) * chunk_size)
    # The input map as stored: a conv's channels chunked at each (h, w), whatever the windows are cut into.
    stored = channel_layout(np.moveaxis(layer.input, 1, -1), layer.groups, chunk_size) if layer.op == "conv2d" \
        else stacked
    return Problem(groups, weights.shape[0] // groups, positions, lengths, filters, inputs, window, weights, stored)


def output_to_layer(layer: Layer, out: np.ndarray) -> np.ndarray:
    """The walker's out (filters, M) in the layer's output layout."""
    d = layer.dims
    if layer.op == "conv2d":
        return np.ascontiguousarray(out.reshape(d["K"], d["N"], d["P"], d["Q"]).transpose(1, 0, 2, 3))
    if layer.op == "linear":
        return np.ascontiguousarray(out.T)
    return np.ascontiguousarray(out.reshape(d["G"], d["K"], d["N"]).transpose(0, 2, 1))

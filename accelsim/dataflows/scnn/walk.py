"""From a layer's mapping to SCNN's Cartesian-product walk (accelsim.dataflows.scnn.jit): the per-entry arrays the
kernel reads, prepared once per walk so that the per-product work is two subtractions, a bounds test and a table
lookup.

Output coordinates as numerators: an activation at input row h meets a weight at kernel row r on output row
(h + pad - r x dilation) / stride, when that is a whole number inside the plane. With stride phases only pairs of
one phase class meet, and for them (h + pad) mod stride = (r x dilation) mod stride, so the row is exactly
(h + pad) // stride - (r x dilation) // stride: each side is divided once, ahead of the walk, and the kernel sees
stride 1. Without stride phases the kernel divides (and wastes the products that do not divide). Columns alike.
"""

from __future__ import annotations

import numpy as np

from accelsim.dataflows.scnn import jit
from accelsim.dataflows.scnn.mapping import Mapping

BANK_MAPPINGS = {"modulo": jit.MODULO, "xor_fold": jit.XOR_FOLD}


def numerators(mapping: Mapping, stride, padding, dilation, stride_phases: bool):
    """(act_pn, act_qn, w_rn, w_sn, residual stride): the row and column numerators of every activation and weight
    entry, and the stride the kernel still divides by (1 with stride phases)."""
    divided = tuple(stride) if stride_phases else (1, 1)
    acts, weights = mapping.acts, mapping.weights
    act_pn = (acts.row.astype(np.int64) + padding[0]) // divided[0]
    act_qn = (acts.col.astype(np.int64) + padding[1]) // divided[1]
    w_rn = weights.row.astype(np.int64) * dilation[0] // divided[0]
    w_sn = weights.col.astype(np.int64) * dilation[1] // divided[1]
    residual = (stride[0] // divided[0], stride[1] // divided[1])
    return act_pn, act_qn, w_rn, w_sn, residual


def cartesian_walk(mapping: Mapping, output_hw: tuple[int, int], stride, padding, dilation, stride_phases: bool,
                   config, pes: int, out: np.ndarray, compute_output: bool,
                   crossbar: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every PE's products, step by step, through the crossbar when it has one (`crossbar` False: without it, for
    the output values alone) and into `out` when asked: (cycles of each (image, group, PE), counters)."""
    crossbar = config.scatter_crossbar if crossbar is None else crossbar
    act_pn, act_qn, w_rn, w_sn, residual = numerators(mapping, stride, padding, dilation, stride_phases)
    acts, weights = mapping.acts, mapping.weights
    addresses = mapping.kc * mapping.region_h * mapping.region_w  # the accumulator addresses one group uses
    banks_of = jit.bank_table(addresses if crossbar else 0, config.accumulator_banks,
                              BANK_MAPPINGS[config.bank_mapping])
    steps = (1, 0) if mapping.planar else (0, 1)
    return jit.cartesian_product(
        acts.ptr, act_pn, act_qn, acts.value, weights.ptr, weights.k, w_rn, w_sn, weights.value, mapping.k_base,
        acts.phase_ptr, weights.phase_ptr, acts.phases, mapping.n_images, mapping.kc_of_group.size,
        mapping.n_tiles, pes, _channels(mapping), _act_channels(mapping), mapping.act_c0, *steps, mapping.w_slices,
        mapping.region_p0, mapping.region_q0, mapping.region_h, mapping.region_w, *output_hw, *residual,
        config.weight_vector, config.activation_vector, config.accumulator_banks, banks_of, crossbar,
        config.crossbar_queue_depth, out, compute_output)


def dense_counts(mapping: Mapping, output_hw: tuple[int, int], stride, padding, dilation, kernel_hw, config,
                 pes: int) -> tuple[np.ndarray, np.ndarray]:
    """The same schedule counted without visiting each product (every operand a slot, no crossbar, no output)."""
    acts, weights = mapping.acts, mapping.weights
    steps = (1, 0) if mapping.planar else (0, 1)
    return jit.dense_product_counts(
        acts.ptr, acts.row, acts.col, weights.ptr, weights.row, weights.col, acts.phase_ptr, weights.phase_ptr,
        acts.phases, mapping.n_images, mapping.kc_of_group.size, mapping.n_tiles, pes, _channels(mapping),
        _act_channels(mapping), mapping.act_c0, *steps, mapping.w_slices, *output_hw, *stride, *padding, *dilation,
        *kernel_hw, config.weight_vector, config.activation_vector)


def _channels(mapping: Mapping) -> int:
    """Input channels of each weight block row (per conv group)."""
    blocks = mapping.weights.ptr.size - 1
    return blocks // (mapping.kc_of_group.size * mapping.w_slices)


def _act_channels(mapping: Mapping) -> int:
    blocks = mapping.acts.ptr.size - 1
    return blocks // (mapping.n_images * mapping.n_tiles)

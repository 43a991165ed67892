"""Dense reference results of a `Layer`, in plain numpy (float64): the output every dataflow's own schedule must
reproduce, and the count of effectual MACs (both operands nonzero). Both come from one routine: the effectual count
is the same layer evaluated on the operands' nonzero masks, summed, which is exact in float64 (integers < 2**53)."""

from __future__ import annotations

import weakref

import numpy as np

from accelsim.workload import Layer

_EFFECTUAL_MACS: weakref.WeakKeyDictionary[Layer, int] = weakref.WeakKeyDictionary()


def reference_output(layer: Layer) -> np.ndarray:
    """The layer's output without bias, computed densely in float64."""
    return _evaluate(layer, layer.input.astype(np.float64), layer.weight.astype(np.float64))


def effectual_macs(layer: Layer) -> int:
    """MACs whose activation and weight are both nonzero: the work a two-sided sparse design cannot skip.

    Remembered per layer (layers are immutable): a run asks once for the arch and again for its dense reference,
    and this is the costliest number of a dense layer."""
    if layer not in _EFFECTUAL_MACS:
        if layer.padding == (0, 0) and np.all(layer.input != 0) and np.all(layer.weight != 0):
            count = layer.macs  # every window tap meets a real, nonzero input: a dense layer's MACs all count
        elif layer.op == "conv2d":
            input_mask = (layer.input != 0).astype(np.float64)
            weight_mask = (layer.weight != 0).astype(np.float64)
            count = round(float(_evaluate(layer, input_mask, weight_mask).sum()))
        else:
            # Without a window, each reduction index c pairs every nonzero input at c with every nonzero weight at
            # c: sum over c of the two counts, in integers, with no float copy of a large weight matrix.
            inputs = np.count_nonzero(layer.input, axis=-2)  # (C,) or (G, C) over batch rows
            weights = np.count_nonzero(layer.weight, axis=0 if layer.op == "linear" else -1)
            count = int((inputs.astype(np.int64) * weights.astype(np.int64)).sum())
        _EFFECTUAL_MACS[layer] = count
    return _EFFECTUAL_MACS[layer]


def _evaluate(layer: Layer, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    if layer.op == "linear":
        return x @ w.T
    if layer.op == "matmul":
        return np.matmul(x, w)
    return _conv2d(x, w, layer.stride, layer.padding, layer.dilation, layer.groups)


def _conv2d(x: np.ndarray, w: np.ndarray, stride: tuple[int, int], padding: tuple[int, int],
            dilation: tuple[int, int], groups: int) -> np.ndarray:
    """Direct convolution as a sum over the R*S filter taps of batched GEMMs (one per group, broadcast), so that
    memory stays at one output-sized temporary however large R*S*C is."""
    n, _, h, wd = x.shape
    k, c_per_group, r, s = w.shape
    k_per_group = k // groups
    x = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    p = (h + 2 * padding[0] - dilation[0] * (r - 1) - 1) // stride[0] + 1
    q = (wd + 2 * padding[1] - dilation[1] * (s - 1) - 1) // stride[1] + 1
    w_grouped = w.reshape(groups, k_per_group, c_per_group, r, s)
    out = np.zeros((n, groups, k_per_group, p * q), dtype=np.float64)
    for tap_r in range(r):
        row0 = tap_r * dilation[0]
        for tap_s in range(s):
            col0 = tap_s * dilation[1]
            window = x[:, :, row0:row0 + (p - 1) * stride[0] + 1:stride[0],
                       col0:col0 + (q - 1) * stride[1] + 1:stride[1]]
            window = window.reshape(n, groups, c_per_group, p * q)
            out += np.matmul(w_grouped[:, :, :, tap_r, tap_s], window)
    return out.reshape(n, k, p, q)

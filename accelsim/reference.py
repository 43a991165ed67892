"""Dense reference results of a `Layer`, in plain numpy (float64): the output every dataflow's own schedule must
reproduce, and the count of effectual MACs (both operands nonzero), in integers.

A conv's effectual count factors over (input channel, kernel tap): sum over c, r, s of the nonzero weights at
(c, r, s) (over the output channels of c's group) times the nonzero inputs of channel c that tap (r, s) reaches over
every output position and image. The second factor is a strided window count of the input's nonzero mask, so the
count costs one pass over the window positions per tap (the im2col size), not the layer's MACs."""

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
            count = _conv_effectual_macs(layer)
        else:
            # Without a window, each reduction index c pairs every nonzero input at c with every nonzero weight at
            # c: sum over c of the two counts, in integers, with no float copy of a large weight matrix.
            inputs = np.count_nonzero(layer.input, axis=-2)  # (C,) or (G, C) over batch rows
            weights = np.count_nonzero(layer.weight, axis=0 if layer.op == "linear" else -1)
            count = int((inputs.astype(np.int64) * weights.astype(np.int64)).sum())
        _EFFECTUAL_MACS[layer] = count
    return _EFFECTUAL_MACS[layer]


def _conv_effectual_macs(layer: Layer) -> int:
    d = layer.dims
    k, c_per_group, r, s = layer.weight.shape
    (ph, pw), (sh, sw), (dh, dw) = layer.padding, layer.stride, layer.dilation
    # Nonzero weights reading each (input channel, tap): the weights of a conv group read its channels only.
    weights_at = np.count_nonzero(layer.weight.reshape(layer.groups, k // layer.groups, c_per_group, r, s), axis=1)
    weights_at = weights_at.reshape(d["C"], r, s).astype(np.int64)
    nonzero = np.pad(layer.input != 0, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    count = 0
    for tap_r in range(r):
        rows = slice(tap_r * dh, tap_r * dh + (d["P"] - 1) * sh + 1, sh)
        for tap_s in range(s):
            cols = slice(tap_s * dw, tap_s * dw + (d["Q"] - 1) * sw + 1, sw)
            reached = np.count_nonzero(nonzero[:, :, rows, cols], axis=(0, 2, 3)).astype(np.int64)
            count += int(reached @ weights_at[:, tap_r, tap_s])
    return count


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

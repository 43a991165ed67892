"""The input vectors EIE broadcasts, as numba functions: for every vector, the ascending columns of its nonzero
activations (and, to compute the output, their values), as one CSR array pair (vector_start, columns).

A linear layer's vectors are the rows of its input. A conv layer's vector for output position (n, p, q) of group g is
its receptive window in im2col order (column tap * C/G + c, tap = r * S + s, c fastest; taps outside the padded
input are zeros), built here from each input pixel's nonzero channels: the cost is the window's taps plus its
nonzeros, with no dense im2col matrix in between.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def matrix_sequences(x, keep_values):
    """Nonzero columns (and values, with `keep_values`) of every row of the 2-D array x."""
    n_vectors, n_cols = x.shape
    vector_start = np.zeros(n_vectors + 1, dtype=np.int64)
    for m in range(n_vectors):
        count = 0
        for j in range(n_cols):
            count += x[m, j] != 0
        vector_start[m + 1] = vector_start[m] + count
    columns = np.empty(vector_start[-1], dtype=np.int32)
    values = np.empty(vector_start[-1] if keep_values else 0, dtype=np.float64)
    for m in range(n_vectors):
        e = vector_start[m]
        for j in range(n_cols):
            if x[m, j] != 0:
                columns[e] = j
                if keep_values:
                    values[e] = x[m, j]
                e += 1
    return vector_start, columns, values


@njit(cache=True)
def conv_sequences(x_nhwc, first_channel, cg, r_taps, s_taps, p_out, q_out, stride_h, stride_w, pad_h, pad_w,
                   dilation_h, dilation_w, keep_values):
    """Nonzero window columns of every output position (n, p, q), in that order, for the group whose channels are
    first_channel .. first_channel + cg - 1 of the input x_nhwc (N, H, W, C)."""
    n_batch, height, width, _ = x_nhwc.shape
    # Each pixel's nonzero channels of the group, ascending.
    pixel_start = np.zeros(n_batch * height * width + 1, dtype=np.int64)
    for pixel in range(n_batch * height * width):
        n, rest = divmod(pixel, height * width)
        h, w = divmod(rest, width)
        count = 0
        for c in range(cg):
            count += x_nhwc[n, h, w, first_channel + c] != 0
        pixel_start[pixel + 1] = pixel_start[pixel] + count
    pixel_channel = np.empty(pixel_start[-1], dtype=np.int32)
    pixel_value = np.empty(pixel_start[-1], dtype=np.float64)
    for pixel in range(n_batch * height * width):
        n, rest = divmod(pixel, height * width)
        h, w = divmod(rest, width)
        e = pixel_start[pixel]
        for c in range(cg):
            v = x_nhwc[n, h, w, first_channel + c]
            if v != 0:
                pixel_channel[e] = c
                pixel_value[e] = v
                e += 1
    n_vectors = n_batch * p_out * q_out
    vector_start = np.zeros(n_vectors + 1, dtype=np.int64)
    pixels = np.empty(r_taps * s_taps, dtype=np.int64)
    for m in range(n_vectors):
        count = 0
        _window_pixels(m, p_out, q_out, height, width, r_taps, s_taps, stride_h, stride_w, pad_h, pad_w, dilation_h,
                       dilation_w, pixels)
        for pixel in pixels:
            if pixel >= 0:
                count += pixel_start[pixel + 1] - pixel_start[pixel]
        vector_start[m + 1] = vector_start[m] + count
    columns = np.empty(vector_start[-1], dtype=np.int32)
    values = np.empty(vector_start[-1] if keep_values else 0, dtype=np.float64)
    for m in range(n_vectors):
        e = vector_start[m]
        _window_pixels(m, p_out, q_out, height, width, r_taps, s_taps, stride_h, stride_w, pad_h, pad_w, dilation_h,
                       dilation_w, pixels)
        for tap in range(r_taps * s_taps):
            pixel = pixels[tap]
            if pixel < 0:
                continue
            for f in range(pixel_start[pixel], pixel_start[pixel + 1]):
                columns[e] = tap * cg + pixel_channel[f]
                if keep_values:
                    values[e] = pixel_value[f]
                e += 1
    return vector_start, columns, values


@njit(cache=True)
def _window_pixels(m, p_out, q_out, height, width, r_taps, s_taps, stride_h, stride_w, pad_h, pad_w, dilation_h,
                   dilation_w, pixels):
    """Into `pixels`: the input pixel (n * H + h) * W + w under each tap r * S + s of output position m's window; -1
    in the padding."""
    n, rest = divmod(m, p_out * q_out)
    p, q = divmod(rest, q_out)
    pixels[:] = -1
    for r in range(r_taps):
        h = p * stride_h - pad_h + r * dilation_h
        if 0 <= h < height:
            for s in range(s_taps):
                w = q * stride_w - pad_w + s * dilation_w
                if 0 <= w < width:
                    pixels[r * s_taps + s] = (n * height + h) * width + w

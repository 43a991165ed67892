"""EIE's event-driven kernels (layout_jit, sequence_jit, rounds_jit), jitted and as pure Python (`.py_func`), against
the cycle-by-cycle walk that defines the model (cycle_walk_jit, itself worked by hand in tests/test_eie_jit.py) and
against numpy: every counter and the computed output equal, bit for bit, on random problems."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.dataflows.eie import cycle_walk_jit as walk
from accelsim.dataflows.eie import layout_jit, rounds_jit, sequence_jit
from accelsim.dataflows.eie.counters import N_COUNTERS
from accelsim.dataflows.eie.rounds import dense_layout

VARIANTS = ("jit", "py")
LEVELS = 1 << 8
SCALE = 0.05


def call(kernel, variant, *args):
    # Under NUMBA_DISABLE_JIT=1 kernels are plain functions without .py_func.
    return (kernel if variant == "jit" else getattr(kernel, "py_func", kernel))(*args)


def sparse(rng, shape, density):
    return np.round(rng.standard_normal(shape), 2) * (rng.random(shape) < density)


def walked(matrix, vectors, n_pes, rows_per_batch, max_run, store_zeros, skip, line_entries, depth, width,
           level_to_code, codebook):
    """Counters and output of the cycle-by-cycle walk."""
    histogram = np.zeros(LEVELS, dtype=np.int64)
    entries, padding, first_row, last_row = walk.column_stats(matrix, n_pes, rows_per_batch, max_run, store_zeros,
                                                              SCALE, histogram)
    starts = np.zeros(entries.size + 1, dtype=np.int64)
    np.cumsum(entries.ravel(), out=starts[1:])
    column_starts = starts[:-1].reshape(entries.shape)
    per_pe_batch = entries.sum(axis=2, dtype=np.int64)
    pe_line_base = np.cumsum(per_pe_batch, axis=0) - per_pe_batch
    codes, rows = walk.fill_entries(matrix, n_pes, rows_per_batch, max_run, store_zeros, column_starts,
                                    int(starts[-1]), SCALE, LEVELS, level_to_code)
    out = np.zeros((vectors.shape[0], matrix.shape[0]))
    counters = walk.simulate_rounds(vectors, entries, padding, first_row, last_row, column_starts, line_entries,
                                    pe_line_base, depth, width, skip, rows_per_batch, True, codes, rows, codebook,
                                    out)
    return counters, out


def events(variant, matrix, vectors, n_pes, rows_per_batch, max_run, store_zeros, skip, line_entries, depth, width,
           level_to_code, codebook):
    """Counters and output of the event-driven kernels, called as accelsim.dataflows.eie.rounds calls them."""
    weight = np.ascontiguousarray(matrix)[:, :, None]
    entries, padding, first_row, last_row, *_ = call(layout_jit.scan_weights, variant, weight, n_pes,
                                                     rows_per_batch, max_run, store_zeros)
    pairs = call(layout_jit.column_pairs, variant, entries, padding, first_row, last_row, line_entries)
    n_vectors, n_cols = vectors.shape
    vector_start, columns, values = call(sequence_jit.matrix_sequences, variant, vectors, True)
    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    timing = (n_cols, *pairs[:5], *pairs[6:9], n_pes, depth, width)
    if skip:
        call(rounds_jit.simulate_rounds, variant, vector_start, columns, *timing, counters)
    else:  # as rounds.run_layer does: one vector broadcasting every column, counted once per vector
        one_vector = np.zeros(N_COUNTERS, dtype=np.int64)
        call(rounds_jit.simulate_rounds, variant, np.array([0, n_cols]), np.arange(n_cols, dtype=np.int32),
             *timing, one_vector)
        counters += n_vectors * one_vector
    codes, rows = call(layout_jit.fill_entries, variant, weight, n_pes, rows_per_batch, max_run, store_zeros,
                       entries, SCALE, LEVELS, level_to_code)
    out = np.zeros((n_vectors, matrix.shape[0]))
    call(rounds_jit.accumulate_output, variant, vector_start, columns, values, n_cols, pairs[0], pairs[1], pairs[2],
         pairs[5], codes, rows, codebook, n_pes, rows_per_batch, out)
    return counters, out


def a_codebook(seed):
    """Any level -> code map and code -> value table: what matters is that both engines decode alike."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 16, LEVELS), np.concatenate([[0.0], np.round(rng.standard_normal(15), 3)])


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 100_000), rows=st.integers(1, 60), cols=st.integers(1, 24), n_vectors=st.integers(1, 3),
       n_pes=st.integers(1, 7), rows_per_batch=st.integers(1, 6), index_bits=st.integers(1, 4),
       depth=st.integers(1, 5), line_entries=st.integers(1, 8), scan=st.sampled_from(["pes", "ideal", "3"]),
       store_zeros=st.booleans(), skip=st.booleans())
def test_events_equal_the_walk(seed, rows, cols, n_vectors, n_pes, rows_per_batch, index_bits, depth, line_entries,
                               scan, store_zeros, skip):
    rng = np.random.default_rng(seed)
    matrix = sparse(rng, (rows, cols), rng.uniform(0.0, 0.9))
    vectors = sparse(rng, (n_vectors, cols), rng.uniform(0.0, 1.0))
    width = {"pes": n_pes, "ideal": 0, "3": 3}[scan]
    args = (matrix, vectors, n_pes, rows_per_batch, (1 << index_bits) - 1, store_zeros, skip, line_entries, depth,
            width, *a_codebook(seed))
    expected_counters, expected_out = walked(*args)
    counters, out = events("jit", *args)
    np.testing.assert_array_equal(counters, expected_counters)
    np.testing.assert_array_equal(out, expected_out)  # the same sums in the same order: bit for bit


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("skip", [True, False])
def test_events_equal_the_walk_as_pure_python(variant, skip):
    rng = np.random.default_rng(7)
    matrix, vectors = sparse(rng, (23, 17), 0.3), sparse(rng, (3, 17), 0.5)
    args = (matrix, vectors, 4, 3, 3, False, skip, 4, 2, 4, *a_codebook(7))
    expected_counters, expected_out = walked(*args)
    counters, out = events(variant, *args)
    np.testing.assert_array_equal(counters, expected_counters)
    np.testing.assert_array_equal(out, expected_out)


@pytest.mark.parametrize("variant", VARIANTS)
def test_scan_weights_equal_the_walks_layout(variant):
    rng = np.random.default_rng(3)
    weight = sparse(rng, (19, 5, 4), 0.2)  # (rows, C, taps): column tap * C + c
    matrix = weight.transpose(0, 2, 1).reshape(19, 20)
    for store_zeros in (False, True):
        layout = call(layout_jit.scan_weights, variant, weight, 3, 4, 3, store_zeros)
        histogram = np.zeros(LEVELS, dtype=np.int64)
        for got, expected in zip(layout[:4], walk.column_stats(matrix, 3, 4, 3, store_zeros, SCALE, histogram),
                                 strict=True):
            np.testing.assert_array_equal(got, expected)
        _, _, _, _, nonzeros_per_column, values, smallest, largest = layout
        np.testing.assert_array_equal(nonzeros_per_column, np.count_nonzero(matrix, axis=0))
        np.testing.assert_array_equal(np.sort(values), np.sort(matrix[matrix != 0]))
        assert (smallest, largest) == (min(matrix.min(), 0.0), max(matrix.max(), 0.0))


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 5), n_pes=st.integers(1, 9), rows_per_batch=st.integers(1, 7))
def test_the_dense_layout_is_the_scan_of_every_weight(rows, cols, n_pes, rows_per_batch):
    weight = np.zeros((rows, cols, 1))  # zeros everywhere: stored all the same
    expected = layout_jit.scan_weights(weight, n_pes, rows_per_batch, 1, True)[:4]
    for got, wanted in zip(dense_layout(rows, cols, n_pes, rows_per_batch), expected, strict=True):
        np.testing.assert_array_equal(got, wanted)
        assert got.dtype == wanted.dtype


@pytest.mark.parametrize("variant", VARIANTS)
def test_column_pairs_list_the_nonempty_pes(variant):
    rng = np.random.default_rng(5)
    weight = sparse(rng, (26, 9, 1), 0.25)
    entries, padding, first_row, last_row, *_ = layout_jit.scan_weights(weight, 4, 3, 3, False)
    column_start, pair_pe, pair_entries, pair_first, pair_last, pair_offset, real, pad, _, pe_entries = call(
        layout_jit.column_pairs, variant, entries, padding, first_row, last_row, 8)
    batches, _, n_cols = entries.shape
    offsets = (np.cumsum(entries.ravel()) - entries.ravel()).reshape(entries.shape)  # (batch, PE, column) order
    for b in range(batches):
        for j in range(n_cols):
            pairs = slice(column_start[b * n_cols + j], column_start[b * n_cols + j + 1])
            pes = np.flatnonzero(entries[b, :, j])
            np.testing.assert_array_equal(pair_pe[pairs], pes)
            np.testing.assert_array_equal(pair_entries[pairs], entries[b, pes, j])
            np.testing.assert_array_equal(pair_first[pairs], first_row[b, pes, j])
            np.testing.assert_array_equal(pair_last[pairs], last_row[b, pes, j])
            np.testing.assert_array_equal(pair_offset[pairs], offsets[b, pes, j])
            assert real[b * n_cols + j] == (entries - padding)[b, :, j].sum()
            assert pad[b * n_cols + j] == padding[b, :, j].sum()
    np.testing.assert_array_equal(pe_entries, entries.sum(axis=(0, 2)))


def im2col(x, r_taps, s_taps, stride, pad, dilation):
    """(N*P*Q, R*S*C) windows of an NCHW input in (r, s, c) column order, c fastest: the definition, in numpy."""
    n, _, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    p_out = (h + 2 * pad[0] - dilation[0] * (r_taps - 1) - 1) // stride[0] + 1
    q_out = (w + 2 * pad[1] - dilation[1] * (s_taps - 1) - 1) // stride[1] + 1
    rows = []
    for image in range(n):
        for p in range(p_out):
            for q in range(q_out):
                taps = [padded[image, :, p * stride[0] + r * dilation[0], q * stride[1] + s * dilation[1]]
                        for r in range(r_taps) for s in range(s_taps)]
                rows.append(np.concatenate(taps))
    return np.array(rows), p_out, q_out


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("shape", "rs", "stride", "pad", "dilation", "groups"), [
    ((2, 3, 6, 5), (3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((1, 4, 9, 7), (3, 2), (2, 1), (1, 0), (1, 2), 2),
    ((1, 2, 4, 4), (1, 1), (2, 2), (0, 0), (1, 1), 1),
])
def test_conv_sequences_are_the_im2col_windows(variant, shape, rs, stride, pad, dilation, groups):
    rng = np.random.default_rng(sum(shape))
    x = sparse(rng, shape, 0.5)
    cg = shape[1] // groups
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    for g in range(groups):
        windows, p_out, q_out = im2col(x[:, g * cg:(g + 1) * cg], *rs, stride, pad, dilation)
        vector_start, columns, values = call(sequence_jit.conv_sequences, variant, x_nhwc, g * cg, cg, *rs, p_out,
                                             q_out, *stride, *pad, *dilation, True)
        expected_start, expected_columns, expected_values = call(sequence_jit.matrix_sequences, "py", windows, True)
        np.testing.assert_array_equal(vector_start, expected_start)
        np.testing.assert_array_equal(columns, expected_columns)
        np.testing.assert_array_equal(values, expected_values)
        np.testing.assert_array_equal(values, windows[windows != 0])


@pytest.mark.parametrize("variant", VARIANTS)
def test_matrix_sequences_and_effectual_macs_against_numpy(variant):
    rng = np.random.default_rng(11)
    x, matrix = sparse(rng, (4, 13), 0.4), sparse(rng, (7, 13), 0.3)
    vector_start, columns, values = call(sequence_jit.matrix_sequences, variant, x, True)
    np.testing.assert_array_equal(np.diff(vector_start), np.count_nonzero(x, axis=1))
    np.testing.assert_array_equal(columns, np.nonzero(x)[1])
    np.testing.assert_array_equal(values, x[x != 0])
    assert call(sequence_jit.matrix_sequences, variant, x, False)[2].size == 0
    effectual = call(rounds_jit.effectual_macs, variant, columns, np.count_nonzero(matrix, axis=0))
    assert effectual == int(((x != 0).astype(np.int64) @ (matrix != 0).T.astype(np.int64)).sum())

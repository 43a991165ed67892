"""Properties of the sparse formats on random arrays: exact round trips, consistent storage accounting, and
agreement with plain-Python reference encoders written from the format definitions (element by element, so
that they share no logic with the vectorised encoders)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.formats import FORMATS, encode

SETTINGS = settings(max_examples=75, deadline=None)
DTYPES = [np.float32, np.float64, np.int8, np.int32, np.float16]


@st.composite
def sparse_arrays(draw, ndim: int | None = 2, max_side: int = 40) -> np.ndarray:
    """Arrays from all-zero to dense; tall shapes so that 1- to 4-bit run fields overflow often."""
    ndim = draw(st.integers(1, 3)) if ndim is None else ndim
    shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=ndim, max_size=ndim)))
    density = draw(st.sampled_from([0.0, 0.02, 0.1, 0.4, 1.0]))
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(1, 100, size=shape) * rng.choice([-1, 1], size=shape)
    return np.where(rng.random(shape) < density, values, 0).astype(dtype)


def params_for(name: str, draw_int) -> dict:
    if name == "bitmask":
        return {"chunk_size": draw_int(1, 20)} if draw_int(0, 1) else {}
    if name == "rle":
        return {"run_bits": draw_int(1, 5), "order": "CF"[draw_int(0, 1)]}
    if name == "eie":
        return {"n_pes": draw_int(1, 9), "index_bits": draw_int(1, 5), "pointer_bits": 32}
    return {}


@SETTINGS
@given(array=sparse_arrays(), name=st.sampled_from(list(FORMATS)), data=st.data())
def test_round_trip_and_accounting(array, name, data):
    params = params_for(name, lambda lo, hi: data.draw(st.integers(lo, hi)))
    enc = encode(array, name, **params)
    result = enc.decode()
    assert result.shape == array.shape and result.dtype == array.dtype
    np.testing.assert_array_equal(result, array)
    assert enc.nnz == np.count_nonzero(array)
    assert enc.stored_entries == enc.nnz + enc.padding_entries
    assert enc.data_bits == enc.stored_entries * enc.value_bits
    assert enc.total_bits == enc.data_bits + enc.metadata_bits


@SETTINGS
@given(array=sparse_arrays(ndim=None), chunked=st.booleans())
def test_bitmask_any_ndim(array, chunked):
    enc = encode(array, "bitmask", chunk_size=16 if chunked else None)
    np.testing.assert_array_equal(enc.decode(), array)
    expected_mask_bits = -(-array.size // 16) * 16 if chunked else array.size
    assert enc.mask_bits == expected_mask_bits


def rle_reference(sequence, max_run: int) -> list[tuple[int, float]]:
    """Streaming run-length encoder: a zero that arrives when the run field is already full becomes a padding
    entry. Padding entries after the last nonzero are dropped, as the format stores no trailing zeros."""
    entries, zeros = [], 0
    for x in sequence:
        if x != 0:
            entries.append((zeros, x))
            zeros = 0
        elif zeros == max_run:
            entries.append((max_run, 0))
            zeros = 0
        else:
            zeros += 1
    while entries and entries[-1][1] == 0:
        entries.pop()
    return entries


@SETTINGS
@given(array=sparse_arrays(ndim=None, max_side=50), run_bits=st.integers(1, 5), order=st.sampled_from("CF"))
def test_rle_matches_reference(array, run_bits, order):
    enc = encode(array, "rle", run_bits=run_bits, order=order)
    expected = rle_reference(array.reshape(-1, order=order).tolist(), 2**run_bits - 1)
    assert list(zip(enc.runs.tolist(), enc.values.tolist(), strict=True)) == expected
    assert enc.padding_entries == sum(1 for _, value in expected if value == 0)


@SETTINGS
@given(array=sparse_arrays(max_side=60), n_pes=st.integers(1, 9), index_bits=st.integers(1, 5))
def test_eie_matches_reference(array, n_pes, index_bits):
    enc = encode(array, "eie", n_pes=n_pes, index_bits=index_bits, pointer_bits=32)
    n_cols = array.shape[1]
    for pe in range(n_pes):
        local_rows = array[pe::n_pes]  # rows pe, pe + n_pes, ...
        entries, pointers = [], [0]
        for col in range(n_cols):
            entries += rle_reference(local_rows[:, col].tolist(), 2**index_bits - 1)
            pointers.append(len(entries))
        arrays = enc.pe(pe)
        assert list(zip(arrays.rel_index.tolist(), arrays.values.tolist(), strict=True)) == entries
        assert arrays.col_pointers.tolist() == pointers
        assert arrays.padding_entries == sum(1 for _, value in entries if value == 0)


@SETTINGS
@given(array=sparse_arrays())
def test_csr_csc_match_reference(array):
    csr, csc = encode(array, "csr"), encode(array, "csc")
    rows, cols = array.shape
    row_entries = [(c, array[r, c]) for r in range(rows) for c in range(cols) if array[r, c] != 0]
    col_entries = [(r, array[r, c]) for c in range(cols) for r in range(rows) if array[r, c] != 0]
    assert list(zip(csr.indices.tolist(), csr.values.tolist(), strict=True)) == row_entries
    assert list(zip(csc.indices.tolist(), csc.values.tolist(), strict=True)) == col_entries
    assert csr.pointers.tolist() == [0, *np.cumsum(np.count_nonzero(array, axis=1)).tolist()]
    assert csc.pointers.tolist() == [0, *np.cumsum(np.count_nonzero(array, axis=0)).tolist()]

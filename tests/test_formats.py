"""Sparse formats on hand-worked examples: storage bits, padding counts and layouts computed by hand in the
comments, round trips on edge-case arrays, and the errors for bad parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from accelsim.formats import CSC, CSR, EIE, FORMATS, RLE, Bitmask, decode, encode, encoder, storage_bits
from accelsim.formats import eie as eie_format
from accelsim.formats import rle as rle_format

# 2 x 4, nonzeros 3 at (0, 1), (1, 0), (1, 3); C-order flat: [0, 3, 0, 0, 5, 0, 0, 7].
SMALL = np.array([[0, 3, 0, 0], [5, 0, 0, 7]], dtype=np.float32)


def test_registry_names():
    assert set(FORMATS) == {"bitmask", "csr", "csc", "rle", "eie"}
    assert encoder("csr") is FORMATS["csr"]


# --- bitmask ---------------------------------------------------------------------------------------------------


def test_bitmask_unchunked_bits():
    enc = encode(SMALL, "bitmask")
    assert isinstance(enc, Bitmask)
    # data: 3 values x 16 bits = 48; metadata: 8 mask bits, no pointers.
    assert (enc.data_bits, enc.metadata_bits, enc.total_bits) == (48, 8, 56)
    assert enc.stored_entries == 3 and enc.padding_entries == 0
    assert enc.values.tolist() == [3, 5, 7]


def test_bitmask_chunked_bits():
    enc = encode(SMALL, "bitmask", chunk_size=3)
    # 8 elements in chunks of 3 -> 3 chunks: [0 3 0] [0 5 0] [0 7 (pad)]; one nonzero each.
    # masks: 3 x 3 = 9 bits (last chunk padded to full width); pointers: ceil(log2 8) = 3 bits x 3 = 9.
    assert enc.chunk_pointers.tolist() == [0, 1, 2]
    assert (enc.data_bits, enc.metadata_bits) == (48, 18)
    enc = encode(SMALL, "bitmask", chunk_size=4, pointer_bits=5, value_bits=8)
    # 2 chunks: masks 8 bits, pointers 2 x 5 = 10, data 3 x 8 = 24 -> 42.
    assert enc.chunk_pointers.tolist() == [0, 1]
    assert enc.total_bits == 42


def test_bitmask_pointer_too_narrow():
    # chunk_size 1: pointers are nonzeros before each element: [0, 0, 1, 1, 1, 2, 2, 2]; 2 needs 2 bits.
    with pytest.raises(ValueError, match="pointer_bits=1 cannot hold 2"):
        encode(SMALL, "bitmask", chunk_size=1, pointer_bits=1)
    assert encode(SMALL, "bitmask", chunk_size=1, pointer_bits=2).n_chunks == 8


# --- CSR / CSC -------------------------------------------------------------------------------------------------


def test_csr_bits_and_layout():
    enc = encode(SMALL, "csr")
    assert isinstance(enc, CSR)
    assert enc.values.tolist() == [3, 5, 7]
    assert enc.indices.tolist() == [1, 0, 3]
    assert enc.pointers.tolist() == [0, 1, 3]
    # column index: ceil(log2 4) = 2 bits; pointer: ceil(log2(8 + 1)) = 4 bits, 2 rows + 1 = 3 pointers.
    assert (enc.index_bits, enc.pointer_bits) == (2, 4)
    # data 3 x 16 = 48; metadata 3 x 2 + 3 x 4 = 18.
    assert (enc.data_bits, enc.metadata_bits, enc.total_bits) == (48, 18, 66)
    assert storage_bits(SMALL, "csr") == 66


def test_csc_bits_and_layout():
    enc = encode(SMALL, "csc")
    assert isinstance(enc, CSC)
    assert enc.values.tolist() == [5, 3, 7]
    assert enc.indices.tolist() == [1, 0, 1]
    assert enc.pointers.tolist() == [0, 1, 2, 2, 3]
    # row index: ceil(log2 2) = 1 bit; 4 columns + 1 = 5 pointers of 4 bits; metadata 3 x 1 + 5 x 4 = 23.
    assert (enc.data_bits, enc.metadata_bits, enc.total_bits) == (48, 23, 71)


def test_csr_explicit_widths():
    # 3 x 8 (values) + 3 x 8 (indices) + 3 x 16 (pointers) = 96.
    assert storage_bits(SMALL, "csr", value_bits=8, index_bits=8, pointer_bits=16) == 96
    with pytest.raises(ValueError, match="index_bits=1 cannot hold 3"):
        encode(SMALL, "csr", index_bits=1)  # column 3 needs 2 bits
    with pytest.raises(ValueError, match="pointer_bits=1 cannot hold 3"):
        encode(SMALL, "csr", pointer_bits=1)  # end pointer 3 needs 2 bits


def test_csr_one_by_one():
    # index and pointer widths are at least 1 bit: 16 + 1 x 1 + 2 x 1 = 19.
    assert storage_bits(np.array([[7.0]]), "csr") == 19


# --- RLE -------------------------------------------------------------------------------------------------------


def test_rle_bits_and_layout():
    enc = encode(np.array([0, 0, 5, 0, 0, 0, 7, 0, 0]), "rle")
    assert isinstance(enc, RLE)
    # (2 zeros, 5), (3 zeros, 7); trailing zeros not stored. 2 x (16 + 4) = 40 bits.
    assert enc.runs.tolist() == [2, 3] and enc.values.tolist() == [5, 7]
    assert (enc.data_bits, enc.metadata_bits, enc.padding_entries) == (32, 8, 0)


@pytest.mark.parametrize(
    ("gap", "runs", "padding"),
    [
        (15, [15], 0),  # fits the 4-bit field
        (16, [15, 0], 1),  # padding skips 15 and is the 16th zero
        (31, [15, 15], 1),  # 15 + 1 + 15
        (32, [15, 15, 0], 2),  # 15 + 1 + 15 + 1
    ],
)
def test_rle_padding_at_run_limit(gap, runs, padding):
    vector = np.zeros(gap + 1)
    vector[gap] = 9.0
    enc = encode(vector, "rle", run_bits=4)
    assert enc.runs.tolist() == runs
    assert enc.values.tolist() == [0.0] * padding + [9.0]
    assert enc.padding_entries == padding and enc.stored_entries == padding + 1
    assert enc.data_bits == (padding + 1) * 16


def test_rle_two_bit_runs():
    # max run 3: gap 4 = 3 + 1 (padding) + 0.
    enc = encode(np.array([0, 0, 0, 0, 9]), "rle", run_bits=2)
    assert enc.runs.tolist() == [3, 0] and enc.values.tolist() == [0, 9]
    assert enc.total_bits == 2 * (16 + 2)


def test_rle_flattening_order():
    matrix = np.array([[0, 1], [2, 0]])
    c_order = encode(matrix, "rle")  # [0, 1, 2, 0]
    f_order = encode(matrix, "rle", order="F")  # [0, 2, 1, 0]
    assert c_order.values.tolist() == [1, 2] and c_order.runs.tolist() == [1, 0]
    assert f_order.values.tolist() == [2, 1] and f_order.runs.tolist() == [1, 0]
    np.testing.assert_array_equal(f_order.decode(), matrix)


# --- EIE -------------------------------------------------------------------------------------------------------


def test_eie_paper_example():
    # EIE Sec. III-B: [0, 0, 1, 2, 18 zeros, 3] -> v = [1, 2, 0, 3], z = [2, 0, 15, 2].
    column = np.array([0, 0, 1, 2] + [0] * 18 + [3], dtype=np.float32).reshape(-1, 1)
    enc = encode(column, "eie", n_pes=1)
    assert isinstance(enc, EIE)
    assert enc.values.tolist() == [1, 2, 0, 3]
    assert enc.rel_index.tolist() == [2, 0, 15, 2]
    assert enc.col_pointers.tolist() == [[0, 4]]
    assert enc.padding_entries == 1
    # 4 entries x (4 + 4) bits + 2 pointers x 16 bits = 64.
    assert (enc.data_bits, enc.metadata_bits) == (16, 48)


@pytest.mark.parametrize("n_pes", [1, 2, 3])
def test_eie_gap_of_19_in_local_rows(n_pes):
    # Nonzeros at local rows 0 and 20 of one PE: 19 zeros between = 15 + 1 (padding, local row 16) + 3.
    weight = np.zeros((21 * n_pes, 1))
    pe = n_pes - 1
    weight[0 * n_pes + pe, 0] = 1.5
    weight[20 * n_pes + pe, 0] = 2.5
    arrays = encode(weight, "eie", n_pes=n_pes).pe(pe)
    assert arrays.values.tolist() == [1.5, 0.0, 2.5]
    assert arrays.rel_index.tolist() == [0, 15, 3]
    assert arrays.col_pointers.tolist() == [0, 3]
    assert arrays.padding_entries == 1


@pytest.mark.parametrize(("gap", "padding"), [(15, 0), (16, 1), (31, 1), (32, 2)])
def test_eie_padding_at_run_limit(gap, padding):
    weight = np.zeros((gap + 1, 2))
    weight[gap, 1] = 4.0  # column 0 stays empty
    enc = encode(weight, "eie", n_pes=1)
    assert enc.padding_entries == padding
    assert enc.col_pointers.tolist() == [[0, 0, padding + 1]]


def test_eie_rows_interleaved_over_pes():
    weight = np.zeros((8, 3))
    weight[5, 1] = 7  # PE 1, local row 1
    weight[2, 0] = 4  # PE 2, local row 0
    weight[6, 0] = 6  # PE 2, local row 1
    weight[3, 2] = 8  # PE 3, local row 0
    weight[7, 2] = 9  # PE 3, local row 1
    enc = encode(weight, "eie", n_pes=4)
    expected = {
        0: ([], [], [0, 0, 0, 0]),
        1: ([7], [1], [0, 0, 1, 1]),
        2: ([4, 6], [0, 0], [0, 2, 2, 2]),
        3: ([8, 9], [0, 0], [0, 0, 0, 2]),
    }
    for pe, (values, rel_index, pointers) in expected.items():
        arrays = enc.pe(pe)
        assert arrays.values.tolist() == values
        assert arrays.rel_index.tolist() == rel_index
        assert arrays.col_pointers.tolist() == pointers
    assert enc.entries_per_pe.tolist() == [0, 1, 2, 2]
    # 5 entries x (4 + 4) = 40; pointers 4 PEs x 4 x 16 = 256.
    assert (enc.data_bits, enc.metadata_bits, enc.total_bits) == (20, 276, 296)


def test_eie_pointer_overflow():
    weight = np.ones((4, 1))
    assert encode(weight, "eie", n_pes=2, pointer_bits=2).col_pointers.tolist() == [[0, 2], [0, 2]]
    with pytest.raises(ValueError, match="pointer_bits=2 cannot hold 4"):
        encode(weight, "eie", n_pes=1, pointer_bits=2)


def test_eie_pe_index_checked():
    with pytest.raises(ValueError, match="PE index"):
        encode(np.ones((2, 2)), "eie", n_pes=2).pe(2)


# --- round trips on edge cases ----------------------------------------------------------------------------------

EDGE_CASES = {
    "all_zero": np.zeros((5, 7), dtype=np.float32),
    "all_dense": np.arange(1, 36, dtype=np.float32).reshape(5, 7),
    "one_by_one": np.array([[3.0]]),
    "one_by_one_zero": np.array([[0.0]]),
    "empty_column": np.array([[1, 0, 2], [3, 0, 0], [0, 0, 4]], dtype=np.int16),
    "no_rows": np.zeros((0, 4)),
    "no_cols": np.zeros((4, 0)),
    "bool": np.array([[True, False], [False, True]]),
    "int8_negative": np.array([[-128, 0], [0, 127]], dtype=np.int8),
    "float16": np.array([[0.5, 0], [0, -2]], dtype=np.float16),
    "long_gaps": np.eye(70, 3, k=-40) * 5.0,
}
PARAMS = {"eie": [{"n_pes": 1}, {"n_pes": 4}, {"n_pes": 64}], "bitmask": [{}, {"chunk_size": 3}]}


@pytest.mark.parametrize("case", list(EDGE_CASES))
@pytest.mark.parametrize("name", list(FORMATS))
def test_round_trip_edge_cases(name, case):
    array = EDGE_CASES[case]
    for params in PARAMS.get(name, [{}]):
        enc = encode(array, name, **params)
        result = decode(enc)
        assert result.shape == array.shape and result.dtype == array.dtype
        np.testing.assert_array_equal(result, array)
        assert enc.nnz == np.count_nonzero(array)
        assert enc.total_bits == enc.data_bits + enc.metadata_bits


def test_nd_arrays_for_flat_formats():
    array = np.zeros((2, 3, 4, 5))
    array[1, 2, 3, 4] = 1.0
    array[0, 1, 0, 2] = -3.0
    for name in ("bitmask", "rle"):
        np.testing.assert_array_equal(encode(array, name).decode(), array)


def test_encoded_is_frozen():
    enc = encode(SMALL, "csr")
    with pytest.raises(dataclasses.FrozenInstanceError):
        enc.index_bits = 3
    with pytest.raises(ValueError, match="read-only"):
        enc.values[0] = 1.0


# --- errors ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("bitmask", {"chunk_size": 0}, "chunk_size must be an integer >= 1"),
        ("bitmask", {"value_bits": 0}, "value_bits must be an integer >= 1"),
        ("bitmask", {"pointer_bits": 4}, "pointer_bits applies only to a chunked bitmask"),
        ("csr", {"index_bits": 0}, "index_bits must be an integer >= 1"),
        ("csc", {"pointer_bits": -1}, "pointer_bits must be an integer >= 1"),
        ("rle", {"run_bits": 0}, "run_bits must be an integer >= 1"),
        ("rle", {"run_bits": 2.5}, "run_bits must be an integer >= 1"),
        ("rle", {"order": "K"}, "order must be one of C, F"),
        ("eie", {"n_pes": 0}, "n_pes must be an integer >= 1"),
        ("eie", {"index_bits": 0}, "index_bits must be an integer >= 1"),
        ("eie", {"value_bits": True}, "value_bits must be an integer >= 1"),
    ],
)
def test_bad_parameters(name, params, message):
    with pytest.raises(ValueError, match=f"{name}: {message}"):
        encode(SMALL, name, **params)


@pytest.mark.parametrize("name", ["csr", "csc", "eie"])
@pytest.mark.parametrize("shape", [(4,), (2, 2, 2)])
def test_matrix_formats_need_2d(name, shape):
    with pytest.raises(ValueError, match=f"{name}: needs a 2-D array, got {len(shape)}-D"):
        encode(np.ones(shape), name)


def test_non_numeric_rejected():
    with pytest.raises(ValueError, match="numeric"):
        rle_format.encode(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="numeric"):
        eie_format.encode(np.array([[1 + 2j]]))


def test_unknown_format_suggests():
    with pytest.raises(ValueError, match="known formats: bitmask, csr, csc, rle, eie; did you mean 'csr'"):
        storage_bits(SMALL, "crs")

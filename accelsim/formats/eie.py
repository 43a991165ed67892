"""EIE's interleaved CSC with relative row indices (Han et al., "EIE", ISCA 2016, Sec. III-B).

The weight matrix W has shape (rows = outputs, cols = inputs). Row i belongs to PE i mod n_pes, where it is local
row i // n_pes. Each PE holds its own CSC of its local rows: for every column j, entries (v, z) in local-row
order, where z is the number of zeros in that PE's local rows of column j since the previous stored entry of the
column (or since local row 0). z has `index_bits` bits, so its largest value is M = 2^index_bits - 1 (15 for
EIE's 4 bits). A longer gap is bridged by a padding entry (v = 0, z = M): it skips M zeros and is itself the
next zero, consuming M + 1 local rows. A gap of g zeros needs g // (M + 1) padding entries and leaves
z = g % (M + 1) for the nonzero that follows. The paper's example, column
[0, 0, 1, 2, then 18 zeros, 3], is v = [1, 2, 0, 3], z = [2, 0, 15, 2]: 18 = 15 + 1 (the padding) + 2.
Zeros after a column's last nonzero are not stored.

Each PE also holds column pointers p_0..p_cols (cols + 1 of them, `pointer_bits` wide, offsets into that PE's
own entries): column j's entries are [p_j, p_{j+1}).

Values are kept raw (original dtype) for functional checks, but counted at `value_bits` per entry, 4 by default
because EIE stores a 4-bit codebook index; quantisation to that codebook is not done here.
Storage: entries * (value_bits + index_bits) + n_pes * (cols + 1) * pointer_bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from accelsim.formats.base import Encoded, check_array, check_int, flat_nonzero, read_only
from accelsim.formats.runs import decode_positions, encode_runs, max_run_for

NAME = "eie"


class PEArrays(NamedTuple):
    """What one PE's sparse-matrix and pointer SRAMs hold."""

    values: np.ndarray
    rel_index: np.ndarray
    """z of each entry: zeros of the PE's local rows since the previous entry of the column."""
    col_pointers: np.ndarray
    """cols + 1 offsets into this PE's `values` and `rel_index`."""
    padding_entries: int


@dataclass(frozen=True, eq=False)
class EIE(Encoded):
    """All PEs' arrays concatenated PE after PE (flat arrays suit numba kernels); `pe(p)` slices one out."""

    n_pes: int
    index_bits: int
    pointer_bits: int
    values: np.ndarray
    """Stored values of every PE, padding entries (zeros) included; original dtype."""
    rel_index: np.ndarray
    """z of every stored entry (2^index_bits - 1 for a padding entry)."""
    col_pointers: np.ndarray
    """(n_pes, cols + 1): each PE's column pointers, relative to that PE's first entry."""
    pe_offsets: np.ndarray
    """(n_pes + 1,): PE p's entries are values[pe_offsets[p]:pe_offsets[p + 1]]."""
    padding_per_pe: np.ndarray
    """(n_pes,): padding entries of each PE."""

    @property
    def stored_entries(self) -> int:
        return int(self.values.size)

    @property
    def padding_entries(self) -> int:
        return int(self.padding_per_pe.sum())

    @property
    def entries_per_pe(self) -> np.ndarray:
        return np.diff(self.pe_offsets)

    @property
    def metadata_bits(self) -> int:
        return self.stored_entries * self.index_bits + self.col_pointers.size * self.pointer_bits

    def pe(self, p: int) -> PEArrays:
        """The arrays PE `p` walks, as views into the flat arrays."""
        if not 0 <= p < self.n_pes:
            raise ValueError(f"{NAME}: PE index must be in 0..{self.n_pes - 1}, got {p}")
        start, stop = self.pe_offsets[p], self.pe_offsets[p + 1]
        return PEArrays(
            self.values[start:stop], self.rel_index[start:stop], self.col_pointers[p], int(self.padding_per_pe[p])
        )

    def decode(self) -> np.ndarray:
        n_cols = self.shape[1]
        entries_per_group = np.diff(self.col_pointers, axis=1).reshape(-1)  # group = pe * cols + col
        group, local_row = decode_positions(self.rel_index, entries_per_group)
        pe, col = np.divmod(group, max(n_cols, 1))
        flat = np.zeros(int(np.prod(self.shape, dtype=np.int64)), dtype=self.dtype)
        # Padding entries write the zero they stand for.
        flat[(local_row * self.n_pes + pe) * n_cols + col] = self.values
        return flat.reshape(self.shape)


def encode(
    weight: np.ndarray, *, n_pes: int = 64, value_bits: int = 4, index_bits: int = 4, pointer_bits: int = 16
) -> EIE:
    """EIE encoding of a 2-D weight (outputs, inputs) over `n_pes` PEs (64 in the paper). Raises ValueError if a
    PE's entries outnumber what a `pointer_bits` pointer can address."""
    matrix = check_array(NAME, weight, ndim=2)
    n_pes = check_int(NAME, "n_pes", n_pes)
    value_bits = check_int(NAME, "value_bits", value_bits)
    index_bits = check_int(NAME, "index_bits", index_bits)
    pointer_bits = check_int(NAME, "pointer_bits", pointer_bits)
    n_rows, n_cols = matrix.shape
    local_rows_max = max(-(-n_rows // n_pes), 1)
    rows, cols = np.divmod(flat_nonzero(matrix), max(n_cols, 1))
    local_row, pe = np.divmod(rows, n_pes)
    # One sort of unique keys orders the nonzeros by PE, then column, then local row.
    group, local_row = np.divmod(np.sort((pe * n_cols + cols) * local_rows_max + local_row), local_rows_max)
    pe, cols = np.divmod(group, max(n_cols, 1))
    runs = encode_runs(group, local_row, n_pes * n_cols, max_run_for(index_bits))
    values = np.zeros(runs.runs.size, dtype=matrix.dtype)
    values[runs.slots] = matrix[local_row * n_pes + pe, cols]
    col_pointers = np.zeros((n_pes, n_cols + 1), dtype=np.int64)
    np.cumsum(runs.entries_per_group.reshape(n_pes, n_cols), axis=1, out=col_pointers[:, 1:])
    pe_offsets = np.zeros(n_pes + 1, dtype=np.int64)
    np.cumsum(col_pointers[:, -1], out=pe_offsets[1:])
    largest_pe = int(np.argmax(col_pointers[:, -1]))
    largest = int(col_pointers[largest_pe, -1])
    if largest >= 1 << pointer_bits:
        raise ValueError(
            f"{NAME}: pointer_bits={pointer_bits} cannot hold {largest}, the entry count of PE {largest_pe} "
            f"(padding included); use pointer_bits >= {largest.bit_length()} or more PEs"
        )
    return EIE(
        shape=matrix.shape,
        dtype=matrix.dtype,
        value_bits=value_bits,
        n_pes=n_pes,
        index_bits=index_bits,
        pointer_bits=pointer_bits,
        values=read_only(values),
        rel_index=read_only(runs.runs),
        col_pointers=read_only(col_pointers),
        pe_offsets=read_only(pe_offsets),
        padding_per_pe=read_only(runs.padding_per_group.reshape(n_pes, n_cols).sum(axis=1)),
    )

"""CSR and CSC: the nonzeros of a 2-D matrix grouped by row (CSR) or column (CSC), each with its index along the
other axis, plus one pointer per row (column) into the values and a final end pointer.

Widths, unless given: an index addresses one of the minor dimension's positions, ceil(log2(minor)) bits; a
pointer holds an offset 0..rows*cols into the values (the end pointer of a dense matrix equals rows*cols),
ceil(log2(rows*cols + 1)) bits. Both are fixed by the dimensions, as a hardware buffer's fields would be, not by
this matrix's nonzero count. Storage: nnz * (value_bits + index_bits) + (major + 1) * pointer_bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from accelsim.formats.base import (
    Encoded,
    check_array,
    check_int,
    count_bits_for,
    flat_nonzero,
    index_bits_for,
    read_only,
    resolve_width,
)


@dataclass(frozen=True, eq=False)
class Compressed(Encoded):
    """Shared by CSR and CSC; `major_axis` says which dimension the pointers run over."""

    major_axis: ClassVar[int]
    values: np.ndarray
    """Nonzeros, major-axis group after group, minor index ascending within a group; original dtype."""
    indices: np.ndarray
    """Minor-axis index of each value (CSR: column, CSC: row)."""
    pointers: np.ndarray
    """major + 1 offsets: the values of row (CSR) or column (CSC) m are values[pointers[m]:pointers[m + 1]]."""
    index_bits: int
    pointer_bits: int

    @property
    def stored_entries(self) -> int:
        return int(self.values.size)

    @property
    def metadata_bits(self) -> int:
        return self.values.size * self.index_bits + self.pointers.size * self.pointer_bits

    def decode(self) -> np.ndarray:
        major = np.repeat(np.arange(self.shape[self.major_axis], dtype=np.int64), np.diff(self.pointers))
        rows, cols = (major, self.indices) if self.major_axis == 0 else (self.indices, major)
        flat = np.zeros(int(np.prod(self.shape, dtype=np.int64)), dtype=self.dtype)
        flat[rows * self.shape[1] + cols] = self.values
        return flat.reshape(self.shape)


@dataclass(frozen=True, eq=False)
class CSR(Compressed):
    major_axis: ClassVar[int] = 0


@dataclass(frozen=True, eq=False)
class CSC(Compressed):
    major_axis: ClassVar[int] = 1


def _compress(
    cls: type[Compressed],
    name: str,
    array: np.ndarray,
    value_bits: int,
    index_bits: int | None,
    pointer_bits: int | None,
) -> Compressed:
    matrix = check_array(name, array, ndim=2)
    value_bits = check_int(name, "value_bits", value_bits)
    major_axis = cls.major_axis
    n_major, n_minor = matrix.shape[major_axis], matrix.shape[1 - major_axis]
    n_rows, n_cols = matrix.shape
    # C-order positions are already in CSR order (by row, columns ascending within a row).
    rows, cols = np.divmod(flat_nonzero(matrix), max(n_cols, 1))
    if major_axis == 0:
        major, minor = rows, cols
    else:
        # Sorting unique column-major keys gives CSC order, faster than a stable argsort by column.
        major, minor = np.divmod(np.sort(cols * n_rows + rows), max(n_rows, 1))
        rows, cols = minor, major
    values = matrix[rows, cols]
    pointers = np.zeros(n_major + 1, dtype=np.int64)
    np.cumsum(np.bincount(major, minlength=n_major), out=pointers[1:])
    largest_index = int(minor.max()) if minor.size else 0
    index_bits = resolve_width(name, "index_bits", index_bits, index_bits_for(n_minor), largest_index)
    pointer_bits = resolve_width(name, "pointer_bits", pointer_bits, count_bits_for(matrix.size), values.size)
    return cls(
        shape=matrix.shape,
        dtype=matrix.dtype,
        value_bits=value_bits,
        values=read_only(values),
        indices=read_only(minor.astype(np.int64)),
        pointers=read_only(pointers),
        index_bits=index_bits,
        pointer_bits=pointer_bits,
    )


def encode_csr(
    array: np.ndarray, *, value_bits: int = 16, index_bits: int | None = None, pointer_bits: int | None = None
) -> CSR:
    """CSR of a 2-D array (rows, cols): column indices and row pointers."""
    return _compress(CSR, "csr", array, value_bits, index_bits, pointer_bits)


def encode_csc(
    array: np.ndarray, *, value_bits: int = 16, index_bits: int | None = None, pointer_bits: int | None = None
) -> CSC:
    """CSC of a 2-D array (rows, cols): row indices and column pointers."""
    return _compress(CSC, "csc", array, value_bits, index_bits, pointer_bits)

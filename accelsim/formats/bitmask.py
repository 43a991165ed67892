"""Bitmask format (SparTen's "SparseMap", Gondimalla et al., MICRO 2019): one presence bit per element plus the
nonzero values packed in order.

The array is flattened in C order. Unchunked, the metadata is the mask alone. Chunked (SparTen uses 128-element
chunks so that one mask fits a hardware register), each chunk stores a `chunk_size`-bit mask, the last chunk
padded to full width because the register is, and a pointer to its first value in the packed values; the
pointer lets a chunk be fetched without scanning the masks before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.formats.base import Encoded, check_array, check_int, index_bits_for, read_only, resolve_width

NAME = "bitmask"


@dataclass(frozen=True, eq=False)
class Bitmask(Encoded):
    mask: np.ndarray
    """Presence bit of every element, flattened in C order (bool)."""
    values: np.ndarray
    """The nonzeros in C order, original dtype."""
    chunk_size: int | None
    """Elements per chunk, or None for one mask over the whole array without pointers."""
    chunk_pointers: np.ndarray
    """Index in `values` of each chunk's first value (empty when unchunked)."""
    pointer_bits: int
    """Width of a chunk pointer (0 when unchunked)."""

    @property
    def stored_entries(self) -> int:
        return int(self.values.size)

    @property
    def n_chunks(self) -> int:
        return int(self.chunk_pointers.size)

    @property
    def mask_bits(self) -> int:
        if self.chunk_size is None:
            return int(self.mask.size)
        return self.n_chunks * self.chunk_size

    @property
    def metadata_bits(self) -> int:
        return self.mask_bits + self.n_chunks * self.pointer_bits

    def decode(self) -> np.ndarray:
        flat = np.zeros(self.mask.size, dtype=self.dtype)
        np.place(flat, self.mask, self.values)
        return flat.reshape(self.shape)


def encode(
    array: np.ndarray,
    *,
    value_bits: int = 16,
    chunk_size: int | None = None,
    pointer_bits: int | None = None,
) -> Bitmask:
    """Bitmask of an array of any shape. `pointer_bits` (chunked only) defaults to ceil(log2(size)), enough to
    point at any element of the flattened array."""
    array = check_array(NAME, array)
    value_bits = check_int(NAME, "value_bits", value_bits)
    flat = array.reshape(-1)
    mask = flat != 0
    position = np.nonzero(mask)[0]
    values = flat[position]
    if chunk_size is None:
        if pointer_bits is not None:
            raise ValueError(f"{NAME}: pointer_bits applies only to a chunked bitmask; give chunk_size too")
        pointers = np.zeros(0, dtype=np.int64)
        pointer_bits = 0
    else:
        chunk_size = check_int(NAME, "chunk_size", chunk_size)
        n_chunks = -(-flat.size // chunk_size)
        per_chunk = np.bincount(position // chunk_size, minlength=n_chunks)
        pointers = np.zeros(n_chunks, dtype=np.int64)
        np.cumsum(per_chunk[:-1], out=pointers[1:])
        largest = int(pointers.max()) if pointers.size else 0
        pointer_bits = resolve_width(NAME, "pointer_bits", pointer_bits, index_bits_for(flat.size), largest)
    return Bitmask(
        shape=array.shape,
        dtype=array.dtype,
        value_bits=value_bits,
        mask=read_only(mask),
        values=read_only(values),
        chunk_size=chunk_size,
        chunk_pointers=read_only(pointers),
        pointer_bits=pointer_bits,
    )


def chunked_bits(size: int, nonzeros: int, *, value_bits: int, chunk_size: int) -> tuple[int, int]:
    """(total bits, pointer bits) of `encode(array, value_bits=..., chunk_size=...)` for an array of `size` elements
    with `nonzeros` nonzeros, from the counts alone: every chunk's full mask and a default-width pointer, plus the
    values. For a caller that has counted the nonzeros already."""
    pointer_bits = index_bits_for(size)
    return nonzeros * value_bits + -(-size // chunk_size) * (chunk_size + pointer_bits), pointer_bits

"""What every sparse format shares: the `Encoded` base with its storage accounting, and the argument checks and
bit-width rules the encoders use.

Storage counts only what a format keeps in memory next to the values: the shape, dtype and the format's own
parameters (widths, chunk size, number of PEs) are configuration, held in registers, and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUMERIC_KINDS = "biuf"


@dataclass(frozen=True, eq=False)
class Encoded:
    """An array held in one sparse format. Subclasses add their arrays and define `stored_entries`,
    `metadata_bits` and `decode`; a format with padding entries also overrides `padding_entries`.

    `data_bits` is `stored_entries * value_bits`: a padding entry occupies a value slot like any other.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    value_bits: int

    @property
    def stored_entries(self) -> int:
        """Value slots in memory, padding entries included."""
        raise NotImplementedError

    @property
    def padding_entries(self) -> int:
        """Stored zeros that exist only because a run of zeros was too long for its index field."""
        return 0

    @property
    def nnz(self) -> int:
        """Nonzero values of the original array."""
        return self.stored_entries - self.padding_entries

    @property
    def data_bits(self) -> int:
        return self.stored_entries * self.value_bits

    @property
    def metadata_bits(self) -> int:
        """Bits of indices, run lengths, pointers and masks."""
        raise NotImplementedError

    @property
    def total_bits(self) -> int:
        return self.data_bits + self.metadata_bits

    def decode(self) -> np.ndarray:
        """The original array: same shape, dtype and values."""
        raise NotImplementedError


def read_only(array: np.ndarray) -> np.ndarray:
    """The array, no longer writeable: an `Encoded` is frozen, its arrays too."""
    array.flags.writeable = False
    return array


def check_int(fmt: str, name: str, value: object, minimum: int = 1) -> int:
    """`value` as an int, or a ValueError naming the format, the parameter and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{fmt}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_array(fmt: str, array: object, ndim: int | None = None) -> np.ndarray:
    """`array` as a numeric numpy array (of `ndim` dimensions when given), or a ValueError saying what is
    allowed."""
    result = np.asarray(array)
    if result.dtype.kind not in NUMERIC_KINDS:
        raise ValueError(f"{fmt}: needs a numeric (bool, int or float) array, got dtype {result.dtype}")
    if ndim is not None and result.ndim != ndim:
        raise ValueError(f"{fmt}: needs a {ndim}-D array, got {result.ndim}-D of shape {result.shape}")
    return result


def flat_nonzero(array: np.ndarray) -> np.ndarray:
    """C-order flat positions of the nonzeros. Going through a bool mask is several times faster than
    `np.nonzero` on a large float matrix."""
    return np.nonzero((array != 0).reshape(-1))[0].astype(np.int64, copy=False)


def index_bits_for(n: int) -> int:
    """Bits to address one of `n` positions 0..n-1: ceil(log2(n)), at least 1."""
    return max(1, (n - 1).bit_length())


def count_bits_for(n: int) -> int:
    """Bits to hold any count 0..n (an end pointer may equal n): ceil(log2(n + 1)), at least 1."""
    return max(1, n.bit_length())


def resolve_width(fmt: str, name: str, given: int | None, default: int, largest_value: int) -> int:
    """The width of a field: `given` if the caller fixed it, else `default`. Either way `largest_value`, the
    biggest number the field must hold for this array, has to fit, or the format cannot represent the array."""
    bits = default if given is None else check_int(fmt, name, given)
    if largest_value >= 1 << bits:
        raise ValueError(
            f"{fmt}: {name}={bits} cannot hold {largest_value}, which this array needs; "
            f"use {name} >= {max(1, largest_value.bit_length())}"
        )
    return bits

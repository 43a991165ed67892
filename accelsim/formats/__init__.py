"""Sparse storage formats of weights and activations, with exact storage bits.

Each format is one module with an `encode(array, **params)` returning a frozen `Encoded`; every `Encoded` has
`decode()`, `data_bits`, `metadata_bits`, `total_bits`, `stored_entries` and `padding_entries`. `FORMATS` maps
the format names to their encoders.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import numpy as np

from accelsim.formats import bitmask, compressed, eie, rle
from accelsim.formats.base import Encoded
from accelsim.formats.bitmask import Bitmask
from accelsim.formats.compressed import CSC, CSR, encode_csc, encode_csr
from accelsim.formats.eie import EIE, PEArrays
from accelsim.formats.rle import RLE

FORMATS: dict[str, Callable[..., Encoded]] = {
    "bitmask": bitmask.encode,
    "csr": compressed.encode_csr,
    "csc": compressed.encode_csc,
    "rle": rle.encode,
    "eie": eie.encode,
}


def encoder(format_name: str) -> Callable[..., Encoded]:
    """The encoder registered as `format_name`, or a ValueError listing the known names."""
    try:
        return FORMATS[format_name]
    except KeyError:
        close = difflib.get_close_matches(str(format_name), FORMATS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown sparse format {format_name!r}; known formats: {', '.join(FORMATS)}{hint}"
        ) from None


def encode(array: np.ndarray, format_name: str, **params: object) -> Encoded:
    """`array` in the format `format_name`, with that format's parameters."""
    return encoder(format_name)(array, **params)


def decode(encoded: Encoded) -> np.ndarray:
    """The original array of any encoded one."""
    return encoded.decode()


def storage_bits(array: np.ndarray, format_name: str, **params: object) -> int:
    """Total bits (values + metadata) that `array` occupies in the format `format_name`."""
    return encode(array, format_name, **params).total_bits


__all__ = [
    "CSC",
    "CSR",
    "EIE",
    "FORMATS",
    "RLE",
    "Bitmask",
    "Encoded",
    "PEArrays",
    "decode",
    "encode",
    "encode_csc",
    "encode_csr",
    "encoder",
    "storage_bits",
]

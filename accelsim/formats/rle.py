"""Run-length format of SCNN (Parashar et al., ISCA 2017) and Eyeriss (Chen et al., ISSCC 2016): the array is
flattened (C order unless told) and each stored entry is (run of zeros before it, value), the run in `run_bits`
bits. A gap longer than 2^run_bits - 1 zeros is bridged by padding entries (a stored zero), under the convention
of `accelsim.formats.runs`. Trailing zeros are not stored: the shape, held as configuration, restores them.
Storage: stored_entries * (value_bits + run_bits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from accelsim.formats.base import Encoded, check_array, check_int, flat_nonzero, read_only
from accelsim.formats.runs import decode_positions, encode_runs, max_run_for

NAME = "rle"
ORDERS = ("C", "F")


@dataclass(frozen=True, eq=False)
class RLE(Encoded):
    values: np.ndarray
    """Stored values in flattened order, padding entries (zeros) included; original dtype."""
    runs: np.ndarray
    """Zeros before each stored entry since the previous one (2^run_bits - 1 for a padding entry)."""
    run_bits: int
    order: Literal["C", "F"]
    padding: int

    @property
    def stored_entries(self) -> int:
        return int(self.values.size)

    @property
    def padding_entries(self) -> int:
        return self.padding

    @property
    def metadata_bits(self) -> int:
        return self.stored_entries * self.run_bits

    def decode(self) -> np.ndarray:
        size = int(np.prod(self.shape, dtype=np.int64))
        flat = np.zeros(size, dtype=self.dtype)
        _, position = decode_positions(self.runs, np.array([self.runs.size], dtype=np.int64))
        flat[position] = self.values
        return flat.reshape(self.shape, order=self.order)


def encode(array: np.ndarray, *, value_bits: int = 16, run_bits: int = 4, order: str = "C") -> RLE:
    """RLE of an array of any shape, flattened in `order` ("C": last axis fastest, "F": first axis fastest)."""
    array = check_array(NAME, array)
    value_bits = check_int(NAME, "value_bits", value_bits)
    run_bits = check_int(NAME, "run_bits", run_bits)
    if order not in ORDERS:
        raise ValueError(f"{NAME}: order must be one of {', '.join(ORDERS)}, got {order!r}")
    flat = array.reshape(-1, order=order)
    position = flat_nonzero(flat)
    runs = encode_runs(np.zeros(position.size, dtype=np.int64), position, 1, max_run_for(run_bits))
    values = np.zeros(runs.runs.size, dtype=array.dtype)
    values[runs.slots] = flat[position]
    return RLE(
        shape=array.shape,
        dtype=array.dtype,
        value_bits=value_bits,
        values=read_only(values),
        runs=read_only(runs.runs),
        run_bits=run_bits,
        order=order,
        padding=int(runs.padding_per_group[0]),
    )

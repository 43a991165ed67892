"""What a dataflow returns for one layer: cycles split by cause, MACs issued and effectual, and `ActionCounts`.

Counts and costs stay apart: a `LayerResult` holds no energy. `accelsim.energy` prices the action counts and
`accelsim.simulate` joins both into a `NetworkResult` (see `accelsim.network_result`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

# Why a cycle did no useful work. Every dataflow reports its non-busy cycles under these names, so tables and plots
# line up across accelerators. `stall_cycles` are included in `LayerResult.cycles`.
STALL_CAUSES: dict[str, str] = {
    "pipeline_fill": "systolic fill and drain: PEs waiting for operands to ripple in or results to drain out",
    "memory_bandwidth": "waiting for DRAM (or an SRAM port) to deliver operands or take results",
    "load_imbalance": "idle while other PEs finish their share (FIFO empty, barrier on the slowest PE)",
    "bank_conflict": "products or reads that collided in one bank and were serialised",
    "barrier": "waiting at a synchronisation point for the slowest PE",
    "fragmentation": "multiplier slots left empty because a work list was not a multiple of the vector width",
    "broadcast_stall": "a broadcast held back because some receiver's queue was full",
    "wasted_products": "multiplier slots spent on products that land on no output (SCNN's Cartesian product on a "
                       "stride > 1 layer, windows hanging over padded borders)",
    "format_overhead": "slots spent on the sparse format rather than MACs: padding entries for zero runs too long "
                       "for a relative index, pointer reads of columns with no entries",
}

# Figures a dataflow reports beside cycles and actions (`LayerResult.metrics`), named here so that every dataflow
# uses one name for one idea, and tables, JSON and plots can rely on the names.
METRICS: dict[str, str] = {
    "load_balance_efficiency": "1 - PE bubble cycles (starved: FIFO empty) / (PEs x computation cycles), as EIE "
                               "(Han et al., ISCA 2016, Sec. VI-C) defines it",
    "broadcast_stall_cycles": "cycles a broadcast was held back because some PE's queue was full",
    "fifo_empty_pe_cycles": "PE-cycles spent idle with an empty activation queue",
    "empty_column_pe_cycles": "PE-cycles spent reading the pointers of a column with no entries on that PE",
    "stored_entries": "weight entries held in the sparse format, padding entries included",
    "padding_entries": "stored entries that are padding zeros (zero runs too long for the relative index)",
    "codebook_relative_rms_error": "weight sharing error: sqrt(sum (w - shared w)^2 / sum w^2) over nonzero weights",
    "rounds": "rounds run one after another: EIE's matrix-vector rounds (vectors x output batches), SCNN's "
              "output-channel groups (x images)",
    "output_channel_group_size": "Kc: output channels whose partial sums fit a PE's accumulator buffer at once",
    "temporal_passes": "spatial passes a layer needs when its activations overflow the on-chip buffers",
    "halo_partial_sums": "partial sums sent to a neighbouring PE because they fell in its output tile (halos)",
    "wasted_products": "products computed that land on no output (stride > 1, padded borders)",
    "iaram_fill": "the fullest PE's input activations (compressed) over its input buffer capacity",
    "oaram_fill": "the fullest PE's output activations (compressed) over its output buffer capacity",
}


class ActionCounts(Mapping[tuple[str, str], int]):
    """Immutable counts of hardware actions keyed by (component, action), e.g. ("ifmap_sram", "read").

    Memory actions count accesses of that level's `width_bits`; ("mac", "compute") counts multiply-accumulates.
    """

    __slots__ = ("_counts",)

    def __init__(self, counts: Mapping[tuple[str, str], int] | None = None):
        checked: dict[tuple[str, str], int] = {}
        for key, value in (counts or {}).items():
            if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(part, str) for part in key)):
                raise ValueError(f"action key must be a (component, action) pair of strings, got {key!r}")
            count = int(value)
            if count != value or count < 0:
                raise ValueError(f"action count for {key} must be a non-negative integer, got {value!r}")
            if count:
                checked[key] = count
        self._counts = MappingProxyType(checked)

    def __getitem__(self, key: tuple[str, str]) -> int:
        return self._counts.get(key, 0)

    def __contains__(self, key: object) -> bool:  # a missing key reads as 0 but is not counted
        return key in self._counts

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __add__(self, other: ActionCounts) -> ActionCounts:
        merged = dict(self._counts)
        for key, value in other.items():
            merged[key] = merged.get(key, 0) + value
        return ActionCounts(merged)

    def components(self) -> list[str]:
        return sorted({component for component, _ in self._counts})

    def as_flat_dict(self) -> dict[str, int]:
        """{"component.action": count}, for JSON and CSV."""
        return {f"{component}.{action}": count for (component, action), count in sorted(self._counts.items())}

    def __repr__(self) -> str:
        return f"ActionCounts({self.as_flat_dict()})"


@dataclass(frozen=True, eq=False)
class LayerResult:
    """One layer on one architecture. `cycles` includes every stall in `stall_cycles` (cause -> cycles)."""

    name: str
    op: str
    cycles: int
    macs: int
    """Dense MACs of the layer (every operand pair, zeros included)."""
    macs_issued: int
    """MACs the hardware performed, ineffectual ones (a zero operand) included."""
    effectual_macs: int
    """MACs with both operands nonzero (what a perfect sparse machine would do)."""
    multipliers: int
    """MAC units the dataflow could have used each cycle: the denominator of utilisation."""
    actions: ActionCounts
    stall_cycles: Mapping[str, int] = field(default_factory=dict)
    output: np.ndarray | None = None
    """The layer's output computed through the dataflow's own schedule, when asked for."""
    notes: tuple[str, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    """Dataflow-specific figures, named in METRICS (e.g. EIE's load-balance efficiency)."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.stall_cycles) - set(STALL_CAUSES))
        if unknown:
            raise ValueError(f"layer {self.name!r}: unknown stall causes {unknown}; known: {sorted(STALL_CAUSES)}")
        unknown = sorted(set(self.metrics) - set(METRICS))
        if unknown:
            raise ValueError(f"layer {self.name!r}: unknown metrics {unknown}; known: {sorted(METRICS)}")
        if any(int(value) < 0 for value in self.stall_cycles.values()):
            raise ValueError(f"layer {self.name!r}: negative stall cycles {dict(self.stall_cycles)}")
        if self.cycles < sum(self.stall_cycles.values()):
            raise ValueError(f"layer {self.name!r}: stalls {dict(self.stall_cycles)} exceed cycles {self.cycles}")
        if self.multipliers <= 0 or self.cycles < 0:
            raise ValueError(f"layer {self.name!r}: cycles and multipliers must be positive")
        object.__setattr__(self, "stall_cycles", MappingProxyType({k: int(v) for k, v in self.stall_cycles.items()}))
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))

    @property
    def busy_cycles(self) -> int:
        return self.cycles - sum(self.stall_cycles.values())

    @property
    def utilization(self) -> float:
        """Fraction of multiplier-cycles that issued a MAC (zero-operand MACs included)."""
        return self.macs_issued / (self.cycles * self.multipliers) if self.cycles else 0.0

    @property
    def effectual_utilization(self) -> float:
        """Fraction of multiplier-cycles that did an effectual MAC."""
        return self.effectual_macs / (self.cycles * self.multipliers) if self.cycles else 0.0

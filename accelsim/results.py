"""What a dataflow returns for one layer: cycles split by cause, MACs issued and effectual, and `ActionCounts`.

Counts and costs stay apart: a `LayerResult` holds no energy. `accelsim.energy` prices the action counts and
`accelsim.simulate` joins both into a `NetworkResult` (see `accelsim.network_result`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

# Why a cycle did no useful work: names shared by several dataflows, so that tables and plots line up across
# accelerators. A dataflow declares the causes it reports (`stall_causes` in its class, see
# accelsim.dataflows.registry), reusing these names where they mean the same thing and adding its own otherwise.
# `stall_cycles` are included in `LayerResult.cycles`.
COMMON_STALL_CAUSES: dict[str, str] = {
    "pipeline_fill": "pipeline fill and drain: PEs waiting for operands to ripple in or results to drain out",
    "memory_bandwidth": "waiting for DRAM (or an SRAM port) to deliver operands or take results",
    "load_imbalance": "idle while other PEs finish their share (queue empty, barrier on the slowest PE)",
    "bank_conflict": "products or reads that collided in one bank and were serialised",
    "barrier": "waiting at a synchronisation point for the slowest PE",
    "fragmentation": "multiplier slots left empty because a work list was not a multiple of the vector width",
    "broadcast_stall": "a broadcast held back because some receiver's queue was full",
    "wasted_products": "multiplier slots spent on products that land on no output",
    "format_overhead": "slots spent on the sparse format rather than MACs (padding entries, index work)",
    "first_fetch": "waiting for a layer's first data from DRAM before anything can compute (a network run hides "
                   "the part that does not depend on the previous layer, its weights, under that layer's end)",
    "final_drain": "writing a layer's last outputs to DRAM after its computation",
}


def common_causes(*names: str, **own: str) -> dict[str, str]:
    """A dataflow's `stall_causes`: the named common causes (their shared descriptions) in the order given, then
    its own causes with their descriptions."""
    unknown = [name for name in names if name not in COMMON_STALL_CAUSES]
    if unknown:
        raise KeyError(f"not common stall causes: {unknown}; common: {', '.join(COMMON_STALL_CAUSES)}")
    return {**{name: COMMON_STALL_CAUSES[name] for name in names}, **own}


@dataclass(frozen=True)
class Metric:
    """A figure a dataflow reports beside cycles and actions (`LayerResult.metrics`), and how reports show it."""

    description: str
    table_header: str | None = None
    """Header of a per-layer column in the terminal table, the value shown as a percent; None: no column."""
    summary_label: str | None = None
    """Label of one line under the table giving the metric's range over the layers; None: no line."""


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
    """One layer on one architecture. `cycles` includes every stall in `stall_cycles` (cause -> cycles); the causes
    are the ones the dataflow declares (checked by `accelsim.dataflows.registry.check_result`)."""

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
    """Dataflow-specific figures, declared in the dataflow's `metrics` (e.g. EIE's load-balance efficiency)."""
    hideable_first_fetch_cycles: int = 0
    """Of the `first_fetch` stall cycles, those fetching data that does not depend on the previous layer (its
    weights): a network run hides them under the previous layer's `prefetch_window_cycles` (accelsim.simulate)."""
    prefetch_window_cycles: int = 0
    """Cycles at the layer's end in which its DRAM traffic is done while it still computes: the next layer may
    fetch its weights then."""

    def __post_init__(self) -> None:
        if any(int(value) < 0 for value in self.stall_cycles.values()):
            raise ValueError(f"layer {self.name!r}: negative stall cycles {dict(self.stall_cycles)}")
        if self.cycles < sum(self.stall_cycles.values()):
            raise ValueError(f"layer {self.name!r}: stalls {dict(self.stall_cycles)} exceed cycles {self.cycles}")
        if self.multipliers <= 0 or self.cycles < 0:
            raise ValueError(f"layer {self.name!r}: cycles and multipliers must be positive")
        if not 0 <= self.hideable_first_fetch_cycles <= self.stall_cycles.get("first_fetch", 0):
            raise ValueError(f"layer {self.name!r}: hideable_first_fetch_cycles ({self.hideable_first_fetch_cycles}) "
                             f"must lie within the first_fetch stall cycles")
        if self.prefetch_window_cycles < 0:
            raise ValueError(f"layer {self.name!r}: negative prefetch_window_cycles")
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

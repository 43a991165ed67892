"""Per-layer facts of a workload as plain rows (for the CLI table, JSON, DataFrames): shape, densities, MACs and
effectual MACs (both operands nonzero, counted exactly from the patterns by `accelsim.reference`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from accelsim.reference import effectual_macs
from accelsim.workload import Layer, Workload


@dataclass(frozen=True)
class LayerSummary:
    name: str
    op: str
    shape: str
    weight_density: float
    input_density: float
    macs: int
    effectual_macs: int
    weight_is_static: bool

    @property
    def effectual_fraction(self) -> float:
        return self.effectual_macs / self.macs if self.macs else 0.0


def summarise_layer(layer: Layer) -> LayerSummary:
    return LayerSummary(layer.name, layer.op, layer.shape_text, layer.weight_density, layer.input_density,
                        layer.macs, effectual_macs(layer), layer.weight_is_static)


def summarise(workload: Workload, on_layer: Callable[[LayerSummary], None] | None = None) -> list[LayerSummary]:
    rows = []
    for layer in workload:
        rows.append(summarise_layer(layer))
        if on_layer is not None:
            on_layer(rows[-1])
    return rows


def totals(rows: list[LayerSummary]) -> dict:
    """Layer count, MACs, effectual MACs and the effectual fraction of all MACs."""
    macs = sum(row.macs for row in rows)
    effectual = sum(row.effectual_macs for row in rows)
    return {"layers": len(rows), "macs": macs, "effectual_macs": effectual,
            "effectual_fraction": effectual / macs if macs else 0.0}


def as_dicts(rows: list[LayerSummary]) -> list[dict]:
    return [asdict(row) | {"effectual_fraction": row.effectual_fraction} for row in rows]

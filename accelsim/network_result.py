"""A whole network on one arch: per-layer rows (cycles, stalls, MACs, utilisation, actions, energy by category) and
totals, next to the dense reference, with JSON and CSV export. Layers run one after another, so cycles add up.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from accelsim.results import LayerResult, Metric


@dataclass(frozen=True)
class LayerRow:
    result: LayerResult
    latency_s: float
    energy_pj: dict[str, float]
    """Energy by category (accelsim.energy.CATEGORIES)."""
    dense_cycles: int | None = None
    dense_latency_s: float | None = None
    dense_energy_pj: float | None = None

    @property
    def total_energy_pj(self) -> float:
        return sum(self.energy_pj.values())

    @property
    def speedup(self) -> float | None:
        """Dense-reference latency over this arch's latency (clocks may differ)."""
        return self.dense_latency_s / self.latency_s if self.dense_latency_s is not None and self.latency_s else None

    def as_dict(self) -> dict:
        result = self.result
        return {
            "name": result.name, "op": result.op, "cycles": result.cycles, "latency_s": self.latency_s,
            "macs": result.macs, "macs_issued": result.macs_issued, "effectual_macs": result.effectual_macs,
            "utilization": result.utilization, "effectual_utilization": result.effectual_utilization,
            "energy_pj": self.total_energy_pj, "energy_breakdown_pj": dict(self.energy_pj),
            "stall_cycles": dict(result.stall_cycles), "actions": result.actions.as_flat_dict(),
            "dense_cycles": self.dense_cycles, "dense_energy_pj": self.dense_energy_pj, "speedup": self.speedup,
            "metrics": dict(result.metrics), "notes": list(result.notes),
        }


@dataclass(frozen=True)
class NetworkResult:
    arch: str
    workload: str
    rows: tuple[LayerRow, ...]
    inferences: int = 1
    """Inferences one pass of the workload performs (its batch), for inferences/s and inferences/J."""
    dense_arch: str | None = None
    provenance: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    stall_causes: dict[str, str] = field(default_factory=dict)
    """The causes the arch's dataflow declares, in its order (totals and tables follow it)."""
    metrics: dict[str, Metric] = field(default_factory=dict)
    """The metrics the arch's dataflow declares, and how reports show them."""

    @property
    def cycles(self) -> int:
        return sum(row.result.cycles for row in self.rows)

    @property
    def latency_s(self) -> float:
        return sum(row.latency_s for row in self.rows)

    @property
    def energy_by_category_pj(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for row in self.rows:
            for category, value in row.energy_pj.items():
                totals[category] = totals.get(category, 0.0) + value
        return totals

    @property
    def energy_pj(self) -> float:
        return sum(self.energy_by_category_pj.values())

    @property
    def stall_cycles(self) -> dict[str, int]:
        totals = dict.fromkeys(self.stall_causes, 0)
        for row in self.rows:
            for cause, value in row.result.stall_cycles.items():
                totals[cause] = totals.get(cause, 0) + value
        return {cause: value for cause, value in totals.items() if value}

    @property
    def has_dense_reference(self) -> bool:
        return bool(self.rows) and all(row.dense_cycles is not None for row in self.rows)

    @property
    def dense_cycles(self) -> int | None:
        return sum(row.dense_cycles for row in self.rows) if self.has_dense_reference else None

    @property
    def dense_latency_s(self) -> float | None:
        return sum(row.dense_latency_s for row in self.rows) if self.has_dense_reference else None

    @property
    def dense_energy_pj(self) -> float | None:
        return sum(row.dense_energy_pj for row in self.rows) if self.has_dense_reference else None

    @property
    def speedup(self) -> float | None:
        return self.dense_latency_s / self.latency_s if self.has_dense_reference and self.latency_s else None

    @property
    def accuracy(self) -> float | None:
        """Test accuracy (a fraction, 0 to 1) of the pruned model the workload was lowered from, as its provenance
        records it (`test_accuracy_after_pruning`, on the model's own test split); None when unknown: a model
        without data, a layer table, a topology. Never 0 for unknown."""
        return _fraction(self.provenance.get("test_accuracy_after_pruning"))

    @property
    def accuracy_before_pruning(self) -> float | None:
        """The dense model's test accuracy, as `accuracy` (None when unknown)."""
        return _fraction(self.provenance.get("test_accuracy_before_pruning"))

    @property
    def energy_ratio(self) -> float | None:
        """Dense-reference energy over this arch's energy (above 1: this arch saves energy)."""
        return self.dense_energy_pj / self.energy_pj if self.has_dense_reference and self.energy_pj else None

    def as_dict(self) -> dict:
        macs = sum(row.result.macs for row in self.rows)
        return {
            "arch": self.arch, "workload": self.workload, "provenance": self.provenance,
            "layers": [row.as_dict() for row in self.rows],
            "total": {
                "cycles": self.cycles, "latency_s": self.latency_s, "energy_pj": self.energy_pj,
                "energy_breakdown_pj": self.energy_by_category_pj, "stall_cycles": self.stall_cycles,
                "macs": macs, "effectual_macs": sum(row.result.effectual_macs for row in self.rows),
                "inferences": self.inferences,
                "inferences_per_s": self.inferences / self.latency_s if self.latency_s else None,
                "inferences_per_j": self.inferences / (self.energy_pj * 1e-12) if self.energy_pj else None,
            },
            "dense_reference": None if not self.has_dense_reference else {
                "arch": self.dense_arch, "cycles": self.dense_cycles, "latency_s": self.dense_latency_s,
                "energy_pj": self.dense_energy_pj},
            "speedup": self.speedup, "energy_ratio": self.energy_ratio, "accuracy": self.accuracy,
            "accuracy_before_pruning": self.accuracy_before_pruning, "notes": list(self.notes),
        }

    def save_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")

    def save_csv(self, path: str | Path) -> None:
        """One row per layer: the scalar columns, stall cycles per cause, energy per category and the dataflow's
        metrics (empty where a layer does not report one); `accuracy` is the network's (the same on every row,
        empty when unknown)."""
        causes = sorted({cause for row in self.rows for cause in row.result.stall_cycles})
        categories = sorted({category for row in self.rows for category in row.energy_pj})
        metrics = sorted({name for row in self.rows for name in row.result.metrics})
        scalar = ["name", "op", "cycles", "latency_s", "macs", "macs_issued", "effectual_macs", "utilization",
                  "effectual_utilization", "energy_pj", "dense_cycles", "dense_energy_pj", "speedup"]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(scalar + [f"stall_{c}" for c in causes] + [f"energy_{c}_pj" for c in categories]
                            + [f"metric_{m}" for m in metrics] + ["accuracy"])
            for row in self.rows:
                data = row.as_dict()
                writer.writerow([data[key] for key in scalar]
                                + [row.result.stall_cycles.get(c, 0) for c in causes]
                                + [row.energy_pj.get(c, 0.0) for c in categories]
                                + [row.result.metrics.get(m, "") for m in metrics]
                                + ["" if self.accuracy is None else self.accuracy])


def _fraction(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

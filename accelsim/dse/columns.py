"""The columns of a sweep's results: one row per point, its inputs, what the simulation gave, and how the run went.

Inputs: `point_id`, `model`, `input`, `seed`, `layers`, `prune`, `arch`, `search_index`, and one `set.<key>`
column per override key (empty where a point's arch does not set it). Outputs: totals of the `NetworkResult`, its
dense reference, ratios, the share of cycles lost to each stall cause, energy by category, the area proxy and the
model's accuracy. Run columns describe the run, not the point: `simulate_s` (seconds in `simulate`), `point_s` (the
whole point on its worker), `finished_unix_s` (when, by the worker's clock) and `worker` (host:pid) are the only
columns that differ between two runs of the same spec; `accelsim_version` is the version that computed the row.

The area proxy is explicit, not a layout estimate: `area_multipliers` (the PE array's multipliers) and
`area_onchip_bytes` (size_bytes x instances summed over the arch's SRAM and register-file memory levels; `components`
such as FIFOs and codebooks are left out, as the arch format does not say how many copies they have).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa

from accelsim.energy import CATEGORIES

INPUT_COLUMNS: dict[str, pa.DataType] = {
    "point_id": pa.string(), "model": pa.string(), "input": pa.string(), "seed": pa.int64(),
    "layers": pa.string(), "prune": pa.string(), "arch": pa.string(), "search_index": pa.int64(),
}
OVERRIDE_PREFIX = "set."
RESULT_COLUMNS: dict[str, pa.DataType] = {
    "status": pa.string(), "error": pa.string(),
    "cycles": pa.int64(), "latency_s": pa.float64(), "energy_pj": pa.float64(),
    "dense_cycles": pa.int64(), "dense_latency_s": pa.float64(), "dense_energy_pj": pa.float64(),
    "speedup": pa.float64(), "energy_ratio": pa.float64(),
    "inferences": pa.int64(), "inferences_per_s": pa.float64(), "inferences_per_j": pa.float64(),
    "macs": pa.int64(), "macs_issued": pa.int64(), "effectual_macs": pa.int64(),
    "utilization": pa.float64(), "effectual_utilization": pa.float64(), "weight_density": pa.float64(),
    **{f"energy_{category}_pj": pa.float64() for category in CATEGORIES},
    "area_multipliers": pa.int64(), "area_onchip_bytes": pa.int64(),
    "accuracy": pa.float64(), "accuracy_before_pruning": pa.float64(),
}
STALL_PREFIX = "stall_share_"
RUN_COLUMNS: dict[str, pa.DataType] = {
    "simulate_s": pa.float64(), "point_s": pa.float64(), "finished_unix_s": pa.float64(), "worker": pa.string(),
    "accelsim_version": pa.string(),
}
OBJECTIVE_COLUMNS = tuple(name for name, kind in RESULT_COLUMNS.items() if pa.types.is_integer(kind)
                          or pa.types.is_floating(kind))
MAXIMIZED = frozenset({"speedup", "energy_ratio", "inferences_per_s", "inferences_per_j", "utilization",
                       "effectual_utilization", "accuracy", "accuracy_before_pruning"})
"""Columns where more is better (the default direction of a Pareto front); every other column is minimised."""


def default_direction(column: str) -> str:
    return "max" if column in MAXIMIZED else "min"


def override_column(key: str) -> str:
    return OVERRIDE_PREFIX + key


def override_type(values: Iterable) -> pa.DataType:
    """One Arrow type for every value an override takes: bool, int64, float64 (ints and floats mixed) or string
    (anything else, values written as text)."""
    kinds = {type(value) for value in values if value is not None}
    if kinds == {bool}:
        return pa.bool_()
    if kinds and kinds <= {int}:
        return pa.int64()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def column_value(value, kind: pa.DataType):
    """`value` as a column of `kind` holds it (strings for text columns)."""
    if value is None:
        return None
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else str(value)
    if pa.types.is_floating(kind):
        return float(value)
    return value


def results_schema(override_types: Mapping[str, pa.DataType], stall_causes: Iterable[str]) -> pa.Schema:
    """Every shard of a sweep has this schema: inputs, overrides, results, stall shares, run columns."""
    fields = [*INPUT_COLUMNS.items(), *((override_column(key), kind) for key, kind in override_types.items()),
              *RESULT_COLUMNS.items(), *((STALL_PREFIX + cause, pa.float64()) for cause in stall_causes),
              *RUN_COLUMNS.items()]
    return pa.schema(fields)


def area_proxy(arch) -> dict[str, int]:
    """The explicit area proxy of the module docstring."""
    onchip = sum(level.size_bytes * level.instances for level in arch.memory.values()
                 if level.kind in ("sram", "register_file") and level.size_bytes is not None)
    return {"area_multipliers": arch.pe_array.multipliers, "area_onchip_bytes": onchip}


def result_columns(result, arch, weight_density: float | None) -> dict:
    """The result columns of one simulated point (a `NetworkResult` on `arch`)."""
    rows = result.rows
    macs_issued = sum(row.result.macs_issued for row in rows)
    effectual = sum(row.result.effectual_macs for row in rows)
    capacity = sum(row.result.cycles * row.result.multipliers for row in rows)
    latency_s, energy_pj = result.latency_s, result.energy_pj
    after, before = result.accuracy, result.accuracy_before_pruning
    energy, stalls = result.energy_by_category_pj, result.stall_cycles
    return {
        "status": "ok", "error": None, "cycles": result.cycles, "latency_s": latency_s, "energy_pj": energy_pj,
        "dense_cycles": result.dense_cycles, "dense_latency_s": result.dense_latency_s,
        "dense_energy_pj": result.dense_energy_pj, "speedup": result.speedup, "energy_ratio": result.energy_ratio,
        "inferences": result.inferences,
        "inferences_per_s": result.inferences / latency_s if latency_s else None,
        "inferences_per_j": result.inferences / (energy_pj * 1e-12) if energy_pj else None,
        "macs": sum(row.result.macs for row in rows), "macs_issued": macs_issued, "effectual_macs": effectual,
        "utilization": macs_issued / capacity if capacity else None,
        "effectual_utilization": effectual / capacity if capacity else None, "weight_density": weight_density,
        **{f"energy_{category}_pj": energy.get(category, 0.0) for category in CATEGORIES},
        **area_proxy(arch), "accuracy": after, "accuracy_before_pruning": before,
        **{STALL_PREFIX + cause: stalls.get(cause, 0) / result.cycles if result.cycles else 0.0
           for cause in {**result.stall_causes, **stalls}},
    }

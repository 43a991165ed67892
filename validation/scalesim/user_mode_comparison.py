"""accelsim's systolic memory model against SCALE-Sim's USER-mode rows, layer by layer: Total Cycles (compute plus
in-run stalls) and Total Cycles incl. prefetch (plus the first fetch and the last drain).

    python validation/scalesim/user_mode_comparison.py     # writes user_mode_comparison.csv and .json here

SCALE-Sim walks address traces through its read buffers; accelsim walks DRAM bytes fold by fold
(accelsim/dataflows/systolic/dram_walk.py). Where they differ the table says why it can:
- SCALE-Sim adds every positive prefetch wait twice (scalesim/memory/read_buffer.py, `service_reads`:
  `offset += potential_stall_cycles`, then again `if potential_stall_cycles > 0`) and subtracts negative ones;
  `scalesim_stall_counted_once` halves its stall as an indication of the single-count value (exact only when no
  negative wait occurred).
- SCALE-Sim fetches whole hashed sets of ceil(1024 kB / 100) words, valid or not, so its prefetch of a small layer
  takes longer than the layer's bytes at the port's rate (the incl.-prefetch column).
- accelsim writes weight- and input-stationary partial sums that do not fit half the ofmap SRAM to DRAM at the
  accumulator's width and reads them back every row fold; SCALE-Sim writes each row fold's outputs as 1-byte words
  and never reads them back.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import statistics
import sys
from pathlib import Path

from accelsim.arch_configs import load_arch
from accelsim.dataflows.systolic import Systolic
from accelsim.frontend.scalesim_topology import read_scalesim_topology

HERE = Path(__file__).resolve().parent


@functools.cache
def _simulated(config_file: str, topology_file: str) -> dict:
    arch = load_arch(HERE / config_file)
    workload = read_scalesim_topology(HERE / topology_file, seed=0)
    return {layer.name: Systolic().simulate(layer, arch) for layer in workload.layers}


def comparison_rows(reference: Path = HERE / "scalesim_reference.csv") -> list[dict]:
    """One row per USER-mode layer of the reference table, SCALE-Sim's figures next to accelsim's."""
    rows = []
    for row in csv.DictReader(reference.open(encoding="utf-8")):
        if row["bandwidth_mode"] != "USER":
            continue
        result = _simulated(row["config_file"], row["topology_file"])[row["layer_name"]]
        stalls = result.stall_cycles
        in_run = result.cycles - stalls["first_fetch"] - stalls["final_drain"]
        total, stall = int(row["total_cycles"]), int(row["stall_cycles"])
        incl = int(float(row["total_cycles_incl_prefetch"]))
        rows.append({
            "case": row["case"], "layer": row["layer_name"], "dataflow": row["dataflow"],
            "scalesim_total_cycles": total, "scalesim_stall_cycles": stall,
            "scalesim_stall_counted_once": stall // 2,
            "accelsim_compute_cycles": int(result.metrics["compute_cycles"]),
            "accelsim_stall_cycles": stalls["memory_bandwidth"], "accelsim_total_cycles": in_run,
            "total_ratio": round(in_run / total, 4),
            "scalesim_total_incl_prefetch": incl,
            "accelsim_first_fetch_cycles": stalls["first_fetch"], "accelsim_final_drain_cycles": stalls["final_drain"],
            "accelsim_total_incl_first_fetch_and_drain": result.cycles,
            "incl_ratio": round(result.cycles / incl, 4),
            "accelsim_partial_sums_spilled": result.metrics["partial_sums_read_back_bytes"] > 0,
        })
    return rows


def summary(rows: list[dict]) -> dict:
    """How the two agree: rows equal, rows where only one stalls, the spread of the ratios where both stall."""
    both = [row for row in rows if row["scalesim_stall_cycles"] and row["accelsim_stall_cycles"]]
    log_ratios = [abs(math.log(row["total_ratio"])) for row in both]
    return {
        "rows": len(rows),
        "total_cycles_equal": sum(row["accelsim_total_cycles"] == row["scalesim_total_cycles"] for row in rows),
        "neither_stalls": sum(not row["scalesim_stall_cycles"] and not row["accelsim_stall_cycles"] for row in rows),
        "only_scalesim_stalls": sum(bool(row["scalesim_stall_cycles"]) and not row["accelsim_stall_cycles"]
                                    for row in rows),
        "only_accelsim_stalls": sum(not row["scalesim_stall_cycles"] and bool(row["accelsim_stall_cycles"])
                                    for row in rows),
        "both_stall": len(both),
        "both_stall_median_abs_log_ratio": statistics.median(log_ratios) if log_ratios else 0.0,
        "both_stall_ratio_range": [min(row["total_ratio"] for row in both), max(row["total_ratio"] for row in both)]
        if both else [],
    }


def main() -> int:
    rows = comparison_rows()
    with (HERE / "user_mode_comparison.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    figures = summary(rows)
    (HERE / "user_mode_comparison.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"wrote {HERE / 'user_mode_comparison.csv'} and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

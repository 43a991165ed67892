"""The EIE paper's studies, rerun on accelsim's EIE model (docs/eie.md shows the results).

    python studies/eie/run_studies.py            # all five studies, ~1 minute; writes studies/eie/results/

1. Per-layer time of the nine benchmark layers at 64 PEs, 800 MHz, FIFO depth 8, next to the paper's Table IV, split
   into work (entries processed, padding included, over 64 PEs: how the paper computes its "theoretical" time) and
   overhead (cycles over work: the paper's actual over theoretical time).
2. Load-balance efficiency against FIFO depth 1..256 (the paper's Fig. 8).
3. Speedup against the number of PEs 1..256 (Fig. 11), with load balance and real work / total work (Figs. 12-13).
4. Energy per layer by component, and one PE's average power by module next to the paper's Table II.
5. What if VGG-6's output rows were uneven (studies/eie/uneven_rows.py): its overhead against how unevenly the same
   nonzeros are spread over the rows.

Each study writes a CSV and a PNG; provenance.json records the command, versions, commit and date.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from uneven_rows import uneven_rows_study

from accelsim.arch_configs import load_arch
from accelsim.energy import EnergyModel
from accelsim.frontend.build import build_workload
from accelsim.report.study_files import StudyFiles
from accelsim.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
FILES = StudyFiles(ROOT / "studies" / "eie" / "results", ROOT)
PAPER = ROOT / "validation" / "eie"
POWERS_OF_TWO = [1 << n for n in range(9)]  # 1 .. 256
# Paper modules (Table II) and the accelsim components whose energy they hold.
MODULES = {"SpmatRead": ("spmat_sram",), "PtrRead": ("ptr_sram",), "ArithmUnit": ("mac", "codebook"),
           "ActRW": ("src_act_regs", "dst_act_regs", "act_sram"), "Act_queue": ("act_fifo",)}


def eie_arch(pes: int = 64, fifo_depth: int = 8):
    """The eie arch with `pes` PEs (one Spmat, two pointer banks and one activation SRAM each) and FIFO depth."""
    fifo_bytes = max(32, fifo_depth * 4)  # entries of 16-bit value + 16-bit index
    return load_arch("eie", [f"pe_array.cols={pes}", f"memory.spmat_sram.instances={pes}",
                             f"memory.ptr_sram.instances={2 * pes}", f"memory.act_sram.instances={pes}",
                             f"dataflow.fifo_depth={fifo_depth}", f"components.act_fifo.size_bytes={fifo_bytes}"])


def read_paper(name: str) -> list[dict]:
    lines = [line for line in (PAPER / name).read_text().splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


def plot_per_layer(rows: list[dict], key: str):
    """One line per layer of `key` against the swept powers of two (rows in sweep order, layers within)."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for name in dict.fromkeys(row["layer"] for row in rows):
        axis.plot(POWERS_OF_TWO, [row[key] for row in rows if row["layer"] == name], marker="o", label=name)
    axis.set_xscale("log", base=2)
    return figure, axis


def per_layer_time(workload) -> list[dict]:
    arch = eie_arch()
    result = simulate(workload, arch)
    paper = {row["layer"]: row for row in read_paper("paper_table4.csv")}
    rows = []
    for row in result.rows:
        layer, published = row.result, paper[row.result.name]
        actual_us, theoretical_us = float(published["eie_actual_us"]), float(published["eie_theoretical_us"])
        # The paper's theoretical time is "workload GOPs / peak throughput": one entry per PE per cycle.
        work_us = layer.macs_issued / layer.multipliers / arch.clock_hz * 1e6
        rows.append({
            "layer": layer.name, "cycles": layer.cycles, "time_us": round(row.latency_s * 1e6, 2),
            "paper_actual_us": actual_us, "paper_theoretical_us": theoretical_us,
            "ratio_to_paper_actual": round(row.latency_s * 1e6 / actual_us, 3),
            "work_us": round(work_us, 2), "work_ratio_to_paper_theoretical": round(work_us / theoretical_us, 3),
            "overhead": round(row.latency_s * 1e6 / work_us, 3), "paper_overhead": round(actual_us / theoretical_us, 3),
            "scan_cycles": layer.metrics["scan_cycles"],
            "load_balance_efficiency": round(layer.metrics["load_balance_efficiency"], 4),
            "padding_share_of_entries": round(layer.metrics["padding_entries"] / layer.metrics["stored_entries"], 4),
            "energy_uj": round(row.total_energy_pj * 1e-6, 3), "speedup_vs_dense_eie": round(row.speedup, 2),
            "codebook_relative_rms_error": round(layer.metrics["codebook_relative_rms_error"], 4),
        })
    FILES.write_csv("per_layer_time.csv", rows)
    figure, axis = plt.subplots(figsize=(9, 4))
    x = np.arange(len(rows))
    for offset, key, label in ((-0.3, "time_us", "accelsim (uniform random nonzeros)"),
                               (-0.1, "paper_actual_us", "paper, actual"),
                               (0.1, "work_us", "accelsim work (entries / 64 PEs)"),
                               (0.3, "paper_theoretical_us", "paper, theoretical")):
        axis.bar(x + offset, [row[key] for row in rows], width=0.2, label=label)
    axis.set_xticks(x, [row["layer"] for row in rows])
    axis.set_ylabel("time per layer (µs)")
    axis.set_title("EIE, 64 PEs, 800 MHz, FIFO depth 8: accelsim vs. Han et al. Table IV")
    axis.legend()
    FILES.save_figure(figure, "per_layer_time.png")
    return rows


def fifo_sweep(workload) -> list[dict]:
    rows = []
    for depth in POWERS_OF_TWO:
        result = simulate(workload, eie_arch(fifo_depth=depth), dense_reference=False)
        rows += [{"fifo_depth": depth, "layer": row.result.name, "cycles": row.result.cycles,
                  "load_balance_efficiency": round(row.result.metrics["load_balance_efficiency"], 4),
                  "broadcast_stall_cycles": row.result.metrics["broadcast_stall_cycles"]} for row in result.rows]
    FILES.write_csv("load_balance_vs_fifo_depth.csv", rows)
    figure, axis = plot_per_layer(rows, "load_balance_efficiency")
    axis.set_xlabel("activation FIFO depth")
    axis.set_ylabel("load-balance efficiency")
    axis.set_title("EIE, 64 PEs: 1 - starved PE-cycles / PE-cycles (paper Fig. 8)")
    axis.legend(ncol=3, fontsize=8)
    FILES.save_figure(figure, "load_balance_vs_fifo_depth.png")
    return rows


def pe_sweep(workload) -> list[dict]:
    rows = []
    for pes in POWERS_OF_TWO:
        result = simulate(workload, eie_arch(pes=pes), dense_reference=False)
        for row in result.rows:
            layer = row.result
            total_work = layer.macs_issued + layer.metrics["empty_column_pe_cycles"]
            rows.append({"pes": pes, "layer": layer.name, "cycles": layer.cycles,
                         "load_balance_efficiency": round(layer.metrics["load_balance_efficiency"], 4),
                         # Real work / total work (paper Fig. 12): effectual MACs over the PE-cycles spent on
                         # entries, padding entries and empty columns (each costs a cycle).
                         "real_work_share": round(layer.effectual_macs / max(total_work, 1), 4)})
    single = {row["layer"]: row["cycles"] for row in rows if row["pes"] == 1}
    for row in rows:
        row["speedup_vs_1_pe"] = round(single[row["layer"]] / row["cycles"], 2)
    FILES.write_csv("speedup_vs_pes.csv", rows)
    figure, axis = plot_per_layer(rows, "speedup_vs_1_pe")
    axis.plot(POWERS_OF_TWO, POWERS_OF_TWO, color="black", linestyle=":", label="linear")
    axis.set_yscale("log", base=2)
    axis.set_xlabel("PEs")
    axis.set_ylabel("speedup over 1 PE")
    axis.set_title("EIE, FIFO depth 8: speedup against PEs (paper Fig. 11)")
    axis.legend(ncol=2, fontsize=8)
    FILES.save_figure(figure, "speedup_vs_pes.png")
    return rows


def energy_breakdown(workload) -> tuple[list[dict], list[dict]]:
    arch = eie_arch()
    model = EnergyModel.for_arch(arch)
    result = simulate(workload, arch, dense_reference=False)
    rows, totals, time_s = [], {}, 0.0
    names = sorted({component for component, _ in model.prices_pj})
    for row in result.rows:
        components = model.by_component_pj(row.result.actions)
        for name, value in components.items():
            totals[name] = totals.get(name, 0.0) + value
        time_s += row.latency_s
        rows.append({"layer": row.result.name, "energy_uj": round(row.total_energy_pj * 1e-6, 3),
                     **{f"{name}_uj": round(components.get(name, 0.0) * 1e-6, 4) for name in names},
                     "leakage_uj": round(row.energy_pj["leakage"] * 1e-6, 5)})
    FILES.write_csv("energy_per_layer.csv", rows)
    pes = arch.pe_array.pes
    paper = {row["module"]: float(row["power_mw"]) for row in read_paper("paper_table2_pe_power.csv")}
    modules = [{"module": module, "paper_mw_per_pe": paper[module],
                "accelsim_mw_per_pe": round(sum(totals.get(c, 0.0) for c in parts) * 1e-12 / time_s * 1e3 / pes, 3),
                "accelsim_components": "+".join(parts)} for module, parts in MODULES.items()]
    outside = sorted(set(totals) - {c for parts in MODULES.values() for c in parts})
    modules.append({"module": "outside the PE (paper: not in Table II)", "paper_mw_per_pe": "",
                    "accelsim_mw_per_pe": round(sum(totals[c] for c in outside) * 1e-12 / time_s * 1e3 / pes, 3),
                    "accelsim_components": "+".join(outside)})
    modules.append({"module": "chip power, 64 PEs (paper: 590 mW)", "paper_mw_per_pe": round(590 / 64, 3),
                    "accelsim_mw_per_pe": round(result.energy_pj * 1e-12 / time_s * 1e3 / pes, 3),
                    "accelsim_components": "all, leakage included"})
    FILES.write_csv("pe_power_vs_paper.csv", modules)
    figure, axis = plt.subplots(figsize=(9, 4.5))
    names = sorted(totals, key=totals.get, reverse=True)
    bottom = np.zeros(len(rows))
    for name in names:
        values = np.array([row.get(f"{name}_uj", 0.0) for row in rows])
        axis.bar([row["layer"] for row in rows], values, bottom=bottom, label=name)
        bottom += values
    axis.set_ylabel("energy (µJ)")
    axis.set_title("EIE, 64 PEs, 45 nm: energy per layer by component")
    axis.legend(fontsize=8)
    FILES.save_figure(figure, "energy_per_layer.png")
    return rows, modules


def main() -> int:
    workload = build_workload("eie-benchmark").workload
    per_layer_time(workload)
    fifo_sweep(workload)
    pe_sweep(workload)
    energy_breakdown(workload)
    uneven_rows_study(workload, eie_arch(), FILES, read_paper("paper_table4.csv"))
    FILES.write_provenance("python studies/eie/run_studies.py", workload="eie-benchmark, seed 0 (uniform random "
                           "nonzeros at the densities of the paper's Table III)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

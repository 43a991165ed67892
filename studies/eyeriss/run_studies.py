"""The Eyeriss v2 paper's studies (Chen et al., JETCAS 2019), rerun on accelsim's Eyeriss v2 and v1 models
(docs/eyeriss.md shows the results).

    python studies/eyeriss/run_studies.py            # all studies, a few minutes; writes studies/eyeriss/results/
    python studies/eyeriss/run_studies.py --quick    # MobileNet only, fewer bandwidths (a smoke run)

1. Inferences/s and inferences/J of Eyeriss v2 on sparse MobileNet-0.5 (128 x 128, 49.2 M MACs) and sparse AlexNet,
   and of the steps from Eyeriss v1 to it, split as the paper splits its gains: v1; v2 with sparsity off and SIMD
   off (the hierarchical mesh, row stationary plus and 8-bit PEs alone); v2 with sparsity off (SIMD-2 on); v2.
2. The effect of the DRAM bandwidth on v2 (sparse MobileNet and AlexNet).
3. Per-layer utilisation of v2: the PEs the mapping uses, the multipliers that did a MAC, where the cycles went.
4. One PE (arch_configs/eyeriss-v2-pe.yaml: one MAC, SIMD off) on MobileNet-0.5's pointwise layers, cycles per
   layer, beside the cycles the Sparseloop artifact (Wu et al., MICRO 2022, Fig. 12) lists for one Eyeriss v2 PE
   on its own sparse MobileNet-0.5 (other weights and activations: the comparison is of magnitudes).

Pruning: AlexNet with han2015 (Han et al.'s per-layer densities); MobileNet-0.5 by per-layer magnitude to 50%
(unstructured:0.5): the paper's pruning of MobileNet is not known here. Weights are seeded random (no pretrained
weights can be downloaded here), activations come from a seeded random image.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from accelsim.arch_configs import load_arch
from accelsim.frontend.build import build_workload
from accelsim.report.study_files import StudyFiles
from accelsim.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
FILES = StudyFiles(ROOT / "studies" / "eyeriss" / "results", ROOT)
NETWORKS = (("mobilenet-v1-0.5", "unstructured:0.5"), ("alexnet", "han2015"))
DENSE = ["dataflow.iact_format=uncompressed", "dataflow.weight_format=uncompressed"]
STEPS = (  # (label, arch, overrides): the paper's split, from v1 to v2
    ("Eyeriss v1", "eyeriss-v1", []),
    ("v2, sparsity and SIMD off", "eyeriss-v2", [*DENSE, "dataflow.simd_width=1", "pe_array.macs_per_pe=1"]),
    ("v2, sparsity off", "eyeriss-v2", DENSE),
    ("Eyeriss v2", "eyeriss-v2", []),
)
PAPER = {  # Chen et al., JETCAS 2019, abstract: sparse MobileNet at batch 1 on the 65 nm chip
    "mobilenet-v1-0.5": {"inferences_per_s": 1470.6, "inferences_per_j": 2560.3, "speedup_over_v1": 12.6,
                         "energy_efficiency_over_v1": 2.5},
}
# Cycles of one Eyeriss v2 PE on sparse MobileNet-0.5 as the Sparseloop artifact lists them ("ground truth"):
# github.com/Accelergy-Project/micro22-sparseloop-artifact, workspace/2022.micro.artifact/evaluation_setups/
# fig12_eyerissv2_pe_setup/scripts/ground_truth_cycles.yaml (commit 7a7a6f0e), layers L01..L28 in network order.
SPARSELOOP_PE_CYCLES = (1769472, 544768, 461302, 278528, 873643, 513024, 1702140, 145920, 1499682, 270848, 2491491,
                        73728, 1144158, 147456, 2238663, 147456, 2173758, 124096, 1457458, 147456, 1677684, 147456,
                        1821557, 36864, 948572, 73728, 775316, 95443)
CAUSES = ("fragmentation", "empty_columns", "pipeline_fill", "psum_chain", "barrier", "spatial_underuse",
          "weight_load", "noc_bandwidth", "memory_bandwidth", "first_fetch")
COLOURS = ("tab:blue", "tab:orange", "tab:cyan", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray",
           "tab:olive", "gold")  # busy is green


def inferences(result, ops: tuple[str, ...] = ("conv2d", "linear", "matmul")) -> dict:
    """Cycles, inferences/s and /J (all of it, and on chip only) of the result's layers of the given ops."""
    rows = [row for row in result.rows if row.result.op in ops]
    cycles = sum(row.result.cycles for row in rows)
    seconds = sum(row.latency_s for row in rows)
    energy_pj = sum(row.total_energy_pj for row in rows)
    dram_pj = sum(row.energy_pj["dram"] for row in rows)
    return {"cycles": cycles, "inferences_per_s": round(1 / seconds, 1),
            "inferences_per_j": round(1 / (energy_pj * 1e-12), 1),
            "inferences_per_j_on_chip": round(1 / ((energy_pj - dram_pj) * 1e-12), 1),
            "dram_share_of_energy": round(dram_pj / energy_pj, 3)}


def steps_study(workloads: dict) -> dict:
    """Every step on every network; returns {network: v2 result} for the other studies."""
    rows, v2 = [], {}
    for network, workload in workloads.items():
        first: dict = {}
        for label, arch, overrides in STEPS:
            result = simulate(workload, load_arch(arch, overrides), dense_reference=False)
            views = {network: inferences(result)}
            if network == "alexnet":  # Eyeriss v1's own AlexNet figures are of its conv layers
                views["alexnet (conv layers)"] = inferences(result, ("conv2d",))
            for name, figures in views.items():
                base = first.setdefault(name, figures)
                rows.append({"network": name, "step": label, **figures,
                             "speedup_over_v1": round(figures["inferences_per_s"] / base["inferences_per_s"], 2),
                             "energy_efficiency_over_v1": round(
                                 figures["inferences_per_j"] / base["inferences_per_j"], 2)})
                print(f"{name} {label}: {figures}")
        v2[network] = result
    FILES.write_csv("v1_to_v2_steps.csv", rows)
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    labels = [label for label, _, _ in STEPS]
    x = np.arange(len(labels))
    names = list(dict.fromkeys(row["network"] for row in rows))
    width = 0.8 / len(names)
    for index, network in enumerate(names):
        mine = [row for row in rows if row["network"] == network]
        offset = (index - (len(names) - 1) / 2) * width
        axes[0].bar(x + offset, [row["speedup_over_v1"] for row in mine], width=width, label=network)
        axes[1].bar(x + offset, [row["energy_efficiency_over_v1"] for row in mine], width=width, label=network)
    for axis, title in zip(axes, ("speedup over Eyeriss v1", "inferences/J over Eyeriss v1"), strict=True):
        axis.set_xticks(x, labels, rotation=15, fontsize=8)
        axis.set_yscale("log")
        axis.set_title(title)
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.legend(fontsize=8)
    for network, paper in PAPER.items():
        offset = (names.index(network) - (len(names) - 1) / 2) * width
        axes[0].plot(x[-1] + offset, paper["speedup_over_v1"], "k*", markersize=12, label=f"paper ({network})")
        axes[1].plot(x[-1] + offset, paper["energy_efficiency_over_v1"], "k*", markersize=12)
    axes[0].legend(fontsize=8)
    FILES.save_figure(figure, "v1_to_v2_steps.png")
    return v2


def bandwidth_study(workloads: dict, bandwidths: list[float]) -> None:
    rows = []
    for network, workload in workloads.items():
        for gbytes in bandwidths:
            arch = load_arch("eyeriss-v2", [f"memory.dram.bandwidth_gbytes_per_s={gbytes}"])
            result = simulate(workload, arch, dense_reference=False)
            stalls = result.stall_cycles
            rows.append({"network": network, "dram_gbytes_per_s": gbytes, **inferences(result),
                         **{f"{cause}_share": round(stalls.get(cause, 0) / result.cycles, 4)
                            for cause in ("weight_load", "memory_bandwidth", "first_fetch")}})
    FILES.write_csv("dram_bandwidth.csv", rows)
    figure, axis = plt.subplots(figsize=(6, 3.8))
    for network in workloads:
        mine = [row for row in rows if row["network"] == network]
        axis.plot([row["dram_gbytes_per_s"] for row in mine], [row["inferences_per_s"] for row in mine], "o-",
                  label=network)
    axis.axvline(25.6, color="grey", linestyle=":", label="25.6 GB/s (eyeriss-v2.yaml)")
    axis.set(xscale="log", yscale="log", xlabel="DRAM bandwidth (GB/s)", ylabel="inferences/s",
             title="Eyeriss v2: DRAM bandwidth")
    axis.legend(fontsize=8)
    FILES.save_figure(figure, "dram_bandwidth.png")


def utilisation_study(results: dict) -> None:
    rows = []
    for network, result in results.items():
        for row in result.rows:
            layer = row.result
            rows.append({"network": network, "layer": layer.name, "op": layer.op, "cycles": layer.cycles,
                         "pe_mapped": round(layer.metrics["pe_utilisation"], 3),
                         "mac_utilisation": round(layer.utilization, 4),
                         "effectual_utilisation": round(layer.effectual_utilization, 4),
                         "m0": layer.metrics["m0"], "c0": layer.metrics["c0"],
                         "chain_length": layer.metrics["chain_length"], "slices": layer.metrics["slices"],
                         **{f"{cause}_share": round(layer.stall_cycles.get(cause, 0) / layer.cycles, 4)
                            for cause in CAUSES}})
    FILES.write_csv("utilisation_per_layer.csv", rows)
    for network in results:
        mine = [row for row in rows if row["network"] == network]
        figure, axis = plt.subplots(figsize=(12, 4))
        x = np.arange(len(mine))
        bottom = np.array([1.0 - sum(row[f"{cause}_share"] for cause in CAUSES) for row in mine])
        axis.bar(x, bottom, color="tab:green", label="busy")
        for cause, colour in zip(CAUSES, COLOURS, strict=True):
            share = np.array([row[f"{cause}_share"] for row in mine])
            axis.bar(x, share, bottom=bottom, label=cause, color=colour)
            bottom = bottom + share
        axis.plot(x, [row["pe_mapped"] for row in mine], "kx", label="PEs mapped")
        axis.plot(x, [row["mac_utilisation"] for row in mine], "k.", label="multipliers busy")
        axis.set_xticks(x, [row["layer"] for row in mine], rotation=90, fontsize=6)
        axis.set(ylabel="share of cycles", title=f"{network} on Eyeriss v2: where the cycles go")
        axis.legend(fontsize=6, ncol=4)
        FILES.save_figure(figure, f"utilisation_{network}.png")


def one_pe_study(workload) -> None:
    sparse = simulate(workload, load_arch("eyeriss-v2-pe"))
    rows = []
    for index, row in enumerate(sparse.rows):
        layer = row.result
        pointwise = layer.op == "conv2d" and layer.name != "features.0" and workload.layers[index].dims["R"] == 1
        if not pointwise:
            continue
        truth = SPARSELOOP_PE_CYCLES[index]
        rows.append({"layer": f"L{index + 1:02d} {layer.name}", "dense_macs": layer.macs,
                     "effectual_macs": layer.effectual_macs, "cycles": layer.cycles,
                     "dense_mode_cycles": row.dense_cycles, "cycles_per_effectual_mac": round(
                         layer.cycles / max(layer.effectual_macs, 1), 3),
                     "sparseloop_ground_truth_cycles": truth,
                     "ours_over_dense_macs": round(layer.cycles / layer.macs, 3),
                     "ground_truth_over_dense_macs": round(truth / layer.macs, 3)})
    FILES.write_csv("one_pe_pointwise.csv", rows)
    figure, axis = plt.subplots(figsize=(9, 3.8))
    x = np.arange(len(rows))
    axis.bar(x - 0.3, [row["dense_macs"] for row in rows], width=0.2, label="dense MACs", color="lightgrey")
    axis.bar(x - 0.1, [row["dense_mode_cycles"] for row in rows], width=0.2, label="ours, dense mode")
    axis.bar(x + 0.1, [row["cycles"] for row in rows], width=0.2, label="ours, CSC")
    axis.bar(x + 0.3, [row["sparseloop_ground_truth_cycles"] for row in rows], width=0.2,
             label="Sparseloop artifact's ground truth (its own data)")
    axis.set_xticks(x, [row["layer"].split()[0] for row in rows])
    axis.set(yscale="log", ylabel="cycles", title="One Eyeriss v2 PE (1 MAC) on MobileNet-0.5's pointwise layers")
    axis.legend(fontsize=7)
    FILES.save_figure(figure, "one_pe_pointwise.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    networks = NETWORKS[:1] if args.quick else NETWORKS
    workloads = {model: build_workload(model, prune, seed=0).workload for model, prune in networks}
    results = steps_study(workloads)
    bandwidths = [3.2, 25.6, 204.8] if args.quick else [1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8]
    bandwidth_study(workloads, bandwidths)
    utilisation_study(results)
    one_pe_study(workloads["mobilenet-v1-0.5"])
    depthwise = simulate(workloads["mobilenet-v1-0.5"], load_arch("eyeriss-v2", ["dataflow.spread.depthwise=blocks"]),
                         dense_reference=False)
    FILES.write_json("depthwise_spread.json", {"paper_spread_rows": inferences(results["mobilenet-v1-0.5"]),
                                               "blocks_spread": inferences(depthwise)})
    FILES.write_provenance("python studies/eyeriss/run_studies.py" + (" --quick" if args.quick else ""),
                           workloads="MobileNet v1 0.5 (128 x 128) unstructured:0.5 and torchvision AlexNet "
                                     "(224 x 224) han2015, seed-0 random weights and a seed-0 random image")
    return 0


if __name__ == "__main__":
    sys.exit(main())

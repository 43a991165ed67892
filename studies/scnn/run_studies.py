"""The SCNN paper's studies, rerun on accelsim's SCNN and DCNN models (docs/scnn.md shows the results).

    python studies/scnn/run_studies.py            # all studies, several minutes; writes studies/scnn/results/
    python studies/scnn/run_studies.py --quick    # AlexNet only and a 4-point sweep (a smoke run)

1. Speedup and energy of SCNN over DCNN, per conv layer and per network: AlexNet and VGG-16 pruned with han2015
   (the paper's per-layer densities), GoogLeNet by per-layer magnitude to 40% weight density (unstructured:0.6:
   the paper's GoogLeNet densities are not reachable here). Conv layers only, as the paper evaluates them.
2. GoogLeNet density sweep: weight density = activation density from 1.0 to 0.1 on synthetic seeded patterns
   (nested: each density's nonzeros are a subset of the denser one's), SCNN, SCNN-SparseW and SCNN-SparseA
   against DCNN: speedup and energy curves and the break-even densities.
3. Multiplier utilisation per layer and what each loss costs (wasted products, fragmentation, bank conflicts,
   barrier, drains, DRAM), and the crossbar queue depth's and bank hash's effect on conflicts (our choices).

Weights come from torchvision's architectures with seeded random initialisation (no pretrained weights can be
downloaded here), activations from running a seeded random image through them.
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
from accelsim.workload import Layer, Workload

ROOT = Path(__file__).resolve().parents[2]
FILES = StudyFiles(ROOT / "studies" / "scnn" / "results", ROOT)
NETWORKS = (("alexnet", "han2015"), ("googlenet", "unstructured:0.6"), ("vgg16", "han2015"))
LOSSES = ("wasted_products", "fragmentation", "bank_conflict", "barrier", "accumulator_drain", "memory_bandwidth")
VARIANTS = {"SCNN": [], "SCNN-SparseW": ["dataflow.skip_zero_activations=false"],
            "SCNN-SparseA": ["dataflow.skip_zero_weights=false"]}


def conv_layers(model: str, prune: str) -> Workload:
    workload = build_workload(model, prune, seed=0).workload
    return Workload(layers=tuple(layer for layer in workload.layers if layer.op == "conv2d"),
                    provenance=workload.provenance)


def speedup_and_energy(networks) -> tuple[list[dict], list[dict], dict]:
    rows, totals, results = [], [], {}
    for model, prune in networks:
        result = simulate(conv_layers(model, prune), load_arch("scnn"))
        results[model] = result
        for row in result.rows:
            layer = row.result
            rows.append({
                "network": model, "layer": layer.name, "scnn_cycles": layer.cycles, "dcnn_cycles": row.dense_cycles,
                "speedup": round(row.speedup, 3), "scnn_energy_uj": round(row.total_energy_pj * 1e-6, 3),
                "dcnn_energy_uj": round(row.dense_energy_pj * 1e-6, 3),
                "energy_ratio": round(row.dense_energy_pj / row.total_energy_pj, 3),
                "utilization": round(layer.utilization, 4), "effectual_utilization": round(
                    layer.effectual_utilization, 4),
                "kc": layer.metrics["output_channel_group_size"], "passes": layer.metrics["temporal_passes"],
                **{f"{cause}_share": round(layer.stall_cycles.get(cause, 0) / layer.cycles, 4) for cause in LOSSES},
            })
        totals.append({"network": model, "pruning": prune, "conv_layers": len(result.rows),
                       "speedup": round(result.speedup, 3), "energy_ratio": round(result.energy_ratio, 3),
                       "scnn_ms": round(result.latency_s * 1e3, 3), "dcnn_ms": round(result.dense_latency_s * 1e3, 3),
                       "scnn_mj": round(result.energy_pj * 1e-9, 3), "dcnn_mj": round(result.dense_energy_pj * 1e-9, 3),
                       **{f"{cause}_share": round(result.stall_cycles.get(cause, 0) / result.cycles, 4)
                          for cause in LOSSES}})
    FILES.write_csv("speedup_per_layer.csv", rows)
    FILES.write_csv("speedup_per_network.csv", totals)
    figure, axes = plt.subplots(len(networks), 1, figsize=(12, 3.2 * len(networks)), squeeze=False)
    for axis, (model, _) in zip(axes[:, 0], networks, strict=True):
        mine = [row for row in rows if row["network"] == model]
        x = np.arange(len(mine))
        axis.bar(x - 0.2, [row["speedup"] for row in mine], width=0.4, label="speedup")
        axis.bar(x + 0.2, [row["energy_ratio"] for row in mine], width=0.4, label="energy improvement")
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.set_xticks(x, [row["layer"] for row in mine], rotation=90, fontsize=6)
        total = next(row for row in totals if row["network"] == model)
        axis.set_title(f"{model}: SCNN over DCNN, network {total['speedup']:.2f}x faster, "
                       f"{total['energy_ratio']:.2f}x less energy")
        axis.legend(fontsize=8)
    FILES.save_figure(figure, "speedup_per_layer.png")
    return rows, totals, results


def synthetic(layers: tuple[Layer, ...], density: float, seed: int = 0) -> Workload:
    """Each layer with seeded random values whose nonzeros are drawn at `density` for weights and activations;
    one uniform draw per operand, so a lower density keeps a subset of a higher one's nonzeros."""
    out = []
    for index, layer in enumerate(layers):
        rng = np.random.default_rng([seed, index])
        weight = rng.standard_normal(layer.weight.shape) * (rng.random(layer.weight.shape) < density)
        act = np.abs(rng.standard_normal(layer.input.shape)) * (rng.random(layer.input.shape) < density)
        out.append(Layer(name=layer.name, op=layer.op, input=act, weight=weight, stride=layer.stride,
                         padding=layer.padding, dilation=layer.dilation, groups=layer.groups))
    return Workload(layers=tuple(out), provenance={"synthetic": f"density {density}, seed {seed}"})


def break_even(densities: list[float], ratios: list[float]) -> float | None:
    """The density (linear interpolation) where a ratio that falls with density crosses 1."""
    for (d0, r0), (d1, r1) in zip(zip(densities, ratios, strict=True), zip(densities[1:], ratios[1:], strict=True),
                                  strict=False):
        if (r0 - 1) * (r1 - 1) <= 0 and r0 != r1:
            return round(d0 + (1 - r0) * (d1 - d0) / (r1 - r0), 3)
    return None


def density_sweep(densities: list[float]) -> list[dict]:
    layers = conv_layers("googlenet", "none").layers
    dense = simulate(synthetic(layers, 1.0), load_arch("dcnn"), dense_reference=False)
    dcnn_s, dcnn_pj = dense.latency_s, dense.energy_pj
    rows = []
    for density in densities:
        workload = synthetic(layers, density)
        row = {"density": density}
        for variant, overrides in VARIANTS.items():
            result = simulate(workload, load_arch("scnn", overrides), dense_reference=False)
            row[f"{variant}_speedup"] = round(dcnn_s / result.latency_s, 3)
            row[f"{variant}_energy_ratio"] = round(result.energy_pj / dcnn_pj, 4)
        print(f"density {density}: {row}")
        rows.append(row)
    FILES.write_csv("density_sweep.csv", rows)
    order = sorted(rows, key=lambda row: row["density"])
    xs = [row["density"] for row in order]
    summary = {variant: {"performance_break_even_density": break_even(xs, [row[f"{variant}_speedup"]
                                                                              for row in order]),
                         "energy_break_even_density": break_even(xs, [1 / row[f"{variant}_energy_ratio"]
                                                                      for row in order])}
               for variant in VARIANTS}
    FILES.write_json("density_break_even.json", summary)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for variant in VARIANTS:
        left.plot(xs, [row[f"{variant}_speedup"] for row in order], marker="o", label=variant)
        right.plot(xs, [row[f"{variant}_energy_ratio"] for row in order], marker="o", label=variant)
    left.axhline(1.0, color="black", linewidth=0.8)
    right.axhline(1.0, color="black", linewidth=0.8)
    left.set(xlabel="weight density = activation density", ylabel="speedup over DCNN", yscale="log",
             title="GoogLeNet conv layers: performance")
    right.set(xlabel="weight density = activation density", ylabel="energy relative to DCNN",
              title="GoogLeNet conv layers: energy")
    left.invert_xaxis()
    right.invert_xaxis()
    left.legend()
    right.legend()
    FILES.save_figure(figure, "density_sweep.png")
    print(f"break-even: {summary}")
    return rows


def utilisation(result, model: str) -> None:
    """Stacked shares of each layer's cycles: busy (useful products) and each loss."""
    rows = result.rows
    figure, axis = plt.subplots(figsize=(12, 4))
    x = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    busy = np.array([row.result.busy_cycles / row.result.cycles for row in rows])
    axis.bar(x, busy, label="busy (useful products)", color="tab:green")
    bottom += busy
    for cause in LOSSES:
        share = np.array([row.result.stall_cycles.get(cause, 0) / row.result.cycles for row in rows])
        axis.bar(x, share, bottom=bottom, label=cause)
        bottom += share
    axis.plot(x, [row.result.utilization for row in rows], "k.", label="multiplier utilisation")
    axis.set_xticks(x, [row.result.name for row in rows], rotation=90, fontsize=6)
    axis.set_ylabel("share of cycles")
    axis.set_title(f"{model} on SCNN: where the cycles go")
    axis.legend(fontsize=7, ncol=4)
    FILES.save_figure(figure, f"utilisation_{model}.png")


def crossbar_sweep(workload: Workload) -> list[dict]:
    """The crossbar choices the paper does not give: bank queue depth x bank hash, their cycles and conflicts."""
    rows = []
    for mapping in ("xor_fold", "modulo"):
        for depth in (1, 2, 4, 8):
            result = simulate(workload, load_arch("scnn", [f"dataflow.crossbar_queue_depth={depth}",
                                                           f"dataflow.bank_mapping={mapping}"]),
                              dense_reference=False)
            conflict = result.stall_cycles.get("bank_conflict", 0)
            rows.append({"bank_mapping": mapping, "queue_depth": depth, "cycles": result.cycles,
                         "bank_conflict_share": round(conflict / result.cycles, 4)})
    FILES.write_csv("crossbar_queue_depth.csv", rows)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    networks = NETWORKS[:1] if args.quick else NETWORKS
    _, _, results = speedup_and_energy(networks)
    for model in results:
        utilisation(results[model], model)
    densities = [1.0, 0.7, 0.4, 0.1] if args.quick else [round(1.0 - 0.1 * i, 1) for i in range(10)]
    density_sweep(densities)
    crossbar_sweep(conv_layers(*networks[-2 if not args.quick else 0]))
    FILES.write_provenance("python studies/scnn/run_studies.py" + (" --quick" if args.quick else ""),
                           workloads="torchvision AlexNet, GoogLeNet, VGG-16 with seed-0 random weights and a "
                                     "seed-0 random 224x224 image; pruning as named per network; sweep: synthetic "
                                     "nested patterns, seed 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())

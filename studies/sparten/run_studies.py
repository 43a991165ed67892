"""The SparTen paper's studies, rerun on accelsim's SparTen model (docs/sparten.md shows the results).

    python studies/sparten/run_studies.py            # all studies, several minutes; writes studies/sparten/results/
    python studies/sparten/run_studies.py --quick    # AlexNet only, short sweeps (a smoke run)

1. Speedup and energy of SparTen over its dense twin, over the one-sided design (the same hardware skipping zero
   weights only) and over SCNN (latency: SparTen runs at 800 MHz, SCNN at 1 GHz; energy: SCNN repriced at 45 nm,
   SparTen's node, from the same action counts), per conv layer and per network: AlexNet and VGG-16 pruned with
   han2015, GoogLeNet by per-layer magnitude to 40% weight density (unstructured:0.6, as the SCNN study: the
   paper's GoogLeNet pruning is not known here). Conv layers only, as the SCNN study.
2. Utilisation and the imbalance left by no balancing, GB-S and GB-H, per layer and per network; and on AlexNet
   with every filter's nonzeros redrawn at its own density (uniform in 5-60%), since magnitude pruning of a random
   initialisation leaves every filter near its layer's density, unlike a trained network's.
3. The effect of chunk size (32 to 256 positions) and of the CUs' input-buffer depth (1 to 16 chunks), on GoogLeNet
   (AlexNet with --quick).

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
import matplotlib.ticker
import numpy as np

from accelsim.arch_configs import load_arch
from accelsim.energy import EnergyModel
from accelsim.frontend.build import build_workload
from accelsim.report.study_files import StudyFiles
from accelsim.simulate import simulate
from accelsim.workload import Layer, Workload

ROOT = Path(__file__).resolve().parents[2]
FILES = StudyFiles(ROOT / "studies" / "sparten" / "results", ROOT)
NETWORKS = (("alexnet", "han2015"), ("vgg16", "han2015"), ("googlenet", "unstructured:0.6"))
LOSSES = ("empty_join", "broadcast_stall", "broadcast_bandwidth", "load_imbalance", "pipeline_fill", "filter_load",
          "fragmentation", "memory_bandwidth")
BALANCING = ("none", "gb-s", "gb-h")
COLOURS = dict(zip(LOSSES, ("tab:blue", "tab:orange", "tab:cyan", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                            "tab:gray"), strict=True))  # busy is green


def conv_layers(model: str, prune: str) -> Workload:
    workload = build_workload(model, prune, seed=0).workload
    return Workload(layers=tuple(layer for layer in workload.layers if layer.op == "conv2d"),
                    provenance=workload.provenance)


def shares(result) -> dict[str, float]:
    return {f"{cause}_share": round(result.stall_cycles.get(cause, 0) / result.cycles, 4) for cause in LOSSES}


def comparison(workloads: dict[str, Workload]) -> dict:
    rows, totals, results = [], [], {}
    scnn_at_45 = EnergyModel.for_arch(load_arch("scnn", ["technology_nm=45"]))
    for model, workload in workloads.items():
        sparten = simulate(workload, load_arch("sparten"))
        one_sided = simulate(workload, load_arch("sparten-one-sided"), dense_reference=False)
        scnn = simulate(workload, load_arch("scnn"), dense_reference=False)
        results[model] = sparten
        scnn_pj = [sum(scnn_at_45.breakdown_pj(row.result.actions, row.latency_s).values()) for row in scnn.rows]
        for row, one, other, other_pj in zip(sparten.rows, one_sided.rows, scnn.rows, scnn_pj, strict=True):
            layer = row.result
            rows.append({
                "network": model, "layer": layer.name, "sparten_us": round(row.latency_s * 1e6, 2),
                "dense_us": round(row.dense_latency_s * 1e6, 2), "one_sided_us": round(one.latency_s * 1e6, 2),
                "scnn_us": round(other.latency_s * 1e6, 2), "speedup_vs_dense": round(row.speedup, 3),
                "speedup_vs_one_sided": round(one.latency_s / row.latency_s, 3),
                "speedup_vs_scnn": round(other.latency_s / row.latency_s, 3),
                "energy_vs_dense": round(row.dense_energy_pj / row.total_energy_pj, 3),
                "energy_vs_one_sided": round(one.total_energy_pj / row.total_energy_pj, 3),
                "energy_vs_scnn_45nm": round(other_pj / row.total_energy_pj, 3),
                "utilization": round(layer.utilization, 4), "cu_imbalance": round(layer.metrics["cu_imbalance"], 4),
                **shares(layer)})
        totals.append({
            "network": model, "conv_layers": len(sparten.rows), "sparten_ms": round(sparten.latency_s * 1e3, 3),
            "dense_ms": round(sparten.dense_latency_s * 1e3, 3), "one_sided_ms": round(one_sided.latency_s * 1e3, 3),
            "scnn_ms": round(scnn.latency_s * 1e3, 3), "speedup_vs_dense": round(sparten.speedup, 3),
            "speedup_vs_one_sided": round(one_sided.latency_s / sparten.latency_s, 3),
            "speedup_vs_scnn": round(scnn.latency_s / sparten.latency_s, 3),
            "energy_vs_dense": round(sparten.energy_ratio, 3),
            "energy_vs_one_sided": round(one_sided.energy_pj / sparten.energy_pj, 3),
            "energy_vs_scnn_45nm": round(sum(scnn_pj) / sparten.energy_pj, 3),
            "sparten_mj": round(sparten.energy_pj * 1e-9, 4), **shares(sparten)})
        print(f"{model}: {totals[-1]}")
    FILES.write_csv("speedup_per_layer.csv", rows)
    FILES.write_csv("speedup_per_network.csv", totals)
    figure, axes = plt.subplots(len(workloads), 1, figsize=(12, 3.2 * len(workloads)), squeeze=False)
    for axis, model in zip(axes[:, 0], workloads, strict=True):
        mine = [row for row in rows if row["network"] == model]
        x = np.arange(len(mine))
        for offset, key, label in ((-0.27, "speedup_vs_dense", "over dense twin"),
                                   (0.0, "speedup_vs_one_sided", "over one-sided"),
                                   (0.27, "speedup_vs_scnn", "over SCNN (latency)")):
            axis.bar(x + offset, [row[key] for row in mine], width=0.27, label=label)
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.set_xticks(x, [row["layer"] for row in mine], rotation=90, fontsize=6)
        total = next(row for row in totals if row["network"] == model)
        axis.set_title(f"{model}: SparTen {total['speedup_vs_dense']:.2f}x over dense, "
                       f"{total['speedup_vs_one_sided']:.2f}x over one-sided, {total['speedup_vs_scnn']:.2f}x "
                       f"over SCNN", fontsize=9)
        axis.legend(fontsize=7)
    FILES.save_figure(figure, "speedup_per_layer.png")
    return results


def skewed(workload: Workload, seed: int = 0) -> Workload:
    """The layers with each filter's nonzeros redrawn (seeded) at a density of its own, uniform in [0.05, 0.6]."""
    rng = np.random.default_rng(seed)
    layers = []
    for layer in workload.layers:
        density = rng.uniform(0.05, 0.6, size=layer.weight.shape[0]).reshape(-1, 1, 1, 1)
        weight = rng.standard_normal(layer.weight.shape) * (rng.random(layer.weight.shape) < density)
        layers.append(Layer(name=layer.name, op=layer.op, input=layer.input, weight=weight, stride=layer.stride,
                            padding=layer.padding, dilation=layer.dilation, groups=layer.groups))
    return Workload(layers=tuple(layers), provenance={**workload.provenance, "skewed": "per-filter density U(0.05, "
                                                                                       f"0.6), seed {seed}"})


def filter_spread(workload: Workload) -> float:
    """Mean over layers of the coefficient of variation of the filters' nonzeros."""
    spreads = []
    for layer in workload.layers:
        nonzeros = np.count_nonzero(layer.weight.reshape(layer.weight.shape[0], -1), axis=1)
        spreads.append(nonzeros.std() / max(nonzeros.mean(), 1e-9))
    return float(np.mean(spreads))


def balancing(workloads: dict[str, Workload], gb_h: dict) -> None:
    rows, per_layer = [], []
    for model, workload in workloads.items():
        runs = {name: (gb_h[model] if name == "gb-h" and model in gb_h else simulate(
            workload, load_arch("sparten", [f"dataflow.balancing={name}"]), dense_reference=False))
            for name in BALANCING}
        for name, result in runs.items():
            weights = np.array([row.result.cycles for row in result.rows], dtype=float)
            imbalance = np.array([row.result.metrics["cu_imbalance"] for row in result.rows])
            slots = result.cycles * result.rows[0].result.multipliers
            rows.append({"network": model, "filter_nnz_cv": round(filter_spread(workload), 3), "balancing": name,
                         "cycles": result.cycles,
                         "speedup_vs_none": round(runs["none"].cycles / result.cycles, 3),
                         "cu_imbalance_cycle_weighted": round(float(imbalance @ weights / weights.sum()), 4),
                         "utilization": round(sum(row.result.macs_issued for row in result.rows) / slots, 4),
                         **shares(result)})
            per_layer += [{"network": model, "balancing": name, "layer": row.result.name,
                           "cu_imbalance": round(row.result.metrics["cu_imbalance"], 4),
                           "cycles": row.result.cycles} for row in result.rows]
        print(f"{model} balancing: {[(r['balancing'], r['speedup_vs_none']) for r in rows if r['network'] == model]}")
    FILES.write_csv("balancing_per_network.csv", rows)
    FILES.write_csv("balancing_per_layer.csv", per_layer)
    figure, axes = plt.subplots(len(workloads), 1, figsize=(12, 3.0 * len(workloads)), squeeze=False)
    for axis, model in zip(axes[:, 0], workloads, strict=True):
        for offset, name in zip((-0.27, 0.0, 0.27), BALANCING, strict=True):
            mine = [row for row in per_layer if row["network"] == model and row["balancing"] == name]
            axis.bar(np.arange(len(mine)) + offset, [100 * row["cu_imbalance"] for row in mine], width=0.27,
                     label=name)
        axis.set_xticks(np.arange(len(mine)), [row["layer"] for row in mine], rotation=90, fontsize=6)
        axis.set_ylabel("busiest CU over mean, %")
        axis.set_title(f"{model}: imbalance between a broadcast group's CUs left by each balancing", fontsize=9)
        axis.legend(fontsize=7)
    FILES.save_figure(figure, "balancing_imbalance.png")


def utilisation(result, model: str) -> None:
    """Stacked shares of each layer's cycles: busy (products) and each loss."""
    rows = result.rows
    figure, axis = plt.subplots(figsize=(12, 4))
    x = np.arange(len(rows))
    busy = np.array([row.result.busy_cycles / row.result.cycles for row in rows])
    axis.bar(x, busy, label="busy (products)", color="tab:green")
    bottom = busy.copy()
    for cause in LOSSES:
        share = np.array([row.result.stall_cycles.get(cause, 0) / row.result.cycles for row in rows])
        axis.bar(x, share, bottom=bottom, label=cause, color=COLOURS[cause])
        bottom += share
    axis.set_xticks(x, [row.result.name for row in rows], rotation=90, fontsize=6)
    axis.set_ylabel("share of cycles")
    axis.set_title(f"{model} on SparTen (GB-H): where the cycles go")
    axis.legend(fontsize=7, ncol=5)
    FILES.save_figure(figure, f"utilisation_{model}.png")


def sweeps(workload: Workload, model: str, chunk_sizes, depths) -> None:
    rows = []
    dense = simulate(workload, load_arch("sparten-dense"), dense_reference=False)
    for chunk in chunk_sizes:
        buffer_bytes = -(-4 * (chunk + chunk * 16) // 8)  # four chunks of mask and 16-bit values
        result = simulate(workload, load_arch("sparten", [f"dataflow.chunk_size={chunk}",
                                                          f"memory.input_buffer.size_bytes={buffer_bytes}"]),
                          dense_reference=False)
        rows.append({"sweep": "chunk_size", "value": chunk, "cycles": result.cycles,
                     "speedup_vs_dense_128": round(dense.cycles / result.cycles, 3),
                     "energy_uj": round(result.energy_pj * 1e-6, 2), **shares(result)})
    for balance in ("gb-h", "none"):
        for depth in depths:
            buffer_bytes = -(-depth * (128 + 128 * 16) // 8)
            result = simulate(workload, load_arch("sparten", [
                f"dataflow.input_buffer_depth={depth}", f"memory.input_buffer.size_bytes={buffer_bytes}",
                f"dataflow.balancing={balance}"]), dense_reference=False)
            rows.append({"sweep": f"input_buffer_depth ({balance})", "value": depth, "cycles": result.cycles,
                         "speedup_vs_dense_128": round(dense.cycles / result.cycles, 3),
                         "energy_uj": round(result.energy_pj * 1e-6, 2), **shares(result)})
    FILES.write_csv("sweeps.csv", rows)
    figure, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for axis, sweep, label in zip(axes, ("chunk_size", "input_buffer_depth (gb-h)", "input_buffer_depth (none)"),
                                  ("chunk size (positions)", "input buffer depth (chunks), GB-H",
                                   "input buffer depth (chunks), no balancing"), strict=True):
        mine = [row for row in rows if row["sweep"] == sweep]
        xs = [row["value"] for row in mine]
        axis.plot(xs, [row["speedup_vs_dense_128"] for row in mine], marker="o", label="speedup over dense twin")
        twin = axis.twinx()
        for cause in ("empty_join", "broadcast_stall", "load_imbalance", "filter_load"):
            twin.plot(xs, [100 * row[f"{cause}_share"] for row in mine], linestyle="--", marker=".", label=cause)
        axis.set(xscale="log", xlabel=label, ylabel="speedup", title=f"{model}: {label}")
        axis.set_xticks(xs, [str(x) for x in xs])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        twin.set_ylabel("share of cycles, %")
        axis.legend(loc="upper left", fontsize=7)
        twin.legend(loc="upper right", fontsize=7)
    FILES.save_figure(figure, "sweeps.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    networks = NETWORKS[:1] if args.quick else NETWORKS
    workloads = {model: conv_layers(model, prune) for model, prune in networks}
    results = comparison(workloads)
    for model, result in results.items():
        utilisation(result, model)
    balancing({**workloads, "alexnet-skewed": skewed(workloads["alexnet"])}, results)
    sweep_model = "alexnet" if args.quick else "googlenet"
    sweeps(workloads[sweep_model], sweep_model, (64, 128) if args.quick else (32, 64, 128, 256),
           (1, 4) if args.quick else (1, 2, 4, 8, 16))
    FILES.write_provenance("python studies/sparten/run_studies.py" + (" --quick" if args.quick else ""),
                           workloads="torchvision AlexNet, VGG-16, GoogLeNet with seed-0 random weights and a seed-0 "
                                     "random 224x224 image; conv layers; pruning as named per network")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed of the Eyeriss v2 dataflow on all of ResNet-50 pruned to 10% weight density, against a dense numpy float64
evaluation of the same layers (target: the simulation, dense reference included, at most 5x the numpy time).

    python benchmarks/bench_eyeriss.py [--repeats 3] [--prune unstructured:0.9] [--profile]
    python benchmarks/bench_eyeriss.py --scaling --workloads DIR ... [--plot eyeriss_scaling.png]

Times, in one process after warm-up, `accelsim.simulate.simulate` of the workload on arch_configs/eyeriss-v2.yaml
(every layer walked sparse, then on its dense reference: the same machine with CSC off; energy priced) and
`accelsim.reference.reference_output` of every layer (the dense float64 convolution). Both run on fresh `Layer`
objects each repeat, alternating, and the best and median of each are reported with their ratio. Not timed:
building, pruning and lowering the model (torch). With --profile, one more simulation runs under cProfile and the
functions of the Eyeriss dataflow are listed by their own time (where the time goes).

With --scaling: every layer of each saved workload (e.g. ResNet-50 at several sparsities, `accelsim lower -o`)
through Eyeriss v2 alone (no dense reference), best of --repeats per layer, fitted against the layer's effectual
MACs, its dense MACs, and what the walk visits (iact reads plus PE windows); plotted with --plot (a small PNG).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from pathlib import Path

import numpy as np
from layer_timing import fresh
from work_scaling import fit_line, plot_time_against_work

from accelsim.arch_configs import load_arch
from accelsim.dataflows.eyeriss import EyerissV2
from accelsim.frontend.build import build_workload
from accelsim.reference import reference_output
from accelsim.simulate import simulate
from accelsim.workload import Workload

TARGET_RATIO = 5.0


def run_simulation(layers, arch) -> float:
    workload = Workload(layers=tuple(fresh(layer) for layer in layers), provenance={"model": "resnet50"})
    start = time.perf_counter()
    simulate(workload, arch)
    return time.perf_counter() - start


def run_reference(layers) -> float:
    batch = [fresh(layer) for layer in layers]
    start = time.perf_counter()
    for layer in batch:
        reference_output(layer)
    return time.perf_counter() - start


def scaling(workloads: list[str], repeats: int, plot: Path | None) -> None:
    from accelsim.workload_io import load_workload

    arch, dataflow = load_arch("eyeriss-v2"), EyerissV2()
    rows = []  # (label, per-layer best seconds, effectual MACs, dense MACs, reads + windows walked)
    for folder in workloads:
        workload = load_workload(Path(folder))
        label = str(workload.provenance.get("scheme", folder))
        for layer in workload.layers[:2]:
            dataflow.simulate(fresh(layer), arch)  # numba's first calls
        best = np.full(len(workload.layers), np.inf)
        effectual, walked = np.zeros(len(workload.layers)), np.zeros(len(workload.layers))
        for _ in range(repeats):
            for i, layer in enumerate(workload.layers):
                copy = fresh(layer)
                start = time.perf_counter()
                result = dataflow.simulate(copy, arch)
                best[i] = min(best[i], time.perf_counter() - start)
                effectual[i] = result.effectual_macs
                walked[i] = result.actions[("iact_spad", "read")] + result.actions.get(("iact_addr_spad", "read"),
                                                                                       0)
        dense = np.array([layer.macs for layer in workload.layers], dtype=float)
        rows.append((label, best, effectual, dense, walked))
        load = "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
        print(f"  {label}: {best.sum():.3f} s, {effectual.sum() / 1e6:,.0f} M effectual MACs ({load})", flush=True)
    seconds = np.concatenate([row[1] for row in rows])
    fits = {what: fit_line(np.concatenate([row[column] for row in rows]), seconds)
            for what, column in (("effectual MACs", 2), ("dense MACs", 3), ("reads + windows", 4))}
    for what, (a, b, r2) in fits.items():
        print(f"fit over {seconds.size} layers: seconds per layer = {a * 1e3:.3f} ms + {b * 1e9:.2f} ns x {what} "
              f"(R^2 {r2:.3f})")
    print(f"{'workload':>20} {'layers':>6} {'effectual (M)':>14} {'dense MACs (M)':>15} {'walked (M)':>11} "
          f"{'Eyeriss s':>9} {'M effectual/s':>14}")
    for label, best, effectual, dense, walked in rows:
        print(f"{label:>20} {best.size:>6} {effectual.sum() / 1e6:>14,.0f} {dense.sum() / 1e6:>15,.0f} "
              f"{walked.sum() / 1e6:>11,.0f} {best.sum():>9.3f} {effectual.sum() / best.sum() / 1e6:>14.0f}")
    if plot:
        plot_time_against_work(rows, ((2, "effectual MACs", fits["effectual MACs"]),
                                      (4, "reads + windows", fits["reads + windows"])),
                               "EyerissV2.simulate (ms)", "Eyeriss v2 on ResNet-50 pruned to several sparsities: "
                               "simulation time (no dense reference) against the work", plot)
        print(f"plot: {plot}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prune", default="unstructured:0.9")
    parser.add_argument("--profile", action="store_true", help="profile one more simulation and list where it spends")
    parser.add_argument("--scaling", action="store_true", help="time per layer against effectual MACs")
    parser.add_argument("--workloads", nargs="+", help="saved workload folders for --scaling")
    parser.add_argument("--plot", type=Path, help="with --scaling: write the plot here (PNG)")
    args = parser.parse_args()
    if args.scaling:
        if not args.workloads:
            parser.error("--scaling needs --workloads (folders saved by `accelsim lower -o`)")
        scaling(args.workloads, args.repeats, args.plot)
        return
    layers = build_workload("resnet50", args.prune).workload.layers
    arch = load_arch("eyeriss-v2")
    run_simulation(layers[:1] + layers[-1:], arch)  # JIT warm-up (numba also caches on disk)
    run_reference(layers[:1])
    simulated, referenced = [], []
    for _ in range(args.repeats):
        referenced.append(run_reference(layers))
        simulated.append(run_simulation(layers, arch))
    best, median = min(simulated) / min(referenced), statistics.median(simulated) / statistics.median(referenced)
    print(f"Eyeriss v2 on ResNet-50 ({len(layers)} layers, {args.prune}), sparse run + dense reference: best "
          f"{min(simulated):.2f} s, median {statistics.median(simulated):.2f} s over {args.repeats} repeats")
    print(f"numpy float64 reference_output of the same layers: best {min(referenced):.2f} s, median "
          f"{statistics.median(referenced):.2f} s")
    print(f"ratio {best:.2f}x (best / best), {median:.2f}x (median / median); target at most {TARGET_RATIO:.0f}x: "
          f"{'met' if best <= TARGET_RATIO else 'MISSED'}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        run_simulation(layers, arch)
        profile.disable()
        print("where one simulation spends its time (own time of each function, the top 12):")
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()

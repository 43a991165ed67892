"""Speed of the SparTen dataflow (issue 20): where its time goes on a saved workload, and how its cost follows the work
across sparsities. The ratio to numpy is the common benchmark's, run from here:

    accelsim lower resnet50 --prune unstructured:0.9 -o /tmp/resnet50-u90                      # once
    python benchmarks/bench_sparten.py --workload /tmp/resnet50-u90 [--blas-threads 1]          # ratio + profile
    python benchmarks/bench_sparten.py --scaling --workloads DIR ... [--plot sparten_scaling.png]

Ratio: `benchmarks/bench_dataflow_speed.py --runs sparten` (SparTen with its dense twin, as `accelsim run` prices it,
alternated with the numpy float64 reference in one process: see its docstring). An earlier version of this script
timed the reference after the simulations, apart from them, with numpy's two BLAS threads on a loaded machine, and
got 5 s for what takes 0.24 to 0.5 s: its 2.6x compared a slowed reference with the simulation. Here it is not timed.

Profile: one more run of the workload (SparTen and its dense twin, fresh layers, after a warm-up), the seconds of
each stage of `SparTen.simulate` (chunks, balancing, plan, walk, outputs for the collector, storage and cost: the
outputs run mostly on a second thread during the walk, so what shows is the walking thread's share of them and its
wait) and cProfile's functions by own time.

Scaling: the same network pruned to several sparsities; each layer through SparTen and its dense twin (best of
--repeats), fitted as seconds per layer = a + b x work, against the effectual MACs, against the work the kernels do
(SparTen's chunk joins, which its walk and the outputs' kernel visit, plus the matches the outputs are summed over;
the dense twin walks one CU per pass, about a broadcast per chunk join of one CU), and against the
dense MACs. Plots them (--plot, a small PNG).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from layer_timing import fresh
from work_scaling import fit_line, least_squares, plot_time_against_work

from accelsim.arch_configs import load_arch
from accelsim.dataflows.sparten import SparTen, balance, chunks, cost, schedule
from accelsim.dataflows.sparten import dataflow as sparten_dataflow
from accelsim.workload_io import load_workload

STAGES = ((chunks, "build", "chunks (masks, windows)"), (balance, "assign", "balancing"),
          (schedule, "plan", "plan of the passes"), (sparten_dataflow, "walk_layer", "walk (numba)"),
          (sparten_dataflow, "outputs_later", "outputs: started on their thread"),
          (sparten_dataflow, "effectual_products", "effectual products (dense twin)"),
          (cost, "storage_bits", "storage bits"), (cost, "layer_result_parts", "cycles, actions"))


def _load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def _run(layers, sparse_arch, dense_arch) -> float:
    dataflow, start = SparTen(), time.perf_counter()
    for layer in layers:
        copy = fresh(layer)
        dataflow.simulate(copy, sparse_arch)
        dataflow.simulate(copy, dense_arch)
    return time.perf_counter() - start


def profile(workload_dir: str) -> None:
    layers = load_workload(Path(workload_dir)).layers
    sparse_arch, dense_arch = load_arch("sparten"), load_arch("sparten-dense")
    _run(layers, sparse_arch, dense_arch)  # warm-up: numba's cache
    seconds: dict[str, float] = collections.defaultdict(float)
    originals = []
    for module, name, label in STAGES:
        function = getattr(module, name)
        originals.append((module, name, function))

        def timed(*args, _function=function, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                result = _function(*args, **kwargs)
            finally:
                seconds[_label] += time.perf_counter() - start
            if _function.__name__ == "outputs_later":  # the rest of the outputs, and the wait for the thread
                return _timed_finish(result, seconds)
            return result
        setattr(module, name, timed)
    try:
        total = _run(layers, sparse_arch, dense_arch)
    finally:
        for module, name, function in originals:
            setattr(module, name, function)
    print(f"\nSparTen + dense twin, {len(layers)} layers: {total:.2f} s ({_load()}); by stage:")
    for label, stage_s in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"  {label:36s} {stage_s:6.2f} s {stage_s / total:6.1%}")
    profiler = cProfile.Profile()
    profiler.enable()
    _run(layers, sparse_arch, dense_arch)
    profiler.disable()
    print("cProfile, by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(8)


def _timed_finish(finish, seconds: dict[str, float]):
    def timed_finish():
        start = time.perf_counter()
        try:
            return finish()
        finally:
            seconds["outputs: the walking thread's share + wait"] += time.perf_counter() - start
    return timed_finish


def scaling(workloads: list[str], repeats: int, plot: Path | None) -> None:
    sparse_arch, dense_arch = load_arch("sparten"), load_arch("sparten-dense")
    dataflow = SparTen()
    rows = []  # (label, per-layer best seconds, effectual MACs, work walked, dense MACs)
    for folder in workloads:
        workload = load_workload(Path(folder))
        label = str(workload.provenance.get("scheme", folder))
        _run(workload.layers[:1], sparse_arch, dense_arch)
        best = np.full(len(workload.layers), np.inf)
        effectual, work = np.zeros(len(workload.layers)), np.zeros(len(workload.layers))
        for _ in range(repeats):
            for i, layer in enumerate(workload.layers):
                copy = fresh(layer)
                start = time.perf_counter()
                sparse = dataflow.simulate(copy, sparse_arch)
                dataflow.simulate(copy, dense_arch)
                best[i] = min(best[i], time.perf_counter() - start)
                effectual[i] = sparse.effectual_macs
                work[i] = sparse.actions[("mask_and", "compute")] + sparse.effectual_macs
        dense_macs = np.array([layer.macs for layer in workload.layers], dtype=float)
        rows.append((label, best, effectual, work, dense_macs))
        print(f"  {label}: {best.sum():.3f} s, {effectual.sum() / 1e6:,.0f} M effectual MACs ({_load()})", flush=True)
    seconds = np.concatenate([row[1] for row in rows])
    fits = {what: fit_line(np.concatenate([row[column] for row in rows]), seconds)
            for what, column in (("effectual MACs", 2), ("joins + matches", 3), ("dense MACs", 4))}
    for what, (a, b, r2) in fits.items():
        print(f"fit over {seconds.size} layers: seconds per layer = {a * 1e3:.3f} ms + {b * 1e9:.2f} ns x {what} "
              f"(R^2 {r2:.3f})")
    effectual = np.concatenate([row[2] for row in rows])
    joins = np.concatenate([row[3] for row in rows]) - effectual
    a, b, c, r2 = least_squares(seconds, joins, effectual)
    print(f"two-term fit: seconds per layer = {a * 1e3:.3f} ms + {b * 1e9:.2f} ns x joins + {c * 1e9:.2f} ns x "
          f"matches (R^2 {r2:.3f})")
    print(f"{'workload':>20} {'effectual (M)':>14} {'joins+matches (M)':>18} {'dense MACs (M)':>15} {'s':>7}")
    for label, best, effectual, work, dense_macs in rows:
        print(f"{label:>20} {effectual.sum() / 1e6:>14,.0f} {work.sum() / 1e6:>18,.0f} "
              f"{dense_macs.sum() / 1e6:>15,.0f} {best.sum():>7.3f}")
    if plot:
        plot_time_against_work(rows, ((2, "effectual MACs", fits["effectual MACs"]),
                                      (3, "joins + matches", fits["joins + matches"])),
                               "SparTen + dense twin (ms)", "SparTen (32 x 32 CUs) and its dense twin on ResNet-50 "
                               "pruned to several sparsities: simulation time against the work", plot)
        print(f"plot: {plot}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", help="a workload folder saved by `accelsim lower -o`: ratio and profile")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, help="numpy's BLAS threads in the ratio's run")
    parser.add_argument("--scaling", action="store_true", help="time per layer against the work")
    parser.add_argument("--workloads", nargs="+", help="saved workload folders for --scaling")
    parser.add_argument("--plot", type=Path, help="with --scaling: write the plot here (PNG)")
    args = parser.parse_args()
    if args.scaling:
        if not args.workloads:
            parser.error("--scaling needs --workloads (folders saved by `accelsim lower -o`)")
        scaling(args.workloads, args.repeats, args.plot)
        return
    if not args.workload:
        parser.error("give --workload (or --scaling --workloads ...)")
    common = [sys.executable, str(Path(__file__).with_name("bench_dataflow_speed.py")), "--workload", args.workload,
              "--runs", "sparten", "--repeats", str(args.repeats)]
    subprocess.run(common + (["--blas-threads", str(args.blas_threads)] if args.blas_threads else []), check=True)
    profile(args.workload)


if __name__ == "__main__":
    main()

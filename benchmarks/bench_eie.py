"""Speed of the EIE dataflow: the paper's nine benchmark layers, and how its cost follows the work (issue 20).

    python benchmarks/bench_eie.py [--repeats 5]
    python benchmarks/bench_eie.py --scaling --workloads DIR ... [--plot eie_scaling.png]

Nine layers: times `EIE.simulate` on the nine FC/LSTM layers at 64 PEs (layout, codebook, the rounds and the result),
not the workload's generation; target 0.17 s, 4x faster than the 0.68 s measured before issue 20 on an idle
2-core machine. Fresh `Layer` objects each repeat, so that no per-layer memo (codebook, effectual MACs) turns a
repeat into a lookup. Prints the best and median time and PE-cycles simulated per second.

Scaling: the same network pruned to several sparsities, each a workload folder saved by
`accelsim lower resnet50 --prune unstructured:0.9 -o DIR`; times `EIE.simulate` on every layer (best of
--repeats) and fits seconds per layer = a + b x effectual MACs over every layer of every sparsity, beside the fits
against dense MACs and against the events the simulation walks (broadcasts, and the nonempty (PE, column) pairs they
meet, whose entries take one PE-cycle each: a pair of several entries is one event): the simulation should cost what
the work costs, not what the dense layer or its cycles cost. Plots them (--plot, a small PNG).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from layer_timing import fresh, time_layers
from work_scaling import fit_line, plot_time_against_work

from accelsim.arch_configs import load_arch
from accelsim.dataflows.eie import EIE

BEFORE_S = 0.68  # the nine layers before issue 20 (its text), idle 2-core machine
TARGET_S = BEFORE_S / 4


def nine_layers(repeats: int) -> None:
    from accelsim.frontend.build import build_workload

    layers = build_workload("eie-benchmark").workload.layers
    arch = load_arch("eie")
    dataflow = EIE()
    for layer in layers:  # JIT warm-up (numba also caches on disk)
        dataflow.simulate(fresh(layer), arch)
    best, median, results = time_layers(dataflow, layers, arch, repeats)
    pe_cycles = sum(result.cycles for result in results) * arch.pe_array.pes
    print(f"EIE, 64 PEs, nine benchmark layers: best {best:.3f} s, median {median:.3f} s over {repeats} repeats")
    print(f"target {TARGET_S:.2f} s (4x faster than {BEFORE_S} s): best is {best / TARGET_S:.2f}x the target "
          f"({'met' if best <= TARGET_S else 'MISSED'}); {pe_cycles / best / 1e6:.0f} M PE-cycles simulated per s; "
          f"{_load()}")


def _load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def scaling(workloads: list[str], repeats: int, plot: Path | None) -> None:
    from accelsim.workload_io import load_workload

    arch, dataflow = load_arch("eie"), EIE()
    rows = []  # (label, per-layer best seconds, effectual MACs, dense MACs, events walked)
    for folder in workloads:
        workload = load_workload(Path(folder))
        label = str(workload.provenance.get("scheme", folder))
        for layer in workload.layers[:2]:
            dataflow.simulate(fresh(layer), arch)  # numba's first calls
        best = np.full(len(workload.layers), np.inf)
        effectual = np.zeros(len(workload.layers))
        events = np.zeros(len(workload.layers))
        for _ in range(repeats):
            for i, layer in enumerate(workload.layers):
                copy = fresh(layer)
                start = time.perf_counter()
                result = dataflow.simulate(copy, arch)
                best[i] = min(best[i], time.perf_counter() - start)
                effectual[i] = result.effectual_macs
                events[i] = _events(result, arch.pe_array.pes)
        dense = np.array([layer.macs for layer in workload.layers], dtype=float)
        rows.append((label, best, effectual, dense, events))
        print(f"  {label}: {best.sum():.3f} s, {effectual.sum() / 1e6:,.0f} M effectual MACs ({_load()})", flush=True)
    seconds = np.concatenate([row[1] for row in rows])
    a, b, r2 = fit_line(np.concatenate([row[2] for row in rows]), seconds)
    _, _, r2_dense = fit_line(np.concatenate([row[3] for row in rows]), seconds)
    event_fit = fit_line(np.concatenate([row[4] for row in rows]), seconds)
    print(f"fit over {seconds.size} layers: seconds per layer = {a * 1e3:.3f} ms + {b * 1e9:.2f} ns x effectual MACs "
          f"(R^2 {r2:.3f}; against dense MACs instead R^2 {r2_dense:.3f}); = {event_fit[0] * 1e3:.3f} ms + "
          f"{event_fit[1] * 1e9:.2f} ns x events walked (R^2 {event_fit[2]:.3f})")
    print(f"{'workload':>20} {'layers':>6} {'effectual (M)':>14} {'dense MACs (M)':>15} {'EIE s':>7} {'fit s':>7} "
          f"{'M effectual/s':>14}")
    for label, best, effectual, dense, _ in rows:
        fitted = a * best.size + b * effectual.sum()
        print(f"{label:>20} {best.size:>6} {effectual.sum() / 1e6:>14,.0f} {dense.sum() / 1e6:>15,.0f} "
              f"{best.sum():>7.3f} {fitted:>7.3f} {effectual.sum() / best.sum() / 1e6:>14.0f}")
    if plot:
        plot_time_against_work(rows, ((2, "effectual MACs", (a, b, r2)), (4, "events walked", event_fit)),
                               "EIE.simulate (ms)", "EIE (64 PEs) on ResNet-50 pruned to several sparsities: "
                               "simulation time against the work", plot)
        print(f"plot: {plot}")


def _events(result, pes: int) -> int:
    """Broadcasts plus the nonempty (PE, column) pairs they met: what accelsim.dataflows.eie.rounds_jit walks."""
    broadcasts = result.actions[("act_broadcast", "transfer")] // pes
    pairs = result.actions[("act_fifo", "read")] - result.metrics["empty_column_pe_cycles"]
    return broadcasts + pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scaling", action="store_true", help="time per layer against effectual MACs")
    parser.add_argument("--workloads", nargs="+", help="saved workload folders for --scaling")
    parser.add_argument("--plot", type=Path, help="with --scaling: write the plot here (PNG)")
    args = parser.parse_args()
    if args.scaling:
        if not args.workloads:
            parser.error("--scaling needs --workloads (folders saved by `accelsim lower -o`)")
        scaling(args.workloads, args.repeats, args.plot)
    else:
        nine_layers(args.repeats)


if __name__ == "__main__":
    main()

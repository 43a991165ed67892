"""Speed of the SCNN dataflow and its dense twin DCNN against a dense numpy evaluation (issue 20).

    python benchmarks/bench_scnn.py [--model resnet50 --prune unstructured:0.9 | --workload FOLDER] [--repeats 3]
    python benchmarks/bench_scnn.py --model googlenet --prune unstructured:0.6
    python benchmarks/bench_scnn.py --scaling [--sparsities 0.5 0.7 0.9 0.95 0.99 | --workloads FOLDER ...]

Ratio mode times, alternated in one run with the dense numpy float64 evaluation of the same layers
(`accelsim.reference.reference_output`): `accelsim.simulate.simulate` on the arch `scnn` (SCNN, energy, and the
dense reference DCNN: target at most 5x numpy on ResNet-50 at unstructured:0.9), and SCNN and DCNN alone
(`simulate` of each layer). Fresh `Layer` objects each repeat; one warm-up first (numba). Not timed: building,
pruning and lowering the model (`--workload` loads one saved by `accelsim lower -o`).

Scaling mode times SCNN alone (CPU seconds: one thread) on each layer of ResNet-50 at several sparsities and fits
seconds per layer = a + b x products issued (least squares over every layer of every sparsity): the simulation's
cost should follow the products it walks, not the dense MACs (the fit against dense MACs is printed beside it). DCNN
and the 32 x 32 weight-stationary systolic array are timed beside it (closed forms: a per-layer constant whatever
the sparsity), and the dense numpy float64 evaluation of the same layers (wall time: BLAS uses every core).
The plot (--plot, default benchmarks/out/scnn_scaling.png) shows each layer's seconds against its products and
each workload's totals.

Every line says the machine's load average: the machine may be shared; the ratios measured in one run are the
figures to compare.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from layer_timing import fresh
from numpy_ratio import (
    alternate,
    load_workload_arg,
    machine_line,
    one_dataflow,
    peak_rss_mb,
    reference_seconds,
    whole_network,
)
from work_scaling import fit_line

from accelsim.arch_configs import load_arch
from accelsim.dataflows.dcnn import DCNN
from accelsim.dataflows.scnn import SCNN
from accelsim.dataflows.systolic import Systolic
from accelsim.reference import effectual_macs

TARGET_RATIO = 5.0


def ratio_mode(args) -> None:
    workload = load_workload_arg(args.workload, args.model, args.prune)
    arch, dense_arch = load_arch("scnn"), load_arch("dcnn")
    runs = {"SCNN + DCNN (accelsim.simulate)": whole_network(arch), "SCNN alone": one_dataflow(SCNN(), arch),
            "DCNN alone": one_dataflow(DCNN(), dense_arch)}
    timings, results = alternate(workload, runs, args.repeats)
    network = results["SCNN + DCNN (accelsim.simulate)"]
    products = sum(row.result.macs_issued for row in network.rows)
    name = args.workload or f"{args.model} ({args.prune})"
    print(f"{name}: {len(workload.layers)} layers, {products / 1e6:,.0f} M products issued by SCNN, "
          f"{sum(layer.macs for layer in workload.layers) / 1e6:,.0f} M dense MACs; {args.repeats} repeats")
    for what, timing in timings.items():
        print(timing.summary(what))
    whole = timings["SCNN + DCNN (accelsim.simulate)"]
    best = min(whole.simulation_s) / min(whole.reference_s)
    print(f"target {TARGET_RATIO:.0f}x numpy with the dense reference: {best:.2f}x "
          f"({'met' if best <= TARGET_RATIO else 'MISSED'}); "
          f"{products / min(timings['SCNN alone'].simulation_s) / 1e6:.0f} M products simulated per s by SCNN")
    print(f"peak RSS {peak_rss_mb():,.0f} MB (the whole process: workload, reference and simulations); "
          f"{machine_line()}")


def _best_per_layer(dataflow, arch, layers, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """(best CPU seconds, products issued) of each layer over `repeats`, fresh `Layer` objects each time. CPU time:
    the simulation runs on one thread, and CPU time shrugs off most of a shared machine's load."""
    best = np.full(len(layers), np.inf)
    products = np.zeros(len(layers))
    for _ in range(repeats):
        for i, layer in enumerate(layers):
            copy = fresh(layer)
            start = time.process_time()
            result = dataflow.simulate(copy, arch)
            best[i] = min(best[i], time.process_time() - start)
            products[i] = result.macs_issued
    return best, products


def scaling_mode(args) -> None:
    sources = args.workloads or [None] * len(args.sparsities)
    arch = load_arch("scnn")
    twins = {"DCNN": (DCNN(), load_arch("dcnn")), "systolic 32x32 WS": (Systolic(), load_arch("systolic-32x32-ws"))}
    rows = []  # (label, per-layer seconds, products, dense MACs, effectual MACs, {twin: seconds})
    for index, source in enumerate(sources):
        label = source.rstrip("/").rsplit("/", 1)[-1] if source else f"unstructured:{args.sparsities[index]}"
        workload = load_workload_arg(source, args.model, label)
        layers = list(workload.layers)
        SCNN().simulate(fresh(layers[0]), arch)  # numba's first call
        best, products = _best_per_layer(SCNN(), arch, layers, args.repeats)
        twin_seconds = {name: float(_best_per_layer(dataflow, twin_arch, layers, args.repeats)[0].sum())
                        for name, (dataflow, twin_arch) in twins.items()}
        twin_seconds["numpy reference"] = min(reference_seconds(workload) for _ in range(args.repeats))
        macs = np.array([layer.macs for layer in layers], dtype=float)
        effectual = np.array([effectual_macs(layer) for layer in layers], dtype=float)
        rows.append((label, best, products, macs, effectual, twin_seconds))
        print(f"  {label}: SCNN {best.sum():.3f} s, {products.sum() / 1e6:,.0f} M products ({machine_line()})",
              flush=True)
    seconds = np.concatenate([row[1] for row in rows])
    a, b, r2 = fit_line(np.concatenate([row[2] for row in rows]), seconds)
    _, _, r2_dense = fit_line(np.concatenate([row[3] for row in rows]), seconds)
    print(f"fit over {seconds.size} layers: seconds per layer = {a * 1e3:.3f} ms + {b * 1e9:.2f} ns x products issued "
          f"(R^2 {r2:.3f}; against dense MACs instead R^2 {r2_dense:.3f})")
    print(f"{'workload':>28} {'layers':>6} {'products (M)':>13} {'effectual (M)':>14} {'dense MACs (M)':>15} "
          f"{'SCNN s':>7} {'fit s':>7} {'M products/s':>13} "
          + " ".join(f"{name + ' s':>18}" for name in [*twins, "numpy reference"]))
    for label, best, products, macs, effectual, twin_seconds in rows:
        fitted = a * best.size + b * products.sum()
        rate = products.sum() / best.sum() / 1e6
        print(f"{label:>28} {best.size:>6} {products.sum() / 1e6:>13,.0f} {effectual.sum() / 1e6:>14,.0f} "
              f"{macs.sum() / 1e6:>15,.0f} {best.sum():>7.3f} {fitted:>7.3f} {rate:>13.0f} "
              + " ".join(f"{twin_seconds[name]:>18.3f}" for name in [*twins, "numpy reference"]))
    if args.plot:
        from scaling_plot import plot_scaling

        plot_scaling(rows, (a, b, r2, r2_dense), [*twins, "numpy reference"], args.plot)
        print(f"plot: {args.plot}")
    print(f"peak RSS {peak_rss_mb():,.0f} MB; {machine_line()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--prune", default="unstructured:0.9")
    parser.add_argument("--workload", help="a saved workload folder instead of building --model")
    parser.add_argument("--scaling", action="store_true", help="time per layer against products issued")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.7, 0.9, 0.95, 0.99])
    parser.add_argument("--workloads", nargs="+", help="saved workload folders for --scaling, instead of building")
    parser.add_argument("--plot", default="benchmarks/out/scnn_scaling.png",
                        help="--scaling: where to draw seconds against products issued ('' for none)")
    args = parser.parse_args()
    scaling_mode(args) if args.scaling else ratio_mode(args)


if __name__ == "__main__":
    main()

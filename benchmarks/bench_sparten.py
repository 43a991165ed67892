"""Speed of the SparTen dataflow on all of ResNet-50 at unstructured:0.9, its dense twin included, against a dense
numpy float64 evaluation of the same layers (target: at most 5x that evaluation's time, measured in one run).

    python benchmarks/bench_sparten.py [--repeats 3] [--prune unstructured:0.9]

Times, after a warm-up (numba compiles or loads its cache; the reference's BLAS starts its threads), over every
lowered layer of torchvision's ResNet-50 (224 x 224, seed 0): `SparTen.simulate` on `sparten` (chunks, balancing,
the numba walk with the outputs computed for the collector, storage, cost) plus on `sparten-dense` (the dense
reference a run prices against), and `accelsim.reference.reference_output` of the same layers. Not timed:
building, pruning and lowering the model. Fresh `Layer` objects each repeat, so that no per-layer memo turns a
repeat into a lookup. Prints the best and median of each, the ratio, and a profile of one more SparTen repeat (the
functions where the time goes) with the slowest layers.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

from layer_timing import fresh, time_layers

from accelsim.arch_configs import load_arch
from accelsim.dataflows.sparten import SparTen
from accelsim.frontend.build import build_workload
from accelsim.reference import reference_output

TARGET_RATIO = 5.0


def time_reference(layers, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        batch = [fresh(layer) for layer in layers]
        start = time.perf_counter()
        for layer in batch:
            reference_output(layer)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def profile(dataflow, layers, arch) -> None:
    batch = [fresh(layer) for layer in layers]
    per_layer = []
    profiler = cProfile.Profile()
    for layer in batch:
        start = time.perf_counter()
        profiler.enable()
        dataflow.simulate(layer, arch)
        profiler.disable()
        per_layer.append((time.perf_counter() - start, layer.name, layer.shape_text))
    print("\nwhere SparTen's time goes (one more repeat on sparten, cProfile, by own time):")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(10)
    print("slowest layers:")
    for seconds, name, shape in sorted(per_layer, reverse=True)[:5]:
        print(f"  {seconds:6.3f} s  {name}  {shape}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prune", default="unstructured:0.9")
    args = parser.parse_args()
    layers = build_workload("resnet50", args.prune).workload.layers
    sparse_arch, dense_arch = load_arch("sparten"), load_arch("sparten-dense")
    dataflow = SparTen()
    for layer in (layers[0], layers[-1]):  # warm-up: compile or load the numba cache, start BLAS
        dataflow.simulate(fresh(layer), sparse_arch)
        dataflow.simulate(fresh(layer), dense_arch)
        reference_output(fresh(layer))
    sparse_best, sparse_median, results = time_layers(dataflow, layers, sparse_arch, args.repeats)
    dense_best, dense_median, _ = time_layers(dataflow, layers, dense_arch, args.repeats)
    reference_best, reference_median = time_reference(layers, args.repeats)
    total_best = sparse_best + dense_best
    ratio = total_best / reference_best
    products = sum(result.macs_issued for result in results)
    print(f"ResNet-50 ({len(layers)} layers, {args.prune}), best / median of {args.repeats}:")
    print(f"  SparTen (sparten)            {sparse_best:6.2f} / {sparse_median:6.2f} s "
          f"({products / sparse_best / 1e6:.0f} M effectual products walked per s)")
    print(f"  dense twin (sparten-dense)   {dense_best:6.2f} / {dense_median:6.2f} s")
    print(f"  numpy float64 reference      {reference_best:6.2f} / {reference_median:6.2f} s")
    print(f"SparTen + dense twin = {ratio:.2f}x the reference (target <= {TARGET_RATIO:.0f}x: "
          f"{'met' if ratio <= TARGET_RATIO else 'MISSED'})")
    profile(dataflow, layers, sparse_arch)


if __name__ == "__main__":
    main()

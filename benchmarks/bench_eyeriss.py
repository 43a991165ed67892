"""Speed of the Eyeriss v2 dataflow on all of ResNet-50 pruned to 10% weight density, against a dense numpy float64
evaluation of the same layers (target: the simulation, dense reference included, at most 5x the numpy time).

    python benchmarks/bench_eyeriss.py [--repeats 3] [--prune unstructured:0.9] [--profile]

Times, in one process after warm-up, `accelsim.simulate.simulate` of the workload on arch_configs/eyeriss-v2.yaml
(every layer walked sparse, then on its dense reference: the same machine with CSC off; energy priced) and
`accelsim.reference.reference_output` of every layer (the dense float64 convolution). Both run on fresh `Layer`
objects each repeat, alternating, and the best and median of each are reported with their ratio. Not timed:
building, pruning and lowering the model (torch). With --profile, one more simulation runs under cProfile and the
functions of the Eyeriss dataflow are listed by their own time (where the time goes).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

from layer_timing import fresh

from accelsim.arch_configs import load_arch
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prune", default="unstructured:0.9")
    parser.add_argument("--profile", action="store_true", help="profile one more simulation and list where it spends")
    args = parser.parse_args()
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

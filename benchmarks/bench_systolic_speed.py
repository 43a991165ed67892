"""Speed of the systolic dataflow against a dense numpy evaluation of the same layers (issue 20: at most 1x).

    python benchmarks/bench_systolic_speed.py [--model resnet50 --prune unstructured:0.9 | --workload FOLDER]
        [--arch systolic-32x32-ws] [--repeats 5]

Times `accelsim.simulate.simulate` on the arch (its dense reference included: the same array with N:M off, which
for a dense arch is the run itself) alternated in one run with the dense numpy float64 evaluation of the same
layers (`accelsim.reference.reference_output`). Fresh `Layer` objects each repeat (the effectual-MAC count is
memoised per layer object); one warm-up first. Not timed: building, pruning and lowering the model.
"""

from __future__ import annotations

import argparse

from numpy_ratio import alternate, load_workload_arg, machine_line, one_dataflow, peak_rss_mb, whole_network

from accelsim.arch_configs import load_arch
from accelsim.dataflows.systolic import Systolic

TARGET_RATIO = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--prune", default="unstructured:0.9")
    parser.add_argument("--workload", help="a saved workload folder instead of building --model")
    parser.add_argument("--arch", default="systolic-32x32-ws")
    args = parser.parse_args()
    workload = load_workload_arg(args.workload, args.model, args.prune)
    arch = load_arch(args.arch)
    runs = {f"{args.arch} (accelsim.simulate, dense reference included)": whole_network(arch),
            "systolic alone": one_dataflow(Systolic(), arch)}
    timings, _ = alternate(workload, runs, args.repeats)
    print(f"{args.workload or f'{args.model} ({args.prune})'}: {len(workload.layers)} layers; {args.repeats} repeats")
    for what, timing in timings.items():
        print(timing.summary(what))
    whole = next(iter(timings.values()))
    best = min(whole.simulation_s) / min(whole.reference_s)
    print(f"target {TARGET_RATIO:.0f}x numpy: {best:.2f}x ({'met' if best <= TARGET_RATIO else 'MISSED'})")
    print(f"peak RSS {peak_rss_mb():,.0f} MB (the whole process); {machine_line()}")


if __name__ == "__main__":
    main()

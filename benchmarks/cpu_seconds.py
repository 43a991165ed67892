"""CPU seconds of one dataflow over a saved workload: a figure that a shared machine's load disturbs far less than
wall time, for comparing two checkouts run one after the other (the dataflows run on one thread).

    PYTHONPATH=CHECKOUT python benchmarks/cpu_seconds.py --workload FOLDER --arch scnn [--repeats 2]

Times `dataflow.simulate` on every layer (fresh `Layer` objects each repeat, one warm-up layer first for numba) with
time.process_time, and prints the best and median of the repeats beside the wall time. Not comparable with the
numpy reference's CPU time, which BLAS spreads over threads: benchmarks/numpy_ratio.py compares with that.
"""

from __future__ import annotations

import argparse
import statistics
import time

from layer_timing import fresh
from numpy_ratio import load_workload_arg, machine_line

from accelsim.arch_configs import load_arch
from accelsim.dataflows.catalog import get_dataflow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, help="a folder saved by `accelsim lower -o`")
    parser.add_argument("--arch", default="scnn")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    workload = load_workload_arg(args.workload, "", "")
    arch = load_arch(args.arch)
    dataflow = get_dataflow(arch.dataflow.kind)()
    dataflow.simulate(fresh(workload.layers[0]), arch)
    cpu, wall = [], []
    for _ in range(args.repeats):
        layers = [fresh(layer) for layer in workload.layers]
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        for layer in layers:
            dataflow.simulate(layer, arch)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    print(f"{args.workload} on {args.arch}: {len(workload.layers)} layers; CPU best {min(cpu):.3f} s, median "
          f"{statistics.median(cpu):.3f} s; wall best {min(wall):.3f} s; {machine_line()}")


if __name__ == "__main__":
    main()

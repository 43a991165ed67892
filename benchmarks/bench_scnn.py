"""Speed of the SCNN dataflow on all of GoogLeNet (target: under 10 s after JIT warm-up, on a 2-core machine).

    python benchmarks/bench_scnn.py [--repeats 3] [--prune unstructured:0.6]

Times `SCNN.simulate` over every lowered layer of torchvision's GoogLeNet (57 convs and the FC layer; 224 x 224,
seed 0), pruned by magnitude to 40% weight density: the operand blocks, the product-by-product Cartesian walk
with bank queues, the cost model. Not timed: building, pruning and lowering the model, and the DCNN reference.
Fresh `Layer` objects each repeat, so that no per-layer memo turns a repeat into a lookup. Prints the best and
median time, the ratio to the target, and products simulated per second.
"""

from __future__ import annotations

import argparse

from layer_timing import fresh, time_layers

from accelsim.arch_configs import load_arch
from accelsim.dataflows.scnn import SCNN
from accelsim.frontend.build import build_workload

TARGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prune", default="unstructured:0.6")
    args = parser.parse_args()
    layers = build_workload("googlenet", args.prune).workload.layers
    arch = load_arch("scnn")
    dataflow = SCNN()
    dataflow.simulate(fresh(layers[0]), arch)  # JIT warm-up (numba also caches on disk)
    dataflow.simulate(fresh(layers[-1]), arch)
    best, median, results = time_layers(dataflow, layers, arch, args.repeats)
    products = sum(result.macs_issued for result in results)
    print(f"SCNN, 8x8 PEs of 4x4, GoogLeNet ({len(layers)} layers, {args.prune}): best {best:.2f} s, median "
          f"{median:.2f} s over {args.repeats} repeats")
    print(f"target {TARGET_S:.0f} s: best is {best / TARGET_S:.2f}x the target "
          f"({'met' if best < TARGET_S else 'MISSED'}); {products / best / 1e6:.0f} M products simulated per s")


if __name__ == "__main__":
    main()

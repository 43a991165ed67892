"""Speed of the EIE dataflow on the paper's nine benchmark layers at 64 PEs (target: under 1 s after JIT warm-up).

    python benchmarks/bench_eie.py [--repeats 5]

Times `EIE.simulate` on every layer (layout, codebook, the cycle-by-cycle run and the result), not the workload's
generation. Fresh `Layer` objects each repeat, so that no per-layer memo (effectual MACs) turns a repeat into a
lookup. Prints the best and median time, the ratio to the target, and PE-cycles simulated per second.
"""

from __future__ import annotations

import argparse

from layer_timing import fresh, time_layers

from accelsim.arch_configs import load_arch
from accelsim.dataflows.eie import EIE
from accelsim.frontend.build import build_workload

TARGET_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    layers = build_workload("eie-benchmark").workload.layers
    arch = load_arch("eie")
    dataflow = EIE()
    for layer in layers:  # JIT warm-up (numba also caches on disk)
        dataflow.simulate(fresh(layer), arch)
    best, median, results = time_layers(dataflow, layers, arch, args.repeats)
    pe_cycles = sum(result.cycles for result in results) * arch.pe_array.pes
    print(f"EIE, 64 PEs, nine benchmark layers: best {best:.3f} s, median {median:.3f} s "
          f"over {args.repeats} repeats")
    print(f"target {TARGET_S:.1f} s: best is {best / TARGET_S:.2f}x the target "
          f"({'met' if best < TARGET_S else 'MISSED'}); {pe_cycles / best / 1e6:.1f} M PE-cycles simulated per s")


if __name__ == "__main__":
    main()

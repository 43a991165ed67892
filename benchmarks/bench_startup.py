"""Whole-process time of one `accelsim run` from a SCALE-Sim config and topology, the command a SCALE-Sim user
types instead of `scalesim -c scale.cfg -t resnet18.csv`; target below 1.2 s on 2 cores.

    python benchmarks/bench_startup.py            # 7 runs after one warm-up (numba's on-disk cache filled)

Reports the median wall time of the process (interpreter start, imports, reading, simulating, printing), the time
of the imports alone, whether torch was imported (it must not be: a topology needs no model), and the ratio to
SCALE-Sim's recorded run of the same layers (benchmarks/scalesim_resnet18_timing.json). That ratio compares
accelsim's closed-form fold formulas with SCALE-Sim's address traces, not two simulators doing the same work.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "accelsim.cli", "run", "--arch", "validation/scalesim/configs/scale.cfg",
           "--workload", "workloads/scalesim/resnet18.csv"]
IMPORTS = [sys.executable, "-c", "import accelsim.cli, accelsim.arch_configs, accelsim.simulate, "
                                 "accelsim.frontend.build, sys; print('torch' in sys.modules)"]
TARGET_S = 1.2
RUNS = 7


def wall(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> int:
    wall(COMMAND)  # warm-up: numba compiles into its on-disk cache once
    runs = sorted(wall(COMMAND)[0] for _ in range(RUNS))
    imports = statistics.median(wall(IMPORTS)[0] for _ in range(RUNS))
    torch_imported = wall(IMPORTS)[1].strip() == "True"
    scalesim = json.loads((ROOT / "benchmarks" / "scalesim_resnet18_timing.json").read_text())
    median = statistics.median(runs)
    print(f"accelsim run (ResNet-18 topology, SCALE-Sim cfg), whole process: median {median:.3f} s "
          f"(min {runs[0]:.3f}, max {runs[-1]:.3f}, {RUNS} runs); imports alone {imports:.3f} s; "
          f"torch imported: {torch_imported}")
    print(f"SCALE-Sim on the same layers: {scalesim['wall_s']:.1f} s recorded -> {scalesim['wall_s'] / median:,.0f}x "
          f"(closed-form fold formulas against address traces)")
    met = median < TARGET_S and not torch_imported
    print(f"target: below {TARGET_S} s without torch: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

"""Speed of the systolic dataflow against SCALE-Sim on SCALE-Sim's ResNet-18 topology, 32x32 weight stationary.

Both sides run the same config (validation/scalesim/configs/scale_ws_32x32.cfg) and topology
(workloads/scalesim/resnet18.csv), and the per-layer cycle counts must agree before any time is reported.

    python benchmarks/bench_systolic_vs_scalesim.py                  # SCALE-Sim time from its recorded run
    SCALESIM_PYTHON=/work/scalesim-venv/bin/python \\
        python benchmarks/bench_systolic_vs_scalesim.py --run-scalesim  # both timed now, side by side (~4 min)

SCALE-Sim 3.0.0 needs numpy < 2.4 and so has its own venv (validation/scalesim/README.md). The recorded run is
benchmarks/scalesim_resnet18_timing.json (its provenance is inside).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from accelsim.arch_configs import load_arch
from accelsim.frontend.scalesim_topology import read_scalesim_topology
from accelsim.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "validation" / "scalesim" / "configs" / "scale_ws_32x32.cfg"
TOPOLOGY = ROOT / "workloads" / "scalesim" / "resnet18.csv"
RECORDED = ROOT / "benchmarks" / "scalesim_resnet18_timing.json"


def time_accelsim(repeats: int) -> tuple[float, list[int]]:
    arch = load_arch(CONFIG)
    simulate(read_scalesim_topology(TOPOLOGY), arch, dense_reference=False)  # JIT warm-up (numba caches on disk)
    best = float("inf")
    for _ in range(repeats):
        # Fresh layers each time: accelsim.reference remembers effectual MACs per layer, and a rerun on the same
        # layers would time a cache, not a simulation.
        workload = read_scalesim_topology(TOPOLOGY)
        start = time.perf_counter()
        result = simulate(workload, arch, dense_reference=False)
        best = min(best, time.perf_counter() - start)
    return best, [row.result.cycles for row in result.rows]


def time_scalesim_now(python: str) -> dict:
    """Run SCALE-Sim in its own interpreter through validation/scalesim/timing_resnet18.py."""
    out = ROOT / "benchmarks" / "scalesim_resnet18_timing.live.json"
    script = ROOT / "validation" / "scalesim" / "timing_resnet18.py"
    start = time.perf_counter()
    subprocess.run([python, str(script), "--out", str(out)], check=True)
    wall = time.perf_counter() - start
    data = json.loads(out.read_text())
    data["wall_s"] = wall
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-scalesim", action="store_true", help="time SCALE-Sim now (needs SCALESIM_PYTHON)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ours_s, our_cycles = time_accelsim(args.repeats)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.run_scalesim:
        python = os.environ.get("SCALESIM_PYTHON")
        if not python:
            print("error: --run-scalesim needs SCALESIM_PYTHON (SCALE-Sim's own venv)", file=sys.stderr)
            return 2
        scalesim = time_scalesim_now(python)
        source = "measured now"
    else:
        scalesim = json.loads(RECORDED.read_text())
        source = f"recorded in {RECORDED.relative_to(ROOT)} ({scalesim.get('date', 'date not recorded')})"
    if our_cycles != scalesim["per_layer_total_cycles"]:
        print("error: per-layer cycles differ from SCALE-Sim's; timing comparison void", file=sys.stderr)
        return 1
    print(f"ResNet-18 (21 layers), 32x32 WS, cycles identical to SCALE-Sim: {sum(our_cycles):,}")
    print(f"accelsim  : {ours_s:8.3f} s (best of {args.repeats}, after warm-up), peak RSS {peak_mb:,.0f} MB")
    print(f"SCALE-Sim : {scalesim['wall_s']:8.1f} s, peak RSS {scalesim.get('peak_rss_mb', float('nan')):,.0f} MB "
          f"[{source}]")
    print(f"speed ratio: {scalesim['wall_s'] / ours_s:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

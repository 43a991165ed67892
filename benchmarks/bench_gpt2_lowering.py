"""Whole-process time and saved size of lowering GPT-2 (124M parameters, 128 tokens) pruned 2:4; targets: under 30 s
on 2 cores, saved workload under 1 GB.

    python benchmarks/bench_gpt2_lowering.py             # one warm-up, then 2 timed runs of the command below
    python benchmarks/bench_gpt2_lowering.py --phases    # also one in-process run, timed phase by phase

Times `accelsim lower gpt2 --prune nm:2:4 --input 1x128 -o DIR` (start-up and imports, building GPT-2 from its
config with seeded random weights, 2:4 pruning of its 49 weights, lowering on 128 tokens, counting effectual MACs,
writing the workload). Reports for each run the wall time and the CPU time of the process (user + system, all
threads), the load average of the machine while it ran, and the size of the folder written. On a machine shared
with other jobs the wall time grows with the load; the CPU time does not, and as the run is mostly one thread it is
close to what the wall time would be on two idle cores (a little more: the GEMMs use both).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "accelsim.cli", "lower", "gpt2", "--prune", "nm:2:4", "--input", "1x128", "-o"]
TARGET_S = 30.0
TARGET_BYTES = 1 << 30
RUNS = 2


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def timed_run(folder: Path) -> dict:
    load_before = os.getloadavg()[0]
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*COMMAND, str(folder)], cwd=ROOT, capture_output=True, text=True, check=True)
    wall_s = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    return {"wall_s": wall_s, "cpu_s": cpu_s, "load": (load_before + os.getloadavg()[0]) / 2,
            "bytes": folder_bytes(folder), "peak_rss_gb": usage.ru_maxrss / 2**20}


def phases() -> None:
    """One in-process run, phase by phase (wall and CPU seconds)."""
    clock = [time.perf_counter(), time.process_time()]

    def mark(what: str) -> None:
        now = [time.perf_counter(), time.process_time()]
        print(f"  {what:30s} wall {now[0] - clock[0]:6.2f} s   CPU {now[1] - clock[1]:6.2f} s")
        clock[:] = now

    from accelsim.frontend.lower import lower
    from accelsim.frontend.zoo import get_model
    from accelsim.pruning import apply
    from accelsim.workload_io import save_workload
    from accelsim.workload_summary import summarise

    entry = get_model("gpt2")
    example = entry.make_input((1, 128), 0)
    mark("imports")
    model = entry.build(0)
    mark("build GPT-2 from its config")
    apply(model, "nm:2:4")
    mark("prune nm:2:4")
    workload = lower(model, example)
    mark(f"lower ({len(workload)} layers)")
    summarise(workload)
    mark("count effectual MACs")
    with tempfile.TemporaryDirectory() as folder:
        save_workload(workload, folder)
        mark("save")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", action="store_true", help="also time one in-process run phase by phase")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as scratch:
        timed_run(Path(scratch) / "warm-up")  # numba's cache of the N:M kernel, the libraries in the page cache
        runs = [timed_run(Path(scratch) / f"run{index}") for index in range(RUNS)]
    for index, run in enumerate(runs):
        print(f"run {index + 1}: wall {run['wall_s']:.1f} s, CPU {run['cpu_s']:.1f} s (load average "
              f"{run['load']:.1f}), saved {run['bytes'] / 1e6:.0f} MB, peak memory {run['peak_rss_gb']:.1f} GB")
    wall = statistics.median(run["wall_s"] for run in runs)
    cpu = statistics.median(run["cpu_s"] for run in runs)
    size = max(run["bytes"] for run in runs)
    print(f"median wall {wall:.1f} s, CPU {cpu:.1f} s: {wall / TARGET_S:.2f} / {cpu / TARGET_S:.2f} of the "
          f"{TARGET_S:.0f} s target; saved {size / 1e6:.0f} MB: {size / TARGET_BYTES:.2f} of 1 GB")
    if args.phases:
        print("phases, in process:")
        phases()
    met = wall < TARGET_S and size < TARGET_BYTES
    print(f"targets (wall below {TARGET_S:.0f} s, size below 1 GB): {'met' if met else 'NOT met'}"
          + ("" if met or cpu >= TARGET_S else " on wall time at this load; the CPU time is within it"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

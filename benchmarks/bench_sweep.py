"""Speed of `accelsim sweep` on a 200-point sweep of digits-cnn (benchmarks/sweep_digits.yaml): the throughput of 2
workers against 1 (target >= 1.7x) and the per-point cost of the sweep machinery, everything but simulating
(target < 50 ms).

    python benchmarks/bench_sweep.py            # ~1-2 minutes on 2 idle cores

The five lowerings are done first, into a fresh cache folder, by a one-point-per-scheme sweep (timed apart: a sweep
lowers each (model, scheme) once and later sweeps reuse the cache). Then the 200 points run with 1 worker and with 2,
each into a fresh folder, both on the local executor. Reported for each:

- end to end: the whole `run_sweep` call (spec, arch checks, executor start with its warm-up, points, shards, fronts);
- executor start: processes, imports and the warm-up (once per sweep, not per point);
- compute phase: from the first point's start to the last point's end, by the workers' clocks; throughput is
  points over this span, the figure the 2-vs-1 ratio is about;
- sweep overhead per point (1 worker): end to end minus executor start minus the time inside `simulate`, over the
  points: everything the sweep adds (checking the spec, listing and hashing points, loading each arch with its
  overrides, reading the cached workload, tabulating the result, inter-process traffic, Parquet shards, compaction,
  fronts), one-time costs included; and the same over the compute phase alone (the marginal cost of a point).

The two runs' rows are compared (run columns aside): the same spec gives the same numbers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from accelsim.dse import run_sweep
from accelsim.dse.columns import RUN_COLUMNS

SPEC = Path(__file__).with_name("sweep_digits.yaml")
RATIO_TARGET = 1.7
OVERHEAD_TARGET_S = 0.050


def lowering_spec(folder: Path) -> Path:
    """The benchmark's models and schemes on one systolic point: lowers (and caches) every workload."""
    text = SPEC.read_text()
    archs_at = text.index("archs:")
    path = folder / "lowering.yaml"
    path.write_text(text[:archs_at] + "archs:\n  - {arch: systolic-32x32-ws}\n")
    return path


def measure(workers: int, folder: Path, cache: Path) -> dict:
    started = time.perf_counter()
    summary = run_sweep(SPEC, folder, workers=workers, cache_folder=cache)
    end_to_end_s = time.perf_counter() - started
    rows = pq.read_table(folder).to_pylist()
    assert len(rows) == summary.computed and all(row["status"] == "ok" for row in rows), "every point must succeed"
    first_start = min(row["finished_unix_s"] - row["point_s"] for row in rows)
    compute_s = max(row["finished_unix_s"] for row in rows) - first_start
    simulate_s = sum(row["simulate_s"] for row in rows)
    worker_extra_s = sum(row["point_s"] - row["simulate_s"] for row in rows)
    return {"workers": summary.workers, "points": len(rows), "end_to_end_s": end_to_end_s,
            "startup_s": summary.startup_s, "compute_s": compute_s, "simulate_s": simulate_s,
            "throughput": len(rows) / compute_s, "end_to_end_throughput": len(rows) / end_to_end_s,
            "overhead_per_point_s": (end_to_end_s - summary.startup_s - simulate_s) / len(rows),
            "marginal_overhead_per_point_s": (compute_s - simulate_s) / len(rows),
            "worker_overhead_per_point_s": worker_extra_s / len(rows),
            "busy": sum(row["point_s"] for row in rows) / (summary.workers * compute_s), "rows": rows}


def comparable(rows: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in rows),
                  key=lambda row: row["point_id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Keep the sweep folders here instead of a temporary folder.")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    base.mkdir(parents=True, exist_ok=True)
    cache = base / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    for name in ("lowering", "one", "two"):
        shutil.rmtree(base / name, ignore_errors=True)
    print(f"machine: {os.cpu_count()} cores; load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    lowering = run_sweep(lowering_spec(base), base / "lowering", workers=2, cache_folder=cache)
    print(f"lowering: {lowering.lowerings} workloads in {time.perf_counter() - started:.1f} s end to end "
          f"({lowering.lowering_s:.1f} worker-s), cached for the runs below")
    one = measure(1, base / "one", cache)
    two = measure(2, base / "two", cache)
    for run in (one, two):
        print(f"{run['workers']} worker(s), {run['points']} points: end to end {run['end_to_end_s']:.1f} s "
              f"(executor start {run['startup_s']:.1f} s), compute phase {run['compute_s']:.1f} s, "
              f"{run['throughput']:.1f} points/s ({run['end_to_end_throughput']:.1f} end to end); "
              f"{run['simulate_s']:.1f} s inside simulate")
    ratio = two["throughput"] / one["throughput"]
    verdict = "met" if ratio >= RATIO_TARGET else "MISSED"
    print(f"throughput 2 vs 1 worker: {ratio:.2f}x (target {RATIO_TARGET}x: {verdict}); end to end "
          f"{two['end_to_end_throughput'] / one['end_to_end_throughput']:.2f}x; workers busy with points "
          f"{100 * one['busy']:.0f}% (1) and {100 * two['busy']:.0f}% (2) of the compute phase; time inside "
          f"simulate {two['simulate_s'] / one['simulate_s']:.2f}x with 2 (above 1: the cores are shared)")
    overhead = one["overhead_per_point_s"]
    print(f"sweep overhead per point (1 worker, all but simulate, one-time costs included): {overhead * 1e3:.1f} ms "
          f"(target {OVERHEAD_TARGET_S * 1e3:.0f} ms: {'met' if overhead < OVERHEAD_TARGET_S else 'MISSED'}); "
          f"of it on the worker (arch load, workload lookup, result table): "
          f"{one['worker_overhead_per_point_s'] * 1e3:.1f} ms; during the compute phase (one-time costs left out): "
          f"{one['marginal_overhead_per_point_s'] * 1e3:.1f} ms")
    same = comparable(one["rows"]) == comparable(two["rows"])
    print(f"rows of the two runs identical (run columns aside): {same}")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; folders in {base}")


if __name__ == "__main__":
    main()

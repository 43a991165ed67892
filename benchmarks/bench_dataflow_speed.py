"""Speed and memory of every dataflow against a dense numpy evaluation of the same layers (issue 20), one process each.

    accelsim lower resnet50 --prune unstructured:0.9 -o /tmp/resnet50-u90     # once: a saved workload
    python benchmarks/bench_dataflow_speed.py --workload /tmp/resnet50-u90 [--repeats 3] [--runs eie scnn ...]

Each run (a dataflow on its arch, with or without the dense reference that `accelsim run` adds) goes in a process of
its own, so that its peak RSS (ru_maxrss: the workload, the numpy reference and the simulation together) is its
own; the RSS right after loading the workload is printed beside it. In that process: load the workload, one warm-up
simulation of the whole network (numba compiles or loads its cache), then `--repeats` rounds of the numpy float64
reference (`accelsim.reference.reference_output` of every layer) followed by the simulation
(`accelsim.simulate.simulate`, energy included, on fresh `Layer` objects so that no per-layer memo turns a repeat
into a lookup). The ratio is best simulation / best reference of the same process, and the median of each round's
ratio is printed too: the machine may be shared, and the two alternate so that its load weighs on both alike. The
load average and numpy's BLAS threads are printed: a loaded machine slows a multithreaded reference most, hence
`--blas-threads 1` for a reference that a shared machine slows no more than the simulation (a single thread).
Targets (issue 20): at most 5x the reference for the sparse accelerators with their dense reference, 1x for the
systolic array; peak RSS under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

DENSE_EIE = ("dataflow.skip_zero_weights=false", "dataflow.skip_zero_activations=false")
RUNS = {  # name: (arch, --set overrides, with the dense reference, target ratio or None)
    "scnn": ("scnn", (), True, 5.0),
    "dcnn": ("dcnn", (), False, None),
    "systolic": ("systolic-32x32-ws", (), True, 1.0),
    "eie": ("eie", (), True, 5.0),
    "eie-dense": ("eie", DENSE_EIE, False, None),
    "eyeriss-v2": ("eyeriss-v2", (), True, 5.0),
    "sparten": ("sparten", (), True, 5.0),
}
RSS_LIMIT_MB = 2048
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def child(name: str, workload_dir: str, repeats: int) -> dict:
    """One run, timed in this process; returns what the parent prints."""
    sys.path.insert(0, str(Path(__file__).parent))
    from layer_timing import fresh

    from accelsim.arch_configs import load_arch
    from accelsim.reference import reference_output
    from accelsim.simulate import simulate
    from accelsim.workload import Workload
    from accelsim.workload_io import load_workload

    arch_name, overrides, dense_reference, _ = RUNS[name]
    workload = load_workload(Path(workload_dir))
    rss_loaded_mb = _peak_rss_mb()
    arch = load_arch(arch_name, list(overrides))

    def simulation() -> tuple[float, object]:
        copy = Workload(layers=tuple(fresh(layer) for layer in workload.layers), provenance=workload.provenance)
        start = time.perf_counter()
        result = simulate(copy, arch, dense_reference=dense_reference)
        return time.perf_counter() - start, result

    warm_up_s, result = simulation()
    reference_s, simulation_s = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        for layer in workload.layers:
            reference_output(layer)
        reference_s.append(time.perf_counter() - start)
        simulation_s.append(simulation()[0])
    return {"name": name, "arch": arch_name, "dense_reference": dense_reference, "layers": len(workload.layers),
            "warm_up_s": warm_up_s, "reference_s": reference_s, "simulation_s": simulation_s,
            "rss_after_load_mb": rss_loaded_mb, "peak_rss_mb": _peak_rss_mb(),
            "effectual_macs": sum(row.result.effectual_macs for row in result.rows),
            "macs": sum(row.result.macs for row in result.rows), "load_average": os.getloadavg(),
            "blas_threads": _blas_threads()}


def _present(name: str) -> bool:
    from accelsim.arch_configs import load_arch

    try:
        load_arch(RUNS[name][0])
    except (FileNotFoundError, ValueError, KeyError):
        return False
    return True


def _blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    return ", ".join(f"{info['internal_api']} {info['num_threads']}" for info in threadpool_info()) or "none"


def _row(run: dict) -> list[str]:
    best_ratio = min(run["simulation_s"]) / min(run["reference_s"])
    median_ratio = statistics.median(s / r for s, r in zip(run["simulation_s"], run["reference_s"], strict=True))
    target = RUNS[run["name"]][3]
    verdict = "-" if target is None else f"{target:g}x {'met' if best_ratio <= target else 'MISSED'}"
    rss = f"{run['peak_rss_mb']:,.0f} ({run['rss_after_load_mb']:,.0f})"
    return [run["name"] + (" + dense ref." if run["dense_reference"] else ""), run["arch"],
            f"{min(run['simulation_s']):.2f} / {statistics.median(run['simulation_s']):.2f}",
            f"{min(run['reference_s']):.2f} / {statistics.median(run['reference_s']):.2f}",
            f"{best_ratio:.1f}x", f"{median_ratio:.1f}x", verdict,
            rss + ("" if run["peak_rss_mb"] < RSS_LIMIT_MB else " OVER"),
            " ".join(f"{load:.1f}" for load in run["load_average"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, help="a workload folder saved by `accelsim lower -o`")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--blas-threads", type=int, help="numpy's BLAS threads in each run (default: its own)")
    parser.add_argument("--child", choices=sorted(RUNS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.workload, args.repeats)))
        return
    console = Console(width=170)
    env = dict(os.environ)
    if args.blas_threads:
        env.update({name: str(args.blas_threads) for name in BLAS_THREAD_VARIABLES})
    console.print(f"{args.workload}: {args.repeats} repeats per run after a warm-up; {os.cpu_count()} cores")
    runs = []
    for name in args.runs:
        if not _present(name):
            console.print(f"{name}: arch {RUNS[name][0]} not present in this checkout, not run")
            continue
        with console.status(f"{name} ..."):
            done = subprocess.run([sys.executable, __file__, "--child", name, "--workload", args.workload,
                                   "--repeats", str(args.repeats)], capture_output=True, text=True, check=False,
                              env=env)
        if done.returncode != 0:
            console.print(f"[red]{name} failed[/red]:\n{done.stderr[-2000:]}")
            continue
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        console.print(f"{name}: simulation best {min(runs[-1]['simulation_s']):.2f} s, reference best "
                      f"{min(runs[-1]['reference_s']):.2f} s (BLAS threads: {runs[-1]['blas_threads']}), peak RSS "
                      f"{runs[-1]['peak_rss_mb']:,.0f} MB")
        if args.json:  # after every run: a long benchmark never loses finished results
            args.json.write_text(json.dumps(runs, indent=1) + "\n")
    if not runs:
        return
    table = Table(title=f"{runs[0]['layers']} layers, {runs[0]['macs'] / 1e6:,.0f} M MACs, "
                        f"{runs[0]['effectual_macs'] / 1e6:,.0f} M effectual")
    for header in ("run", "arch", "simulation s (best / median)", "numpy s (best / median)", "ratio best",
                   "ratio median", "target", "peak RSS MB (after load)", "load 1/5/15 min"):
        table.add_column(header, justify="left" if header in ("run", "arch") else "right")
    for run in runs:
        table.add_row(*_row(run))
    console.print(table)


if __name__ == "__main__":
    main()

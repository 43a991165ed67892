"""Shared by the speed benchmarks of issue 20: a whole-network simulation timed against the dense numpy float64
evaluation of the same layers (`accelsim.reference.reference_output`), the two alternated in one run so that the
machine's load (shared, 2 cores) weighs on both alike. Each repeat simulates fresh `Layer` objects, so that no
per-layer memo (the effectual-MAC count) turns a repeat into a lookup."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layer_timing import fresh

from accelsim.reference import reference_output
from accelsim.simulate import simulate
from accelsim.workload import Workload


@dataclass(frozen=True)
class RatioRun:
    reference_s: list[float]
    simulation_s: list[float]

    @property
    def ratios(self) -> list[float]:
        return [sim / ref for sim, ref in zip(self.simulation_s, self.reference_s, strict=True)]

    def summary(self, what: str) -> str:
        best_ratio = min(self.simulation_s) / min(self.reference_s)
        return (f"{what}: simulation best {min(self.simulation_s):.3f} s, median "
                f"{statistics.median(self.simulation_s):.3f} s; numpy reference best {min(self.reference_s):.3f} s, "
                f"median {statistics.median(self.reference_s):.3f} s; ratio best/best {best_ratio:.2f}x, median of "
                f"per-repeat ratios {statistics.median(self.ratios):.2f}x")


def load_workload_arg(path: str | None, model: str, prune: str) -> Workload:
    """A saved workload folder when given, else `model` built and pruned as `accelsim lower` does (slow)."""
    if path:
        from accelsim.workload_io import load_workload

        return load_workload(Path(path))
    from accelsim.frontend.build import build_workload

    return build_workload(model, prune).workload


def reference_seconds(workload: Workload) -> float:
    start = time.perf_counter()
    for layer in workload.layers:
        reference_output(layer)
    return time.perf_counter() - start


def whole_network(arch, dense_reference: bool = True) -> Callable[[Workload], object]:
    """A run: `accelsim.simulate.simulate` (energy, checks and, by default, the dense reference included)."""
    return lambda workload: simulate(workload, arch, dense_reference=dense_reference)


def one_dataflow(dataflow, arch) -> Callable[[Workload], object]:
    """A run: `dataflow.simulate` on every layer, nothing else (no energy, no dense reference)."""
    return lambda workload: [dataflow.simulate(layer, arch) for layer in workload.layers]


def timed(run: Callable[[Workload], object], workload: Workload) -> tuple[float, object]:
    """(seconds, what `run` returned) over fresh copies of the layers."""
    copy = Workload(layers=tuple(fresh(layer) for layer in workload.layers), provenance=workload.provenance)
    start = time.perf_counter()
    result = run(copy)
    return time.perf_counter() - start, result


def alternate(workload: Workload, runs: dict[str, Callable[[Workload], object]],
              repeats: int) -> tuple[dict[str, RatioRun], dict[str, object]]:
    """One warm-up of each run (numba's first calls), then `repeats` rounds of: the numpy reference, then each run
    (each run's ratios are to the reference of its own round). Returns the timings and each run's last result."""
    for run in runs.values():
        timed(run, workload)
    references: list[float] = []
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for _ in range(repeats):
        references.append(reference_seconds(workload))
        for name, run in runs.items():
            elapsed, results[name] = timed(run, workload)
            seconds[name].append(elapsed)
    return {name: RatioRun(references, times) for name, times in seconds.items()}, results


def machine_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports KiB), workload and reference included."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

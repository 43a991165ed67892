"""What a worker does: simulate one point (its workload loaded once per worker and kept while in use), and warm up
once when it starts (numba's compiled kernels loaded from its disk cache, the arch and energy files parsed), so
that no point pays for it. A failed point returns a row with its error; it never raises."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

import accelsim
from accelsim.workload import Layer, Workload

_KEEP_WORKLOADS = 4
_WORKLOADS: OrderedDict[tuple, tuple[Workload, float | None]] = OrderedDict()


@dataclass(frozen=True)
class PointTask:
    point_id: str
    workload_path: str
    layers: tuple[str, ...] | None
    arch: str
    overrides: tuple[str, ...]


def select_layers(workload: Workload, layers: tuple[str, ...] | None) -> Workload:
    """The workload's layers of those names, in the workload's order (all of them for None)."""
    if layers is None:
        return workload
    names = [layer.name for layer in workload.layers]
    missing = [name for name in layers if name not in names]
    if missing:
        raise ValueError(f"the workload has no layer {missing[0]!r}; its layers: {', '.join(names)}")
    wanted = set(layers)
    return replace(workload, layers=tuple(layer for layer in workload.layers if layer.name in wanted))


def weight_density(workload: Workload) -> float | None:
    """Nonzero weights over all weights of the layers whose weights are parameters (attention's products left out)."""
    static = [layer.weight for layer in workload.layers if layer.weight_is_static]
    size = sum(weight.size for weight in static)
    return sum(int(np.count_nonzero(weight)) for weight in static) / size if size else None


def prepared_workload(path: str, layers: tuple[str, ...] | None) -> tuple[Workload, float | None]:
    """The workload at `path` with its selected layers and weight density, read once while it is in use."""
    from accelsim.workload_io import load_workload

    key = (path, layers)
    if key in _WORKLOADS:
        _WORKLOADS.move_to_end(key)
        return _WORKLOADS[key]
    workload = select_layers(load_workload(path), layers)
    _WORKLOADS[key] = (workload, weight_density(workload))
    while len(_WORKLOADS) > _KEEP_WORKLOADS:
        _WORKLOADS.popitem(last=False)
    return _WORKLOADS[key]


def evaluate_point(task: PointTask, prepared: tuple[Workload, float | None] | None = None) -> dict:
    """The result and run columns of one point. `prepared` is the workload when the executor ships it (Dask);
    otherwise it is read from `task.workload_path`."""
    from accelsim.arch_configs import load_arch
    from accelsim.dse.columns import result_columns
    from accelsim.simulate import simulate

    started = time.perf_counter()
    simulate_s = None
    try:
        workload, density = prepared if prepared is not None else prepared_workload(task.workload_path, task.layers)
        arch = load_arch(task.arch, task.overrides)
        simulate_started = time.perf_counter()
        result = simulate(workload, arch)
        simulate_s = time.perf_counter() - simulate_started
        row = result_columns(result, arch, density)
    except Exception as error:  # a failed point is a row with its error, whatever went wrong
        row = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
    return {**row, "simulate_s": simulate_s, "point_s": time.perf_counter() - started, "finished_unix_s": time.time(),
            "worker": worker_name(), "accelsim_version": accelsim.__version__}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _warm_up_workload() -> Workload:
    """A tiny conv and a tiny linear layer, half zeros, in float32 as lowered models are."""
    rng = np.random.default_rng(0)

    def half_zero(shape):
        values = rng.standard_normal(shape).astype(np.float32)
        return np.where(rng.random(shape) < 0.5, np.float32(0), values)

    layers = (Layer("warm_up_conv", "conv2d", half_zero((1, 4, 6, 6)), half_zero((4, 4, 3, 3)), padding=1),
              Layer("warm_up_linear", "linear", half_zero((2, 16)), half_zero((8, 16))))
    return Workload(layers=layers, provenance={"model": "warm-up"})


def warm_up(archs: tuple[tuple[str, tuple[str, ...]], ...]) -> float:
    """Run each (arch, overrides) once on a tiny workload: loads numba's cached kernels (compiling them the first
    time ever), the dataflow modules, the arch and energy files. Seconds taken. An arch that refuses a warm-up
    layer is fine: its real points will say so."""
    from accelsim.arch_configs import load_arch
    from accelsim.simulate import simulate

    started = time.perf_counter()
    workload = _warm_up_workload()
    for source, overrides in archs:
        for layer in workload.layers:
            try:
                simulate(Workload(layers=(layer,), provenance=workload.provenance), load_arch(source, overrides))
            except Exception:  # warm-up only: the sweep's own points report every error
                continue
    return time.perf_counter() - started


def prepare_worker_process(archs: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    """A worker's start: torch (for lowering) uses one thread, so that N workers use N cores, then the warm-up."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    warm_up(archs)


def init_worker(archs: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    """A local pool worker's start: Ctrl-C is the driver's to handle (it stops the workers), then as any worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare_worker_process(archs)

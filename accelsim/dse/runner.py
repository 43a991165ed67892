"""`run_sweep`: a spec's points computed into a folder of Parquet shards, resumably.

Each run lists the search's points, moves rows of points the spec no longer has to `_stale/` (a changed spec adds
points and never mixes stale ones), skips every point already in the folder, and computes the rest on the executor
with a progress bar. Ctrl-C, SIGTERM or a lost worker keep every finished point; running the same command again
computes only what is missing. When the run completes it writes the default Pareto fronts."""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from accelsim.dse.columns import override_type, results_schema
from accelsim.dse.dispatch import Dispatcher
from accelsim.dse.environment import environment
from accelsim.dse.folder import SweepFolder
from accelsim.dse.fronts import write_default_fronts
from accelsim.dse.lowering import default_cache_folder
from accelsim.dse.points import Point, grid_points, random_points
from accelsim.dse.space import Space, build_space
from accelsim.dse.spec import load_sweep_spec
from accelsim.dse.store import ResultStore

EXECUTORS = ("local", "dask")
IN_FLIGHT_PER_WORKER = 4
"""Tasks submitted ahead per worker: enough to keep every worker busy, few enough that 1e5 points do not flood the
scheduler."""


@dataclass
class SweepSummary:
    folder: Path
    points: int = 0
    """Points of the search."""
    skipped: int = 0
    """Points already in the folder."""
    computed: int = 0
    failed: int = 0
    """Of the computed points, those that failed (their rows hold the error)."""
    retired: int = 0
    """Rows of points no longer in the spec (or failed rows retried), moved to _stale/."""
    lowerings: int = 0
    lowering_s: float = 0.0
    """Worker seconds spent lowering."""
    workers: int = 0
    startup_s: float = 0.0
    """Seconds to start the executor (processes, imports, warm-up), part of wall_s."""
    wall_s: float = 0.0
    interrupted: bool = False
    fronts: list[Path] = field(default_factory=list)


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the sweep; every finished point is in the folder (`summary` says how many)."""

    def __init__(self, summary: SweepSummary):
        super().__init__("sweep interrupted")
        self.summary = summary


def run_sweep(spec_path: str | Path, folder: str | Path, *, executor: str = "local", workers: int | None = None,
              scheduler: str | None = None, cache_folder: str | Path | None = None, retry_failed: bool = False,
              progress=None) -> SweepSummary:
    """Run the sweep of `spec_path` into `folder`. `progress` is a rich Progress to report on (None: silent)."""
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r}: choose one of {', '.join(EXECUTORS)}")
    if scheduler is not None and (executor != "dask" or workers is not None):
        raise ValueError("a scheduler address is for --executor dask, whose cluster has its own workers (leave "
                         "--workers out)")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    spec_path = Path(spec_path)
    spec = load_sweep_spec(spec_path)
    space = build_space(spec, str(spec_path), spec_path.parent)
    sweep = SweepFolder(Path(folder))
    sweep.open()
    try:
        run = _Run(space, sweep, executor, workers, scheduler,
                   Path(cache_folder) if cache_folder else default_cache_folder(), retry_failed, progress)
        return run.execute(spec_path.read_text())
    finally:
        sweep.close()


def sweep_schema(space: Space):
    return results_schema({key: override_type(values) for key, values in space.override_values.items()},
                          space.stall_causes)


class _Run:
    def __init__(self, space, sweep, executor, workers, scheduler, cache_folder, retry_failed, progress):
        self.space, self.sweep = space, sweep
        self.executor_name, self.workers, self.scheduler = executor, workers, scheduler
        self.cache_folder, self.retry_failed, self.progress = cache_folder, retry_failed, progress
        self.store = ResultStore(sweep.path, sweep_schema(space))
        self.store.recover()
        self.summary = SweepSummary(sweep.path)
        self.rows: dict[str, dict] = {}
        """Rows computed in this run, by point id."""
        self.executor = None
        self.dispatcher = None
        self.task = None

    def execute(self, spec_text: str) -> SweepSummary:
        started = time.perf_counter()
        spec_hash = self.sweep.record_spec(spec_text)
        run_environment = environment(self.executor_name, self.workers, self.scheduler)
        self.sweep.record_environment(run_environment)
        search = self.space.spec.search
        try:
            with _terminate_as_interrupt():
                if self.retry_failed:
                    self.summary.retired += self.store.retire(
                        {point_id for point_id, status in self.store.index().items() if status != "ok"})
                if search.kind == "nsga2":
                    self.store.conform_all()
                    self._start_progress(search.trials, 0)
                    from accelsim.dse.nsga2 import nsga2_points

                    points = nsga2_points(self.space, self._rows_of)
                    self.summary.retired += self.store.retire(set(self.store.index()) - {p.id for p in points})
                else:
                    points = grid_points(self.space) if search.kind == "grid" else \
                        random_points(self.space, search.samples, search.seed)
                    self.summary.retired += self.store.retire(set(self.store.index()) - {p.id for p in points})
                    self.store.conform_all()
                    done = self.store.index()
                    todo = [point for point in points if point.id not in done]
                    self.summary.skipped = len(points) - len(todo)
                    self._start_progress(len(points), self.summary.skipped)
                    self._compute(todo)
                self.summary.points = len(points)
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            self.store.flush()
            if self.executor is not None:
                self.executor.close(cancel=self.summary.interrupted)
            if self.dispatcher is not None:
                self.summary.lowerings = len(self.dispatcher.lowering_seconds)
                self.summary.lowering_s = sum(self.dispatcher.lowering_seconds)
            self.summary.wall_s = time.perf_counter() - started
            self.sweep.record_run({"spec_sha256": spec_hash, **{key: value for key, value in vars(self.summary).items()
                                                                 if key not in ("folder", "fronts")},
                                   "environment": run_environment})
        if self.summary.interrupted:
            raise SweepInterrupted(self.summary)
        self.store.compact()
        self.summary.fronts = write_default_fronts(self.sweep, self.store.read().to_pandas(), self.space.spec)
        return self.summary

    def _start_progress(self, total: int, skipped: int) -> None:
        if self.progress is not None:
            name = self.space.spec.name or self.sweep.path.name
            self.task = self.progress.add_task(f"sweep {name}", total=total, completed=skipped, done=0, failed=0,
                                               skipped=skipped)

    def _on_row(self, point: Point, outputs: dict) -> None:
        row = {**point.input_columns(), **outputs}
        self.rows[point.id] = row
        self.store.add(row)
        self.summary.computed += 1
        self.summary.failed += outputs.get("status") != "ok"
        if self.task is not None:
            self.progress.update(self.task, advance=1, done=self.summary.computed, failed=self.summary.failed)

    def _compute(self, points: list[Point]) -> None:
        if not points:
            return
        if self.dispatcher is None:
            self._start_executor(points)
        self.dispatcher.compute(points)

    def _start_executor(self, points: list[Point]) -> None:
        started = time.perf_counter()
        first: dict[int, tuple] = {}
        for point in points:
            first.setdefault(point.arch.index, (point.arch.source, point.override_args))
        warm_up = tuple(first.values())
        if self.executor_name == "local":
            from accelsim.dse.local_executor import LocalExecutor

            wanted = self.workers or os.cpu_count() or 1
            population = self.space.spec.search.population or len(points)
            self.executor = LocalExecutor(max(1, min(wanted, len(points), population)), warm_up)
        else:
            from accelsim.dse.dask_executor import DaskExecutor

            self.executor = DaskExecutor(None if self.scheduler else (self.workers or os.cpu_count() or 1),
                                         self.scheduler, warm_up)
        self.summary.workers = self.executor.workers
        self.summary.startup_s = time.perf_counter() - started
        self.dispatcher = Dispatcher(self.executor, self.cache_folder, self._on_row,
                                     max_in_flight=IN_FLIGHT_PER_WORKER * self.executor.workers,
                                     tick=self.store.maybe_flush)

    def _rows_of(self, points: list[Point]) -> dict[str, dict]:
        """For NSGA-II: the row of each point, from this run, from the folder, or computed now."""
        on_disk = self.store.index()
        known = [point.id for point in points if point.id not in self.rows and point.id in on_disk]
        for row in self.store.read(known).to_pylist() if known else []:
            self.rows[row["point_id"]] = row
        self.summary.skipped += len(known)
        self._compute([point for point in points if point.id not in self.rows])
        if self.task is not None:
            self.progress.update(self.task, advance=len(known), skipped=self.summary.skipped)
        return {point.id: self.rows[point.id] for point in points}


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM (a batch system's stop, `kill`) ends the sweep as Ctrl-C does: finished points kept, workers
    stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

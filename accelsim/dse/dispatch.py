"""Computing points on an executor: each missing lowering first (one task per distinct lowering, stored in the cache
when it returns), each point as soon as its workload is ready, never more than `max_in_flight` tasks submitted at
once (a sweep of 1e5 points does not flood the scheduler), every finished point handed to `on_row` at once.

A worker that dies takes the tasks it held with it. Where the executor cannot tell which task killed it (a local
pool breaks as a whole), those points are rerun one at a time: a point that kills its worker while running alone is
recorded as failed, the others are simply computed. A lowering whose worker dies twice fails its points."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path

from accelsim.dse.evaluate import PointTask
from accelsim.dse.local_executor import WorkerLost
from accelsim.dse.lowering import LoweringOutcome, LoweringTask, cached_workload, layer_names, store_in_cache
from accelsim.dse.points import Point
from accelsim.names import did_you_mean

TICK_S = 0.25
"""How often the loop wakes without a finished task (progress bar, buffered rows to flush)."""
_LOWERING_ATTEMPTS = 2


def failed_row(error: str) -> dict:
    return {"status": "failed", "error": error}


class Dispatcher:
    def __init__(self, executor, cache_folder: Path, on_row: Callable[[Point, dict], None], *,
                 max_in_flight: int, tick: Callable[[], None] = lambda: None):
        self.executor = executor
        self.cache_folder = cache_folder
        self.on_row = on_row
        self.max_in_flight = max_in_flight
        self.tick = tick
        self.lowering_errors: dict[str, str] = {}
        self.lowering_seconds: list[float] = []
        """Worker seconds of each lowering this dispatcher ran."""
        self._lowering_losses: dict[str, int] = {}
        self._layer_errors: dict[tuple[int, str], str | None] = {}

    def workload_path(self, point: Point) -> str | None:
        """Where the point's workload is, or None while it still has to be lowered."""
        if point.model.kind == "folder":
            return point.model.source
        path = cached_workload(self.cache_folder, point.lowering_key)
        return None if path is None else str(path)

    def compute(self, points: list[Point]) -> None:
        unfinished = Counter(_workload_key(point) for point in points)
        on_row = self.on_row

        def finished(point: Point, row: dict) -> None:  # a workload no point still needs can leave the workers
            on_row(point, row)
            key = _workload_key(point)
            unfinished[key] -= 1
            if not unfinished[key] and self.workload_path(point) is not None:
                self.executor.release(self.workload_path(point), point.model.layers)

        self.on_row = finished
        try:
            self._compute(points)
        finally:
            self.on_row = on_row

    def _compute(self, points: list[Point]) -> None:
        ready: deque[Point] = deque()
        waiting: dict[str, list[Point]] = {}
        lowerings: deque[LoweringTask] = deque()
        for point in points:
            key = point.lowering_key
            if key in self.lowering_errors or self.workload_path(point) is not None:
                self._release(point, ready)
            else:
                if key not in waiting:
                    waiting[key] = []
                    lowerings.append(_lowering_task(point))
                waiting[key].append(point)
        in_flight: dict = {}
        suspects: deque[Point] = deque()
        alone: set[str] = set()
        while ready or lowerings or in_flight or suspects:
            if self.executor.broken and not in_flight:
                self.executor.recover()
            if not self.executor.broken:
                self._submit(ready, lowerings, suspects, alone, in_flight)
            done = self.executor.wait(list(in_flight), timeout=TICK_S)
            self.tick()
            for future in done:
                kind, item = in_flight.pop(future)
                try:
                    outcome = self.executor.result(future)
                except WorkerLost as lost:
                    self._lost(kind, item, lost, lowerings, waiting, suspects, alone)
                    continue
                if kind == "lowering":
                    self._lowered(outcome, waiting.pop(item.key), ready)
                else:
                    self.on_row(item, outcome)

    def _submit(self, ready, lowerings, suspects, alone, in_flight) -> None:
        isolating = any(kind == "point" and item.id in alone for kind, item in in_flight.values())
        if suspects or isolating:  # one at a time, alone on the pool, to learn which of them kills its worker
            if suspects and not in_flight:
                point = suspects.popleft()
                alone.add(point.id)
                in_flight[self.executor.submit_point(self._task(point))] = ("point", point)
            return
        while len(in_flight) < self.max_in_flight and (lowerings or ready):
            if lowerings:
                task = lowerings.popleft()
                in_flight[self.executor.submit_lowering(task)] = ("lowering", task)
            else:
                point = ready.popleft()
                in_flight[self.executor.submit_point(self._task(point))] = ("point", point)

    def _task(self, point: Point) -> PointTask:
        return PointTask(point.id, self.workload_path(point), point.model.layers, point.arch.source,
                         point.override_args)

    def _lowered(self, outcome: LoweringOutcome, points: list[Point], ready: deque) -> None:
        self.lowering_seconds.append(outcome.seconds)
        if outcome.error is None:
            store_in_cache(outcome.workload, self.cache_folder, outcome.key)
        else:
            self.lowering_errors[outcome.key] = outcome.error
        for point in points:
            self._release(point, ready)

    def _release(self, point: Point, ready: deque) -> None:
        """A point whose lowering is over: ready to simulate, or failed with its lowering's or layers' error."""
        error = self.lowering_errors.get(point.lowering_key) or self._layers_error(point)
        if error is None:
            ready.append(point)
        else:
            self.on_row(point, failed_row(error))

    def _layers_error(self, point: Point) -> str | None:
        """A layer the model entry selects but its workload lacks (checked once per entry and workload)."""
        model = point.model
        if model.layers is None:
            return None
        key = (model.index, point.lowering_key)
        if key not in self._layer_errors:
            names = layer_names(Path(self.workload_path(point)))
            missing = [name for name in model.layers if name not in names]
            self._layer_errors[key] = None if not missing else (
                f"models.{model.index}.layers: {model.name} has no layer {missing[0]!r}."
                f"{did_you_mean(missing[0], names)} Its layers: {', '.join(names)}")
        return self._layer_errors[key]

    def _lost(self, kind, item, lost: WorkerLost, lowerings, waiting, suspects, alone) -> None:
        if kind == "lowering":
            losses = self._lowering_losses[item.key] = self._lowering_losses.get(item.key, 0) + 1
            if losses < _LOWERING_ATTEMPTS:
                lowerings.append(item)
                return
            error = f"lowering failed: WorkerLost: {lost} ({losses} times)"
            self.lowering_errors[item.key] = error
            for point in waiting.pop(item.key):
                self.on_row(point, failed_row(error))
        elif self.executor.isolates_lost_workers or item.id in alone:
            self.on_row(item, failed_row(f"WorkerLost: {lost} while simulating this point"))
        else:
            suspects.append(item)


def _workload_key(point: Point) -> tuple:
    return point.lowering_key, point.model.layers


def _lowering_task(point: Point) -> LoweringTask:
    model = point.model
    return LoweringTask(point.lowering_key, model.source, point.pruning, model.seed, model.input_shape,
                        model.checkpoint)

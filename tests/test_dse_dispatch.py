"""The dispatcher against a stand-in executor that runs tasks when asked (no processes): submission stays bounded,
a lowering is done once for all its points, and a worker that dies takes the blame only when it died running a
point alone."""

from __future__ import annotations

from concurrent.futures import Future

import pytest
from dse_helpers import space_of, sweep_folder

from accelsim.dse.dispatch import Dispatcher
from accelsim.dse.local_executor import WorkerLost
from accelsim.dse.lowering import LoweringOutcome
from accelsim.dse.points import grid_points
from accelsim.workload import Workload

SPEC = "models: [tiny.csv]\narchs: [{arch: systolic-32x32-ws, set: {pe_array.rows: {low: 1, high: 24, step: 1}}}]\n"
KILLER_ROWS = 7


class StandIn:
    """Runs each task when `wait` is called. A point whose override sets pe_array.rows=7 kills the 'pool': every
    task in flight comes back lost and the pool refuses work until `recover`."""

    isolates_lost_workers = False

    def __init__(self, workload: Workload):
        self.workload = workload
        self.broken = False
        self.in_flight: list[tuple[Future, str, object]] = []
        self.most_in_flight = 0
        self.lowerings = 0
        self.recoveries = 0
        self.alone_with_killer: list[int] = []
        self.released: list[tuple] = []

    def submit_lowering(self, task):
        return self._submit("lowering", task)

    def submit_point(self, task):
        return self._submit("point", task)

    def _submit(self, kind, task):
        future = Future()
        self.in_flight.append((future, kind, task))
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        return future

    def wait(self, futures, timeout):
        kills = any(kind == "point" and f"pe_array.rows={KILLER_ROWS}" in task.overrides
                    for _, kind, task in self.in_flight)
        if kills:
            self.alone_with_killer.append(len(self.in_flight))
        for future, kind, task in self.in_flight:
            if kills:
                future.set_exception(WorkerLost("the worker process died"))
            elif kind == "lowering":
                self.lowerings += 1
                future.set_result(LoweringOutcome(task.key, self.workload, None, 0.0))
            else:
                future.set_result({"status": "ok", "cycles": 1})
        self.broken |= kills
        done = {future for future, _, _ in self.in_flight}
        self.in_flight = []
        return done

    def result(self, future):
        return future.result()

    def recover(self):
        self.recoveries += 1
        self.broken = False

    def release(self, workload_path, layers):
        self.released.append((workload_path, layers))


@pytest.fixture
def points(tmp_path):
    return grid_points(space_of(sweep_folder(tmp_path, SPEC)))


def test_bounded_submission_one_lowering_and_a_culprit_found_alone(tmp_path, points):
    from accelsim.frontend.build import build_workload

    executor = StandIn(build_workload(str(tmp_path / "tiny.csv")).workload)
    rows = {}
    dispatcher = Dispatcher(executor, tmp_path / "cache", lambda point, row: rows.setdefault(point.id, row),
                            max_in_flight=5)
    dispatcher.compute(points)
    assert len(rows) == len(points) == 24
    assert executor.most_in_flight <= 5 and executor.lowerings == 1
    failed = {dict(point.overrides)["pe_array.rows"] for point in points if rows[point.id]["status"] != "ok"}
    assert failed == {KILLER_ROWS}  # the points that shared the pool with it were rerun and succeeded
    assert executor.alone_with_killer[-1] == 1 and executor.recoveries >= 1
    assert len(executor.released) == 1 and executor.released[0][1] is None  # once, after the last of its points
    assert "WorkerLost" in rows[next(p.id for p in points if dict(p.overrides)["pe_array.rows"] == KILLER_ROWS)][
        "error"]

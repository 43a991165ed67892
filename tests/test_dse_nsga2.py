"""NSGA-II search through Optuna's ask and tell: the same seed asks for the same points, a stopped search resumes by
replaying and computes only what is missing, failed points are told as failed trials, and a real sweep writes the
objectives' front."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from dse_helpers import space_of, sweep_folder

from accelsim.dse import run_sweep
from accelsim.dse.nsga2 import nsga2_points, objective_values

SPEC = """
models: [{model: tiny.csv}]
archs:
  - {arch: systolic-32x32-ws, set: {pe_array.rows: {low: 1, high: 64, log: true}, pe_array.cols: {low: 1, high: 64}}}
  - {arch: systolic-32x32-os, set: {pe_array.rows: [4, 8, 16]}}
search: {kind: nsga2, trials: 40, population: 8, seed: 3, objectives: {latency_s: min, area_multipliers: min}}
"""


def fake_row(point) -> dict:
    """Objectives that trade off: more multipliers, less latency (a point with a single row fails)."""
    values = dict(point.overrides)
    rows, cols = values["pe_array.rows"], values.get("pe_array.cols", 32)
    if rows == 1:
        return {"status": "failed", "error": "told to fail"}
    return {"status": "ok", "latency_s": 1.0 / min(rows, 2 * cols) + 0.01 * rows, "area_multipliers": rows * cols}


class Evaluator:
    def __init__(self, disk: dict | None = None, stop_after: int | None = None):
        self.disk = {} if disk is None else disk
        self.computed: list[str] = []
        self.generations = 0
        self.stop_after = stop_after

    def __call__(self, points):
        if self.stop_after is not None and self.generations == self.stop_after:
            raise KeyboardInterrupt
        self.generations += 1
        for point in points:
            if point.id not in self.disk:
                self.disk[point.id] = fake_row(point)
                self.computed.append(point.id)
        return {point.id: self.disk[point.id] for point in points}


@pytest.fixture
def space(tmp_path):
    return space_of(sweep_folder(tmp_path, SPEC))


def test_the_same_seed_asks_for_the_same_points(space):
    first, second = Evaluator(), Evaluator()
    points = nsga2_points(space, first)
    assert [point.id for point in points] == [point.id for point in nsga2_points(space, second)]
    assert first.generations == 5  # 40 trials in generations of 8
    assert len(points) == len(first.computed) <= 40
    assert [point.search_index for point in points] == sorted(point.search_index for point in points)


def test_a_stopped_search_resumes_computing_only_what_is_missing(space):
    whole = Evaluator()
    expected = [point.id for point in nsga2_points(space, whole)]
    disk: dict = {}
    with pytest.raises(KeyboardInterrupt):
        nsga2_points(space, Evaluator(disk, stop_after=2))
    computed_before = len(disk)
    resumed = Evaluator(disk)
    assert [point.id for point in nsga2_points(space, resumed)] == expected
    assert set(resumed.computed).isdisjoint(list(disk)[:computed_before])
    assert computed_before + len(resumed.computed) == len(whole.computed)


def test_failed_points_and_missing_objectives_are_failed_trials():
    objectives = {"latency_s": "min", "accuracy": "max"}
    assert objective_values({"status": "failed"}, objectives) is None
    assert objective_values({"status": "ok", "latency_s": 1.0, "accuracy": None}, objectives) is None
    assert objective_values({"status": "ok", "latency_s": 1.0, "accuracy": float("nan")}, objectives) is None
    assert objective_values({"status": "ok", "latency_s": 2, "accuracy": 0.5}, objectives) == [2.0, 0.5]


def test_a_real_nsga2_sweep_writes_its_rows_and_the_objectives_front(tmp_path):
    spec = sweep_folder(tmp_path, SPEC.replace("trials: 40", "trials: 12").replace("population: 8", "population: 6"))
    summary = run_sweep(spec, tmp_path / "out", workers=1, cache_folder=tmp_path / "cache")
    rows = pq.read_table(tmp_path / "out").to_pylist()
    assert len(rows) == summary.points == summary.computed <= 12
    assert all(row["status"] == "ok" and row["search_index"] is not None for row in rows)
    assert (tmp_path / "out" / "_sweep" / "pareto-latency_s-area_multipliers.png").is_file()
    again = run_sweep(spec, tmp_path / "out", workers=1, cache_folder=tmp_path / "cache")
    assert (again.computed, again.skipped) == (0, summary.points)

"""`run_sweep` on the local process pool, end to end on three small layers: rows that equal a direct `simulate` of
their point, a failed point and a worker killed mid-point kept as rows with their errors, one lowering shared by the
points that need it and reused from the cache by later sweeps, reruns that skip what is done (or retry what failed),
a changed spec that adds points and moves stale rows out, and a sweep stopped by SIGTERM that resumes to the same
rows."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
from dse_helpers import ROOT, rows_of, sweep_folder

from accelsim.arch_configs import load_arch
from accelsim.dse import run_sweep
from accelsim.dse.evaluate import select_layers
from accelsim.frontend.build import build_workload
from accelsim.simulate import simulate

SPEC = """
name: tiny
models:
  - {model: tiny.csv, prune: none}
  - {model: tiny.csv, prune: none, layers: [fc_a]}
archs:
  - {arch: scnn, set: {dataflow.crossbar_queue_depth: [1, 8]}}
  - {arch: systolic-32x32-ws, set: {pe_array.rows: [8, 16]}}
  - {arch: misbehaving.yaml, set: {dataflow.behaviour: [ok, fail, crash]}}
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    spec = sweep_folder(base, SPEC)
    summary = run_sweep(spec, base / "out", workers=2, cache_folder=base / "cache")
    return spec, summary


def test_every_point_is_a_row_with_what_simulate_gives(sweep):
    spec, summary = sweep
    rows = rows_of(summary.folder)
    assert summary.points == len(rows) == 2 * (2 + 2 + 3)
    workload = build_workload(str(spec.parent / "tiny.csv")).workload
    for row in rows.values():
        if row["arch"] == "misbehaving.yaml" and row["set.dataflow.behaviour"] != "ok":
            continue
        overrides = [f"{column[4:]}={value}" for column, value in row.items()
                     if column.startswith("set.") and value is not None]
        arch = load_arch(row["arch"] if "/" not in row["arch"] and not row["arch"].endswith(".yaml")
                         else spec.parent / row["arch"], overrides)
        layers = tuple(row["layers"].split(",")) if row["layers"] else None
        expected = simulate(select_layers(workload, layers), arch)
        assert row["status"] == "ok", row["error"]
        assert (row["cycles"], row["energy_pj"], row["speedup"]) == (expected.cycles, expected.energy_pj,
                                                                    expected.speedup)
        assert row["macs"] == sum(layer.result.macs for layer in expected.rows)
        assert row["area_multipliers"] == arch.pe_array.multipliers
    selected = [row for row in rows.values() if row["layers"] == "fc_a"]
    assert len(selected) == 7 and all(row["macs"] == 2 * 64 * 32 for row in selected if row["status"] == "ok")


def test_a_failed_point_and_a_lost_worker_are_rows_not_crashes(sweep):
    _, summary = sweep
    behaviour = {row["set.dataflow.behaviour"]: row for row in rows_of(summary.folder).values()
                 if row["layers"] is None and row["arch"] == "misbehaving.yaml"}
    assert behaviour["ok"]["status"] == "ok"
    assert behaviour["fail"]["status"] == "failed" and behaviour["fail"]["error"] == "ValueError: told to fail"
    assert behaviour["crash"]["status"] == "failed" and behaviour["crash"]["error"].startswith("WorkerLost")
    crashed = [row for row in rows_of(summary.folder).values() if row["set.dataflow.behaviour"] == "crash"]
    assert [row["status"] for row in crashed if row["layers"] == "fc_a"] == ["ok"]  # it crashes on conv layers
    assert summary.failed == 3 and summary.computed == 14


def test_one_lowering_serves_every_point_that_needs_it(sweep):
    _, summary = sweep
    assert summary.lowerings == 1  # both model entries are tiny.csv, seed 0: one workload, two layer choices


def test_the_folder_records_the_spec_the_environment_and_the_fronts(sweep):
    spec, summary = sweep
    records = summary.folder / "_sweep"
    assert (records / "spec.yaml").read_text() == spec.read_text()
    assert '"accelsim_version"' in (records / "environment.json").read_text()
    assert (records / "pareto-latency_s-energy_pj.png").is_file()
    assert summary.fronts == [records / "pareto-latency_s-energy_pj.png"]
    assert len(list(summary.folder.glob("part-*.parquet"))) == 1  # compacted once finished


def test_a_rerun_skips_every_finished_point(sweep):
    spec, summary = sweep
    again = run_sweep(spec, summary.folder, workers=2, cache_folder=spec.parent / "cache")
    assert (again.skipped, again.computed, again.workers) == (summary.points, 0, 0)  # no worker even started


def test_a_changed_spec_adds_points_and_moves_stale_rows_out(sweep, tmp_path):
    spec, summary = sweep
    folder = tmp_path / "out"
    shutil.copytree(summary.folder, folder)
    changed = SPEC.replace("dataflow.crossbar_queue_depth: [1, 8]", "dataflow.crossbar_queue_depth: [1, 8, 2]").replace(
        "pe_array.rows: [8, 16]", "pe_array.rows: [8]")
    (spec.parent / "changed.yaml").write_text(changed)
    again = run_sweep(spec.parent / "changed.yaml", folder, workers=1, cache_folder=spec.parent / "cache")
    assert (again.computed, again.skipped, again.retired, again.lowerings) == (2, 12, 2, 0)
    rows = rows_of(folder)
    assert len(rows) == 14 and not any(row.get("set.pe_array.rows") == 16 for row in rows.values())
    assert sorted(row["set.pe_array.rows"] for row in pq.read_table(folder / "_stale").to_pylist()) == [16, 16]
    old = rows_of(summary.folder)
    for point_id, row in rows.items():  # kept rows are the same rows
        if point_id in old:
            assert row == old[point_id]


def test_sigterm_keeps_finished_points_and_a_rerun_finishes(tmp_path):
    spec = sweep_folder(tmp_path, "models: [{model: tiny.csv}]\narchs: [{arch: misbehaving.yaml, set: "
                                  "{dataflow.sleep_s: 0.1, dataflow.cycles_per_mac: {low: 1, high: 16, step: 1}}}]\n")
    command = [sys.executable, "-m", "accelsim.cli", "sweep", str(spec), "-o", str(tmp_path / "out"),
               "--workers", "1", "--cache", str(tmp_path / "cache")]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "out").glob("part-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    kept = rows_of(tmp_path / "out")
    assert 0 < len(kept) < 16
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{16 - len(kept)} computed (0 failed), {len(kept)} skipped" in done.stdout
    rows = rows_of(tmp_path / "out")
    assert sorted(row["set.dataflow.cycles_per_mac"] for row in rows.values()) == list(range(1, 17))
    assert all(rows[point_id] == row for point_id, row in kept.items())


def test_retry_failed_computes_failed_points_again(tmp_path):
    spec = sweep_folder(tmp_path, "models: [tiny.csv]\narchs: [{arch: misbehaving.yaml, set: {dataflow.behaviour: "
                                  "[ok, fail]}}]\n")
    first = run_sweep(spec, tmp_path / "out", workers=1, cache_folder=tmp_path / "cache")
    assert (first.computed, first.failed) == (2, 1)
    again = run_sweep(spec, tmp_path / "out", workers=1, cache_folder=tmp_path / "cache", retry_failed=True)
    assert (again.computed, again.failed, again.skipped, again.retired) == (1, 1, 1, 1)
    assert len(rows_of(tmp_path / "out")) == 2 and len(rows_of(tmp_path / "out" / "_stale")) == 1

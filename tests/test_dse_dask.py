"""The dask executor on a real dask.distributed LocalCluster of two worker processes on 127.0.0.1: the same spec
gives the same rows as the local process pool (the run columns aside: timings and worker names), failed point
included. Run through the CLI in a subprocess, so that a hung cluster cannot outlive its time limit."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq
from dse_helpers import ROOT, sweep_folder

from accelsim.dse import columns, run_sweep

SPEC = """
models: [tiny.csv]
archs:
  - {arch: scnn, set: {dataflow.crossbar_queue_depth: [1, 8]}}
  - {arch: systolic-32x32-ws, set: {pe_array.rows: [8, 16]}}
  - {arch: misbehaving.yaml, set: {dataflow.behaviour: [ok, fail]}}
"""
RUN_COLUMNS = set(columns.RUN_COLUMNS) - {"accelsim_version"}  # timings, clock, worker names


def comparable_rows(folder):
    rows = pq.read_table(folder).to_pylist()
    return sorted(({key: value for key, value in row.items() if key not in RUN_COLUMNS} for row in rows),
                  key=lambda row: row["point_id"])


def test_a_dask_local_cluster_gives_the_rows_of_the_local_pool(tmp_path):
    spec = sweep_folder(tmp_path, SPEC)
    local = run_sweep(spec, tmp_path / "local", workers=1, cache_folder=tmp_path / "cache")
    command = [sys.executable, "-m", "accelsim.cli", "sweep", str(spec), "-o", str(tmp_path / "dask"),
               "--executor", "dask", "--workers", "2", "--cache", str(tmp_path / "dask-cache")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "6 points: 6 computed (1 failed), 0 skipped" in done.stdout
    assert "on 2 workers" in done.stdout
    dask_rows = comparable_rows(tmp_path / "dask")
    assert dask_rows == comparable_rows(local.folder) and len(dask_rows) == 6
    workers = {row["worker"] for row in pq.read_table(tmp_path / "dask").to_pylist()}
    assert len(workers) == 2  # both cluster workers took points

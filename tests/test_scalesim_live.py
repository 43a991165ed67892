"""Optional: run SCALE-Sim itself on a few cases and compare cycle counts with the systolic dataflow.

SCALE-Sim 3.0.0 needs numpy < 2.4, so it lives in its own venv (validation/scalesim/README.md); point
SCALESIM_PYTHON at that interpreter to run this test, e.g. SCALESIM_PYTHON=/work/scalesim-venv/bin/python.
"""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest

from accelsim.arch_configs import load_arch
from accelsim.dataflows.systolic import Systolic
from accelsim.frontend.scalesim_topology import read_scalesim_topology

FOLDER = Path(__file__).resolve().parents[1] / "validation" / "scalesim"
PYTHON = os.environ.get("SCALESIM_PYTHON")
pytestmark = pytest.mark.skipif(not PYTHON, reason="SCALESIM_PYTHON is not set (SCALE-Sim has its own venv)")


def test_scalesim_run_now_agrees_with_the_systolic_dataflow(tmp_path):
    out = tmp_path / "live.csv"
    cases = ["dense_12x14_ws", "dense_16x4_is", "sparse_8x8_os", "tpu128_ws"]
    subprocess.run([PYTHON, str(FOLDER / "generate.py"), "--only", *cases, "--out", str(out)], check=True,
                   capture_output=True, timeout=600)
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert {row["case"] for row in rows} == set(cases)
    for row in rows:
        arch = load_arch(FOLDER / row["config_file"])
        layers = {layer.name: layer for layer in read_scalesim_topology(FOLDER / row["topology_file"]).layers}
        result = Systolic().simulate(layers[row["layer_name"]], arch)
        assert result.cycles == int(row["total_cycles"]), row["case"] + " " + row["layer_name"]

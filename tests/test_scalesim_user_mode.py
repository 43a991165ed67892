"""accelsim's fold-by-fold DRAM walk next to SCALE-Sim's USER-mode rows (validation/scalesim/user_mode_comparison.py
writes the committed table and its summary): the table is current, the agreement never gets worse than committed,
and where only accelsim stalls the reason is the partial sums it spills and SCALE-Sim does not."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parents[1] / "validation" / "scalesim"


def _script():
    spec = importlib.util.spec_from_file_location("user_mode_comparison", FOLDER / "user_mode_comparison.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def computed():
    script = _script()
    rows = script.comparison_rows()
    return rows, script.summary(rows)


def test_the_committed_table_is_current(computed):
    rows, _ = computed
    committed = list(csv.DictReader((FOLDER / "user_mode_comparison.csv").open()))
    assert [{key: str(value) for key, value in row.items()} for row in rows] == committed, (
        "rerun python validation/scalesim/user_mode_comparison.py and commit its output")


def test_agreement_is_not_worse_than_committed(computed):
    _, figures = computed
    committed = json.loads((FOLDER / "user_mode_comparison.json").read_text())
    assert figures["total_cycles_equal"] >= committed["total_cycles_equal"]
    assert figures["only_scalesim_stalls"] <= committed["only_scalesim_stalls"]
    assert figures["only_accelsim_stalls"] <= committed["only_accelsim_stalls"]
    assert figures["both_stall_median_abs_log_ratio"] <= committed["both_stall_median_abs_log_ratio"] + 1e-9


def test_where_neither_tool_stalls_total_cycles_are_equal(computed):
    rows, _ = computed
    quiet = [row for row in rows if not row["scalesim_stall_cycles"] and not row["accelsim_stall_cycles"]]
    assert len(quiet) >= 60
    assert all(row["accelsim_total_cycles"] == row["scalesim_total_cycles"] for row in quiet)


def test_where_only_accelsim_stalls_it_spilled_partial_sums(computed):
    rows, _ = computed
    for row in rows:
        if row["accelsim_stall_cycles"] and not row["scalesim_stall_cycles"]:
            assert row["accelsim_partial_sums_spilled"], row

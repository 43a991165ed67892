"""StudyFiles: what a study script writes, read back."""

from __future__ import annotations

import csv
import datetime
import json
import platform

import matplotlib.pyplot as plt

from accelsim.report.study_files import StudyFiles


def test_tables_figures_and_provenance_are_written_into_a_new_folder(tmp_path):
    files = StudyFiles(tmp_path / "results", tmp_path)
    files.write_csv("table.csv", [{"layer": "a", "cycles": 3}, {"layer": "b", "cycles": 5}])
    assert list(csv.DictReader(open(tmp_path / "results" / "table.csv"))) == [
        {"layer": "a", "cycles": "3"}, {"layer": "b", "cycles": "5"}]
    files.write_json("summary.json", {"break_even": 0.5})
    assert json.loads((tmp_path / "results" / "summary.json").read_text()) == {"break_even": 0.5}
    figure, axis = plt.subplots()
    axis.plot([0, 1], [1, 0])
    files.save_figure(figure, "plot.png")
    assert (tmp_path / "results" / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    files.write_provenance("python run.py --quick", workload="two layers")
    info = json.loads((tmp_path / "results" / "provenance.json").read_text())
    assert info["command"] == "python run.py --quick" and info["workload"] == "two layers"
    assert info["date"] == datetime.date.today().isoformat()
    assert info["python"] == platform.python_version()
    assert {"numpy", "numba", "torch", "machine", "git_commit_before_this_run"} <= set(info)

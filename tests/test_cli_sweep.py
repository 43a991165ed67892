"""`accelsim sweep` and `accelsim pareto` from the command line: errors before any work, the front of a folder
printed and plotted."""

from __future__ import annotations

from dse_helpers import sweep_folder
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.dse.columns import results_schema
from accelsim.dse.store import ResultStore

runner = CliRunner()


def results_folder(tmp_path):
    """A sweep folder with five hand-made rows: (latency, energy) (1, 9) (2, 5) (3, 5) (4, 1) and a failed row."""
    store = ResultStore(tmp_path / "out", results_schema({}, []))
    (tmp_path / "out").mkdir()
    for index, (latency, energy, arch) in enumerate([(1, 9, "eie"), (2, 5, "scnn"), (3, 5, "eie"), (4, 1, "scnn")]):
        store.add({"point_id": f"p{index}", "model": "m", "prune": "none", "arch": arch, "status": "ok",
                   "latency_s": latency, "energy_pj": energy, "speedup": 1.0 / latency})
    store.add({"point_id": "p9", "model": "m", "prune": "none", "arch": "eie", "status": "failed", "error": "x"})
    store.flush()
    return tmp_path / "out"


def test_pareto_prints_the_front_and_writes_the_plot(tmp_path):
    folder = results_folder(tmp_path)
    result = runner.invoke(app, ["pareto", str(folder), "--x", "latency_s", "--y", "energy_pj", "--color", "arch",
                                 "--csv", str(tmp_path / "front.csv")])
    assert result.exit_code == 0, result.output
    assert "3 of 4 points" in result.output
    assert [line.split(",")[0] for line in (tmp_path / "front.csv").read_text().splitlines()[1:]] == ["p0", "p1",
                                                                                                      "p3"]
    assert (folder / "_sweep" / "pareto-latency_s-energy_pj.png").is_file()


def test_pareto_filters_and_takes_directions(tmp_path):
    folder = results_folder(tmp_path)
    result = runner.invoke(app, ["pareto", str(folder), "--x", "speedup", "--y", "energy_pj:max", "--where",
                                 "arch == 'eie'", "--plot", str(tmp_path / "f.png")])
    assert result.exit_code == 0, result.output
    assert "energy_pj (max) vs speedup (max): 1 of 2 points" in result.output  # (1, 9) has both at their best
    assert (tmp_path / "f.png").is_file()


def test_pareto_errors(tmp_path):
    folder = results_folder(tmp_path)
    result = runner.invoke(app, ["pareto", str(folder), "--x", "latncy_s"])
    assert result.exit_code == 2 and "Did you mean 'latency_s'" in result.output
    result = runner.invoke(app, ["pareto", str(tmp_path)])
    assert result.exit_code == 2 and "not a sweep folder" in result.output


def test_sweep_refuses_a_bad_spec_before_any_work(tmp_path):
    spec = sweep_folder(tmp_path, "models: [tiny.csv]\narchs: [{arch: eie, set: {dataflow.fifo_dept: [1]}}]\n")
    result = runner.invoke(app, ["sweep", str(spec), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "Did you mean 'fifo_depth'" in result.output
    assert not (tmp_path / "out").exists()
    result = runner.invoke(app, ["sweep", str(spec), "-o", str(tmp_path / "out"), "--scheduler", "tcp://x:1"])
    assert result.exit_code == 2 and "a scheduler address is for --executor dask" in result.output

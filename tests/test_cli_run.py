"""`accelsim run` end to end: table, JSON with the documented keys, CSV, plot, SCALE-Sim files, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.workload_io import save_workload

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
SCALESIM = ROOT / "validation" / "scalesim"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ACCELSIM_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_run_model_writes_json_csv_and_plot(tmp_path):
    paths = {kind: tmp_path / f"out.{kind}" for kind in ("json", "csv", "png")}
    result = runner.invoke(app, ["run", "--arch", "systolic-32x32-ws-nm24", "--model", "digits-cnn", "--prune",
                                 "nm:2:4", "--input", "4x1x8x8", "--json", str(paths["json"]), "--csv",
                                 str(paths["csv"]), "--plot", str(paths["png"])])
    assert result.exit_code == 0, result.output
    assert "total (4 layers)" in result.output and "speedup" in result.output
    data = json.loads(paths["json"].read_text())
    assert {"arch", "workload", "layers", "total", "dense_reference", "speedup"} <= set(data)
    layer_keys = {"name", "op", "cycles", "latency_s", "macs", "effectual_macs", "utilization", "energy_pj",
                  "stall_cycles"}
    assert all(layer_keys <= set(layer) for layer in data["layers"])
    assert [layer["name"] for layer in data["layers"]] == ["conv1", "conv2", "fc1", "fc2"]
    assert {"cycles", "latency_s", "energy_pj"} <= set(data["total"])
    assert data["total"]["cycles"] == sum(layer["cycles"] for layer in data["layers"])
    assert {"cycles", "energy_pj"} <= set(data["dense_reference"])
    # conv1 (C=1) is left dense by the pruner, so it runs dense on the 2:4 array; the others are 2:4 and faster.
    speedups = {layer["name"]: layer["speedup"] for layer in data["layers"]}
    assert speedups["conv1"] == 1.0 and all(speedups[name] > 1.0 for name in ("conv2", "fc1", "fc2"))
    assert data["speedup"] == pytest.approx(data["dense_reference"]["latency_s"] / data["total"]["latency_s"])
    rows = list(csv.DictReader(open(paths["csv"])))
    assert [row["name"] for row in rows] == ["conv1", "conv2", "fc1", "fc2"]
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"


def test_run_scalesim_cfg_and_topology_in_one_command(tmp_path):
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", "--arch", str(SCALESIM / "configs" / "scale.cfg"), "--workload",
                                 str(SCALESIM / "topologies" / "conv_small.csv"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    expected = {row["layer_name"]: int(row["total_cycles"])
                for row in csv.DictReader(open(SCALESIM / "scalesim_reference.csv"))
                if row["case"] == "dense_32x32_os" and row["topology_file"] == "topologies/conv_small.csv"}
    got = {layer["name"]: layer["cycles"] for layer in json.loads(out.read_text())["layers"]}
    assert got == expected


def test_run_saved_workload_with_overrides(tmp_path):
    from accelsim.frontend.synthetic import synthetic_workload

    folder = tmp_path / "w"
    save_workload(synthetic_workload("eie-benchmark", seed=0, layers=["Alex-8", "NT-We"]), folder)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", "--arch", "systolic-32x32-os", "--workload", str(folder), "--set",
                                 "pe_array.rows=8", "--set", "pe_array.cols=8", "--no-dense", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["dense_reference"] is None and data["speedup"] is None
    # Alex-8: 4096 -> 1000 at batch 1 on 8x8 OS: folds = 1 x ceil(1000/8) = 125, each 4096 + 8 + 8 - 2 cycles.
    layer = data["layers"][0]
    assert layer["metrics"]["compute_cycles"] == 125 * (4096 + 8 + 8 - 2) - 1
    memory = sum(layer["stall_cycles"][cause] for cause in ("memory_bandwidth", "first_fetch", "final_drain"))
    assert layer["cycles"] == layer["metrics"]["compute_cycles"] + memory


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--arch", "systolic-32x32-wss", "--model", "digits-cnn"], "Did you mean 'systolic-32x32-ws'"),
    (["run", "--arch", "systolic-32x32-ws"], "exactly one of --workload"),
    (["run", "--arch", "systolic-32x32-ws", "--model", "digits-cnn", "--set", "pe_array.rwos=3"],
     "pe_array.rwos: unknown key"),
    (["run", "--arch", "systolic-32x32-ws", "--workload", "missing.csv"], "no such folder or CSV"),
])
def test_run_errors_are_one_clear_line(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "error:" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_list_shows_the_archs():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    for name in ("systolic-32x32-ws", "systolic-32x32-os", "systolic-32x32-is", "tpu-128x128", "systolic"):
        assert name in result.output


def test_bracketed_text_in_errors_survives_the_terminal(tmp_path):
    bad = tmp_path / "typo.cfg"
    bad.write_text("[architecture_presets]\nArrayHieght: 4\n")
    result = runner.invoke(app, ["run", "--arch", str(bad), "--model", "digits-cnn"])
    assert result.exit_code == 2 and "[architecture_presets] unknown key 'arrayhieght'" in result.output


def test_output_paths_are_checked_before_the_run(tmp_path):
    result = runner.invoke(app, ["run", "--arch", "systolic-32x32-ws", "--model", "digits-cnn", "--csv",
                                 str(tmp_path / "missing" / "x.csv")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(app, ["run", "--arch", "systolic-32x32-ws", "--model", "digits-cnn", "--plot",
                                 str(tmp_path / "x.xyz")])
    assert result.exit_code == 2 and ".png, .pdf or .svg" in result.output


def test_run_eie_benchmark_prints_the_nine_layers(tmp_path):
    out = tmp_path / "eie.csv"
    result = runner.invoke(app, ["run", "--arch", "eie", "--model", "eie-benchmark", "--no-dense", "--csv", str(out)],
                           terminal_width=240)
    assert result.exit_code == 0, result.output
    assert "load bal. %" in result.output and "weight-sharing error" in result.output
    names = ["Alex-6", "Alex-7", "Alex-8", "VGG-6", "VGG-7", "VGG-8", "NT-We", "NT-Wd", "NT-LSTM"]
    assert all(name in result.output for name in names)
    assert "NT-Wd: 8791 outputs over 64 PEs exceed the destination registers" in " ".join(result.output.split())
    rows = list(csv.DictReader(open(out)))
    assert [row["name"] for row in rows] == names
    assert all(0.5 < float(row["metric_load_balance_efficiency"]) <= 1.0 for row in rows)


def test_run_scnn_reports_speedup_against_its_dense_twin_dcnn(tmp_path):
    out = tmp_path / "scnn.json"
    result = runner.invoke(app, ["run", "--arch", "scnn", "--model", "digits-cnn", "--prune", "unstructured:0.5",
                                 "--json", str(out)], terminal_width=240)
    assert result.exit_code == 0, result.output
    assert "dense reference dcnn" in result.output
    data = json.loads(out.read_text())
    assert data["dense_reference"]["arch"] == "dcnn" and data["speedup"] > 0
    layers = data["layers"]
    assert [layer["op"] for layer in layers].count("linear") >= 1  # FC layers map by output-channel split
    assert all(layer["speedup"] > 0 and layer["stall_cycles"].keys() <= {
        "wasted_products", "fragmentation", "bank_conflict", "barrier", "accumulator_drain", "memory_bandwidth"}
        for layer in layers)

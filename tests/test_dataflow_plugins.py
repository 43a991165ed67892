"""Dataflows from outside the package: a Python file named by an arch YAML (docs/examples/toy_lanes.py, the example
of docs/dataflows.md, run from the CLI) and an installed package's entry point in the group `accelsim.dataflows`;
each way's errors name the file or entry point and what is wrong."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from accelsim.arch_configs import ArchError, load_arch
from accelsim.cli import app
from accelsim.dataflows.catalog import DataflowSourceError, get_dataflow, registered_dataflows
from accelsim.reference import effectual_macs, reference_output
from accelsim.simulate import simulate
from accelsim.workload import Layer, Workload

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
TOY_YAML = EXAMPLES / "toy_lanes.yaml"


def _layer() -> Layer:
    rng = np.random.default_rng(3)
    x = np.maximum(rng.standard_normal((2, 4, 6, 6)), 0)
    w = rng.standard_normal((5, 4, 3, 3)) * (rng.random((5, 4, 3, 3)) < 0.4)
    return Layer("conv", "conv2d", x, w, padding=1)


def test_the_documented_example_runs_from_the_cli(tmp_path, digits_cache):
    out = tmp_path / "toy.json"
    result = CliRunner().invoke(app, ["run", "--arch", str(TOY_YAML), "--model", "digits-cnn", "--prune",
                                      "unstructured:0.7", "--json", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "busiest %" in result.output and "toy-lanes (sparsity off)" in result.output
    data = json.loads(out.read_text())
    assert data["speedup"] > 1  # skipping zeros of a 70%-pruned model beats running every MAC
    for layer in data["layers"]:
        assert layer["macs_issued"] == layer["effectual_macs"]  # exactly the effectual MACs, nothing else


def test_the_example_computes_the_layer_through_its_schedule():
    arch = load_arch(TOY_YAML)
    layer = _layer()
    row = simulate(Workload([layer], {"model": "test"}), arch, compute_output=True).rows[0]
    assert np.allclose(row.result.output, reference_output(layer))
    assert row.result.macs_issued == effectual_macs(layer)
    # 16 lanes: the busiest lane's MACs are the cycles, at least an even share of the effectual ones
    assert row.result.cycles >= effectual_macs(layer) / 16


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _yaml(folder: Path, kind: str, python_file: str) -> Path:
    text = TOY_YAML.read_text().replace("kind: toy-lanes", f"kind: {kind}").replace(
        "python_file: toy_lanes.py", f"python_file: {python_file}")
    return _write(folder, f"{kind}.yaml", text)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ArchError, match=r"python_file .*nowhere\.py: no such Python file"):
        load_arch(_yaml(tmp_path, "toy-missing", "nowhere.py"))


def test_a_file_without_that_dataflow_says_what_it_registers(tmp_path):
    source = (EXAMPLES / "toy_lanes.py").read_text().replace('"toy-lanes"', '"toy-other-name"')
    _write(tmp_path, "other.py", source)
    with pytest.raises(ArchError, match="registers no dataflow named 'toy-wanted' \\(it registers: toy-other-name\\)"):
        load_arch(_yaml(tmp_path, "toy-wanted", "other.py"))


def test_a_file_that_fails_to_import_is_named_with_its_error(tmp_path):
    _write(tmp_path, "broken.py", "import not_a_module_anywhere\n")
    with pytest.raises(ArchError, match=r"broken\.py: importing it failed: ModuleNotFoundError"):
        load_arch(_yaml(tmp_path, "toy-broken", "broken.py"))


def test_a_file_that_breaks_the_contract_says_what_is_missing(tmp_path):
    _write(tmp_path, "partial.py", """
        from pydantic import BaseModel, ConfigDict
        from accelsim.dataflows.registry import register_dataflow

        @register_dataflow("toy-partial")
        class Partial:
            class Config(BaseModel):
                model_config = ConfigDict(extra="forbid")
            stall_causes = {"barrier": "waiting"}
            metrics = {}
    """)
    with pytest.raises(ArchError, match=r"partial\.py: dataflow 'toy-partial'.*lacks check_arch, simulate, "
                                        r"dense_config"):
        load_arch(_yaml(tmp_path, "toy-partial", "partial.py"))


def _install_entry_point(site: Path, name: str, value: str, module_source: str) -> None:
    """A package as pip leaves it: its module and a dist-info folder with entry_points.txt, on sys.path."""
    _write(site, f"{name.replace('-', '_')}_plugin.py", module_source)
    info = site / f"{name.replace('-', '_')}_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[accelsim.dataflows]\n{name} = {value}\n")


def test_an_entry_point_class_is_registered_under_its_name(tmp_path, monkeypatch):
    source = (EXAMPLES / "toy_lanes.py").read_text().replace('@register_dataflow("toy-lanes")\n', "")
    _install_entry_point(tmp_path, "toy-entry", "toy_entry_plugin:ToyLanes", source)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "toy-entry" in registered_dataflows()
    arch = load_arch(_write(tmp_path, "entry.yaml", TOY_YAML.read_text().replace("kind: toy-lanes", "kind: toy-entry")
                            .replace("  python_file: toy_lanes.py\n", "")))
    assert get_dataflow("toy-entry").__name__ == "ToyLanes" and arch.dataflow.kind == "toy-entry"


def test_an_entry_point_that_registers_nothing_is_named(tmp_path, monkeypatch):
    _install_entry_point(tmp_path, "toy-empty", "toy_empty_plugin", "VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DataflowSourceError, match=r"entry point 'toy-empty' \(toy_empty_plugin\) in group "
                                                  r"'accelsim.dataflows': loading it registered no dataflow"):
        get_dataflow("toy-empty")


def test_the_doc_shows_the_example_as_it_is():
    doc = (EXAMPLES.parent / "dataflows.md").read_text()
    assert (EXAMPLES / "toy_lanes.py").read_text().rstrip() in doc
    assert (EXAMPLES / "toy_lanes.yaml").read_text().rstrip() in doc

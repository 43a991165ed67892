"""The CLI end to end on the small models: tables printed, workloads written and loadable, errors clear."""

import numpy as np
import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.workload_io import load_workload

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ACCELSIM_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_lower_digits_writes_a_loadable_workload(tmp_path):
    out = tmp_path / "digits"
    result = runner.invoke(app, ["lower", "digits-cnn", "--prune", "nm:2:4", "--input", "4x1x8x8", "-o", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("conv1", "conv2", "fc1", "fc2", "total (4 layers)", "test accuracy after pruning"):
        assert name in result.output
    workload = load_workload(out)
    assert [layer.name for layer in workload] == ["conv1", "conv2", "fc1", "fc2"]
    assert workload.provenance["scheme"] == "nm:2:4" and workload.provenance["input_shape"] == [4, 1, 8, 8]
    # conv1 has C=1, which cannot hold 2:4 groups along C: left dense and said so; the others are exactly 2:4.
    assert "conv1" in result.output and "left dense" in result.output
    fc1 = workload["fc1"].weight.reshape(-1, 4)
    assert np.all(np.count_nonzero(fc1, axis=1) == 2)


def test_list_shows_models_and_schemes():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    for name in ("resnet50", "bert-base", "digits-cnn", "eie-benchmark", "mobilenet-v1", "han2015", "nm:<n>:<m>"):
        assert name in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["lower", "resnet5"], "Did you mean 'resnet50'?"),
    (["lower", "digits-cnn", "--prune", "unstructred:0.5"], "Did you mean 'unstructured'?"),
    (["lower", "digits-cnn", "--prune", "unstructured:1.5"], "1.5"),
    (["lower", "digits-cnn", "--prune", "nm:4:2"], "nm:4:2"),
    (["lower", "digits-cnn", "--input", "1x3x8"], "Nx1x8x8"),
    (["lower", "digits-cnn", "--input", "axb"], "1x3x224x224"),
    (["lower", "eie-benchmark", "--prune", "unstructured:0.5"], "layer table"),
    (["lower", "digits-cnn", "--checkpoint", "/nonexistent.pt"], "no such file"),
])
def test_bad_input_fails_with_one_clear_error(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "error:" in result.output and message in result.output
    assert "Traceback" not in result.output


TOPOLOGY = ["--arch", "systolic-32x32-ws", "--workload", "workloads/scalesim/resnet18.csv"]


@pytest.mark.parametrize(("args", "message"), [
    (["run", *TOPOLOGY, "--json", "/"], "--json /: that is a folder; give a file path, e.g. out/run.json"),
    (["run", *TOPOLOGY, "--csv", "{tmp}"], "that is a folder; give a file path, e.g. out/run.csv"),
    (["run", *TOPOLOGY, "--json", "{tmp}/missing/run.json"], "/missing does not exist"),
    (["run", *TOPOLOGY, "--plot", "{tmp}/run.txt"], "give a .png, .pdf or .svg file"),
    (["lower", "eie-benchmark", "-o", "{tmp}/a_file"], "a_file: a file is there; give a folder to write into"),
    (["run", "--arch", "{tmp}/random.yaml", *TOPOLOGY[2:]], "random.yaml: not a YAML file: byte"),
    (["run", "--arch", "{tmp}/control.yaml", *TOPOLOGY[2:]], "control.yaml: not a YAML file: character '\\x01'"),
])
def test_bad_outputs_and_files_are_named(tmp_path, args, message):
    (tmp_path / "a_file").write_text("")
    (tmp_path / "random.yaml").write_bytes(bytes([0x80, 0xff, 0x00, 0x13]) * 20)
    (tmp_path / "control.yaml").write_bytes(b"name: x\n\x01: 3\n")
    result = runner.invoke(app, [arg.replace("{tmp}", str(tmp_path)) for arg in args])
    assert result.exit_code == 2, result.output
    assert message.replace("{tmp}", str(tmp_path)) in result.output.replace("\n", "")
    assert "Traceback" not in result.output

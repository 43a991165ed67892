"""`--criterion`, `--schedule`, `--fine-tune-epochs` and `--mask` on `accelsim lower` and `run`: what they print
and record (accuracy in the provenance, NetworkResult's JSON and CSV), and the errors for bad combinations."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.network_result import NetworkResult
from accelsim.workload_io import load_workload

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("digits_cache")


def test_lower_with_an_iterative_schedule_prints_and_records_each_round(tmp_path):
    out = tmp_path / "w"
    result = runner.invoke(app, ["lower", "digits-cnn", "--prune", "global:0.9", "--schedule", "iterative:2",
                                 "--fine-tune-epochs", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "schedule iterative:2, 1 epoch(s)" in result.output and "round 2: sparsity 0.9000" in result.output
    provenance = load_workload(out).provenance
    assert provenance["schedule"] == "iterative:2" and provenance["criterion"] == "magnitude"
    assert provenance["fine_tune_epochs"] == 1 and len(provenance["pruning_rounds"]) == 2
    assert 0.0 < provenance["test_accuracy_after_pruning"] <= 1.0
    assert f"test accuracy after pruning: {provenance['test_accuracy_after_pruning']:.4f}" in result.output
    weights = [layer.weight for layer in load_workload(out)]
    assert sum(np.count_nonzero(w) for w in weights) == round(0.1 * sum(w.size for w in weights))


def test_run_carries_the_accuracy_into_the_json_and_csv(tmp_path):
    paths = {kind: tmp_path / f"out.{kind}" for kind in ("json", "csv")}
    result = runner.invoke(app, ["run", "--arch", "systolic-32x32-ws", "--model", "digits-mlp", "--prune",
                                 "unstructured:0.8", "--criterion", "snip", "--json", str(paths["json"]),
                                 "--csv", str(paths["csv"])])
    assert result.exit_code == 0, result.output
    data = json.loads(paths["json"].read_text())
    assert data["accuracy"] == data["provenance"]["test_accuracy_after_pruning"]
    assert data["accuracy_before_pruning"] == data["provenance"]["test_accuracy_before_pruning"] > 0.9
    assert data["provenance"]["criterion"] == "snip"
    assert f"test accuracy {data['accuracy']:.4f} (dense model" in result.output
    rows = list(csv.DictReader(open(paths["csv"])))
    assert [float(row["accuracy"]) for row in rows] == [data["accuracy"]] * 3


def test_a_workload_without_a_model_reports_accuracy_as_unknown(tmp_path):
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", "--arch", "systolic-32x32-ws", "--workload",
                                 str(ROOT / "validation" / "scalesim" / "topologies" / "conv_small.csv"),
                                 "--json", str(out), "--csv", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    assert "test accuracy: unknown" in result.output
    assert json.loads(out.read_text())["accuracy"] is None
    assert {row["accuracy"] for row in csv.DictReader(open(tmp_path / "r.csv"))} == {""}


def test_network_result_accuracy_reads_the_provenance_and_is_never_zero_for_unknown():
    assert NetworkResult("a", "w", (), provenance={}).accuracy is None
    assert NetworkResult("a", "w", (), provenance={"test_accuracy_after_pruning": None}).accuracy is None
    result = NetworkResult("a", "w", (), provenance={"test_accuracy_after_pruning": 0.5,
                                                     "test_accuracy_before_pruning": 0.75})
    assert (result.accuracy, result.accuracy_before_pruning) == (0.5, 0.75)
    assert result.as_dict()["accuracy"] == 0.5


def test_a_mask_file_prunes_before_the_scheme(tmp_path):
    mask = torch.ones(64, 512)
    mask[:, ::2] = 0
    torch.save({"fc1.weight": mask}, tmp_path / "masks.pt")
    out = tmp_path / "w"
    result = runner.invoke(app, ["lower", "digits-cnn", "--mask", str(tmp_path / "masks.pt"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"masks from {tmp_path / 'masks.pt'}" in result.output.replace("\n", "")
    fc1 = load_workload(out)["fc1"].weight
    assert np.count_nonzero(fc1[:, ::2]) == 0 and np.count_nonzero(fc1[:, 1::2]) == fc1.size // 2


@pytest.mark.parametrize(("args", "message"), [
    (["lower", "resnet18", "--prune", "global:0.9", "--criterion", "snip"], "resnet18 has none"),
    (["lower", "resnet18", "--prune", "global:0.9", "--schedule", "iterative:3"], "trains the model on its own data"),
    (["lower", "resnet18", "--prune", "global:0.9", "--fine-tune-epochs", "2"], "trains the model on its own data"),
    (["lower", "digits-cnn", "--prune", "global:0.9", "--schedule", "at-init", "--checkpoint", "x.pt"],
     "initialisation"),
    (["lower", "digits-cnn", "--prune", "global:0.9", "--schedule", "lottery:2", "--checkpoint", "x.pt"],
     "initialisation"),
    (["lower", "digits-cnn", "--prune", "random:0.5", "--criterion", "taylor"], "its own rule"),
    (["lower", "digits-cnn", "--schedule", "iterative:2"], "prunes nothing"),
    (["lower", "digits-cnn", "--prune", "global:0.9", "--criterion", "snp"], "Did you mean 'snip'"),
    (["lower", "digits-cnn", "--prune", "global:0.9", "--schedule", "lotery:3"], "Did you mean 'lottery'"),
    (["lower", "digits-cnn", "--prune", "global:0.9", "--fine-tune-epochs", "-1"], "0 or more"),
    (["lower", "eie-benchmark", "--criterion", "snip"], "--criterion) is not supported"),
    (["run", "--arch", "systolic-32x32-ws", "--workload", "x.csv", "--schedule", "iterative:2"], "apply to --model"),
    (["lower", "digits-cnn", "--prune", "global:0.5", "--mask", "/nonexistent.pt"], "no such file"),
])
def test_bad_combinations_fail_with_one_clear_error(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_list_shows_criteria_and_schedules():
    result = runner.invoke(app, ["list"])
    for name in ("synflow[:iterations=<n>]", "lottery:<rounds>[:rewind=<epochs>]", "at-init", "erk:<sparsity>",
                 "digits-mlp"):
        assert name in result.output

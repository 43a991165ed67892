"""The pruning study's summary (studies/pruning/summarise.py) on a few made-up runs: means and spreads over seeds,
the shuffled-mask pairs, and the files it writes."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "studies" / "pruning"))
from summarise import summarise

DENSITIES = {"fc1": 0.1, "fc2": 0.2, "fc3": 0.5}


def _run(criterion: str, schedule: str, sparsity: float, seed: int, accuracy: float) -> dict:
    return {"model": "digits-mlp", "criterion": criterion, "schedule": schedule, "sparsity": sparsity, "seed": seed,
            "accuracy_before": 0.97, "accuracy_after": accuracy, "layer_densities": json.dumps(DENSITIES),
            "seconds": 1.0}


def test_summary_means_spreads_and_shuffled_pairs(tmp_path):
    runs = [_run("snip", "at-init", 0.9, 0, 0.90), _run("snip", "at-init", 0.9, 1, 0.92),
            _run("snip", "at-init", 0.9, 2, 0.94), _run("snip", "at-init-shuffled", 0.9, 0, 0.80),
            _run("snip", "at-init-shuffled", 0.9, 1, 0.84), _run("magnitude", "oneshot", 0.9, 0, 0.5)]
    folder = tmp_path / "results"
    folder.mkdir()
    with (folder / "runs.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(runs[0]))
        writer.writeheader()
        writer.writerows(runs)
    summarise(folder / "runs.csv", folder, tmp_path, "test")
    summary = {(r["criterion"], r["schedule"]): r for r in csv.DictReader(open(folder / "summary.csv"))}
    at_init = summary[("snip", "at-init")]
    assert int(at_init["seeds"]) == 3 and float(at_init["accuracy_mean"]) == pytest.approx(0.92)
    assert float(at_init["accuracy_std"]) == pytest.approx(0.02)  # sample standard deviation of 0.90, 0.92, 0.94
    assert float(summary[("magnitude", "oneshot")]["accuracy_std"]) == 0.0
    pair = next(csv.DictReader(open(folder / "shuffled_at_init.csv")))
    assert float(pair["at_init_mean"]) == pytest.approx(0.92) and float(pair["shuffled_mean"]) == pytest.approx(0.82)
    for figure in ("accuracy_vs_sparsity.png", "layer_densities.png", "shuffled_at_init.png"):
        assert (folder / figure).read_bytes()[:4] == b"\x89PNG"

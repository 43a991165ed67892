"""Tables and figures of the pruning study from its runs (results/runs.csv): mean and spread over seeds, accuracy
against sparsity per schedule, layer-wise densities, and the shuffled at-init masks. Called by run_study.py."""

from __future__ import annotations

import csv
import json
import statistics
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from accelsim.report.study_files import StudyFiles

SCHEDULE_ORDER = ("oneshot", "iterative:3", "lottery:3", "at-init")
CRITERION_ORDER = ("magnitude", "taylor", "snip", "synflow", "random")
TITLES = {"oneshot": "one-shot, no fine-tuning", "iterative:3": "iterative:3 (2 epochs fine-tuning a round)",
          "lottery:3": "lottery:3 (rewind to init, 8 epochs a round)", "at-init": "at-init (8 epochs of training)"}


def read_runs(path: Path) -> list[dict]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["sparsity"] = float(row["sparsity"])
        row["accuracy_after"] = float(row["accuracy_after"])
        row["accuracy_before"] = float(row["accuracy_before"])
        row["layer_densities"] = json.loads(row["layer_densities"])
    return rows


def summary_rows(runs: list[dict]) -> list[dict]:
    groups = defaultdict(list)
    for row in runs:
        groups[(row["model"], row["criterion"], row["schedule"], row["sparsity"])].append(row["accuracy_after"])
    table = []
    for (model, criterion, schedule, sparsity), values in sorted(groups.items()):
        table.append({"model": model, "criterion": criterion, "schedule": schedule, "sparsity": sparsity,
                      "seeds": len(values), "accuracy_mean": round(statistics.mean(values), 4),
                      "accuracy_std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
                      "accuracy_min": min(values), "accuracy_max": max(values)})
    return table


def plot_accuracy(table: list[dict], dense: dict, files: StudyFiles) -> None:
    models = sorted({row["model"] for row in table})
    figure, axes = plt.subplots(len(models), len(SCHEDULE_ORDER), figsize=(16, 4 * len(models)), sharey=True,
                                squeeze=False)
    for i, model in enumerate(models):
        for j, schedule in enumerate(SCHEDULE_ORDER):
            axis = axes[i][j]
            for criterion in CRITERION_ORDER:
                points = sorted((r["sparsity"], r["accuracy_mean"], r["accuracy_std"]) for r in table
                                if (r["model"], r["schedule"], r["criterion"]) == (model, schedule, criterion))
                if points:
                    xs, ys, errors = zip(*points, strict=True)
                    axis.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=criterion)
            axis.axhline(dense[model], color="grey", linestyle="--", linewidth=1, label="dense")
            axis.set_title(f"{model}: {TITLES[schedule]}", fontsize=9)
            axis.set_xlabel("global sparsity")
            axis.set_ylim(0.0, 1.0)
            axis.grid(alpha=0.3)
        axes[i][0].set_ylabel("test accuracy (mean ± std over seeds)")
    axes[0][0].legend(fontsize=8)
    figure.suptitle("3 seeds at sparsity 0.5, 0.9, 0.98; seed 0 alone at 0.8 and 0.95 (summary.csv: seeds)",
                    fontsize=9)
    files.save_figure(figure, "accuracy_vs_sparsity.png")


def plot_densities(runs: list[dict], files: StudyFiles, sparsity: float = 0.9) -> None:
    from accelsim.pruning.erk import erk_kept_counts

    models = sorted({row["model"] for row in runs})
    figure, axes = plt.subplots(1, len(models), figsize=(7 * len(models), 4), squeeze=False)
    for axis, model in zip(axes[0], models, strict=True):
        chosen = {}
        for schedule, criterion in [("oneshot", c) for c in CRITERION_ORDER] + [("at-init", "snip"),
                                                                                ("at-init", "synflow")]:
            match = [r for r in runs if (r["model"], r["schedule"], r["criterion"], r["sparsity"], r["seed"])
                     == (model, schedule, criterion, sparsity, "0")]
            if match:
                label = criterion if schedule == "oneshot" else f"{criterion} at init"
                chosen[label] = match[0]["layer_densities"]
        if not chosen:
            continue
        layers = list(next(iter(chosen.values())))
        width = 0.8 / (len(chosen) + 1)
        for k, (label, densities) in enumerate(chosen.items()):
            axis.bar([x + k * width for x in range(len(layers))], [densities[name] for name in layers], width,
                     label=label)
        shapes = LAYER_SHAPES[model]
        total = sum(_size(s) for s in shapes)
        counts = erk_kept_counts(shapes, round((1 - sparsity) * total))
        axis.bar([x + len(chosen) * width for x in range(len(layers))],
                 [c / _size(s) for c, s in zip(counts, shapes, strict=True)], width, label="ERK", color="black")
        axis.set_xticks([x + 0.4 for x in range(len(layers))], layers)
        axis.set_yscale("log")
        axis.set_ylabel(f"layer density at global sparsity {sparsity} (seed 0)")
        axis.set_title(model)
        axis.legend(fontsize=7)
    files.save_figure(figure, "layer_densities.png")


LAYER_SHAPES = {"digits-cnn": [(16, 1, 3, 3), (32, 16, 3, 3), (64, 512), (10, 64)],
                "digits-mlp": [(256, 64), (128, 256), (10, 128)]}


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


def plot_shuffled(table: list[dict], files: StudyFiles) -> list[dict]:
    pairs = []
    for row in table:
        if row["schedule"] != "at-init-shuffled":
            continue
        original = [r for r in table if (r["model"], r["criterion"], r["sparsity"], r["schedule"])
                    == (row["model"], row["criterion"], row["sparsity"], "at-init")]
        if original:
            pairs.append({"model": row["model"], "criterion": row["criterion"], "sparsity": row["sparsity"],
                          "at_init_mean": original[0]["accuracy_mean"], "at_init_std": original[0]["accuracy_std"],
                          "shuffled_mean": row["accuracy_mean"], "shuffled_std": row["accuracy_std"]})
    if not pairs:
        return pairs
    figure, axis = plt.subplots(figsize=(10, 4))
    labels = [f"{p['model']}\n{p['criterion']} {p['sparsity']}" for p in pairs]
    xs = range(len(pairs))
    axis.bar([x - 0.2 for x in xs], [p["at_init_mean"] for p in pairs], 0.4, yerr=[p["at_init_std"] for p in pairs],
             label="mask at init", capsize=3)
    axis.bar([x + 0.2 for x in xs], [p["shuffled_mean"] for p in pairs], 0.4,
             yerr=[p["shuffled_std"] for p in pairs], label="shuffled within each layer", capsize=3)
    axis.set_xticks(list(xs), labels, fontsize=7)
    axis.set_ylabel("test accuracy (mean ± std)")
    axis.set_ylim(0.0, 1.0)
    axis.legend()
    files.save_figure(figure, "shuffled_at_init.png")
    return pairs


def summarise(runs_csv: Path, folder: Path, repository: Path, command: str) -> None:
    files = StudyFiles(folder, repository)
    runs = read_runs(runs_csv)
    table = summary_rows(runs)
    files.write_csv("summary.csv", table)
    dense = {model: statistics.mean({r["seed"]: r["accuracy_before"] for r in runs if r["model"] == model}.values())
             for model in {r["model"] for r in runs}}
    plot_accuracy([r for r in table if r["schedule"] in SCHEDULE_ORDER], dense, files)
    plot_densities(runs, files)
    pairs = plot_shuffled(table, files)
    if pairs:
        files.write_csv("shuffled_at_init.csv", pairs)
    files.write_provenance(command, runs=str(len(runs)), dense_test_accuracy=json.dumps(dense),
                           models="digits-cnn, digits-mlp (accelsim zoo, trained per seed), test split 450 images")

"""Accuracy of pruning criteria x schedules on the digits models (docs/pruning.md shows the results).

    python studies/pruning/run_study.py              # the whole grid; resumes from results/runs.csv
    python studies/pruning/run_study.py --quick      # one seed, two sparsities, digits-mlp, into a temporary folder
    python studies/pruning/run_study.py --plot-only  # figures and summary from the runs already in the CSV

Grid: digits-cnn and digits-mlp x criteria magnitude, taylor, snip, synflow, random x schedules oneshot (no
fine-tuning), iterative:3 (2 epochs of fine-tuning a round), lottery:3 (rewinding to the initialisation, 8 epochs a
round), at-init (8 epochs of training) x global sparsity 0.5, 0.9, 0.98 x seeds 0, 1, 2 (the seed picks the trained
model, the batches and the random draws), and 0.8 and 0.95 for seed 0 only. Scope: one global ranking with a 1%
per-layer floor (global:S:min_layer_density=0.01; the default 2% floor cannot reach 98%). Then Frankle et al.
2021's check: the at-init masks of SNIP and SynFlow shuffled within each layer (same per-layer densities, random
positions) and trained the same way. Every run is the library's own pipeline (accelsim.frontend.prune_model, as
`accelsim lower` runs it), on one thread per run, two runs at a time; each finished run is appended to the CSV at
once.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "studies" / "pruning" / "results"
MODELS = ("digits-cnn", "digits-mlp")
CRITERIA = ("magnitude", "taylor", "snip", "synflow", "random")
SCHEDULES = {"oneshot": 0, "iterative:3": 2, "lottery:3": 8, "at-init": 8}
"""Schedule -> epochs of (re)training a round."""
SPARSITIES = (0.5, 0.8, 0.9, 0.95, 0.98)
SEEDS = (0, 1, 2)
SPARSITIES_EVERY_SEED = (0.5, 0.9, 0.98)
"""Seeds 1 and 2 run these only (time on two shared cores); 0.8 and 0.95 have seed 0 alone."""
SHUFFLED = {"criteria": ("snip", "synflow"), "sparsities": (0.9, 0.98)}
FIELDS = ["model", "criterion", "schedule", "sparsity", "seed", "accuracy_before", "accuracy_after",
          "layer_densities", "seconds"]


def scheme_text(sparsity: float) -> str:
    return f"global:{sparsity}:min_layer_density=0.01"


def run_one(task: tuple) -> dict:
    """One cell of the grid through the library's pipeline; 'at-init-shuffled' is the shuffle check."""
    import torch

    torch.set_num_threads(1)
    from accelsim.frontend.prune_model import PruningOptions, prune_zoo_model
    from accelsim.frontend.zoo import get_model
    from accelsim.pruning import parse_scheme

    model_name, criterion, schedule, sparsity, seed = task
    start = time.perf_counter()
    entry = get_model(model_name)
    example = entry.make_input(entry.default_input_shape, seed)
    if schedule == "at-init-shuffled":
        accuracy, densities, before = shuffled_at_init(model_name, criterion, sparsity, seed, example)
    else:
        options = PruningOptions.parse(parse_scheme(scheme_text(sparsity)), criterion, schedule,
                                       SCHEDULES[schedule])
        pruned = prune_zoo_model(model_name, entry.build(seed), options, seed=seed, example_input=example)
        accuracy, before = pruned.notes["test_accuracy_after_pruning"], pruned.notes["test_accuracy_before_pruning"]
        densities = {row.name: round(row.density_after, 5) for row in pruned.report.rows}
    return {"model": model_name, "criterion": criterion, "schedule": schedule, "sparsity": sparsity, "seed": seed,
            "accuracy_before": round(before, 5), "accuracy_after": round(accuracy, 5),
            "layer_densities": json.dumps(densities), "seconds": round(time.perf_counter() - start, 2)}


def shuffled_at_init(model_name: str, criterion: str, sparsity: float, seed: int, example):
    """The criterion's mask at initialisation, shuffled within each layer, trained as at-init trains."""
    import torch

    from accelsim.frontend.training import heldout_accuracy
    from accelsim.frontend.zoo import get_model
    from accelsim.pruning import parse_scheme
    from accelsim.pruning.criteria import parse_criterion
    from accelsim.pruning.schedules import PruningJob
    from accelsim.pruning.targets import find_prunable_weights

    entry = get_model(model_name)
    setup = entry.training(seed)
    before = heldout_accuracy(entry.build(seed), setup.data)
    model = setup.init()
    job = PruningJob(model, parse_scheme(scheme_text(sparsity)), parse_criterion(criterion), setup, 8, example, seed)
    job.prune(model)
    generator = torch.Generator().manual_seed(10_000 + seed)
    fresh = setup.init()
    densities = {}
    for weight, target in zip(find_prunable_weights(model), find_prunable_weights(fresh), strict=True):
        keep = (weight.tensor != 0).reshape(-1)
        shuffled = keep[torch.randperm(keep.numel(), generator=generator)].reshape(weight.shape)
        target.write_mask(shuffled)
        densities[weight.name] = round(float(shuffled.float().mean()), 5)
    job.train(fresh, 8, setup.recipe.lr, "training the shuffled mask")
    return heldout_accuracy(fresh, setup.data), densities, before


def grid(quick: bool) -> list[tuple]:
    if quick:
        return [("digits-mlp", c, s, p, 0) for c in CRITERIA for s in SCHEDULES for p in (0.5, 0.9)]
    tasks = []
    for seed in SEEDS:  # seed by seed: a run cut short still holds whole seeds of both models
        sparsities = SPARSITIES if seed == 0 else SPARSITIES_EVERY_SEED
        tasks += [(m, c, s, p, seed) for m in MODELS for p in sparsities for c in CRITERIA for s in SCHEDULES]
        tasks += [(m, c, "at-init-shuffled", p, seed) for m in MODELS for p in SHUFFLED["sparsities"]
                  for c in SHUFFLED["criteria"]]
    return tasks


def done_tasks(runs_csv: Path) -> set[tuple]:
    if not runs_csv.is_file():
        return set()
    with runs_csv.open() as handle:
        return {(r["model"], r["criterion"], r["schedule"], float(r["sparsity"]), int(r["seed"]))
                for r in csv.DictReader(handle)}


def run_grid(tasks: list[tuple], workers: int, runs_csv: Path) -> None:
    runs_csv.parent.mkdir(parents=True, exist_ok=True)
    todo = [t for t in tasks if t not in done_tasks(runs_csv)]
    print(f"{len(tasks) - len(todo)} runs already in {runs_csv}, {len(todo)} to go")
    for model_name in sorted({t[0] for t in todo}):  # train each base model once, before the workers need it
        for seed in sorted({t[4] for t in todo if t[0] == model_name}):
            import torch

            torch.set_num_threads(1)
            from accelsim.frontend.digits import trained_digits_model

            trained_digits_model(model_name, seed)
    new_file = not runs_csv.is_file()
    with runs_csv.open("a", newline="") as handle, Pool(workers) as pool:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for index, row in enumerate(pool.imap_unordered(run_one, todo), 1):
            writer.writerow(row)
            handle.flush()
            print(f"[{index}/{len(todo)}] {row['model']} {row['criterion']} {row['schedule']} {row['sparsity']} "
                  f"seed {row['seed']}: {row['accuracy_after']:.4f} ({row['seconds']} s)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--plot-only", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(tempfile.mkdtemp(prefix="pruning-study-")) / "results" if args.quick else RESULTS
    if not args.plot_only:
        run_grid(grid(args.quick), args.workers, folder / "runs.csv")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from summarise import summarise

    summarise(folder / "runs.csv", folder, ROOT, " ".join(["python", "studies/pruning/run_study.py", *sys.argv[1:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

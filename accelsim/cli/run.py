"""`accelsim run`: simulate a workload on an arch, next to its dense reference."""

from __future__ import annotations

from pathlib import Path

import typer

from accelsim.cli.common import (
    CRITERION_HELP,
    FINE_TUNE_HELP,
    MASK_HELP,
    SCHEDULE_HELP,
    TIME_STEPS_HELP,
    check_output_file,
    console,
    fail,
    progress_bar,
    training_progress,
)


def run_command(
    arch: str = typer.Option(..., "--arch", "-a",
                             help="Arch name (see `accelsim list`), a YAML path or a SCALE-Sim .cfg."),
    workload: Path = typer.Option(None, "--workload", "-w", help="A folder written by `accelsim lower -o`, or a CSV "
                                  "(SCALE-Sim topology or layer table)."),
    model: str = typer.Option(None, "--model", "-m", help="Zoo model or synthetic table to prune and lower first."),
    prune: str = typer.Option("none", "--prune", "-p", help="Pruning scheme for --model, e.g. unstructured:0.9."),
    criterion: str = typer.Option("magnitude", "--criterion", help=CRITERION_HELP),
    schedule: str = typer.Option("oneshot", "--schedule", help=SCHEDULE_HELP),
    fine_tune_epochs: int = typer.Option(None, "--fine-tune-epochs", help=FINE_TUNE_HELP),
    mask: Path = typer.Option(None, "--mask", help=MASK_HELP),
    seed: int = typer.Option(0, help="Seed for weights, example input, pruning, training and synthetic patterns."),
    input_shape: str = typer.Option(None, "--input", help="Example input shape for --model, e.g. 1x3x224x224."),
    time_steps_per_layer: int = typer.Option(1, "--time-steps-per-layer", help=TIME_STEPS_HELP),
    overrides: list[str] = typer.Option([], "--set", help="Override an arch key, e.g. --set pe_array.rows=64."),
    json_path: Path = typer.Option(None, "--json", help="Write the full result as JSON (kept up to date per layer)."),
    csv_path: Path = typer.Option(None, "--csv", help="Write one CSV row per layer."),
    plot_path: Path = typer.Option(None, "--plot", help="Write a PNG: cycles by cause, energy, speedup per layer."),
    no_dense: bool = typer.Option(False, "--no-dense", help="Skip the dense reference run."),
) -> None:
    """Simulate a workload on an arch: per-layer cycles, stalls, utilisation, energy and speedup over dense."""
    from accelsim.arch_configs import load_arch
    from accelsim.report.table import layer_table, summary_lines
    from accelsim.simulate import simulate

    if (workload is None) == (model is None):
        fail("give exactly one of --workload PATH or --model MODEL")
    pruning = {"prune": prune, "criterion": criterion, "schedule": schedule, "fine_tune_epochs": fine_tune_epochs,
               "mask": mask, "time_steps_per_layer": time_steps_per_layer}
    if workload is not None and (prune != "none" or input_shape or criterion != "magnitude" or schedule != "oneshot"
                                 or fine_tune_epochs is not None or mask is not None or time_steps_per_layer != 1):
        fail("--prune, --criterion, --schedule, --fine-tune-epochs, --mask, --input and --time-steps-per-layer apply "
             "to --model; a --workload is already pruned and lowered")
    check_output_file("--json", json_path, (".json",))
    check_output_file("--csv", csv_path, (".csv",))
    check_output_file("--plot", plot_path, (".png", ".pdf", ".svg"))
    try:
        arch_spec = load_arch(arch, overrides)
        with progress_bar() as progress:
            loaded = _load_run_workload(workload, model, pruning, seed, input_shape, progress)
            task = progress.add_task(f"simulating on {arch_spec.name}", total=len(loaded))
            partial = _PartialJson(json_path, arch_spec.name)
            result = simulate(loaded, arch_spec, dense_reference=not no_dense,
                              on_layer=lambda row: (progress.advance(task), partial.add(row)))
    except (ValueError, KeyError, RuntimeError, OSError) as error:
        fail(str(error) if not isinstance(error, KeyError) else str(error).strip("'\""))
    if not result.rows:
        fail("the workload has no layers")
    console.print(layer_table(result))
    for line in summary_lines(result):
        console.print(line, highlight=False)
    try:
        _write_outputs(result, json_path, csv_path, plot_path)
    except OSError as error:
        fail(f"writing the results failed: {error}")


def _write_outputs(result, json_path: Path | None, csv_path: Path | None, plot_path: Path | None) -> None:
    if json_path is not None:
        result.save_json(json_path)
        console.print(f"wrote {json_path}")
    if csv_path is not None:
        result.save_csv(csv_path)
        console.print(f"wrote {csv_path}")
    if plot_path is not None:
        from accelsim.report.plots import plot_network

        plot_network(result, plot_path)
        console.print(f"wrote {plot_path}")


def _load_run_workload(workload, model, pruning: dict, seed, input_shape, progress):
    from accelsim.frontend.build import build_workload
    from accelsim.frontend.zoo import parse_shape
    from accelsim.workload_io import load_workload

    if workload is not None and workload.is_dir():
        progress.add_task(f"loading {workload}", total=None)
        return load_workload(workload)
    name = str(workload) if workload is not None else model
    if workload is not None and not workload.is_file():
        raise ValueError(f"--workload {workload}: no such folder or CSV file")
    shape = parse_shape(input_shape) if input_shape else None
    task = progress.add_task(f"lowering {name}", total=None)
    return build_workload(name, seed=seed, input_shape=shape, on_layer=lambda layer: progress.advance(task),
                          on_training=training_progress(progress), **pruning).workload


class _PartialJson:
    """Keeps finished layers on disk during a long run, so an interrupted run loses nothing it finished."""

    def __init__(self, path: Path | None, arch: str):
        self.path, self.arch, self.layers = path, arch, []

    def add(self, row) -> None:
        if self.path is None:
            return
        import json

        self.layers.append(row.as_dict())
        temporary = self.path.with_name(self.path.name + ".partial")
        temporary.write_text(json.dumps({"arch": self.arch, "complete": False, "layers": self.layers}, indent=1))
        temporary.replace(self.path)

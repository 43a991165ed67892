"""`accelsim lower`: prune a model, run it on a sample input, write the sparse workload."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from accelsim.cli.common import (
    CRITERION_HELP,
    FINE_TUNE_HELP,
    MASK_HELP,
    SCHEDULE_HELP,
    TIME_STEPS_HELP,
    check_output_folder,
    console,
    error_console,
    fail,
    progress_bar,
    training_progress,
)


def lower_command(
    model: str = typer.Argument(..., help="Zoo model, synthetic table (see `accelsim list`), or a CSV path."),
    prune: str = typer.Option("none", "--prune", "-p", help="Pruning scheme, e.g. unstructured:0.9, nm:2:4."),
    criterion: str = typer.Option("magnitude", "--criterion", help=CRITERION_HELP),
    schedule: str = typer.Option("oneshot", "--schedule", help=SCHEDULE_HELP),
    fine_tune_epochs: int = typer.Option(None, "--fine-tune-epochs", help=FINE_TUNE_HELP),
    mask: Path = typer.Option(None, "--mask", help=MASK_HELP),
    seed: int = typer.Option(0, help="Seed for weights, example input, pruning, training and synthetic patterns."),
    input_shape: str = typer.Option(None, "--input", help="Example input shape, e.g. 1x3x224x224 or 1x128."),
    checkpoint: Path = typer.Option(None, help="A state_dict to load first (read with weights_only=True)."),
    time_steps_per_layer: int = typer.Option(1, "--time-steps-per-layer", help=TIME_STEPS_HELP),
    output: Path = typer.Option(None, "--output", "-o", help="Folder to write the workload into."),
) -> None:
    """Prune MODEL, run it on a sample input and write the sparse workload; print a per-layer table."""
    from accelsim.frontend.build import build_workload
    from accelsim.frontend.zoo import parse_shape
    from accelsim.workload_io import save_workload
    from accelsim.workload_summary import summarise

    check_output_folder("--output", output)
    try:
        shape = parse_shape(input_shape) if input_shape else None
        with progress_bar() as progress:
            task = progress.add_task(f"lowering {model}", total=None)
            built = build_workload(model, prune, seed=seed, input_shape=shape, checkpoint=checkpoint,
                                   on_layer=lambda layer: progress.advance(task), criterion=criterion,
                                   schedule=schedule, fine_tune_epochs=fine_tune_epochs, mask=mask,
                                   on_training=training_progress(progress),
                                   time_steps_per_layer=time_steps_per_layer)
            workload = built.workload
            task = progress.add_task("counting effectual MACs", total=len(workload))
            rows = summarise(workload, on_layer=lambda row: progress.advance(task))
            if output is not None:
                progress.add_task(f"writing {output}", total=None)
                save_workload(workload, output)
    except (ValueError, KeyError, RuntimeError, OSError) as error:
        fail(str(error) if not isinstance(error, KeyError) else str(error).strip("'\""))
    _print_layer_table(workload, rows)
    if built.prune_report is not None:
        _print_prune_notes(built)
    for item in workload.not_lowered:
        error_console.print(f"[yellow]not lowered:[/] {item['name']} ({item['op']}): {item['reason']}")
    if output is not None:
        console.print(f"wrote {len(workload)} layers to {output}/")


def _print_layer_table(workload, rows) -> None:
    from accelsim.workload_summary import totals

    provenance = workload.provenance
    title = f"{provenance.get('model', '?')} — pruning: {provenance.get('scheme', 'n/a')}"
    table = Table(title=title, title_justify="left")
    for column, justify in (("layer", "left"), ("op", "left"), ("shape", "left"), ("weight dens.", "right"),
                            ("act. dens.", "right"), ("MACs", "right"), ("effectual MACs", "right"),
                            ("eff. %", "right")):
        table.add_column(column, justify=justify, no_wrap=column != "layer", overflow="fold")
    for row in rows:
        weight = f"{row.weight_density:.3f}" + ("" if row.weight_is_static else "*")
        table.add_row(row.name, row.op, row.shape, weight, f"{row.input_density:.3f}", f"{row.macs:,}",
                      f"{row.effectual_macs:,}", f"{100 * row.effectual_fraction:.1f}")
    total = totals(rows)
    table.add_section()
    table.add_row(f"total ({total['layers']} layers)", "", "", f"{workload.weight_density:.4f}", "",
                  f"{total['macs']:,}", f"{total['effectual_macs']:,}", f"{100 * total['effectual_fraction']:.1f}")
    console.print(table)
    if any(not row.weight_is_static for row in rows):
        console.print("* right operand is an activation (attention), not a weight; excluded from the total "
                      "weight density")


def _print_prune_notes(built) -> None:
    report = built.prune_report
    if report.scheme != "none":
        console.print(f"pruning {report.scheme}: weight density {report.density_before:.4f} -> "
                      f"{report.density_after:.4f} over {len(report.rows)} prunable weights")
        for row in report.left_dense:
            console.print(f"  {row.name}: {row.status}")
    for line in pruning_note_lines(built.notes):
        console.print(line, highlight=False)


def pruning_note_lines(notes: dict) -> list[str]:
    """What ran and the test accuracy before and after pruning ("unknown" for a model without data)."""
    if not notes:
        return []
    lines = []
    if notes["schedule"] != "oneshot" or notes["criterion"] != "magnitude" or notes["fine_tune_epochs"]:
        lines.append(f"criterion {notes['criterion']}, schedule {notes['schedule']}, "
                     f"{notes['fine_tune_epochs']} epoch(s) of training per round")
    if notes.get("calibration"):
        lines.append(f"calibration activations: {notes['calibration']}")
    if notes.get("mask_file"):
        lines.append(f"masks from {notes['mask_file']} applied before pruning")
    if notes["test_accuracy_before_pruning"] is None:
        return [*lines, "test accuracy: unknown (the model has no test data)"]
    for index, record in enumerate(notes["pruning_rounds"]):
        if len(notes["pruning_rounds"]) > 1 or index:
            lines.append(f"  round {record['round']}: sparsity {record['sparsity']:.4f}, test accuracy "
                         f"{record['test_accuracy']:.4f}")
    return [*lines, f"test accuracy before pruning: {notes['test_accuracy_before_pruning']:.4f}",
            f"test accuracy after pruning: {notes['test_accuracy_after_pruning']:.4f}"]

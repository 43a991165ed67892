"""What every command shares: the consoles, one way to fail, one progress bar."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

# Piped output (CI logs, `| less`) gets a wide fixed width instead of rich's 80 columns, so tables stay readable.
console = Console(width=None if sys.stdout.isatty() else 150)
error_console = Console(stderr=True, width=None if sys.stderr.isatty() else 150)


def fail(message: str) -> None:
    from rich.markup import escape

    # Messages quote user text such as "[architecture_presets]": printed as markup it would vanish.
    error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code=2)


def progress_bar() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=error_console, transient=True)


def training_progress(progress: Progress):
    """A schedule's training progress (accelsim.pruning.schedules.TrainingProgress) as one bar per training run."""

    def start(description: str, total_steps: int):
        task = progress.add_task(description, total=total_steps)
        return lambda: progress.advance(task)

    return start


CRITERION_HELP = ("How weights are ranked: magnitude (default), random, taylor, snip, grasp, synflow, wanda "
                  "(`accelsim list`).")
TIME_STEPS_HELP = ("Recurrent steps of an LSTM/GRU/RNN per lowered layer: 1 (default) lowers each step's recurrent "
                   "projection as its own layer; 0 puts all steps in one.")
SCHEDULE_HELP = ("When to prune: oneshot (default), iterative:K, lr-rewind:K, gradual[:N], lottery:K[:rewind=E], "
                 "at-init; all but oneshot train on the model's own data.")
FINE_TUNE_HELP = ("Epochs of (re)training per round; default per schedule: oneshot 0, iterative/lr-rewind 2, gradual "
                  "5, lottery/at-init the model's recipe (40).")
MASK_HELP = "A state_dict of 0/1 tensors keyed by weight name, applied before pruning (read with weights_only=True)."


def check_output_file(option: str, path: Path | None, suffixes: tuple[str, ...] = ()) -> None:
    """Fail before any work when `path` cannot be written as the file an option asks for."""
    if path is None:
        return
    example = f"out/run{suffixes[0] if suffixes else '.json'}"
    if path.is_dir() or not path.name:
        fail(f"{option} {path}: that is a folder; give a file path, e.g. {example}")
    if not path.parent.is_dir():
        fail(f"{option} {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        fail(f"{option} {path}: folder {path.parent} is not writable")
    if suffixes and path.suffix.lower() not in suffixes:
        fail(f"{option} {path}: give a {', '.join(suffixes[:-1])} or {suffixes[-1]} file")


def check_output_folder(option: str, path: Path | None) -> None:
    """Fail before any work when `path` cannot be the folder an option writes into (created if missing)."""
    if path is None:
        return
    if path.exists() and not path.is_dir():
        fail(f"{option} {path}: a file is there; give a folder to write into (it is created if missing)")
    existing = next(parent for parent in (path, *path.parents) if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        fail(f"{option} {path}: cannot create it: {existing} is not a writable folder")

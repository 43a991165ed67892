"""What every command shares: the consoles, one way to fail, one progress bar."""

from __future__ import annotations

import sys

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

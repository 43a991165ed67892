"""`accelsim sweep`: run a sweep spec's points on a local process pool or a Dask cluster into a resumable folder."""

from __future__ import annotations

from pathlib import Path

import typer

from accelsim.cli.common import check_output_folder, console, error_console, fail


def sweep_command(
    spec: Path = typer.Argument(..., help="The sweep spec (YAML): models, prune, archs with --set grids, search."),
    output: Path = typer.Option(..., "--output", "-o", help="The sweep's folder: Parquet shards, records, fronts. "
                                "Run the same command again to resume."),
    executor: str = typer.Option("local", help="local (a process pool on this machine) or dask."),
    workers: int = typer.Option(None, help="Worker processes (default: one per core). For dask, the size of a "
                                "LocalCluster on 127.0.0.1."),
    scheduler: str = typer.Option(None, help="With --executor dask: an existing scheduler's address, e.g. "
                                  "tcp://10.0.0.5:8786 (its workers need accelsim installed)."),
    cache: Path = typer.Option(None, help="Folder of lowered workloads, reused across sweeps (default: "
                               "$ACCELSIM_CACHE/workloads or ~/.cache/accelsim/workloads)."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Compute the points that failed last time "
                                      "again (their old rows move to _stale/)."),
) -> None:
    """Run every point of SPEC (models x schemes x archs x overrides) into a folder of Parquet shards."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from accelsim.dse import SweepInterrupted, SweepSpecError, run_sweep
    from accelsim.dse.folder import SweepBusyError

    check_output_folder("--output", output)
    if not spec.is_file():
        fail(f"{spec}: no such sweep spec file")
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("done {task.fields[done]} · failed {task.fields[failed]} · skipped "
                                   "{task.fields[skipped]}"), TimeElapsedColumn(), TextColumn("ETA"),
                        TimeRemainingColumn(), console=error_console, transient=True)
    try:
        with progress:
            summary = run_sweep(spec, output, executor=executor, workers=workers, scheduler=scheduler,
                                cache_folder=cache, retry_failed=retry_failed, progress=progress)
    except SweepInterrupted as interrupted:
        _print_summary(interrupted.summary)
        error_console.print(f"[yellow]interrupted:[/] every finished point is in {output}; run the same command "
                            "again to compute the rest", highlight=False)
        raise typer.Exit(code=130) from None
    except (SweepSpecError, SweepBusyError, ValueError, OSError) as error:
        fail(str(error))
    _print_summary(summary)


def _print_summary(summary) -> None:
    points = summary.points or summary.computed + summary.skipped
    console.print(f"{points} points: {summary.computed} computed ({summary.failed} failed), {summary.skipped} "
                  f"skipped (already in {summary.folder})", highlight=False)
    if summary.retired:
        console.print(f"{summary.retired} rows of points no longer in the spec (or retried) moved to "
                      f"{summary.folder / '_stale'}", highlight=False)
    if summary.lowerings:
        console.print(f"lowered {summary.lowerings} workloads ({summary.lowering_s:.1f} worker-s, cached for "
                      "later runs)", highlight=False)
    rate = f", {summary.computed / summary.wall_s:.1f} points/s" if summary.computed and summary.wall_s else ""
    workers = f" on {summary.workers} workers" if summary.workers else ""
    console.print(f"wall {summary.wall_s:.1f} s{workers}{rate}", highlight=False)
    for path in summary.fronts:
        console.print(f"wrote {path}", highlight=False)

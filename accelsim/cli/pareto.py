"""`accelsim pareto`: the Pareto front of two result columns of a sweep folder, printed and plotted."""

from __future__ import annotations

from pathlib import Path

import typer

from accelsim.cli.common import check_output_file, console, fail

_SHOWN_INPUTS = ("model", "prune", "arch")


def pareto_command(
    folder: Path = typer.Argument(..., help="A sweep folder written by `accelsim sweep -o`."),
    x: str = typer.Option("latency_s", "--x", help="Column on x; ':min' or ':max' sets the direction (default: "
                          "max for speedup, energy_ratio, inferences_per_*, utilization, accuracy; else min)."),
    y: str = typer.Option("energy_pj", "--y", help="Column on y, as --x."),
    color: str = typer.Option(None, "--color", help="Colour the points by this column, e.g. arch or prune."),
    where: str = typer.Option(None, "--where", help="Keep only the rows of a pandas query, e.g. \"arch == 'eie'\"."),
    plot: Path = typer.Option(None, "--plot", help="The plot's path (default: FOLDER/_sweep/pareto-X-Y.png)."),
    csv: Path = typer.Option(None, "--csv", help="Also write the front's rows as CSV."),
) -> None:
    """Print the points of FOLDER no other point beats on both X and Y, and plot every point with the front."""
    from rich.table import Table

    from accelsim.dse import read_results
    from accelsim.dse.columns import OVERRIDE_PREFIX
    from accelsim.dse.folder import SweepFolder
    from accelsim.dse.fronts import write_front
    from accelsim.dse.pareto import parse_objective

    check_output_file("--plot", plot, (".png", ".pdf", ".svg"))
    check_output_file("--csv", csv, (".csv",))
    if not folder.is_dir() or not any(folder.glob("part-*.parquet")):
        fail(f"{folder}: not a sweep folder with results (no part-*.parquet; write one with `accelsim sweep -o`)")
    try:
        x_objective, y_objective = parse_objective(x), parse_objective(y)
        frame = read_results(folder)
        if where:
            frame = frame.query(where)
        plot_path = plot or SweepFolder(folder).front_path(x_objective[0], y_objective[0], ".png")
        front = write_front(frame, x_objective, y_objective, color, plot_path, csv)
    except Exception as error:  # a bad column, a bad --where (pandas raises many kinds) or an unwritable path
        fail(f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else str(error))
    usable = int(((frame["status"] == "ok") & frame[x_objective[0]].notna() & frame[y_objective[0]].notna()).sum())
    console.print(f"Pareto front of {y_objective[0]} ({y_objective[1]}) vs {x_objective[0]} ({x_objective[1]}): "
                  f"{len(front)} of {usable} points", highlight=False)
    table = Table()
    overrides = [column for column in frame.columns if column.startswith(OVERRIDE_PREFIX)
                 and front[column].notna().any()]
    shown = [x_objective[0], y_objective[0], *dict.fromkeys([*([color] if color else []), *_SHOWN_INPUTS,
                                                             *overrides, "point_id"])]
    for column in shown:
        table.add_column(column, justify="right" if front[column].dtype.kind in "fiu" else "left")
    for _, row in front.iterrows():
        table.add_row(*(_text(row[column]) for column in shown))
    console.print(table)
    console.print(f"wrote {plot_path}" + (f" and {csv}" if csv else ""), highlight=False)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)

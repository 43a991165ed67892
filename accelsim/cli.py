"""The `accelsim` command line. Every command is a thin shell over the Python API it names."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from accelsim.gpu.cli import kernel_bench_command

app = typer.Typer(help="accelsim: prune a PyTorch model, lower it to a sparse workload, simulate accelerators.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# Piped output (CI logs, `| less`) gets a wide fixed width instead of rich's 80 columns, so tables stay readable.
console = Console(width=None if sys.stdout.isatty() else 150)
error_console = Console(stderr=True, width=None if sys.stderr.isatty() else 150)


def _fail(message: str) -> None:
    from rich.markup import escape

    # Messages quote user text such as "[architecture_presets]": printed as markup it would vanish.
    error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code=2)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=error_console, transient=True)


@app.command("lower")
def lower_command(
    model: str = typer.Argument(..., help="Zoo model, synthetic table (see `accelsim list`), or a CSV path."),
    prune: str = typer.Option("none", "--prune", "-p", help="Pruning scheme, e.g. unstructured:0.9, nm:2:4."),
    seed: int = typer.Option(0, help="Seed for weights, example input, random pruning and synthetic patterns."),
    input_shape: str = typer.Option(None, "--input", help="Example input shape, e.g. 1x3x224x224 or 1x128."),
    checkpoint: Path = typer.Option(None, help="A state_dict to load first (read with weights_only=True)."),
    output: Path = typer.Option(None, "--output", "-o", help="Folder to write the workload into."),
) -> None:
    """Prune MODEL, run it on a sample input and write the sparse workload; print a per-layer table."""
    from accelsim.frontend.build import build_workload
    from accelsim.frontend.zoo import parse_shape
    from accelsim.workload_io import save_workload
    from accelsim.workload_summary import summarise

    try:
        shape = parse_shape(input_shape) if input_shape else None
        with _progress() as progress:
            task = progress.add_task(f"lowering {model}", total=None)
            built = build_workload(model, prune, seed=seed, input_shape=shape, checkpoint=checkpoint,
                                   on_layer=lambda layer: progress.advance(task))
            workload = built.workload
            task = progress.add_task("counting effectual MACs", total=len(workload))
            rows = summarise(workload, on_layer=lambda row: progress.advance(task))
            if output is not None:
                progress.add_task(f"writing {output}", total=None)
                save_workload(workload, output)
    except (ValueError, KeyError, RuntimeError, OSError) as error:
        _fail(str(error) if not isinstance(error, KeyError) else str(error).strip("'\""))
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
    for key, value in built.notes.items():
        console.print(f"{key.replace('_', ' ')}: {value:.4f}")


@app.command("run")
def run_command(
    arch: str = typer.Option(..., "--arch", "-a",
                             help="Arch name (see `accelsim list`), a YAML path or a SCALE-Sim .cfg."),
    workload: Path = typer.Option(None, "--workload", "-w", help="A folder written by `accelsim lower -o`, or a CSV "
                                  "(SCALE-Sim topology or layer table)."),
    model: str = typer.Option(None, "--model", "-m", help="Zoo model or synthetic table to prune and lower first."),
    prune: str = typer.Option("none", "--prune", "-p", help="Pruning scheme for --model, e.g. unstructured:0.9."),
    seed: int = typer.Option(0, help="Seed for weights, example input, random pruning and synthetic patterns."),
    input_shape: str = typer.Option(None, "--input", help="Example input shape for --model, e.g. 1x3x224x224."),
    overrides: list[str] = typer.Option([], "--set", help="Override an arch key, e.g. --set pe_array.rows=64."),
    json_path: Path = typer.Option(None, "--json", help="Write the full result as JSON (kept up to date per layer)."),
    csv_path: Path = typer.Option(None, "--csv", help="Write one CSV row per layer."),
    plot_path: Path = typer.Option(None, "--plot", help="Write a PNG: cycles by cause, energy, speedup per layer."),
    no_dense: bool = typer.Option(False, "--no-dense", help="Skip the dense reference run."),
) -> None:
    """Simulate a workload on an arch: per-layer cycles, stalls, utilisation, energy and speedup over dense."""
    from accelsim.arch import load_arch
    from accelsim.report.table import layer_table, summary_lines
    from accelsim.simulate import simulate

    if (workload is None) == (model is None):
        _fail("give exactly one of --workload PATH or --model MODEL")
    if workload is not None and (prune != "none" or input_shape):
        _fail("--prune and --input apply to --model; a --workload is already pruned and lowered")
    for path in (json_path, csv_path, plot_path):
        if path is not None and not path.parent.is_dir():
            _fail(f"{path}: folder {path.parent} does not exist")
    if plot_path is not None and plot_path.suffix.lower() not in (".png", ".pdf", ".svg"):
        _fail(f"--plot {plot_path}: give a .png, .pdf or .svg file")
    try:
        arch_spec = load_arch(arch, overrides)
        with _progress() as progress:
            loaded = _load_run_workload(workload, model, prune, seed, input_shape, progress)
            task = progress.add_task(f"simulating on {arch_spec.name}", total=len(loaded))
            partial = _PartialJson(json_path, arch_spec.name)
            result = simulate(loaded, arch_spec, dense_reference=not no_dense,
                              on_layer=lambda row: (progress.advance(task), partial.add(row)))
    except (ValueError, KeyError, RuntimeError, OSError) as error:
        _fail(str(error) if not isinstance(error, KeyError) else str(error).strip("'\""))
    if not result.rows:
        _fail("the workload has no layers")
    console.print(layer_table(result))
    for line in summary_lines(result):
        console.print(line, highlight=False)
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


def _load_run_workload(workload, model, prune, seed, input_shape, progress):
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
    return build_workload(name, prune, seed=seed, input_shape=shape,
                          on_layer=lambda layer: progress.advance(task)).workload


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


@app.command("list")
def list_command() -> None:
    """List the models, pruning schemes and architectures accelsim knows."""
    from accelsim.frontend.synthetic import SYNTHETIC_TABLES
    from accelsim.frontend.zoo import MODELS
    from accelsim.pruning import SCHEMES

    table = Table(title="models", title_justify="left")
    table.add_column("name")
    table.add_column("kind")
    table.add_column("description")
    for name, entry in MODELS.items():
        table.add_row(name, "zoo", entry.description)
    for name, description in SYNTHETIC_TABLES.items():
        table.add_row(name, "layer table", description)
    table.add_row("PATH.csv", "file", "a SCALE-Sim topology (conv or GEMM form) or an accelsim layer table")
    console.print(table)
    schemes = Table(title="pruning schemes (--prune)", title_justify="left")
    schemes.add_column("scheme")
    schemes.add_column("description")
    for info in SCHEMES.values():
        schemes.add_row(info.syntax, info.summary)
    console.print(schemes)
    _print_archs()


def _print_archs() -> None:
    from accelsim.arch import ArchError, known_archs, load_arch

    archs = Table(title="architectures (--arch; or a YAML path, or a SCALE-Sim .cfg)", title_justify="left")
    for column in ("name", "dataflow", "PEs", "clock", "description"):
        archs.add_column(column)
    for name in known_archs():
        try:
            arch = load_arch(name)
        except ArchError as error:
            archs.add_row(name, "[red]invalid[/]", "", "", str(error).splitlines()[0])
            continue
        archs.add_row(name, arch.dataflow.kind, f"{arch.pe_array.rows}x{arch.pe_array.cols}",
                      f"{arch.clock_mhz:g} MHz", arch.description)
    console.print(archs)


app.command("kernel-bench")(kernel_bench_command)


if __name__ == "__main__":
    app()

"""The `accelsim` command line. Every command is a thin shell over the Python API it names, one module each."""

from __future__ import annotations

import typer

from accelsim.cli.kernel_bench import kernel_bench_command
from accelsim.cli.listing import list_command
from accelsim.cli.lower import lower_command
from accelsim.cli.pareto import pareto_command
from accelsim.cli.run import run_command
from accelsim.cli.sweep import sweep_command

app = typer.Typer(help="accelsim: prune a PyTorch model, lower it to a sparse workload, simulate accelerators.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.command("lower")(lower_command)
app.command("run")(run_command)
app.command("list")(list_command)
app.command("kernel-bench")(kernel_bench_command)
app.command("sweep")(sweep_command)
app.command("pareto")(pareto_command)

if __name__ == "__main__":
    app()

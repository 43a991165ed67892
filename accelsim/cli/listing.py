"""`accelsim list`: the models, pruning schemes and archs accelsim knows."""

from __future__ import annotations

from rich.table import Table

from accelsim.cli.common import console


def list_command() -> None:
    """List the models, pruning schemes and architectures accelsim knows."""
    from accelsim.frontend.synthetic import SYNTHETIC_TABLES
    from accelsim.frontend.zoo import MODELS
    from accelsim.pruning import SCHEMES

    table = Table(title="models (MACs at the default --input)", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("kind")
    table.add_column("--input", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("description")
    for name, entry in MODELS.items():
        table.add_row(name, "zoo", "x".join(map(str, entry.default_input_shape)), _macs_text(entry.macs),
                      entry.description)
    for name, description in SYNTHETIC_TABLES.items():
        table.add_row(name, "layer table", "", "", description)
    table.add_row("PATH.csv", "file", "", "", "a SCALE-Sim topology (conv or GEMM form) or an accelsim layer table")
    console.print(table)
    schemes = Table(title="pruning schemes (--prune)", title_justify="left")
    schemes.add_column("scheme")
    schemes.add_column("description")
    for info in SCHEMES.values():
        schemes.add_row(info.syntax, info.summary)
    console.print(schemes)
    _print_criteria_and_schedules()
    _print_archs()


def _macs_text(macs: int | None) -> str:
    if macs is None:
        return "?"
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if macs >= scale:
            return f"{macs / scale:.3g} {unit}"
    return str(macs)


def _print_criteria_and_schedules() -> None:
    from accelsim.pruning.criteria import CRITERIA
    from accelsim.pruning.schedules import SCHEDULES

    for title, registry in (("pruning criteria (--criterion)", CRITERIA), ("pruning schedules (--schedule)",
                                                                           SCHEDULES)):
        table = Table(title=title, title_justify="left")
        table.add_column("name")
        table.add_column("description")
        for cls in registry.values():
            table.add_row(cls.syntax, cls.summary + (" [needs the model's data]" if getattr(cls, "needs_data", False)
                                                     else ""))
        console.print(table)


def _print_archs() -> None:
    from accelsim.arch import ArchError
    from accelsim.arch_configs import known_archs, load_arch

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

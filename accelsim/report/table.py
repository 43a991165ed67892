"""A `NetworkResult` as rich tables: one row per layer, then totals and the dense reference."""

from __future__ import annotations

from rich.table import Table

from accelsim.network_result import NetworkResult


def _engineering(value: float, unit: str) -> str:
    for scale, prefix in ((1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, "")):
        if abs(value) < scale * 1000:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _stall_text(stall_cycles, cycles: int) -> str:
    """Each cause's share of the cycles, leaving out those under half a percent (none in a layer of no cycles: an
    RNN's first step, whose hidden state is all zeros, takes none on a zero-skipping design)."""
    if cycles == 0:
        return "-"
    return ", ".join(f"{cause} {100 * value / cycles:.0f}%" for cause, value in stall_cycles.items()
                     if 200 * value >= cycles) or "-"


def _metric_columns(result: NetworkResult) -> list[str]:
    """The dataflow's metrics that ask for a table column (`Metric.table_header`) and that some layer reports."""
    return [name for name, metric in result.metrics.items()
            if metric.table_header and any(name in row.result.metrics for row in result.rows)]


def _metric_total(result: NetworkResult, name: str) -> str:
    """Cycle-weighted mean over the layers that report it (for EIE: 1 - all bubbles / all PE-cycles)."""
    rows = [row.result for row in result.rows if name in row.result.metrics]
    cycles = sum(layer.cycles for layer in rows)
    return f"{100 * sum(layer.metrics[name] * layer.cycles for layer in rows) / max(cycles, 1):.1f}"


def layer_table(result: NetworkResult) -> Table:
    title = f"{result.workload} on {result.arch}"
    table = Table(title=title, title_justify="left")
    metrics = _metric_columns(result)
    columns = ["layer", "op", "cycles", "time", "MACs", "effectual", "util. %",
               *(result.metrics[name].table_header for name in metrics),
               "stalls", "energy"]
    if result.has_dense_reference:
        columns.append("speedup")
    for column in columns:
        table.add_column(column, justify="left" if column in ("layer", "op", "stalls") else "right",
                         overflow="fold", no_wrap=column not in ("layer", "stalls"))
    for row in result.rows:
        layer = row.result
        stalls = _stall_text(layer.stall_cycles, layer.cycles)
        cells = [layer.name, layer.op, f"{layer.cycles:,}", _engineering(row.latency_s, "s"), f"{layer.macs:,}",
                 f"{layer.effectual_macs:,}", f"{100 * layer.utilization:.1f}",
                 *(f"{100 * layer.metrics[name]:.1f}" if name in layer.metrics else "-" for name in metrics),
                 stalls, _engineering(row.total_energy_pj * 1e-12, "J")]
        if result.has_dense_reference:  # a layer of no cycles has no finite speedup
            cells.append(f"{row.speedup:.2f}x" if row.speedup is not None else "-")
        table.add_row(*cells)
    table.add_section()
    macs = sum(row.result.macs for row in result.rows)
    effectual = sum(row.result.effectual_macs for row in result.rows)
    issued = sum(row.result.macs_issued for row in result.rows)
    multiplier_cycles = sum(row.result.cycles * row.result.multipliers for row in result.rows)
    stalls = _stall_text(result.stall_cycles, result.cycles)
    total = [f"total ({len(result.rows)} layers)", "", f"{result.cycles:,}", _engineering(result.latency_s, "s"),
             f"{macs:,}", f"{effectual:,}", f"{100 * issued / max(multiplier_cycles, 1):.1f}",
             *(_metric_total(result, name) for name in metrics), stalls, _engineering(result.energy_pj * 1e-12, "J")]
    if result.has_dense_reference:
        total.append(f"{result.speedup:.2f}x")
    table.add_row(*total)
    return table


def summary_lines(result: NetworkResult) -> list[str]:
    lines = [f"latency {_engineering(result.latency_s, 's')} for {result.inferences} inference(s): "
             f"{result.inferences / result.latency_s:,.1f} inferences/s, "
             f"{result.inferences / (result.energy_pj * 1e-12):,.1f} inferences/J"]
    breakdown = result.energy_by_category_pj
    total = sum(breakdown.values()) or 1.0
    lines.append("energy: " + ", ".join(f"{category} {100 * value / total:.1f}%"
                                        for category, value in breakdown.items() if value))
    if result.has_dense_reference:
        lines.append(f"dense reference {result.dense_arch}: {result.dense_cycles:,} cycles, "
                     f"{_engineering(result.dense_energy_pj * 1e-12, 'J')}; speedup {result.speedup:.2f}x, "
                     f"energy ratio {result.energy_ratio:.2f}x")
    lines += list(result.notes)
    lines.append(accuracy_line(result))
    for name, label in ((name, metric.summary_label) for name, metric in result.metrics.items()
                        if metric.summary_label):
        values = [row.result.metrics[name] for row in result.rows if name in row.result.metrics]
        if values:
            lines.append(f"{label}: {min(values):.4f} to {max(values):.4f} over {len(values)} layers")
    return lines + layer_note_lines(result)


def accuracy_line(result: NetworkResult) -> str:
    """The pruned model's test accuracy next to the dense model's, or that it is unknown."""
    if result.accuracy is None:
        return "test accuracy: unknown (no model with test data behind this workload)"
    before = result.accuracy_before_pruning
    return (f"test accuracy {result.accuracy:.4f}" + (f" (dense model {before:.4f})" if before is not None else ""))


def layer_note_lines(result: NetworkResult) -> list[str]:
    """Each distinct layer note once, with the layers it applies to (how a layer was mapped, what did not fit)."""
    layers_by_note: dict[str, list[str]] = {}
    for row in result.rows:
        for note in row.result.notes:
            layers_by_note.setdefault(note, []).append(row.result.name)
    return [f"{', '.join(names[:4])}{f' and {len(names) - 4} more' if len(names) > 4 else ''}: {note}"
            for note, names in layers_by_note.items()]

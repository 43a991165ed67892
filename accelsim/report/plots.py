"""Figures of a `NetworkResult`: per-layer cycles stacked by cause, energy breakdown, per-layer speedup."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the CLI and CI have no display
import matplotlib.pyplot as plt
import numpy as np

from accelsim.network_result import NetworkResult


def plot_network(result: NetworkResult, path: str | Path) -> Path:
    """Write a three-panel figure (cycles by cause, energy by category, speedup) to `path` and return it."""
    names = [row.result.name for row in result.rows]
    x = np.arange(len(names))
    panels = 3 if result.has_dense_reference else 2
    figure, axes = plt.subplots(panels, 1, figsize=(max(8.0, 0.35 * len(names) + 3), 3.2 * panels), sharex=True)
    _stacked(axes[0], x, {"busy": [row.result.busy_cycles for row in result.rows],
                          **{cause: [row.result.stall_cycles.get(cause, 0) for row in result.rows]
                             for cause in result.stall_cycles}}, "cycles")
    axes[0].set_title(f"{result.workload} on {result.arch}: cycles by cause")
    categories = [c for c, v in result.energy_by_category_pj.items() if v]
    _stacked(axes[1], x, {c: [row.energy_pj.get(c, 0.0) * 1e-6 for row in result.rows] for c in categories},
             "energy (µJ)")
    axes[1].set_title("energy by component")
    if result.has_dense_reference:
        speedups = [row.speedup for row in result.rows]
        axes[2].bar(x, speedups, color="tab:green")
        axes[2].axhline(1.0, color="black", linewidth=0.8)
        axes[2].set_ylabel(f"speedup vs {result.dense_arch}")
        axes[2].set_title(f"per-layer speedup (network: {result.speedup:.2f}x)")
    axes[-1].set_xticks(x, names, rotation=70, ha="right", fontsize=7)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _stacked(axis, x, series: dict[str, list[float]], ylabel: str) -> None:
    bottom = np.zeros(len(x))
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        if values.any():
            axis.bar(x, values, bottom=bottom, label=label.replace("_", " "))
            bottom += values
    axis.set_ylabel(ylabel)
    axis.legend(fontsize=7, loc="upper right")

"""Shared by the --scaling modes of the dataflow benchmarks (bench_scnn, bench_eie, bench_sparten, bench_eyeriss):
a least-squares fit of seconds per layer against the work a simulation walks, and the three-panel plot of simulation
time against that work (per layer against two measures, with their fitted lines; per network against its effectual
MACs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def least_squares(seconds: np.ndarray, *columns: np.ndarray) -> tuple[float, ...]:
    """(intercept, one slope per column, R^2) of seconds = intercept + sum of slope x column, over the points."""
    design = np.stack([np.ones_like(seconds), *columns], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, seconds, rcond=None)
    residual = seconds - design @ coefficients
    r2 = 1.0 - float(residual @ residual) / float(((seconds - seconds.mean()) ** 2).sum())
    return (*(float(value) for value in coefficients), r2)


def fit_line(x: np.ndarray, seconds: np.ndarray) -> tuple[float, float, float]:
    """(a, b, R^2) of seconds = a + b x."""
    return least_squares(seconds, x)


def plot_time_against_work(rows: list, panels, ylabel: str, title: str, path: Path) -> None:
    """rows: (label, per-layer seconds, per-layer effectual MACs, ...) per workload; panels: two (column of the rows,
    what it measures, its fit (a, b, R^2)), drawn per layer with the fitted line; the third panel is each workload's
    total seconds against its effectual MACs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(12, 3.6), dpi=80)
    for axis, (column, what, (a, b, r2)) in zip(axes[:2], panels, strict=True):
        for row in rows:
            axis.scatter(row[column] / 1e6, row[1] * 1e3, s=8, label=row[0])
        span = np.linspace(0, max(row[column].max() for row in rows), 50)
        axis.plot(span / 1e6, (a + b * span) * 1e3, "k--", lw=1,
                  label=f"{a * 1e3:.2f} ms + {b * 1e9:.1f} ns each (R² {r2:.2f})")
        axis.set(xlabel=f"{what} of the layer (M)", ylabel=ylabel, title=f"per layer, vs {what}")
        axis.legend(fontsize=6)
    totals = np.array([row[2].sum() for row in rows]) / 1e6
    seconds = [row[1].sum() for row in rows]
    axes[2].plot(totals, seconds, "o-")
    for row, x, y in zip(rows, totals, seconds, strict=True):
        axes[2].annotate(row[0].split(":")[-1], (x, y), fontsize=7, textcoords="offset points", xytext=(4, -8))
    axes[2].set(xlabel="effectual MACs of the network (M)", ylabel="seconds", title="whole network (sparsity)",
                xlim=(0, None), ylim=(0, None))
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)

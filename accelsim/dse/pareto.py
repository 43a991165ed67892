"""Pareto fronts of a sweep's results: the points no other point beats on every objective (each minimised or
maximised), as a table and as a plot of every point with the front drawn over them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accelsim.dse.columns import default_direction
from accelsim.names import did_you_mean


def parse_objective(text: str) -> tuple[str, str]:
    """'latency_s' -> (latency_s, min); 'accuracy:max' -> (accuracy, max); the default direction is the column's
    (`accelsim.dse.columns.MAXIMIZED`)."""
    column, _, direction = text.partition(":")
    direction = direction or default_direction(column)
    if direction not in ("min", "max"):
        raise ValueError(f"objective {text!r}: the direction after ':' must be min or max")
    return column, direction


def non_dominated(values: np.ndarray) -> np.ndarray:
    """Mask of the rows of `values` (n x k, every column minimised) that no other row dominates (no worse in every
    column and better in one). Rows sorted lexicographically: a row can only be dominated by one before it, so
    each is checked against the front found so far."""
    values = np.asarray(values, dtype=float)
    order = np.lexsort(values.T[::-1])
    front: list[int] = []
    for index in order:
        row = values[index]
        if front:
            kept = values[front]
            if np.any(np.all(kept <= row, axis=1) & np.any(kept < row, axis=1)):
                continue
        front.append(index)
    mask = np.zeros(len(values), dtype=bool)
    mask[front] = True
    return mask


def front_of(frame, objectives: list[tuple[str, str]]):
    """The rows of `frame` (a pandas DataFrame of results) on the front of `objectives`, sorted by the first.
    Rows that failed or lack a value of an objective take no part."""
    missing = [column for column, _ in objectives if column not in frame.columns]
    if missing:
        raise ValueError(f"no column {missing[0]!r} in the results.{did_you_mean(missing[0], frame.columns)} "
                         f"Columns: {', '.join(frame.columns)}")
    usable = frame[frame["status"] == "ok"].dropna(subset=[column for column, _ in objectives])
    if usable.empty:
        return usable
    signs = np.array([1.0 if direction == "min" else -1.0 for _, direction in objectives])
    mask = non_dominated(usable[[column for column, _ in objectives]].to_numpy(dtype=float) * signs)
    return usable[mask].sort_values(objectives[0][0], ascending=objectives[0][1] == "min")


def plot_front(frame, front, x: tuple[str, str], y: tuple[str, str], color: str | None, path: Path,
               title: str = "") -> None:
    """Every usable point (coloured by `color`'s values), the front ringed and joined as the staircase that bounds
    what it dominates (`front` sorted best-first along x, as `front_of` gives it); log axes where the largest value
    is more than 30 times the smallest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    usable = frame[frame["status"] == "ok"].dropna(subset=[x[0], y[0]])
    figure, axis = plt.subplots(figsize=(7.5, 5))
    if color is None:
        axis.scatter(usable[x[0]], usable[y[0]], s=18, color="tab:blue", alpha=0.6, label="points")
    elif usable[color].dtype.kind in "fiu" and usable[color].nunique() > 10:
        points = axis.scatter(usable[x[0]], usable[y[0]], s=18, c=usable[color], cmap="viridis", alpha=0.8)
        figure.colorbar(points, ax=axis, label=color)
    else:
        groups = list(usable.groupby(color, sort=True, dropna=False))
        palette = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
        for index, (value, group) in enumerate(groups):
            shown = "-" if value is None or value != value else value  # NaN: the point's arch has no such key
            if isinstance(shown, float) and shown.is_integer():  # integers next to empty cells come back as floats
                shown = int(shown)
            axis.scatter(group[x[0]], group[y[0]], s=18, alpha=0.7, color=palette(index % palette.N),
                         label=f"{color}={shown}")
    axis.plot(front[x[0]], front[y[0]], color="black", linewidth=1, drawstyle="steps-post", zorder=3)
    axis.scatter(front[x[0]], front[y[0]], s=60, facecolors="none", edgecolors="black", linewidths=1.2,
                 label=f"Pareto front ({len(front)})", zorder=4)
    for values, set_scale in ((usable[x[0]], axis.set_xscale), (usable[y[0]], axis.set_yscale)):
        positive = values[values > 0]
        if len(positive) == len(values) and len(values) and positive.max() / positive.min() > 30:
            set_scale("log")
    axis.set_xlabel(f"{x[0]} ({'lower' if x[1] == 'min' else 'higher'} is better)")
    axis.set_ylabel(f"{y[0]} ({'lower' if y[1] == 'min' else 'higher'} is better)")
    axis.set_title(title or f"{y[0]} vs {x[0]}: {len(usable)} points")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8, loc="best")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


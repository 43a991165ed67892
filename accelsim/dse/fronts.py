"""The fronts a sweep draws when it finishes, and the files of one front (a plot and a CSV of its rows), shared by
`run_sweep` and `accelsim pareto`."""

from __future__ import annotations

from pathlib import Path

from accelsim.dse.folder import SweepFolder
from accelsim.dse.pareto import front_of, plot_front


def write_front(frame, x: tuple[str, str], y: tuple[str, str], color: str | None, plot_path: Path,
                csv_path: Path | None = None, title: str = ""):
    """Plot the front of (x, y) over every point to `plot_path`, its rows to `csv_path`; returns the front."""
    if color is not None and color not in frame.columns:
        raise ValueError(f"--color {color}: no such column; columns: {', '.join(frame.columns)}")
    front = front_of(frame, [x, y])
    plot_front(frame, front, x, y, color, plot_path, title)
    if csv_path is not None:
        front.to_csv(csv_path, index=False)
    return front


def default_fronts(frame, spec) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Latency against energy; speedup against accuracy where models have one; each pair of NSGA-II objectives."""
    pairs = [(("latency_s", "min"), ("energy_pj", "min"))]
    if "accuracy" in frame.columns and frame["accuracy"].notna().any():
        pairs.append((("speedup", "max"), ("accuracy", "max")))
    objectives = list((spec.search.objectives or {}).items())
    for index, first in enumerate(objectives):
        for second in objectives[index + 1:]:
            if (first, second) not in pairs and (second, first) not in pairs:
                pairs.append((first, second))
    return pairs


def write_default_fronts(sweep: SweepFolder, frame, spec) -> list[Path]:
    """Each default front as _sweep/pareto-X-Y.png and .csv (nothing when no point succeeded)."""
    if frame.empty or not (frame["status"] == "ok").any():
        return []
    written = []
    for x, y in default_fronts(frame, spec):
        plot_path = sweep.front_path(x[0], y[0], ".png")
        write_front(frame, x, y, "arch", plot_path, sweep.front_path(x[0], y[0], ".csv"),
                    title=f"{spec.name or sweep.path.name}: {y[0]} vs {x[0]}")
        written.append(plot_path)
    return written

"""Design-space exploration: `accelsim sweep` runs a spec's points (models x pruning schemes x archs x overrides,
as a grid, a random sample or an NSGA-II search) on a local process pool or a Dask cluster into a resumable folder
of Parquet shards, and `accelsim pareto` draws the fronts. docs/dse.md describes the spec and the folder.

    from accelsim.dse import run_sweep, read_results
    run_sweep("sweep.yaml", "out/sweep", workers=2)
    frame = read_results("out/sweep")                  # = pandas.read_parquet("out/sweep")
"""

from __future__ import annotations

from pathlib import Path

from accelsim.dse.runner import SweepInterrupted, SweepSummary, run_sweep
from accelsim.dse.spec import SweepSpecError, load_sweep_spec


def read_results(folder: str | Path):
    """Every row of a sweep folder as a pandas DataFrame."""
    import pandas

    return pandas.read_parquet(folder)


__all__ = ["SweepInterrupted", "SweepSpecError", "SweepSummary", "load_sweep_spec", "read_results", "run_sweep"]

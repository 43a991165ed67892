"""What the sweep tests share: a folder holding a spec next to the samples it names (tests/dse_samples/), the spec's
space, the rows of a sweep folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq

from accelsim.dse.space import build_space
from accelsim.dse.spec import load_sweep_spec

SAMPLES = Path(__file__).parent / "dse_samples"
ROOT = Path(__file__).resolve().parents[1]


def sweep_folder(folder: Path, spec: str) -> Path:
    """`spec` written as folder/sweep.yaml beside the tiny table and the misbehaving dataflow; its path. The
    dataflow is linked, not copied: a process loads a dataflow's file once, and refuses a second file registering
    the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "tiny.csv", folder / "tiny.csv")
    for name in ("misbehaving.py", "misbehaving.yaml"):
        if not (folder / name).is_symlink():
            (folder / name).symlink_to(SAMPLES / name)
    (folder / "sweep.yaml").write_text(spec)
    return folder / "sweep.yaml"


def space_of(path: Path):
    return build_space(load_sweep_spec(path), str(path), path.parent)


def rows_of(folder: Path) -> dict[str, dict]:
    """Every row of a sweep folder by point id (Arrow's types kept: ints stay ints next to empty cells)."""
    return {row["point_id"]: row for row in pq.read_table(folder).to_pylist()}

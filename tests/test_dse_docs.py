"""docs/dse.md's examples hold: its first spec is docs/examples/sweep.yaml word for word and is a valid 12-point
sweep, its override example validates, its Python example compiles."""

from __future__ import annotations

import re
from pathlib import Path

from dse_helpers import space_of, sweep_folder

from accelsim.dse.points import grid_points, random_points

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "dse.md").read_text()
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)


def test_the_first_spec_is_the_example_file_and_has_twelve_points():
    example = ROOT / "docs" / "examples" / "sweep.yaml"
    assert YAML_BLOCKS[0] == example.read_text()
    assert len(grid_points(space_of(example))) == 3 * (3 + 1)


def test_the_override_example_validates(tmp_path):
    spec = "models: [{model: tiny.csv}]\nsearch: {kind: random, samples: 5}\n" + YAML_BLOCKS[1]
    space = space_of(sweep_folder(tmp_path, spec))
    eie = space.archs[0]
    assert eie.overrides({"dataflow.fifo_depth": 2, "pe_array.cols": 16})["memory.ptr_sram.instances"] == 32
    assert len(random_points(space, 5, 0)) == 5


def test_the_python_example_compiles():
    blocks = re.findall(r"```python\n(.*?)```", DOC, flags=re.DOTALL)
    assert any("run_sweep(" in block for block in blocks)
    for block in blocks:
        compile(block, "docs/dse.md", "exec")

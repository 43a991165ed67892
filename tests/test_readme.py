"""The README's Python example runs as written (with a small model standing in for `MyModel`)."""

import re
from pathlib import Path

from torch import nn

README = Path(__file__).resolve().parents[1] / "README.md"


class MyModel(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 30 * 30, 10))


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "README has no python example"
    monkeypatch.chdir(tmp_path)
    namespace = {"MyModel": MyModel}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    assert (tmp_path / "out" / "mine" / "manifest.json").is_file()
    assert [layer.name for layer in namespace["workload"]] == ["0", "3"]

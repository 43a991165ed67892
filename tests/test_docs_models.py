"""docs/models.md's Python example runs as written: the conv1d + LSTM model prunes every weight and lowers every
layer."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "models.md"


def test_conv1d_lstm_example_prunes_every_weight_and_lowers_every_layer():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    namespace: dict = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    report, workload = namespace["report"], namespace["workload"]
    assert [row.name for row in report.rows] == ["conv", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "fc"]
    assert all(row.pruned and row.density_after == 0.5 for row in report.rows)
    assert workload.not_lowered == ()
    frames = (101 + 2 * 2 - 5) // 2 + 1
    assert [layer.name for layer in workload] == ["conv", "lstm.weight_ih_l0",
                                                  *(f"lstm.weight_hh_l0.t{t}" for t in range(frames)), "fc"]
    assert workload["lstm.weight_hh_l0.t0"].input_density == 0.0  # the zero initial state

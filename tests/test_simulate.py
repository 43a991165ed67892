"""Whole-network runs: totals add up, the dense reference (twin or sparsity off), callbacks, exports."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml
from arch_samples import GOOD

from accelsim.arch import ArchError, apply_overrides
from accelsim.arch_configs import arch_from_dict, load_arch
from accelsim.simulate import dense_reference_arch, simulate
from accelsim.workload import Layer, Workload


def workload() -> Workload:
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((8, 8)).astype(np.float32)
    weight.reshape(-1, 4)[:, 2:] = 0.0  # exactly 2:4 along C
    layers = (Layer(name="fc1", op="linear", input=rng.standard_normal((4, 8)).astype(np.float32), weight=weight),
              Layer(name="fc2", op="linear", input=rng.standard_normal((4, 8)).astype(np.float32),
                    weight=rng.standard_normal((3, 8)).astype(np.float32)))
    return Workload(layers=layers, provenance={"model": "tiny", "scheme": "nm:2:4", "input_shape": [4, 8]})


def test_totals_are_sums_of_layers():
    result = simulate(workload(), arch_from_dict(GOOD))
    assert result.cycles == sum(row.result.cycles for row in result.rows)
    assert result.latency_s == pytest.approx(result.cycles / 500e6)
    assert result.energy_pj == pytest.approx(sum(row.total_energy_pj for row in result.rows))
    assert result.inferences == 4
    data = result.as_dict()
    assert data["total"]["inferences_per_s"] == pytest.approx(4 / result.latency_s)
    assert data["workload"] == "tiny (nm:2:4)"


def test_dense_arch_is_its_own_reference():
    arch = arch_from_dict(GOOD)
    assert dense_reference_arch(arch) is arch
    result = simulate(workload(), arch)
    assert result.speedup == 1.0 and result.energy_ratio == pytest.approx(1.0)


def test_sparsity_off_reference_and_speedup():
    arch = arch_from_dict(apply_overrides(GOOD, ["dataflow.nm='2:4'", "dataflow.stationary=os"]))
    dense = dense_reference_arch(arch)
    assert dense.dataflow.config.nm is None and "sparsity off" in dense.name
    result = simulate(workload(), arch)
    rows = {row.result.name: row for row in result.rows}
    assert rows["fc1"].speedup > 1.0  # 2:4 weights: the reduction of 8 streams as 4
    assert rows["fc2"].speedup == 1.0 and "runs dense" in rows["fc2"].result.notes[0]
    assert result.speedup == pytest.approx(result.dense_latency_s / result.latency_s)


def test_dense_twin_by_relative_path(tmp_path):
    twin = apply_overrides(GOOD, ["name=twin", "clock_mhz=250"])
    (tmp_path / "twin.yaml").write_text(yaml.safe_dump(twin))
    main = apply_overrides(GOOD, ["dense_twin=twin.yaml"])
    (tmp_path / "main.yaml").write_text(yaml.safe_dump(main))
    result = simulate(workload(), load_arch(tmp_path / "main.yaml"))
    assert result.dense_arch == "twin"
    # Same array, half the clock: the same cycles take twice as long.
    assert result.dense_cycles == result.cycles and result.speedup == pytest.approx(2.0)


def test_missing_dense_twin_fails_loudly(tmp_path):
    (tmp_path / "main.yaml").write_text(yaml.safe_dump(apply_overrides(GOOD, ["dense_twin=nope.yaml"])))
    with pytest.raises(ArchError, match="no such arch file"):
        simulate(workload(), load_arch(tmp_path / "main.yaml"))


def test_on_layer_sees_every_row_in_order_and_exports(tmp_path):
    seen = []
    result = simulate(workload(), arch_from_dict(GOOD), dense_reference=False, on_layer=seen.append)
    assert [row.result.name for row in seen] == ["fc1", "fc2"]
    assert not result.has_dense_reference and result.speedup is None
    result.save_json(tmp_path / "r.json")
    result.save_csv(tmp_path / "r.csv")
    assert json.loads((tmp_path / "r.json").read_text())["dense_reference"] is None
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert [int(row["cycles"]) for row in rows] == [row.result.cycles for row in result.rows]


def test_compute_output_matches_reference():
    from accelsim.reference import reference_output

    work = workload()
    result = simulate(work, arch_from_dict(GOOD), compute_output=True, dense_reference=False)
    for row, layer in zip(result.rows, work.layers, strict=True):
        np.testing.assert_allclose(row.result.output, reference_output(layer), rtol=1e-9, atol=1e-9)


def test_an_empty_workload_is_refused():
    with pytest.raises(ValueError, match="no layers"):
        simulate(Workload(layers=(), provenance={}), arch_from_dict(GOOD))

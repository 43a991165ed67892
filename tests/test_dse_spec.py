"""Sweep specs: what a valid spec means, and the one clear error (file, key path, what is allowed, "did you mean")
for each way of getting one wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from dse_helpers import space_of, sweep_folder

from accelsim.dse.spec import SweepSpecError, load_sweep_spec


def error_of(tmp_path: Path, text: str) -> str:
    path = sweep_folder(tmp_path, text)
    with pytest.raises(SweepSpecError) as caught:
        space_of(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    return message


def test_the_issues_example_reads_as_written(tmp_path):
    spec = load_sweep_spec(sweep_folder(tmp_path, """
models:
  - {model: digits-cnn, input: 16x1x8x8}
prune: [none, "global:0.8", "nm:2:4"]
archs:
  - {arch: eie, set: {dataflow.fifo_depth: [1, 2, 8]}}
  - {arch: scnn}
search: {kind: grid}
"""))
    assert spec.models[0].model == "digits-cnn" and spec.models[0].input == "16x1x8x8"
    assert [entry.scheme for entry in spec.prune] == ["none", "global:0.8", "nm:2:4"]
    assert spec.archs[0].set["dataflow.fifo_depth"].values == [1, 2, 8]
    assert spec.archs[1].set == {} and spec.search.kind == "grid"


def test_short_forms(tmp_path):
    spec = load_sweep_spec(sweep_folder(tmp_path, """
models: [digits-cnn, {model: tiny.csv, prune: none}]
prune: "nm:2:4"
archs:
  - {arch: systolic-32x32-ws-nm24, set: {dataflow.nm: "2:4", pe_array.rows: {low: 8, high: 64, log: true, step: 2}}}
"""))
    assert spec.models[0].model == "digits-cnn" and [entry.scheme for entry in spec.models[1].prune] == ["none"]
    assert [entry.scheme for entry in spec.prune] == ["nm:2:4"]
    assert spec.archs[0].set["dataflow.nm"].values == ["2:4"]  # a single value is a fixed override; 2:4 stays text
    assert spec.archs[0].set["pe_array.rows"].step == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("models: [tiny.csv]\narchs: [{arch: eie}]\nserch: {kind: grid}\n",
     "serch: unknown key. Did you mean 'search'?"),
    ("models: [{modle: tiny.csv}]\narchs: [{arch: eie}]\n", "models.0.modle: unknown key. Did you mean 'model'?"),
    ("models: [tiny.csv]\narchs: [{arch: eie, set: {dataflow.fifo_depth: {lo: 1, high: 8}}}]\n",
     "archs.0.set.dataflow.fifo_depth.lo: unknown key. Did you mean 'low'? Allowed here: values, low, high, log"),
    ("models: [tiny.csv]\narchs: [{arch: eie}]\nsearch: {kind: random, sample: 5}\n",
     "search.sample: unknown key. Did you mean 'samples'?"),
    ("models: [tiny.csv]\narchs: [{arch: eie}]\nsearch: {kind: random}\n", "search: kind random needs samples"),
    ("models: [tiny.csv]\narchs: [{arch: eie}]\nsearch: {kind: grid, trials: 3}\n",
     "trials do(es) not apply to kind grid"),
    ("models: [tiny.csv]\narchs: [{arch: eie}]\nsearch: {kind: nsga2, trials: 8, objectives: {latncy_s: min}}\n",
     "objective 'latncy_s' is not a result column. Did you mean 'latency_s'?"),
    ("models: [tiny.csv]\narchs: [{arch: eie}]\nsearch: {kind: anneal}\n", "search.kind: Input should be 'grid'"),
    ("models: []\narchs: [{arch: eie}]\n", "models: List should have at least 1 item"),
    ("models: [tiny.csv]\narchs: [{arch: eie, set: {x: {low: 8, high: 1}}}]\n", "low (8) is above high (1)"),
    ("models: [tiny.csv]\narchs: [{arch: eie, set: {x: {values: [1], follows: y}}}]\n",
     "give exactly one of values: [...], low/high (a range) or follows: KEY; got values and follows"),
    ("- just a list\n", "the top level must be a mapping of keys (models, prune, archs, search)"),
    ("models: [tiny.csv\n", "not valid YAML"),
])
def test_a_malformed_spec_names_the_key_and_the_fix(tmp_path, text, expected):
    assert expected in error_of(tmp_path, text)


@pytest.mark.parametrize(("text", "expected"), [
    ("models: [digits-cn]\narchs: [{arch: eie}]\n", "models.0.model: unknown model 'digits-cn'. Did you mean "
                                                    "'digits-cnn'?"),
    ("models: [missing/table.csv]\narchs: [{arch: eie}]\n", "models.0.model: no such CSV file or workload folder"),
    ("models: [tiny.csv]\narchs: [{arch: eei}]\n", "archs.0.arch: unknown arch 'eei'. Did you mean 'eie'?"),
    ("models: [tiny.csv]\narchs: [{arch: eie, set: {dataflow.fifo_dept: [1, 2]}}]\n",
     "dataflow.fifo_dept: unknown key. Did you mean 'fifo_depth'?"),
    ("models: [tiny.csv]\narchs: [{arch: eie, set: {dataflow.fifo_depth: [8, 0]}}]\n",
     "archs.0.set (dataflow.fifo_depth=0)"),
    ("models: [tiny.csv]\narchs: [{arch: eie, set: {pe_array.cols: [4, 8]}}]\n",
     "memory.spmat_sram.instances is 64 but must be"),
    ("models: [tiny.csv]\narchs: [{arch: eie, set: {pe_array.cols: [4], memory.spmat_sram.instances: "
     "{follows: pe_array.colz}}}]\n", "set.memory.spmat_sram.instances.follows: 'pe_array.colz' is not another "
                                      "override of this arch. Did you mean 'pe_array.cols'?"),
    ("models: [tiny.csv]\nprune: [none, 'nm:2:4']\narchs: [{arch: eie}]\n",
     "models.0: tiny.csv is a layer table (its densities are part of it), which pruning does not apply to"),
    ("models: [{model: eie-benchmark, input: 1x8}]\narchs: [{arch: eie}]\n", "models.0.input: applies to zoo models"),
    ("models: [{model: digits-cnn, input: 16x1xa}]\narchs: [{arch: eie}]\n", "models.0.input: input shape"),
    ("models: [tiny.csv]\narchs: [{arch: systolic-32x32-ws, set: {pe_array.rows: {low: 4, high: 64}}}]\n",
     "archs.0.set.pe_array.rows: a grid needs a list of values or a range with a step"),
])
def test_a_spec_naming_what_does_not_exist_fails_before_any_work(tmp_path, text, expected):
    assert expected in error_of(tmp_path, text)


def test_the_space_resolves_names_paths_ties_and_column_types(tmp_path):
    space = space_of(sweep_folder(tmp_path, """
seed: 3
models: [{model: tiny.csv, prune: none}, {model: digits-cnn, input: 4x1x8x8, seed: 5, layers: [fc1]}]
prune: [none, "nm:2:4"]
archs:
  - arch: eie
    set: {pe_array.cols: [4, 8], memory.spmat_sram.instances: {follows: pe_array.cols},
          memory.ptr_sram.instances: {follows: pe_array.cols, times: 2},
          memory.act_sram.instances: {follows: pe_array.cols}}
  - {arch: systolic-32x32-ws, set: {dataflow.stationary: [ws, os]}}
"""))
    table, digits = space.models
    assert (table.kind, table.source, table.seed) == ("table", str(tmp_path / "tiny.csv"), 3)
    assert [choice.label for choice in table.schemes] == ["none"]
    assert (digits.kind, digits.input_shape, digits.seed, digits.layers) == ("zoo", (4, 1, 8, 8), 5, ("fc1",))
    assert [choice.label for choice in digits.schemes] == ["none", "nm:2:4"]
    eie = space.archs[0]
    assert eie.overrides({"pe_array.cols": 8}) == {"memory.act_sram.instances": 8, "memory.ptr_sram.instances": 16,
                                                   "memory.spmat_sram.instances": 8, "pe_array.cols": 8}
    assert space.override_values["memory.ptr_sram.instances"] == [8, 16]
    assert space.override_values["dataflow.stationary"] == ["ws", "os"]
    assert "load_imbalance" in space.stall_causes and "pipeline_fill" in space.stall_causes

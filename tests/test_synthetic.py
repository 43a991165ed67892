"""Synthetic workloads: exact densities, per-layer seeding, the paper tables (EIE Table III, MobileNet v1 Table 1)
and every error of the layer-table reader."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from accelsim.frontend.synthetic import (
    GENERATOR,
    SYNTHETIC_TABLES,
    load_layer_table,
    sparse_random_array,
    synthetic_workload,
    table_source,
    workload_from_table,
)
from accelsim.workload import WorkloadError

# Han et al., ISCA 2016, Table III: (name, inputs C, outputs K, weight density, activation density).
EIE_TABLE_III = [
    ("Alex-6", 9216, 4096, 0.09, 0.351), ("Alex-7", 4096, 4096, 0.09, 0.353), ("Alex-8", 4096, 1000, 0.25, 0.375),
    ("VGG-6", 25088, 4096, 0.04, 0.183), ("VGG-7", 4096, 4096, 0.04, 0.375), ("VGG-8", 4096, 1000, 0.23, 0.411),
    ("NT-We", 4096, 600, 0.10, 1.0), ("NT-Wd", 600, 8791, 0.11, 1.0), ("NT-LSTM", 1201, 2400, 0.10, 1.0),
]
HEADER = "name,op,N,C,K,H,W,R,S,stride,padding,groups,weight_density,input_density"
GOOD_CONV = "c1,conv2d,1,4,8,6,6,3,3,1,1,1,0.5,0.5"


@pytest.fixture(scope="module")
def eie():
    return synthetic_workload("eie-benchmark", seed=3)


@pytest.fixture(scope="module")
def mobilenet():
    return synthetic_workload("mobilenet-v1")


def _nonzeros(array: np.ndarray) -> int:
    return int(np.count_nonzero(array))


def _packaged_table(name: str) -> list[dict]:
    with resources.as_file(resources.files("accelsim").joinpath("data", name.replace("-", "_") + ".csv")) as path:
        assert table_source(path)  # every packaged table cites its paper
        return load_layer_table(path)


def test_exact_density_and_dtype():
    rng = np.random.default_rng(0)
    for shape, density in [((37, 11), 0.3), ((5, 3, 7, 7), 0.93), ((1000,), 1.0), ((64, 64), 0.001)]:
        array = sparse_random_array(shape, density, rng)
        assert array.shape == shape and array.dtype == np.float32
        assert _nonzeros(array) == round(density * np.prod(shape))


def test_positions_are_spread_uniformly():
    array = sparse_random_array((400, 500), 0.2, np.random.default_rng(1))
    per_row = np.count_nonzero(array, axis=1)
    assert abs(per_row[:200].sum() - per_row[200:].sum()) < 0.05 * per_row.sum()
    assert per_row.min() > 50 and per_row.max() < 150  # binomial-ish around 100, not clustered


def test_eie_table_matches_paper():
    rows = _packaged_table("eie-benchmark")
    assert [(r["name"], r["C"], r["K"], r["weight_density"], r["input_density"]) for r in rows] == EIE_TABLE_III
    assert {(r["op"], r["N"]) for r in rows} == {("linear", 1)}


def test_eie_workload_shapes_and_densities(eie):
    assert [layer.name for layer in eie] == [row[0] for row in EIE_TABLE_III]
    for layer, (_, c, k, weight_density, input_density) in zip(eie, EIE_TABLE_III, strict=True):
        assert layer.op == "linear" and layer.input.shape == (1, c) and layer.weight.shape == (k, c)
        assert _nonzeros(layer.weight) == round(weight_density * k * c)
        assert _nonzeros(layer.input) == round(input_density * c)
    assert eie.provenance["model"] == "eie-benchmark" and eie.provenance["generator"] == GENERATOR
    assert eie.provenance["seed"] == 3 and eie.provenance["table"] == "eie_benchmark.csv"
    assert "Table III" in eie.provenance["source"]


def test_each_layer_reproducible_alone(eie):
    alone = synthetic_workload("eie-benchmark", seed=3, layers=["NT-We"])
    assert len(alone) == 1
    np.testing.assert_array_equal(alone["NT-We"].weight, eie["NT-We"].weight)
    np.testing.assert_array_equal(alone["NT-We"].input, eie["NT-We"].input)


def test_same_seed_same_arrays_other_seed_differs():
    first = synthetic_workload("eie-benchmark", seed=7, layers=["Alex-8"])["Alex-8"]
    again = synthetic_workload("eie-benchmark", seed=7, layers=["Alex-8"])["Alex-8"]
    other = synthetic_workload("eie-benchmark", seed=8, layers=["Alex-8"])["Alex-8"]
    np.testing.assert_array_equal(first.weight, again.weight)
    np.testing.assert_array_equal(first.input, again.input)
    assert not np.array_equal(first.weight != 0, other.weight != 0)
    assert not np.array_equal(first.input, other.input)


def test_mobilenet_output_sizes_follow_paper(mobilenet):
    assert len(mobilenet) == 28  # conv, 13 x (depthwise, pointwise), fc
    sizes = {layer.name: layer.dims["P"] for layer in mobilenet if layer.op == "conv2d"}
    assert sizes["conv1"] == 112
    assert [sizes[f"dw{i}"] for i in range(1, 14)] == [112, 56, 56, 28, 28, 14, 14, 14, 14, 14, 14, 7, 7]
    assert [sizes[f"pw{i}"] for i in range(1, 14)] == [112, 56, 56, 28, 28, 14, 14, 14, 14, 14, 14, 7, 7]
    assert all(mobilenet[f"dw{i}"].groups == mobilenet[f"dw{i}"].dims["C"] for i in range(1, 14))
    assert mobilenet["fc"].weight.shape == (1000, 1024)


def test_mobilenet_macs_match_paper(mobilenet):
    assert mobilenet.macs == pytest.approx(569e6, rel=0.01)  # Howard et al.: 569 million mult-adds


def test_mobilenet_default_densities(mobilenet):
    assert mobilenet["conv1"].input_density == 1.0
    assert all(mobilenet[name].input_density == 0.5 for name in ("dw1", "pw1", "dw13", "pw13"))
    assert mobilenet["fc"].input_density == 1.0
    assert all(layer.weight_density == 1.0 for layer in mobilenet)


def test_density_overrides_are_applied_and_recorded():
    workload = synthetic_workload("mobilenet-v1", seed=1, weight_density=0.25, input_density={"pw2": 0.1},
                                  layers=["pw2", "dw3"])
    for layer in workload:
        assert _nonzeros(layer.weight) == round(0.25 * layer.weight.size)
    assert _nonzeros(workload["pw2"].input) == round(0.1 * workload["pw2"].input.size)
    assert workload["dw3"].input_density == 0.5
    assert workload.provenance["weight_density"] == 0.25
    assert workload.provenance["input_density"] == {"pw2": 0.1}
    # Operands draw from separate streams: a new input density leaves the weights as they were.
    plain = synthetic_workload("mobilenet-v1", seed=1, weight_density=0.25, layers=["pw2"])
    np.testing.assert_array_equal(plain["pw2"].weight, workload["pw2"].weight)


def test_batch_override():
    layer = synthetic_workload("mobilenet-v1", batch=2, layers=["conv1"])["conv1"]
    assert layer.input.shape == (2, 3, 224, 224)


def test_user_table(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(f"# source: made up for a test\n{HEADER}\n{GOOD_CONV}\nfc,linear,2,8,3,,,,,,,,0.5,1\n")
    workload = workload_from_table(path, seed=5)
    assert [layer.name for layer in workload] == ["c1", "fc"]
    assert workload["c1"].dims["P"] == 6 and workload["fc"].input.shape == (2, 8)
    assert workload.provenance["model"] == "mine" and workload.provenance["source"] == "made up for a test"
    assert load_layer_table(path)[1]["H"] is None


def test_unknown_table_suggests():
    with pytest.raises(WorkloadError, match=r"did you mean 'mobilenet-v1'.*known: eie-benchmark, mobilenet-v1"):
        synthetic_workload("mobilenet_v1")
    assert set(SYNTHETIC_TABLES) == {"eie-benchmark", "mobilenet-v1"}
    assert _packaged_table("mobilenet-v1")[0]["name"] == "conv1"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"seed": 1.5}, "seed must be an integer >= 0"),
    ({"batch": 0}, "batch must be an integer >= 1"),
    ({"weight_density": 0.0}, r"weight_density for layer 'conv1' must be a number in \(0, 1\]"),
    ({"input_density": {"pw1": 1.5}}, r"input_density for layer 'pw1' must be a number in \(0, 1\]"),
    ({"input_density": {"pw_1": 0.5}}, "names layer 'pw_1'.*did you mean 'pw1'"),
    ({"layers": ["fc8"]}, "names layer 'fc8'.*did you mean 'fc'"),
])
def test_bad_overrides(kwargs, message):
    with pytest.raises(WorkloadError, match=message):
        synthetic_workload("mobilenet-v1", **kwargs)


@pytest.mark.parametrize(("text", "message"), [
    (f"{HEADER},bias\n{GOOD_CONV},1\n", "line 1: unknown column 'bias'"),
    (f"{HEADER.replace('stride', 'strides')}\n{GOOD_CONV}\n", "unknown column 'strides' \\(did you mean 'stride'"),
    ("name,op,N,C,K,weight_density\nfc,linear,1,2,3,0.5\n", "lacks the column\\(s\\) input_density"),
    ("name,op,N,C,K,K,weight_density,input_density\n", "names a column twice"),
    (f"{HEADER}\n", "no layer rows"),
    (f"{HEADER}\nc1,conv2d,1,4\n", "line 2: 4 cells but the header has 14 columns"),
    (f"{HEADER}\n{GOOD_CONV.replace('0.5,0.5', '0,0.5')}\n", "line 2 .*'c1'.*column 'weight_density'.*\\(0, 1\\]"),
    (f"{HEADER}\n{GOOD_CONV.replace('0.5,0.5', '0.5,1.2')}\n", "column 'input_density'.*\\(0, 1\\]"),
    (f"{HEADER}\n{GOOD_CONV.replace('0.5,0.5', '0.5,half')}\n", "column 'input_density'.*a density is a number"),
    (f"{HEADER}\n{GOOD_CONV.replace(',1,4,8,', ',1,0,8,')}\n", "column 'C': '0' is not allowed.*integer >= 1"),
    (f"{HEADER}\n{GOOD_CONV.replace(',1,4,8,', ',1,4,8.0,')}\n", "column 'K': '8.0' is not allowed"),
    (f"{HEADER}\n{GOOD_CONV.replace(',3,3,1,1,1,', ',3,3,1,-1,1,')}\n", "column 'padding'.*integer >= 0"),
    (f"{HEADER}\n{GOOD_CONV.replace(',6,6,3,3,', ',6,6,9,3,')}\n", "column 'R'.*filter must fit the padded input"),
    (f"{HEADER}\n{GOOD_CONV.replace(',1,1,1,0.5', ',1,1,3,0.5')}\n", "column 'groups'.*must divide C \\(4\\)"),
    (f"{HEADER}\n{GOOD_CONV.replace(',6,6,3,3,', ',,6,3,3,')}\n", "column 'H': '' is not allowed"),
    (f"{HEADER}\n{GOOD_CONV.replace('conv2d', 'conv3d')}\n", "column 'op'.*conv2d, linear"),
    (f"{HEADER}\n{GOOD_CONV.replace('c1,', ',')}\n", "column 'name'.*needs a name"),
    (f"{HEADER}\nfc,linear,1,8,3,,,,,2,,,0.5,1\n", "column 'stride'.*conv2d rows only"),
    (f"{HEADER}\n{GOOD_CONV}\n{GOOD_CONV}\n", "column 'name' repeats c1"),
])
def test_table_errors_name_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad_table.csv"
    path.write_text(text)
    with pytest.raises(WorkloadError, match=message) as error:
        load_layer_table(path)
    assert "bad_table.csv" in str(error.value)


def test_missing_table_file(tmp_path):
    with pytest.raises(WorkloadError, match=r"nowhere\.csv: cannot be read"):
        workload_from_table(tmp_path / "nowhere.csv")

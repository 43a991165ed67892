"""SCALE-Sim topology files: both forms lowered by hand-checked rules (unpadded convs, GEMM M x K . K x N), the N:M
column, the samples under workloads/scalesim/, and every malformed-row error."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from accelsim.frontend.scalesim_topology import GENERATOR, read_scalesim_topology
from accelsim.workload import WorkloadError, scalesim_conv_output_size

SAMPLES = Path(__file__).resolve().parent.parent / "workloads" / "scalesim"
CONV_HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"
GEMM_HEADER = "Layer Name, M, N, K,"


def _topology(tmp_path: Path, text: str, name: str = "topo.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_conv_row_by_hand(tmp_path):
    rows = "Conv1,     224, 224, 7, 7, 3, 64, 2,\n\tConv2, 27, 27, 5, 5, 96, 256, 1,#note after the last comma\n"
    path = _topology(tmp_path, f"{CONV_HEADER}\n\n{rows}")
    workload = read_scalesim_topology(path)
    conv1, conv2 = workload
    assert conv1.name == "Conv1" and conv1.op == "conv2d" and conv1.padding == (0, 0) and conv1.stride == (2, 2)
    assert conv1.input.shape == (1, 3, 224, 224) and conv1.weight.shape == (64, 3, 7, 7)
    assert conv1.output_shape == (1, 64, 109, 109)  # (224 - 7) // 2 + 1
    assert conv2.name == "Conv2" and conv2.output_shape == (1, 256, 23, 23)  # (27 - 5) // 1 + 1
    assert conv1.macs == 109 * 109 * 7 * 7 * 3 * 64
    # SCALE-Sim counts ceil((224 - 7 + 2) / 2) = 110 output rows here (a last window past the edge): recorded.
    assert scalesim_conv_output_size(224, 27, 7, 5, (2, 1), (0, 0), (1, 1)) == (110, 23)
    assert workload.provenance["scalesim_larger_ofmap"] == ["Conv1"]
    for layer in workload:
        assert layer.input.dtype == np.float32 and np.all(layer.input != 0) and np.all(layer.weight != 0)
    assert workload.provenance["generator"] == GENERATOR and workload.provenance["model"] == "topo"
    assert workload.provenance["nm_sparsity"] == "none in file"


def test_gemm_row_by_hand(tmp_path):
    # SCALE-Sim: ofmap (M x N) = ifmap operand (M x K) . filter operand (K x N); K is the reduction.
    layer = read_scalesim_topology(_topology(tmp_path, f"{GEMM_HEADER}\nGEMM_1, 3, 5, 16,\n"))["GEMM_1"]
    assert layer.op == "linear" and layer.input.shape == (3, 16) and layer.weight.shape == (5, 16)
    assert layer.output_shape == (3, 5) and layer.macs == 3 * 5 * 16
    assert np.all(layer.weight != 0)


def test_gemm_batch_column_lowers_to_matmul(tmp_path):
    path = _topology(tmp_path, f"{GEMM_HEADER}\nscores, 128, 128, 64, 12,\nffn, 128, 3072, 768, 2:4, 1,\n")
    workload = read_scalesim_topology(path, batch=2)
    scores, ffn = workload
    assert scores.op == "matmul" and not scores.weight_is_static
    assert scores.input.shape == (24, 128, 64) and scores.weight.shape == (24, 64, 128)
    assert ffn.op == "linear" and ffn.input.shape == (256, 768)


def test_gemm_sparsity_keeps_first_n_of_every_m_along_k(tmp_path):
    path = _topology(tmp_path, f"{GEMM_HEADER}\nA, 3, 5, 18, 1:4,\n")
    weight = read_scalesim_topology(path)["A"].weight
    assert np.array_equal(np.nonzero(weight[0])[0], np.array([0, 4, 8, 12, 16]))
    assert np.all((weight != 0) == (weight[:1] != 0))
    dense = read_scalesim_topology(path, apply_sparsity=False)
    assert np.all(dense["A"].weight != 0) and dense.provenance["nm_sparsity"].startswith("ignored")


def test_conv_sparsity_follows_scalesim_window_order(tmp_path):
    path = _topology(tmp_path, "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                               "Num Filter, Strides, Sparsity,\nCONV_1, 5, 5, 3, 3, 2, 6, 1, 2:4,\n")
    workload = read_scalesim_topology(path)
    weight = workload["CONV_1"].weight  # (K, C, R, S); SCALE-Sim's window index is (r * S + s) * C + c
    kept = [(r * 3 + s) * 2 + c for c in range(2) for r in range(3) for s in range(3) if weight[0, c, r, s] != 0]
    assert sorted(kept) == [j for j in range(18) if j % 4 < 2]
    assert np.count_nonzero(weight) == 6 * 10
    assert workload.provenance["nm_sparsity"].startswith("applied")


def test_depthwise_dp_layer_is_grouped(tmp_path):
    path = _topology(tmp_path, f"{CONV_HEADER}\nConv2_DP, 10, 10, 3, 3, 32, 1, 1,\n")
    layer = read_scalesim_topology(path)["Conv2_DP"]
    assert layer.groups == 32 and layer.weight.shape == (32, 1, 3, 3)
    # SCALE-Sim runs 32 single-channel convs of 1 filter each: 32 x 8 x 8 x 3 x 3 MACs.
    assert layer.macs == 32 * 8 * 8 * 3 * 3


def test_two_stride_header_and_repeated_names(tmp_path):
    header = ("Layer name,IFMAP height,IFMAP width,Filter height,Filter width,Channels,Num filter,Stride height,"
              "Stride width,")
    path = _topology(tmp_path, f"{header}\nL,9,9,3,3,1,2,2,1,\nL,9,9,3,3,1,2,1,1,\nL_2,5,5,1,1,1,1,1,1,\n")
    workload = read_scalesim_topology(path)
    assert [layer.name for layer in workload] == ["L", "L_2", "L_2_2"]
    assert workload["L"].stride == (2, 1) and workload["L"].output_shape == (1, 2, 4, 7)


def test_seeds_reproduce_and_differ(tmp_path):
    path = _topology(tmp_path, f"{GEMM_HEADER}\nA, 4, 6, 8,\n")
    first, again, other = (read_scalesim_topology(path, seed=seed)["A"] for seed in (1, 1, 2))
    np.testing.assert_array_equal(first.weight, again.weight)
    np.testing.assert_array_equal(first.input, again.input)
    assert not np.array_equal(first.weight, other.weight)


def test_batch_sets_conv_n(tmp_path):
    path = _topology(tmp_path, f"{CONV_HEADER}\nC, 8, 8, 3, 3, 2, 4, 1,\n")
    assert read_scalesim_topology(path, batch=3)["C"].input.shape == (3, 2, 8, 8)


def test_samples_parse():
    resnet = read_scalesim_topology(SAMPLES / "resnet18.csv")
    assert len(resnet) == 21 and resnet["Conv2_1a"].output_shape == (1, 64, 54, 54)
    expected, scalesim_macs = 0, 0  # by hand from the file's rows: the convolution's and SCALE-Sim's own count
    for line in (SAMPLES / "resnet18.csv").read_text().splitlines()[1:]:
        h, w, r, s, c, k, stride = (int(field) for field in line.split(",")[1:8])
        expected += ((h - r) // stride + 1) * ((w - s) // stride + 1) * r * s * c * k
        rows, cols = math.ceil((h - r + stride) / stride), math.ceil((w - s + stride) / stride)
        scalesim_macs += rows * cols * r * s * c * k
    assert resnet.macs == expected == 1_438_384_832
    assert scalesim_macs == 1_471_181_568  # what SCALE-Sim reports for the same file
    assert resnet.provenance["scalesim_larger_ofmap"] == ["Conv1", "Conv3_1a", "Conv3_s", "Conv4_1a", "Conv4_s",
                                                          "Conv5_1a", "Conv5_s"]
    bert = read_scalesim_topology(SAMPLES / "bert_base_encoder_gemm.csv")
    assert bert["ffn_down"].input.shape == (128, 3072) and bert["ffn_down"].weight.shape == (768, 3072)


@pytest.mark.parametrize(("text", "message"), [
    ("", "line 1: the header '' is neither"),
    ("Layer, A, B, C,\nx, 1, 2, 3,\n", "line 1: the header .* is neither SCALE-Sim's conv form"),
    (f"{CONV_HEADER}\n", "no layer rows after the header"),
    (f"{GEMM_HEADER}\nA, 3, 5, 16\n", "line 2: 3 fields before the last comma, expected 4 .*trailing comma"),
    (f"{CONV_HEADER}\nC, 8, 8, 3, 3, 2, 4,\n", "line 2: 7 fields .* expected 8"),
    (f"{CONV_HEADER}\nC, 8, 8, 3, 3, 2, 4, 1, 2:4, 7,\n", "line 2: 2 fields after the sizes, at most 1"),
    (f"{GEMM_HEADER}\nA, 3, 5, 16, 2:4, 2, 9,\n", "line 2: 3 fields after the sizes, at most 2"),
    (f"{CONV_HEADER}\nC, 8, eight, 3, 3, 2, 4, 1,\n", "line 2, column 'IFMAP Width': 'eight' is not allowed"),
    (f"{CONV_HEADER}\nC, 8, 8, 3, 3, 0, 4, 1,\n", "line 2, column 'Channels': '0' is not allowed"),
    (f"{CONV_HEADER}\nC, 8, 8, 3, 3, 2, 4, 1.5,\n", "column 'Strides': '1.5' is not allowed"),
    (f"{GEMM_HEADER}\nA, 3, -5, 16,\n", "column 'N': '-5' is not allowed"),
    (f"{CONV_HEADER}\nC, 8, 8, 9, 3, 2, 4, 1,\n", "column 'Filter Height': the filter \\(9\\) is larger"),
    (f"{CONV_HEADER}\nC, 8, 8, 3, 9, 2, 4, 1,\n", "column 'Filter Width': the filter \\(9\\) is larger"),
    (f"{CONV_HEADER}\nC, 8, 8, 3, 3, 2, 4, 1, 3:2,\n", "column 'Sparsity': '3:2' is not allowed.*1 <= N <= M"),
    (f"{CONV_HEADER}\nC, 8, 8, 3, 3, 2, 4, 1, 4,\n", "column 'Sparsity': '4' is not allowed"),
    (f"{GEMM_HEADER}\nA, 3, 5, 16, dense,\n", "column 'Sparsity or batch': 'dense' is not allowed"),
    (f"{GEMM_HEADER}\nA, 3, 5, 16, 2:4, x,\n", "column 'Batch': 'x' is not allowed"),
    (f"{GEMM_HEADER}\n, 3, 5, 16,\n", "line 2, column 'Layer name': the name is empty"),
])
def test_malformed_files_name_file_line_and_column(tmp_path, text, message):
    path = _topology(tmp_path, text, "bad_topology.csv")
    with pytest.raises(WorkloadError, match=message) as error:
        read_scalesim_topology(path)
    assert "bad_topology.csv" in str(error.value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seed": -3}, "seed must be an integer >= 0"), ({"batch": 0}, "batch must be an integer >= 1"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(WorkloadError, match=message):
        read_scalesim_topology(_topology(tmp_path, f"{GEMM_HEADER}\nA, 3, 5, 16,\n"), **kwargs)


def test_missing_file(tmp_path):
    with pytest.raises(WorkloadError, match=r"absent\.csv: cannot be read"):
        read_scalesim_topology(tmp_path / "absent.csv")

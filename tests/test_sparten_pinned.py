"""SparTen's results (its dense twin and the one-sided design included) stay bit-identical to the model before the
speed work of issue 20 (a refactoring guard: the pinned numbers are the old model's own output, see
tests/sparten_pinned_cases.py; correctness is tested in test_sparten*.py)."""

from __future__ import annotations

import json

import pytest
from sparten_pinned_cases import PINNED_FILE, cases, run_case

PINNED = json.loads(PINNED_FILE.read_text())["cases"]
CASES = cases()


def test_every_case_is_pinned():
    assert sorted(PINNED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_equal_the_pinned_ones(name):
    assert run_case(*CASES[name]) == PINNED[name]


@pytest.mark.parametrize("name", ["conv_stride2_two_sided", "conv_stride2_dense", "conv1x1_one_sided_gbs",
                                  "wide_slices_dense", "depthwise_window_chunking", "matmul_static_dense"])
def test_computing_the_output_changes_no_count(name):
    without = run_case(*CASES[name], compute_output=False)
    expected = dict(PINNED[name], output_shape=without["output_shape"], output_sha256=without["output_sha256"])
    assert without == expected

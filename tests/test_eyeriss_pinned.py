"""Eyeriss v2 / v1 / v2-pe results stay bit-identical to the model before the speed work of issue 20 (a refactoring
guard: the pinned numbers are the old model's own output, see tests/eyeriss_pinned_cases.py; correctness is tested
in tests/test_eyeriss*.py)."""

from __future__ import annotations

import json

import pytest
from eyeriss_pinned_cases import PINNED_FILE, cases, run_case

PINNED = json.loads(PINNED_FILE.read_text())["cases"]
CASES = cases()


def test_every_case_is_pinned():
    assert sorted(PINNED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_equal_the_pinned_ones(name):
    assert run_case(*CASES[name]) == PINNED[name]


@pytest.mark.parametrize("name", ["v2_conv", "v2_strips_small_glb_dense", "v1_stride2_batch2"])
def test_computing_the_output_changes_no_count(name):
    without = run_case(*CASES[name], compute_output=False)
    expected = dict(PINNED[name], output_shape=without["output_shape"], output_sha256=without["output_sha256"])
    assert without == expected

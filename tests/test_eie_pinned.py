"""EIE's results stay bit-identical to the model before the speed work of issue 20 (a refactoring guard: the pinned
numbers are the old model's own output, see tests/eie_pinned_cases.py; correctness is tested in test_eie*.py)."""

from __future__ import annotations

import json

import pytest
from eie_pinned_cases import PINNED_FILE, cases, eie_arch, run_case, summary

from accelsim.dataflows.eie import EIE

PINNED = json.loads(PINNED_FILE.read_text())["cases"]
CASES = cases()


def test_every_case_is_pinned():
    assert sorted(PINNED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_equal_the_pinned_ones(name):
    assert run_case(*CASES[name]) == PINNED[name]


@pytest.mark.parametrize("name", ["fc_batch5_8pe_fifo2_batches", "conv3x3_16pe_dense", "matmul_static_4pe"])
def test_computing_the_output_changes_no_count(name):
    layer, pes, overrides = CASES[name]
    without = summary(EIE().simulate(layer, eie_arch(pes, *overrides)))
    expected = dict(PINNED[name], output_shape=without["output_shape"], output_sha256=without["output_sha256"])
    assert without == expected

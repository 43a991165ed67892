"""DCNN's numba schedule walk (accelsim.dataflows.dcnn.jit) against numpy and as plain Python (`.py_func`, and the
whole file again under NUMBA_DISABLE_JIT=1 in `make test`)."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.dataflows.dcnn.jit import dense_schedule
from accelsim.reference import reference_output
from accelsim.workload import Layer


@pytest.mark.parametrize("variant", ["jit", "py"])
def test_one_pe_walks_its_tile_by_hand(variant):
    # One PE owning the whole 2 x 3 output of a 1-channel 3 x 4 input and a 2 x 2 filter, K = 5 in one group,
    # F = 4, I = 4: ceil(5 / 4) = 2 channel vectors x ceil(6 / 4) = 2 position vectors x 1 channel x 4 taps = 16.
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((1, 3, 4)), rng.standard_normal((5, 1, 2, 2))
    function = dense_schedule if variant == "jit" else getattr(dense_schedule, "py_func", dense_schedule)
    out = np.zeros((5, 2, 3))
    steps = function(x, weight, np.array([[0, 2]]), np.array([[0, 3]]), np.array([5]), 1, 1, 1, 1, 1, 4, 4, out)
    assert steps.tolist() == [[16]]
    layer = Layer("c", "conv2d", x[None], weight)
    np.testing.assert_allclose(out, reference_output(layer)[0])

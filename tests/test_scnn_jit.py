"""SCNN hand-computed cases: every expected number below is worked out in the comments, not read from our output.

Small arch: F = I = 2 (4 multipliers per PE), A = 4 accumulator banks with modulo mapping, 4 entries per bank
(16-entry accumulator buffer), so that bank conflicts can be followed by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.arch_configs import load_arch
from accelsim.dataflows.scnn import SCNN
from accelsim.dataflows.scnn import jit as kernel
from accelsim.reference import reference_output
from accelsim.workload import Layer


def small_arch(rows: int, cols: int, queue_depth: int = 1):
    pes = rows * cols
    return load_arch("scnn", [
        f"pe_array.rows={rows}", f"pe_array.cols={cols}", "pe_array.macs_per_pe=4",
        f"memory.iaram.instances={pes}", f"memory.oaram.instances={pes}",
        "components.accumulator.size_bytes=12",  # 4 entries of 24 bits per bank
        "dataflow.weight_vector=2", "dataflow.activation_vector=2", "dataflow.accumulator_banks=4",
        "dataflow.bank_mapping=modulo", f"dataflow.crossbar_queue_depth={queue_depth}"])


def one_pe_layer() -> Layer:
    # 1 x 4 input row [1 2 3 4], one 1 x 2 filter [5 6], no padding: 3 outputs.
    x = np.array([1.0, 2, 3, 4]).reshape(1, 1, 1, 4)
    w = np.array([5.0, 6]).reshape(1, 1, 1, 2)
    return Layer(name="one_pe", op="conv2d", input=x, weight=w)


def test_bank_of_address_modulo_and_xor_fold():
    assert kernel.bank_of_address(13, 4, kernel.MODULO) == 1
    # 13 = 0b1101: base-4 digits 1, 3 -> 1 ^ 3 = 2; 0b110110 = 54: digits 2, 1, 3 -> 2 ^ 1 ^ 3 = 0
    assert kernel.bank_of_address(13, 4, kernel.XOR_FOLD) == 2
    assert kernel.bank_of_address(54, 4, kernel.XOR_FOLD) == 0


def test_one_pe_conflicts_without_queues():
    # Activation vectors (x0, x1), (x2, x3); one weight vector (s=0: 5, s=1: 6). Output q = x - s, Q = 3.
    # Step 1: q = 0, -1 (wasted), 1, 0 -> addresses 0, 1, 0: bank 0 gets two products -> 1 wait cycle.
    # Step 2: q = 2, 1, 3 (wasted: Q = 3), 2 -> banks 2, 1, 2: bank 2 gets two -> 1 wait cycle.
    # PE cycles 2 + 2 = 4; the group's 3-entry region drains in ceil(3 / 4 banks) = 1 cycle, exposed (last group).
    layer = one_pe_layer()
    result = SCNN().simulate(layer, small_arch(1, 1, queue_depth=1), compute_output=True)
    assert result.cycles == 5
    assert result.stall_cycles["accumulator_drain"] == 1
    # 16 multiplier slots over 4 compute cycles: 6 useful, 2 wasted, 8 waiting on banks (2 cycles x 4 lanes).
    assert result.stall_cycles["bank_conflict"] == 2
    assert result.macs_issued == 8
    assert result.metrics["wasted_products"] == 2
    assert result.effectual_macs == 6
    # 1*5 + 2*6 = 17, 2*5 + 3*6 = 28, 3*5 + 4*6 = 39
    np.testing.assert_allclose(result.output, [[[[17, 28, 39]]]])


def test_one_pe_queues_absorb_the_conflicts():
    # Depth 2: step 1 puts two products in bank 0's queue (no wait); after the step's cycle bank 0 holds 1.
    # Step 2 loads banks 2 (two) and 1 (one): no queue overflows, no wait; afterwards bank 2 holds 1.
    # The group ends when that product is written: 1 tail cycle. PE cycles 2 + 1 = 3, plus the 1-cycle drain.
    result = SCNN().simulate(one_pe_layer(), small_arch(1, 1, queue_depth=2))
    assert result.cycles == 4


def two_by_two_layer() -> Layer:
    # 4 x 4 input, 3 x 3 kernel, padding 1: 4 x 4 outputs; 2 x 2 tiles of 2 x 2 on 2 x 2 PEs.
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0], x[0, 0, 0, 1], x[0, 0, 3, 3] = 1, 2, 3  # two on PE 0, one on PE 3
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 1, 1], w[0, 0, 1, 2] = 1, 10
    return Layer(name="two_by_two", op="conv2d", input=x, weight=w, padding=(1, 1))


def test_two_by_two_pes_halos_conflicts_and_barrier():
    # Every PE's output region is 3 x 3 (its 2 x 2 tile plus a one-wide halo on the inner sides), Kc = 1 (16
    # accumulator entries // 9). PE 0, region origin (0, 0): acts (0,0)=1, (0,1)=2 x weights (1,1)=1, (1,2)=10;
    # p = h + 1 - r = 0; q = w + 1 - s = 0, -1 (wasted), 1, 0 -> addresses p*3 + q = 0, 1, 0: bank 0 twice, 1 wait:
    # 2 cycles. PE 3, origin (1, 1): act (3,3)=3 (half a vector) x the same weights: q = 3, 2 -> addresses
    # (3-1)*3 + 2 = 8, 7 -> banks 0, 3: 1 cycle, 2 empty slots. PEs 1, 2: nothing.
    # Group time 2 (PE 0); barrier PE-cycles 0 + 2 + 2 + 1 = 5. Drain ceil(9 / 4) = 3 cycles. Total 5.
    layer = two_by_two_layer()
    result = SCNN().simulate(layer, small_arch(2, 2), compute_output=True)
    assert result.cycles == 5
    assert result.stall_cycles["accumulator_drain"] == 3
    # Slots: 2 cycles x 4 PEs x 4 lanes = 32: 5 useful, 1 wasted, 2 empty, 4 conflict (1 x 4), 20 barrier (5 x 4).
    # As cycles (x 2 / 32): barrier 1.25 -> 1, conflict 0.25 -> 0.
    assert result.stall_cycles["barrier"] == 1
    assert result.macs_issued == 6 and result.effectual_macs == 5
    # Each PE owns 2 x 2 outputs of its 3 x 3 region: 5 halo partial sums per PE go to neighbours.
    assert result.metrics["halo_partial_sums"] == 20
    np.testing.assert_allclose(result.output, reference_output(layer))
    assert result.output[0, 0, 0, 0] == 21 and result.output[0, 0, 3, 2] == 30


def test_two_by_two_kernel_counters():
    from accelsim.dataflows.scnn.mapping import plan_conv
    from accelsim.dataflows.scnn.walk import cartesian_walk

    layer = two_by_two_layer()
    m = plan_conv(layer.input, layer.weight, layer.dims, layer.stride, layer.padding, layer.dilation, 2, 2, 16,
                  True, True, 15)
    assert (m.region_h, m.region_w, m.kc) == (3, 3, 1)
    assert list(m.region_p0) == [0, 0, 1, 1] and list(m.region_q0) == [0, 1, 0, 1]
    out = np.zeros((1, 1, 4, 4))
    config = small_arch(2, 2).dataflow.config
    pe_cycles, c = cartesian_walk(m, (4, 4), (1, 1), (1, 1), (1, 1), True, config, 4, out, True)
    assert list(pe_cycles[0, 0]) == [2, 0, 0, 1]
    assert c[kernel.STEPS] == 2 and c[kernel.CONFLICT_CYCLES] == 1
    assert c[kernel.PRODUCTS] == 6 and c[kernel.VALID_PRODUCTS] == 5 and c[kernel.EMPTY_SLOTS] == 2


def test_region_larger_than_the_accumulator_is_refused():
    layer = Layer(name="big", op="conv2d", input=np.ones((1, 1, 40, 40)), weight=np.ones((1, 1, 3, 3)),
                  padding=(1, 1))
    with pytest.raises(ValueError, match="accumulator buffer"):
        SCNN().simulate(layer, small_arch(1, 1))

"""The systolic array's DRAM traffic walked fold by fold (accelsim.dataflows.systolic.dram_walk), on cases worked by
hand: the first fetch, a window's fetches that outlast their fold, outputs queued in the ofmap SRAM, partial sums
spilled, per-operand ports, and a network hiding the next layer's weights under the previous layer's last fold."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.arch import apply_overrides
from accelsim.arch_configs import arch_from_dict
from accelsim.dataflows.systolic import Systolic
from accelsim.simulate import simulate
from accelsim.workload import Layer, Workload


def sram(size: int) -> dict:
    # explicit energies: these sizes are below what the energy table covers
    return {"kind": "sram", "size_bytes": size, "width_bits": 8, "double_buffered": True, "read_energy_pj": 1.0,
            "write_energy_pj": 1.0}


def tiny_arch(stationary: str, ifmap: int, filter_: int, ofmap: int, *overrides: str):
    raw = {"name": "walk", "clock_mhz": 100, "pe_array": {"rows": 2, "cols": 2}, "explicit_energy_node_nm": 45,
           "data": {"weight_bits": 8, "activation_bits": 8, "accumulator_bits": 32},
           "memory": {"ifmap_sram": sram(ifmap), "filter_sram": sram(filter_), "ofmap_sram": sram(ofmap),
                      "dram": {"kind": "dram", "technology": "lpddr4", "width_bits": 8,
                               "bandwidth_bytes_per_cycle": 2.0}},
           "dataflow": {"kind": "systolic", "stationary": stationary, "ofmap_size": "scalesim"}}
    return arch_from_dict(apply_overrides(raw, list(overrides)))


def linear(tokens: int, features: int, outputs: int, name: str = "fc") -> Layer:
    rng = np.random.default_rng(tokens * 100 + features)
    return Layer(name, "linear", rng.standard_normal((tokens, features)) + 3.0,
                 rng.standard_normal((outputs, features)) + 3.0)


def test_output_stationary_by_hand():
    # OS on 2x2, M = 4 tokens, reduction 3, K = 2: 2 row folds x 1 column fold of T + R + C - 2 = 5 cycles; compute
    # 2 * 5 - 1 = 9 (SCALE-Sim's last-cycle index). Input 12 B does not fit half the 8 B ifmap SRAM: each fold fetches
    # its half of it (6 B); the 6 B of weights fit half the 16 B filter SRAM: fetched once. At 2 B/cycle: first
    # fetch 6 + 6 = 12 B = 6 cycles (3 of them weights); fold 1's 6 B take 3 cycles, under fold 0's 5; fold 0's
    # 4 outputs drain during fold 1; fold 1's 4 outputs drain after it: 2 cycles. 6 + 9 + 0 + 2 = 17.
    result = Systolic().simulate(linear(4, 3, 2), tiny_arch("os", 8, 16, 8))
    assert result.metrics["compute_cycles"] == 9
    assert dict(result.stall_cycles)["first_fetch"] == 6 and result.stall_cycles["memory_bandwidth"] == 0
    assert result.stall_cycles["final_drain"] == 2 and result.cycles == 17
    assert result.hideable_first_fetch_cycles == 3
    assert result.prefetch_window_cycles == 5 - 2  # the last fold's window drains fold 0's 4 B: 2 cycles busy
    assert result.actions[("dram", "read")] == 12 + 6 and result.actions[("dram", "write")] == 8
    assert result.actions[("ifmap_sram", "write")] == 12 and result.actions[("filter_sram", "write")] == 6
    assert result.actions[("ofmap_sram", "read")] == 8  # everything drained to DRAM leaves through it


def test_a_window_slower_than_its_fold_stalls_the_array():
    # The same layer at 1 B/cycle: first fetch 12 cycles; fold 1's 6 B take 6 cycles under fold 0's 5: 1 stall;
    # fold 0's outputs (4 B) drain in fold 1's window (5 cycles >= 4); fold 1's 4 B after it: 4. 12 + 9 + 1 + 4.
    result = Systolic().simulate(linear(4, 3, 2), tiny_arch("os", 8, 16, 8,
                                                            "memory.dram.bandwidth_bytes_per_cycle=1"))
    assert (result.stall_cycles["first_fetch"], result.stall_cycles["memory_bandwidth"],
            result.stall_cycles["final_drain"], result.cycles) == (12, 1, 4, 26)


def test_outputs_queue_in_the_ofmap_sram_and_stall_only_when_it_overflows():
    # OS, M = 8 tokens, reduction 1, K = 2, everything resident (1 MB SRAMs): 4 row folds of 1 + 2 + 2 - 2 = 3
    # cycles. Each fold finishes 2 x 2 = 4 outputs, queued in the ofmap SRAM and drained in the next window through
    # its own port. At 1 B/cycle a window drains 3 B: the backlog grows 1, 2, 3 after windows 1-3, never near 1 MB,
    # so no stall, and the end drains 3 + the last fold's 4 B: 7 cycles. At 0.5 B/cycle into a 4 B ofmap: 1.5 B a
    # window; backlog 2.5 after window 1, 5 after window 2 (over by 1: 2 cycles' wait, back to 4), 6.5 after window
    # 3 (over by 2.5: 5 cycles): 7 stall cycles, and the end drains (4 + 4) / 0.5 = 16.
    layer = linear(8, 1, 2)
    big = tiny_arch("os", 1 << 20, 1 << 20, 1 << 20, "memory.ofmap_sram.port_bandwidth_bytes_per_cycle=1")
    result = Systolic().simulate(layer, big)
    assert result.stall_cycles["memory_bandwidth"] == 0 and result.stall_cycles["final_drain"] == 7
    small = tiny_arch("os", 1 << 20, 1 << 20, 4, "memory.ofmap_sram.port_bandwidth_bytes_per_cycle=0.5",
                      "memory.ofmap_sram.width_bits=8")
    result = Systolic().simulate(layer, small)
    assert result.stall_cycles["memory_bandwidth"] == 7 and result.stall_cycles["final_drain"] == 16


def test_weight_stationary_partial_sums_spill_and_come_back():
    # WS, M = 3 tokens, reduction 4, K = 2: 2 row folds (reduction rows 2 + 2) x 1 column fold of 2R + C + T - 2
    # = 7 cycles. The column fold's partial sums (3 x 2 at 4 B = 24 B) do not fit half the 32 B ofmap SRAM: row
    # fold 0 writes them, row fold 1 reads them back (24 B each way); its final outputs (6 B) drain at the end.
    # Operands resident (1 MB): first fetch 12 + 8 = 20 B. Ports: ifmap 4, filter 4, ofmap 2 B/cycle. First fetch:
    # max(12 / 4, 8 / 4) = 3 (hideable: 3 - 3 = 0: the input sets it). Window 0: the 24 B written queue in the ofmap
    # (7 x 2 = 14 B drained, 10 left). Window 1: reading 24 B back takes its port 12 cycles against a 7-cycle fold:
    # 5 stall, and no drain meanwhile. The end drains 10 + 6 B: 8 cycles. 3 + 13 + 5 + 8 = 29.
    ports = [f"memory.{name}.port_bandwidth_bytes_per_cycle={rate}"
             for name, rate in (("ifmap_sram", 4), ("filter_sram", 4), ("ofmap_sram", 2))]
    result = Systolic().simulate(linear(3, 4, 2), tiny_arch("ws", 1 << 20, 1 << 20, 32, *ports))
    assert result.metrics["compute_cycles"] == 13
    assert (result.stall_cycles["first_fetch"], result.stall_cycles["memory_bandwidth"],
            result.stall_cycles["final_drain"], result.cycles) == (3, 5, 8, 29)
    assert result.metrics["partial_sums_read_back_bytes"] == 24
    assert result.actions[("dram", "write")] == 24 + 6 and result.actions[("dram", "read")] == 20 + 24
    assert any("partial sums do not fit" in note for note in result.notes)


def test_a_network_hides_the_weights_of_the_next_first_fetch():
    # Two copies of the first test's layer back to back: the second's first fetch (6 cycles, 3 of them its weights)
    # hides 3 under the first layer's prefetch window (3 cycles): 17 + 14.
    arch = tiny_arch("os", 8, 16, 8)
    result = simulate(Workload([linear(4, 3, 2, "a"), linear(4, 3, 2, "b")], {"model": "two"}), arch,
                      dense_reference=False)
    first, second = (row.result for row in result.rows)
    assert (first.cycles, second.cycles) == (17, 14)
    assert second.stall_cycles["first_fetch"] == 3 and any("previous layer's last fold" in n for n in second.notes)
    # Alone, nothing is hidden.
    alone = simulate(Workload([linear(4, 3, 2, "b")], {"model": "one"}), arch, dense_reference=False)
    assert alone.rows[0].result.cycles == 17


@pytest.mark.parametrize("stationary", ["os", "ws", "is"])
def test_unlimited_bandwidth_costs_nothing(stationary):
    layer = linear(9, 7, 5)
    result = Systolic().simulate(layer, tiny_arch(stationary, 16, 16, 16, "memory.dram.bandwidth_bytes_per_cycle=null"))
    assert result.cycles == result.metrics["compute_cycles"]
    assert all(result.stall_cycles[cause] == 0 for cause in ("memory_bandwidth", "first_fetch", "final_drain"))

"""The EIE dataflow: its schedule computes the layer with the codebook's weights, its cycles and actions add up,
and it fails loudly on what it cannot run. Hand-worked cycle examples are in tests/test_eie_jit.py."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.arch import ArchError
from accelsim.arch_configs import load_arch
from accelsim.dataflows.eie import EIE
from accelsim.dataflows.shared.weight_sharing import fit_codebook
from accelsim.reference import effectual_macs, reference_output
from accelsim.simulate import simulate
from accelsim.workload import Layer, Workload


def eie_arch(pes: int = 4, *overrides: str):
    return load_arch("eie", [f"pe_array.cols={pes}", f"memory.spmat_sram.instances={pes}",
                             f"memory.ptr_sram.instances={2 * pes}", f"memory.act_sram.instances={pes}",
                             *overrides])


def sparse(rng, shape, density):
    return (rng.standard_normal(shape) * (rng.random(shape) < density)).astype(np.float32)


def linear(rng, n=1, c=40, k=30, weight_density=0.2, input_density=0.5):
    return Layer(name="fc", op="linear", input=sparse(rng, (n, c), input_density),
                 weight=sparse(rng, (k, c), weight_density))


def with_shared_weights(layer: Layer, index_bits: int = 4) -> Layer:
    codebook = fit_codebook(layer.weight.reshape(layer.weight.shape[0], -1), index_bits=index_bits)
    return Layer(name=layer.name, op=layer.op, input=layer.input, weight=codebook.quantize(layer.weight),
                 stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups)


def layers(rng):
    return [
        linear(rng),
        linear(rng, n=3, c=70, k=90),  # three vectors; 90 outputs on 4 PEs = 23 local rows
        Layer(name="conv", op="conv2d", input=sparse(rng, (2, 4, 7, 6), 0.6), weight=sparse(rng, (6, 2, 3, 3), 0.4),
              stride=2, padding=1, groups=2),
    ]


@pytest.mark.parametrize("index", range(3))
@pytest.mark.parametrize("dense", [False, True])
def test_output_equals_the_reference_with_shared_weights(index, dense):
    layer = layers(np.random.default_rng(index))[index]
    overrides = ["components.dst_act_regs.size_bytes=8"]  # 4 rows per PE: several output batches
    if dense:
        overrides += ["dataflow.skip_zero_weights=false", "dataflow.skip_zero_activations=false"]
    result = EIE().simulate(layer, eie_arch(4, *overrides), compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(with_shared_weights(layer)), rtol=1e-9, atol=1e-9)
    assert result.effectual_macs == effectual_macs(layer)  # counted by the schedule when it skips both zeros


def test_cycles_split_on_the_hand_example():
    # tests/test_eie_jit.py works this 4-PE example by hand at FIFO depth 2: 5 cycles; 10 entries and 5 empty
    # columns; 5 idle PE-cycles, 4 of them in cycle 0 waiting for the first broadcast; the scan's one cycle (c3)
    # starves no PE. Plus 3 drain cycles.
    from test_eie_jit import hand_example

    layer = Layer(name="hand", op="linear", input=np.ones((1, 3)), weight=hand_example())
    result = EIE().simulate(layer, eie_arch(4, "dataflow.fifo_depth=2"))
    assert result.cycles == 8
    assert dict(result.stall_cycles) == {"pipeline_fill": 4, "format_overhead": 1, "activation_scan": 0,
                                         "load_imbalance": 0}
    assert result.metrics["scan_cycles"] == 1
    assert result.metrics["fifo_empty_pe_cycles"] == 1  # starved: the first cycle is pipeline latency
    assert result.metrics["load_balance_efficiency"] == pytest.approx(1 - 1 / 20)
    assert result.metrics["empty_column_pe_cycles"] == 5
    assert result.macs_issued == result.effectual_macs == 10


def test_padding_costs_cycles():
    # One PE, one column of 40 rows with a nonzero at row 39: two padding entries (rows 15 and 31) before it.
    weight = np.zeros((40, 1))
    weight[39, 0] = 1.0
    layer = Layer(name="pad", op="linear", input=np.ones((1, 1)), weight=weight)
    result = EIE().simulate(layer, eie_arch(1))
    assert result.metrics["padding_entries"] == 2 and result.metrics["stored_entries"] == 3
    assert result.cycles == 1 + 3 + 3  # wait for the broadcast, three entries, drain
    assert result.macs_issued == 3 and result.effectual_macs == 1


def test_action_counts_follow_the_work():
    rng = np.random.default_rng(2)
    layer = linear(rng, c=64, k=16, weight_density=1.0, input_density=1.0)  # dense: 4 local rows per PE on 4 PEs
    result = EIE().simulate(layer, eie_arch(4))
    a = result.actions
    assert a[("mac", "compute")] == 64 * 16 == result.macs_issued
    assert a[("codebook", "read")] == 64 * 16
    assert a[("ptr_sram", "read")] == 2 * 64 * 4  # every PE reads two pointers per broadcast column
    assert a[("act_fifo", "write")] == 64 * 4 and a[("act_broadcast", "transfer")] == 64 * 4
    # 4 entries per column, 8 per line: each column's entries sit in one line except where a column straddles
    # two lines; columns start at 0, 4, 8, ...: never straddling. 64 columns x 4 PEs.
    assert a[("spmat_sram", "read")] == 64 * 4
    assert a[("dst_act_regs", "write")] == 64 * 16
    assert a[("src_act_regs", "read")] == 64 and a[("ccu", "cycle")] == result.cycles
    assert a[("act_sram", "write")] == 0  # one round: the outputs stay in the destination registers


@pytest.mark.parametrize(("n", "k", "regs_bytes", "source", "reads", "writes"), [
    (1, 16, 128, "src_act_regs", 64, 0),  # one vector, one round
    (4, 16, 128, "act_sram", 4 * 64, 4 * 16),  # four vectors live in the SRAM; each round writes its outputs
    (1, 40, 4, "src_act_regs", 5 * 64, 40),  # 40 rows on 4 PEs, 2 per round: 5 batches, each reads the input
])
def test_activation_reads_and_writes(n, k, regs_bytes, source, reads, writes):
    layer = linear(np.random.default_rng(3), n=n, c=64, k=k, weight_density=0.5)
    result = EIE().simulate(layer, eie_arch(4, f"components.dst_act_regs.size_bytes={regs_bytes}"))
    assert result.actions[(source, "read")] == reads
    assert result.actions[("act_sram", "write")] == writes


def test_matmul_with_static_weights_runs_per_matrix():
    rng = np.random.default_rng(12)
    layer = Layer(name="bmm", op="matmul", input=sparse(rng, (3, 2, 5), 0.7), weight=sparse(rng, (3, 5, 6), 0.5))
    result = EIE().simulate(layer, eie_arch(2), compute_output=True)
    np.testing.assert_allclose(result.output, reference_output(with_shared_weights(layer)), rtol=1e-9, atol=1e-9)
    assert result.actions[("act_sram", "read")] == 3 * 2 * 5  # three matrices, two vectors each, five inputs
    assert result.effectual_macs == effectual_macs(layer)


def test_empty_operands_take_no_compute():
    rng = np.random.default_rng(13)
    no_activations = Layer(name="a0", op="linear", input=np.zeros((1, 30)), weight=sparse(rng, (20, 30), 0.5))
    result = EIE().simulate(no_activations, eie_arch(4), compute_output=True)
    # The CCU still scans the 8 rows of 4 activations (the first cycle is the round's fill), and nothing drains.
    assert result.cycles == 8 and result.macs_issued == 0 and not result.output.any()
    assert dict(result.stall_cycles) == {"pipeline_fill": 1, "format_overhead": 0, "activation_scan": 7,
                                         "load_imbalance": 0}
    ideal = EIE().simulate(no_activations, eie_arch(4, "dataflow.activation_scan=ideal"))
    assert ideal.cycles == 0
    no_weights = Layer(name="w0", op="linear", input=np.ones((1, 30)), weight=np.zeros((20, 30)))
    result = EIE().simulate(no_weights, eie_arch(4), compute_output=True)
    # Every broadcast still costs each PE a pointer read; the FIFO keeps up: 30 broadcasts, 1 + 30 cycles (the
    # scan leaves the partial last row while the PEs do column 29).
    assert result.macs_issued == 0 and result.metrics["empty_column_pe_cycles"] == 4 * 30
    assert result.cycles == 1 + 30 + 3 and not result.output.any()


def test_the_dense_twin_is_slower_and_the_run_reports_it():
    rng = np.random.default_rng(4)
    workload = Workload(layers=(linear(rng, c=200, k=120, weight_density=0.1, input_density=0.4),),
                        provenance={"model": "test"})
    result = simulate(workload, eie_arch(4))
    row = result.rows[0]
    assert row.dense_cycles > 5 * row.result.cycles  # 4% of the MACs are effectual
    assert result.speedup == pytest.approx(row.dense_cycles / row.result.cycles)
    data = result.as_dict()
    assert "load_balance_efficiency" in data["layers"][0]["metrics"]
    energy = row.energy_pj
    assert energy["sram"] > 0 and energy["mac"] > 0 and energy["register_file"] > 0 and energy["logic"] > 0
    assert energy["dram"] == 0  # EIE holds every weight on chip


def test_conv_and_batch_mappings_are_stated():
    rng = np.random.default_rng(6)
    conv, batch = layers(rng)[2], linear(rng, n=3)
    assert any("matrix-vector products" in note for note in EIE().simulate(conv, eie_arch()).notes)
    assert any("3 input vectors" in note for note in EIE().simulate(batch, eie_arch()).notes)


def test_outputs_beyond_the_registers_run_in_batches():
    layer = linear(np.random.default_rng(7), c=20, k=100)
    result = EIE().simulate(layer, eie_arch(4, "components.dst_act_regs.size_bytes=16"))  # 8 rows per PE
    assert result.metrics["rounds"] == 4  # 25 local rows / 8
    assert any("4 batches" in note for note in result.notes)


def test_attention_products_are_refused():
    rng = np.random.default_rng(8)
    layer = Layer(name="qk", op="matmul", input=rng.standard_normal((2, 3, 4)), weight=rng.standard_normal((2, 4, 5)),
                  weight_is_static=False)
    with pytest.raises(ValueError, match="product of two activations"):
        EIE().simulate(layer, eie_arch())


def test_capacity_problems_are_reported():
    layer = linear(np.random.default_rng(9), c=4000, k=64, weight_density=0.5)
    result = EIE().simulate(layer, eie_arch(1, "memory.spmat_sram.size_bytes=8192", "dataflow.pointer_bits=12"))
    notes = " ".join(result.notes)
    assert "weights do not fit on chip" in notes and "12-bit pointer cannot address" in notes
    assert "act_sram holds 1024" in notes  # 4,000 inputs on one PE


def test_capacity_counts_every_group():
    # Two groups of 8 x 36 dense weights: 288 entries (288 bytes) each, 576 together, over a 512-byte Spmat.
    rng = np.random.default_rng(10)
    layer = Layer(name="g", op="conv2d", input=rng.standard_normal((1, 8, 5, 5)), weight=np.ones((16, 4, 3, 3)),
                  groups=2)
    result = EIE().simulate(layer, eie_arch(1, "memory.spmat_sram.size_bytes=512"))
    assert any("576 entries" in note for note in result.notes)


@pytest.mark.parametrize(("overrides", "message"), [
    (["pe_array.cols=32"], "instances is 64 but must be 32"),
    (["dataflow.fifo_depth=16"], "act_fifo holds 32 bytes"),
    (["dataflow.relative_index_bits=5"], "multiple of one entry"),
    (["dataflow.fifo_deep=4"], "fifo_depth"),
])
def test_bad_archs_fail_loudly(overrides, message):
    with pytest.raises(ArchError, match=message):
        load_arch("eie", overrides)

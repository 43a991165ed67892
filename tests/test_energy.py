"""Energy pricing: table lookup, capacity interpolation, node scaling, breakdown by category; hand-computed."""

from __future__ import annotations

import math

import pytest
import yaml
from arch_samples import GOOD

from accelsim.arch import ArchError, apply_overrides
from accelsim.arch_configs import arch_from_dict
from accelsim.energy import EnergyModel, SizePoint, interpolate_per_bit, load_energy_table, node_scaling
from accelsim.results import ActionCounts

TABLE = {
    "name": "test", "node_nm": 45,
    "mac_pj": {"int16": 1.0, "int8": 0.25},
    "register_file": [{"size_bytes": 32, "read_pj_per_bit": 0.01, "write_pj_per_bit": 0.02}],
    "sram": [{"size_bytes": 1024, "read_pj_per_bit": 0.1, "write_pj_per_bit": 0.2},
             {"size_bytes": 16384, "read_pj_per_bit": 0.5, "write_pj_per_bit": 0.6}],
    "noc_pj_per_bit_per_hop": 0.05, "dram_pj_per_bit": 10.0, "leakage_mw_per_kb_sram": 0.5,
}


@pytest.fixture
def table_path(tmp_path):
    path = tmp_path / "test_table.yaml"
    path.write_text(yaml.safe_dump(TABLE))
    return path


def arch_with(table_path, *overrides):
    return arch_from_dict(apply_overrides(GOOD, [f"energy_table={table_path}", *overrides]))


def test_shipped_tables_load():
    table = load_energy_table("45nm")
    assert table.node_nm == 45 and table.mac_pj["int8"] == pytest.approx(0.3)  # Horowitz: 0.2 mult + 0.1 add
    assert node_scaling().dynamic_energy_factor[45] == 1.0


def test_interpolation_is_linear_in_log_size():
    points = [SizePoint(**p) for p in TABLE["sram"]]
    assert interpolate_per_bit(points, 1024, "x") == (0.1, 0.2)
    # 4096 B is halfway between 1 KB and 16 KB in log2 (10, 12, 14): 0.1 + 0.5 * 0.4 = 0.3.
    read, write = interpolate_per_bit(points, 4096, "x")
    assert read == pytest.approx(0.3) and write == pytest.approx(0.4)
    with pytest.raises(ArchError, match="outside what the energy table covers"):
        interpolate_per_bit(points, 128, "x")


def test_prices_and_breakdown_by_hand(table_path):
    # GOOD: 16-bit int operands (mac int16 = 1.0 pJ), three 4 KB SRAMs of 64-bit accesses, 64-bit DRAM.
    model = EnergyModel.for_arch(arch_with(table_path))
    assert model.prices_pj[("mac", "compute")] == 1.0
    assert model.prices_pj[("ifmap_sram", "read")] == pytest.approx(0.3 * 64)
    assert model.prices_pj[("ofmap_sram", "write")] == pytest.approx(0.4 * 64)
    assert model.prices_pj[("dram", "read")] == pytest.approx(10.0 * 64)
    actions = ActionCounts({("mac", "compute"): 100, ("ifmap_sram", "read"): 10, ("dram", "write"): 2})
    breakdown = model.breakdown_pj(actions, latency_s=1e-6)
    assert breakdown["mac"] == pytest.approx(100.0)
    assert breakdown["sram"] == pytest.approx(10 * 19.2)
    assert breakdown["dram"] == pytest.approx(2 * 640.0)
    # Leakage from the table: 3 x 4 KB of SRAM x 0.5 mW/KB = 6 mW for 1 µs = 6 nJ = 6000 pJ.
    assert model.leakage_mw == pytest.approx(6.0)
    assert breakdown["leakage"] == pytest.approx(6000.0)


def test_explicit_energies_and_leakage_override_the_table(table_path):
    arch = arch_with(table_path, "memory.ifmap_sram.read_energy_pj=7.5", "mac_energy_pj=2", "leakage_mw=1")
    model = EnergyModel.for_arch(arch)
    assert model.prices_pj[("ifmap_sram", "read")] == 7.5
    assert model.prices_pj[("mac", "compute")] == 2.0
    assert model.leakage_mw == 1.0


def test_node_scaling_is_explicit_and_spares_dram(table_path):
    factor = node_scaling().dynamic_energy_factor[16]
    model = EnergyModel.for_arch(arch_with(table_path, "technology_nm=16"))
    assert model.prices_pj[("mac", "compute")] == pytest.approx(1.0 * factor)
    assert model.prices_pj[("ifmap_sram", "read")] == pytest.approx(0.3 * 64 * factor)
    assert model.prices_pj[("dram", "read")] == pytest.approx(640.0)
    assert any("scaled" in note and "16 nm" in note for note in model.notes)
    with pytest.raises(ArchError, match="no scaling factor for \\[3\\] nm"):
        EnergyModel.for_arch(arch_with(table_path, "technology_nm=3"))


def test_unpriced_actions_fail_loudly(table_path):
    model = EnergyModel.for_arch(arch_with(table_path))
    with pytest.raises(ArchError, match="no energy price for actions \\[\\('codebook', 'lookup'\\)\\]"):
        model.breakdown_pj(ActionCounts({("codebook", "lookup"): 1}), 0.0)


def test_components_are_priced(table_path):
    arch = arch_with(table_path, "components={noc: {kind: noc, width_bits: 16, hops: 2}, "
                                 "codebook: {kind: logic, energy_pj: {lookup: 0.7}}, "
                                 "rf: {kind: register_file, size_bytes: 32, width_bits: 16}}")
    model = EnergyModel.for_arch(arch)
    assert model.prices_pj[("noc", "transfer")] == pytest.approx(0.05 * 16 * 2)
    assert model.prices_pj[("codebook", "lookup")] == 0.7
    assert model.prices_pj[("rf", "write")] == pytest.approx(0.02 * 16)
    breakdown = model.breakdown_pj(ActionCounts({("codebook", "lookup"): 10, ("noc", "transfer"): 1}), 0.0)
    assert breakdown["logic"] == pytest.approx(7.0) and breakdown["noc"] == pytest.approx(1.6)


def test_missing_mac_precision(table_path):
    with pytest.raises(ArchError, match="no MAC entry for 'fp16'"):
        EnergyModel.for_arch(arch_with(table_path, "data.arithmetic=fp"))


def test_unknown_table_name():
    with pytest.raises(ArchError, match="Did you mean '45nm'"):
        EnergyModel.for_arch(arch_from_dict(apply_overrides(GOOD, ["energy_table=45mn"])))


def test_action_counts_reject_bad_entries():
    with pytest.raises(ValueError, match="non-negative integer"):
        ActionCounts({("mac", "compute"): -1})
    with pytest.raises(ValueError, match="pair of strings"):
        ActionCounts({"mac": 1})
    merged = ActionCounts({("mac", "compute"): 2}) + ActionCounts({("mac", "compute"): 3, ("dram", "read"): 1})
    assert merged[("mac", "compute")] == 5 and merged.as_flat_dict() == {"dram.read": 1, "mac.compute": 5}
    assert math.isclose(len(merged), 2)

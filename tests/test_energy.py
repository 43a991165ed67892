"""Energy pricing: table lookup, capacity interpolation, node scaling, DRAM by technology, leakage, explicit energies
following the node, breakdown by category. Expected values are hand-computed from the tables' numbers: the test table
below, dram.yaml (lpddr4 8 pJ/bit, hbm2 3.97, ddr3 20) and scaling.yaml (16 nm: 0.226 of 45 nm)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml
from arch_samples import GOOD

from accelsim.arch import ArchError, apply_overrides
from accelsim.arch_configs import arch_from_dict, load_arch
from accelsim.energy import (
    EnergyModel,
    SizePoint,
    dram_technologies,
    interpolate_per_bit,
    load_energy_table,
    node_scaling,
)
from accelsim.results import ActionCounts

TABLE = {
    "name": "test", "node_nm": 45,
    "mac_pj": {"int16": 1.0, "int8": 0.25},
    "register_file": [{"size_bytes": 32, "read_pj_per_bit": 0.01, "write_pj_per_bit": 0.02}],
    "sram": [{"size_bytes": 1024, "read_pj_per_bit": 0.1, "write_pj_per_bit": 0.2},
             {"size_bytes": 16384, "read_pj_per_bit": 0.5, "write_pj_per_bit": 0.6}],
    "noc_pj_per_bit_per_hop": 0.05, "leakage_mw_per_kb_sram": 0.5,
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
    # GOOD: 16-bit int operands (mac int16 = 1.0 pJ), three 4 KB SRAMs of 64-bit accesses, 64-bit LPDDR4 DRAM
    # (dram.yaml: 8 pJ/bit).
    model = EnergyModel.for_arch(arch_with(table_path))
    assert model.prices_pj[("mac", "compute")] == 1.0
    assert model.prices_pj[("ifmap_sram", "read")] == pytest.approx(0.3 * 64)
    assert model.prices_pj[("ofmap_sram", "write")] == pytest.approx(0.4 * 64)
    assert model.prices_pj[("dram", "read")] == pytest.approx(8.0 * 64)
    actions = ActionCounts({("mac", "compute"): 100, ("ifmap_sram", "read"): 10, ("dram", "write"): 2})
    breakdown = model.breakdown_pj(actions, latency_s=1e-6)
    assert breakdown["mac"] == pytest.approx(100.0)
    assert breakdown["sram"] == pytest.approx(10 * 19.2)
    assert breakdown["dram"] == pytest.approx(2 * 512.0)
    # Leakage from the table: 3 x 4 KB of SRAM x 0.5 mW/KB = 6 mW for 1 µs = 6 nJ = 6000 pJ.
    assert model.leakage_mw == pytest.approx(6.0)
    assert breakdown["leakage"] == pytest.approx(6000.0)


def test_explicit_energies_and_leakage_override_the_table(table_path):
    arch = arch_with(table_path, "memory.ifmap_sram.read_energy_pj=7.5", "mac_energy_pj=2", "leakage_mw=1",
                     "explicit_energy_node_nm=45")
    model = EnergyModel.for_arch(arch)
    assert model.prices_pj[("ifmap_sram", "read")] == 7.5
    assert model.prices_pj[("mac", "compute")] == 2.0
    assert model.leakage_mw == 1.0


EXPLICIT = ("memory.ifmap_sram.read_energy_pj=7.5", "memory.dram.read_energy_pj=100", "mac_energy_pj=2",
            "leakage_mw=1", "components={codebook: {kind: logic, energy_pj: {lookup: 0.7}}}")


def test_explicit_energies_follow_technology_nm(table_path):
    # Given at 45 nm, priced at 16 nm: every on-chip explicit number x0.226 (scaling.yaml), the DRAM's unscaled.
    model = EnergyModel.for_arch(arch_with(table_path, *EXPLICIT, "explicit_energy_node_nm=45", "technology_nm=16"))
    assert model.prices_pj[("ifmap_sram", "read")] == pytest.approx(7.5 * 0.226)
    assert model.prices_pj[("mac", "compute")] == pytest.approx(2 * 0.226)
    assert model.prices_pj[("codebook", "lookup")] == pytest.approx(0.7 * 0.226)
    assert model.leakage_mw == pytest.approx(1 * 0.226)
    assert model.prices_pj[("dram", "read")] == 100.0
    assert any("given at 45 nm, scaled x0.226 to 16 nm" in note for note in model.notes)
    # Given at 16 nm and priced there: as given. Given at 16 nm, priced at 45 nm: divided by 0.226.
    at_16 = EnergyModel.for_arch(arch_with(table_path, *EXPLICIT, "explicit_energy_node_nm=16", "technology_nm=16"))
    assert at_16.prices_pj[("mac", "compute")] == 2.0
    back = EnergyModel.for_arch(arch_with(table_path, *EXPLICIT, "explicit_energy_node_nm=16"))
    assert back.prices_pj[("mac", "compute")] == pytest.approx(2 / 0.226)


def test_explicit_energies_need_their_node(table_path):
    needs_node = re.escape("explicit_energy_node_nm: required when the arch gives its own on-chip energies "
                           "(mac_energy_pj, components.codebook.energy_pj)")
    with pytest.raises(ArchError, match=needs_node):
        EnergyModel.for_arch(arch_with(table_path, "mac_energy_pj=2",
                                       "components={codebook: {kind: logic, energy_pj: {lookup: 0.7}}}"))
    with pytest.raises(ArchError, match=r"no scaling factor for \[3\] nm"):
        EnergyModel.for_arch(arch_with(table_path, "mac_energy_pj=2", "explicit_energy_node_nm=3"))
    # An explicit DRAM energy is off chip and needs no node.
    model = EnergyModel.for_arch(arch_with(table_path, "memory.dram.write_energy_pj=300"))
    assert model.prices_pj[("dram", "write")] == 300.0


def test_leakage_scales_with_the_node(table_path):
    # 3 x 4 KB of SRAM x 0.5 mW/KB = 6 mW at 45 nm; at 16 nm x0.226 = 1.356 mW, charged for the latency.
    model = EnergyModel.for_arch(arch_with(table_path, "technology_nm=16"))
    assert model.leakage_mw == pytest.approx(6.0 * 0.226)
    assert model.breakdown_pj(ActionCounts({}), latency_s=1e-6)["leakage"] == pytest.approx(1356.0)
    assert any("SRAM leakage scaled x0.226" in note for note in model.notes)


def test_a_table_without_leakage_needs_leakage_mw(tmp_path):
    path = tmp_path / "no_leakage.yaml"
    path.write_text(yaml.safe_dump({key: value for key, value in TABLE.items() if key != "leakage_mw_per_kb_sram"}))
    with pytest.raises(ArchError, match="leakage_mw: the energy table test has no leakage_mw_per_kb_sram"):
        EnergyModel.for_arch(arch_with(path))
    model = EnergyModel.for_arch(arch_with(path, "leakage_mw=2", "explicit_energy_node_nm=45"))
    assert model.leakage_mw == 2.0


def test_dram_is_priced_by_its_technology_and_never_scaled(table_path):
    # dram.yaml: hbm2 3.97 pJ/bit, ddr3 20 pJ/bit; 64-bit accesses; the same at 16 nm (off chip).
    for technology, per_bit in (("hbm2", 3.97), ("ddr3", 20.0), ("lpddr4", 8.0)):
        for node in (45, 16):
            model = EnergyModel.for_arch(arch_with(table_path, f"memory.dram.technology={technology}",
                                                   f"technology_nm={node}"))
            assert model.prices_pj[("dram", "read")] == pytest.approx(per_bit * 64)
            assert model.prices_pj[("dram", "write")] == pytest.approx(per_bit * 64)
            assert any(f"DRAM dram: {technology}, {per_bit:g} pJ/bit" in note for note in model.notes)


def test_dram_technology_is_required_and_checked(table_path):
    raw = apply_overrides(GOOD, [f"energy_table={table_path}"])
    del raw["memory"]["dram"]["technology"]
    with pytest.raises(ArchError, match=re.escape("arch.yaml: invalid arch:\n  memory.dram: technology is required "
                                                  "for a dram level")):
        arch_from_dict(raw, source="arch.yaml")
    with pytest.raises(ArchError, match=re.escape("memory.dram.technology: unknown DRAM technology 'lpdr4'. "
                                                  "Did you mean 'lpddr4'?")):
        arch_with(table_path, "memory.dram.technology=lpdr4")
    with pytest.raises(ArchError, match=re.escape("memory.ifmap_sram: technology is for dram levels only")):
        arch_with(table_path, "memory.ifmap_sram.technology=lpddr4")


def test_shipped_dram_technologies_are_sourced():
    technologies = dram_technologies()
    assert {"ddr3", "ddr4", "ddr5", "lpddr4", "lpddr5", "hbm2", "hbm2e", "hbm3", "hbm3e"} <= set(technologies)
    for name, technology in technologies.items():
        assert technology.source and technology.includes, name
        if technology.status == "stand-in":  # a stand-in names the technology whose figure it holds
            assert any(other in technology.source for other in technologies if other != name), name


def test_dense_twins_pay_leakage_at_their_node():
    # DCNN: 64 PEs x (20 KB IARAM + 20 KB OARAM) = 2560 KB of SRAM x 2.61e-5 mW/KB (45nm.yaml) x 0.226 (16 nm).
    dcnn = EnergyModel.for_arch(load_arch("dcnn"))
    assert dcnn.leakage_mw == pytest.approx(2560 * 2.61e-5 * 0.226)
    scnn = EnergyModel.for_arch(load_arch("scnn"))
    assert scnn.leakage_mw == pytest.approx(1280 * 2.61e-5 * 0.226)
    # SCNN's explicit output-coordinate energy is given at 45 nm (0.12 pJ) and priced at 16 nm.
    assert scnn.prices_pj[("output_coordinate", "compute")] == pytest.approx(0.12 * 0.226)
    assert EnergyModel.for_arch(load_arch("scnn", ["technology_nm=45"])).prices_pj[
        ("output_coordinate", "compute")] == pytest.approx(0.12)


def test_gpu_archs_pay_hbm_and_idle_power():
    for name, technology in (("h100-sxm", "hbm3"), ("h200", "hbm3e")):
        arch = load_arch(name)
        model = EnergyModel.for_arch(arch)
        assert arch.memory["dram"].technology == technology
        assert model.prices_pj[("dram", "read")] == pytest.approx(3.97 * 512)  # dram.yaml: HBM2's figure held
        assert model.leakage_mw == pytest.approx(70_000.0)  # 70 W idle board power


def test_node_scaling_is_explicit_and_spares_dram(table_path):
    factor = node_scaling().dynamic_energy_factor[16]
    model = EnergyModel.for_arch(arch_with(table_path, "technology_nm=16"))
    assert model.prices_pj[("mac", "compute")] == pytest.approx(1.0 * factor)
    assert model.prices_pj[("ifmap_sram", "read")] == pytest.approx(0.3 * 64 * factor)
    assert model.prices_pj[("dram", "read")] == pytest.approx(8.0 * 64)
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
                                 "rf: {kind: register_file, size_bytes: 32, width_bits: 16}}",
                     "explicit_energy_node_nm=45")
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


def test_a_scalesim_cfg_gets_the_documented_dram_default():
    arch = load_arch(Path(__file__).resolve().parents[1] / "validation" / "scalesim" / "configs" / "scale.cfg")
    assert arch.memory["dram"].technology == "lpddr4"
    assert EnergyModel.for_arch(arch).prices_pj[("dram", "read")] == pytest.approx(8.0 * 64)  # dram.yaml: 8 pJ/bit

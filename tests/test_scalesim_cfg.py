"""SCALE-Sim .cfg files read as archs: what maps where, and each bad file refused with the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim.arch import ArchError
from accelsim.arch_configs import load_arch

CONFIGS = Path(__file__).resolve().parents[1] / "validation" / "scalesim" / "configs"


def cfg(tmp_path, text: str) -> Path:
    path = tmp_path / "x.cfg"
    path.write_text(text)
    return path


BASE = """[general]
run_name = mine
[architecture_presets]
ArrayHeight: 16
ArrayWidth: 8
IfmapSramSzkB: 64
FilterSramSzkB: 32
OfmapSramSzkB: 16
Dataflow: is
Bandwidth: 10
[run_presets]
InterfaceBandwidth: {mode}
"""


def test_sample_configs_map_as_documented():
    arch = load_arch(CONFIGS / "scale.cfg")
    assert (arch.pe_array.rows, arch.pe_array.cols) == (32, 32)
    assert arch.dataflow.config.stationary == "os" and arch.dataflow.config.ofmap_size == "scalesim"
    assert arch.memory["ifmap_sram"].size_bytes == 64 * 1024 and arch.memory["ifmap_sram"].double_buffered
    assert arch.bytes_per_cycle("dram") is None  # CALC: SCALE-Sim sizes the interface so nothing stalls
    google = load_arch(CONFIGS / "google.cfg")
    assert (google.pe_array.rows, google.dataflow.config.stationary) == (256, "ws")
    assert google.memory["ofmap_sram"].size_bytes == 2048 * 1024
    # USER mode: each SRAM's own DRAM port, in words (1 byte) per cycle, as SCALE-Sim applies them
    ports = {name: google.memory[name].port_bandwidth_bytes_per_cycle
             for name in ("ifmap_sram", "filter_sram", "ofmap_sram")}
    assert ports == {"ifmap_sram": 10, "filter_sram": 10, "ofmap_sram": 10}
    assert google.bytes_per_cycle("dram") is None
    assert google.name == "GoogleTPU_v1_ws"


USER_LAYOUT = "[layout]\nIfmapSRAMBankBandwidth: 4\nFilterSRAMBankBandwidth: 6\n"


def test_user_mode_ports_and_comma_bandwidth(tmp_path):
    text = BASE.format(mode="USER").replace("Bandwidth: 10", "Bandwidth: 12,10") + USER_LAYOUT
    arch = load_arch(cfg(tmp_path, text))
    assert arch.memory["ofmap_sram"].port_bandwidth_bytes_per_cycle == 12  # the first value of the list
    assert arch.memory["ifmap_sram"].port_bandwidth_bytes_per_cycle == 4
    assert arch.memory["filter_sram"].port_bandwidth_bytes_per_cycle == 6
    assert arch.dataflow.config.stationary == "is" and arch.memory["ofmap_sram"].size_bytes == 16 * 1024


def test_user_mode_needs_the_layout_bandwidths(tmp_path):
    with pytest.raises(ArchError, match=r"USER needs \[layout\] ifmapsrambankbandwidth, filtersrambankbandwidth"):
        load_arch(cfg(tmp_path, BASE.format(mode="USER")))


def test_sparsity_support_turns_on_nm_detect(tmp_path):
    arch = load_arch(cfg(tmp_path, BASE.format(mode="CALC") + "[sparsity]\nSparsitySupport: true\n"))
    assert arch.dataflow.config.nm == "detect"


@pytest.mark.parametrize(("change", "message"), [
    (("ArrayWidth", "ArrayWidht"), r"\[architecture_presets\] unknown key 'arraywidht'. Did you mean 'arraywidth'"),
    (("Dataflow: is", "Dataflow: xs"), "allowed os, ws, is"),
    (("ArrayHeight: 16", "ArrayHeight: 0"), "must be positive"),
    (("IfmapSramSzkB: 64", "IfmapSramSzkB: lots"), "not a number"),
    (("[run_presets]", "[run_presetz]"), r"unknown section \[run_presetz\]. Did you mean 'run_presets'"),
    (("FilterSramSzkB: 32\n", ""), "lacks filtersramszkb"),
])
def test_bad_cfg_names_file_and_key(tmp_path, change, message):
    path = cfg(tmp_path, BASE.format(mode="CALC").replace(*change))
    with pytest.raises(ArchError, match=message) as caught:
        load_arch(path)
    assert str(path) in str(caught.value)


def test_unmodelled_settings_are_refused(tmp_path):
    text = BASE.format(mode="CALC") + "[sparsity]\nSparsitySupport: true\nOptimizedMapping: true\n"
    with pytest.raises(ArchError, match="OptimizedMapping changes SCALE-Sim's sparse operand mapping"):
        load_arch(cfg(tmp_path, text))


def test_user_mode_needs_bandwidth(tmp_path):
    with pytest.raises(ArchError, match="USER needs"):
        load_arch(cfg(tmp_path, BASE.format(mode="USER").replace("Bandwidth: 10\n", "")))


def test_not_a_cfg(tmp_path):
    with pytest.raises(ArchError, match=r"not a valid SCALE-Sim \.cfg"):
        load_arch(cfg(tmp_path, "ArrayHeight 16\n"))

"""Arch specs: every shipped YAML validates; bad files fail with the file, the key path and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from arch_samples import GOOD

from accelsim.arch import ArchError, apply_overrides
from accelsim.arch_configs import arch_from_dict, known_archs, load_arch


def write(tmp_path: Path, data, name="arch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def error_of(tmp_path, data) -> str:
    path = write(tmp_path, data)
    with pytest.raises(ArchError) as caught:
        load_arch(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def with_(path: str, value):
    data = apply_overrides(GOOD, [f"{path}={value}"])
    return data


@pytest.mark.parametrize("name", sorted(known_archs()))
def test_every_shipped_arch_validates(name):
    arch = load_arch(name)
    assert arch.name == name
    assert arch.pe_array.pes > 0


def test_shipped_archs_include_the_systolic_baselines():
    for name in ("systolic-32x32-ws", "systolic-32x32-os", "systolic-32x32-is", "tpu-128x128"):
        assert name in known_archs()


def test_good_arch_loads_with_dataflow_config(tmp_path):
    arch = load_arch(write(tmp_path, GOOD))
    assert arch.name == "tiny"
    assert arch.dataflow.kind == "systolic"
    assert arch.dataflow.config.stationary == "ws"
    assert arch.pe_array.multipliers == 8


def test_unknown_key_names_path_and_suggests(tmp_path):
    data = apply_overrides(GOOD, ["memory.ifmap_sram.sise_bytes=10"])
    message = error_of(tmp_path, data)
    assert "memory.ifmap_sram.sise_bytes: unknown key" in message
    assert "Did you mean 'size_bytes'?" in message


def test_unknown_top_level_key(tmp_path):
    message = error_of(tmp_path, {**GOOD, "clock_mzh": 3})
    assert "clock_mzh: unknown key" in message and "'clock_mhz'" in message


def test_unknown_dataflow_param_is_checked_by_the_dataflow_config(tmp_path):
    message = error_of(tmp_path, with_("dataflow.stationery", "ws"))
    assert "dataflow.stationery: unknown key" in message and "Did you mean 'stationary'?" in message


def test_unknown_dataflow_kind_lists_known(tmp_path):
    message = error_of(tmp_path, with_("dataflow.kind", "systolik"))
    assert "dataflow.kind" in message and "Did you mean 'systolic'?" in message


def test_bad_dataflow_value(tmp_path):
    message = error_of(tmp_path, with_("dataflow.stationary", "xs"))
    assert "dataflow.stationary" in message and "'os'" in message


@pytest.mark.parametrize(("key", "value"), [("pe_array.rows", 0), ("pe_array.cols", -2), ("clock_mhz", 0),
                                            ("memory.ifmap_sram.size_bytes", 0), ("memory.dram.width_bits", -64)])
def test_zero_or_negative_sizes(tmp_path, key, value):
    message = error_of(tmp_path, with_(key, value))
    assert key in message and "greater than 0" in message


def test_missing_required_keys(tmp_path):
    data = dict(GOOD)
    del data["clock_mhz"]
    assert "clock_mhz: Field required" in error_of(tmp_path, data)


def test_sram_without_size(tmp_path):
    data = with_("memory.ifmap_sram.size_bytes", "null")
    assert "size_bytes is required for a sram" in error_of(tmp_path, data)


def test_memory_smaller_than_one_access(tmp_path):
    assert "holds less than one access" in error_of(tmp_path, with_("memory.ifmap_sram.width_bits", 65536))


def test_inconsistent_widths(tmp_path):
    assert "accumulator_bits (8) is narrower" in error_of(tmp_path, with_("data", "{accumulator_bits: 8}"))


def test_inconsistent_bandwidths(tmp_path):
    data = apply_overrides(GOOD, ["memory.dram.bandwidth_bytes_per_cycle=8", "memory.dram.bandwidth_gbytes_per_s=4"])
    assert "not both" in error_of(tmp_path, data)


def test_bandwidth_in_gbytes_per_s_uses_the_clock(tmp_path):
    arch = load_arch(write(tmp_path, with_("memory.dram.bandwidth_gbytes_per_s", 4)))
    assert arch.bytes_per_cycle("dram") == pytest.approx(8.0)  # 4e9 B/s at 500 MHz


def test_dataflow_requirements_are_checked(tmp_path):
    data = apply_overrides(GOOD, [])
    del data["memory"]["filter_sram"]
    assert "missing filter_sram" in error_of(tmp_path, data)


def test_malformed_yaml_names_line(tmp_path):
    message = error_of(tmp_path, "name: x\npe_array: {rows: 4, cols: 2\nclock_mhz: 1\n")
    assert "not valid YAML" in message and "line" in message


def test_repeated_key_is_an_error(tmp_path):
    assert "repeated" in error_of(tmp_path, "name: a\nclock_mhz: 1\nclock_mhz: 2\n")


def test_top_level_must_be_a_mapping(tmp_path):
    assert "must be a mapping" in error_of(tmp_path, "- 1\n- 2\n")


def test_unknown_arch_name_suggests():
    with pytest.raises(ArchError, match="Did you mean 'systolic-32x32-ws'"):
        load_arch("systolic-32x32-wss")


def test_missing_file():
    with pytest.raises(ArchError, match="no such arch file"):
        load_arch("does/not/exist.yaml")


def test_overrides_parse_values_as_yaml(tmp_path):
    arch = load_arch(write(tmp_path, GOOD), ["pe_array.rows=16", "dataflow.stationary=os", "clock_mhz=2.5e2"])
    assert arch.pe_array.rows == 16 and arch.dataflow.config.stationary == "os" and arch.clock_mhz == 250
    assert "--set" in arch.source


def test_override_errors(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ArchError, match=r"must look like key\.path=value"):
        load_arch(path, ["pe_array.rows"])
    with pytest.raises(ArchError, match="clock_mhz is a value, not a mapping"):
        load_arch(path, ["clock_mhz.x=1"])
    with pytest.raises(ArchError, match=r"pe_array\.rwos: unknown key"):
        load_arch(path, ["pe_array.rwos=3"])


def test_overrides_do_not_touch_the_input():
    before = yaml.safe_dump(GOOD)
    apply_overrides(GOOD, ["pe_array.rows=99", "memory.dram.width_bits=8"])
    assert yaml.safe_dump(GOOD) == before


def test_arch_from_dict_without_a_file():
    arch = arch_from_dict(GOOD)
    assert arch.source == "<dict>"
    with pytest.raises(ArchError, match="<dict>: invalid arch"):
        arch_from_dict({**GOOD, "pe_array": {"rows": 1}})

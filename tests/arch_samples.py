"""A small valid arch (as a raw YAML mapping) that tests vary with `apply_overrides`."""

GOOD = {
    "name": "tiny",
    "clock_mhz": 500,
    "pe_array": {"rows": 4, "cols": 2},
    "memory": {
        "ifmap_sram": {"kind": "sram", "size_bytes": 4096, "width_bits": 64},
        "filter_sram": {"kind": "sram", "size_bytes": 4096, "width_bits": 64},
        "ofmap_sram": {"kind": "sram", "size_bytes": 4096, "width_bits": 64},
        "dram": {"kind": "dram", "technology": "lpddr4", "width_bits": 64},
    },
    "dataflow": {"kind": "systolic", "stationary": "ws"},
}

"""A refactoring guard for the Eyeriss dataflows: a fixed set of seeded small layers and arch settings (Eyeriss v2
sparse and as its dense reference, Eyeriss v1, the one-MAC eyeriss-v2-pe), and every number they return for them,
pinned in tests/eyeriss_pinned.json by the model as it stood before the speed work of issue 20.

This is not a correctness claim: the pinned numbers are the old model's own output, kept so that a faster model can
be shown bit-identical to it (cycles, stall cycles by cause, action counts, metrics, notes and the computed output).
Correctness is argued elsewhere (tests/test_eyeriss.py, tests/test_eyeriss_jit.py: outputs against numpy, cycles
worked by hand). Regenerate only on purpose, after a deliberate change of the model, and say so in the commit:

    PYTHONPATH=$PWD python tests/eyeriss_pinned_cases.py     # rewrites tests/eyeriss_pinned.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pinned_results import summary, write_pinned

from accelsim.arch_configs import load_arch
from accelsim.dataflows.eyeriss import EyerissV1, EyerissV2
from accelsim.workload import Layer

PINNED_FILE = Path(__file__).with_name("eyeriss_pinned.json")
DATAFLOWS = {"eyeriss-v2": EyerissV2, "eyeriss-v1": EyerissV1, "eyeriss-v2-pe": EyerissV2}
V2_DENSE = ("dataflow.iact_format=uncompressed", "dataflow.weight_format=uncompressed")  # EyerissV2.dense_config
V1_DENSE = ("dataflow.gate_zero_iacts=false", "dataflow.rlc_dram=false")  # EyerissV1.dense_config


def _sparse(rng, shape, density):
    return (np.abs(rng.standard_normal(shape)) * (rng.random(shape) < density)).astype(np.float32)


def _conv(seed, n, c, hw, k, rs, weight_density, input_density, **geometry):
    rng = np.random.default_rng(seed)
    groups = geometry.get("groups", 1)
    weight = rng.standard_normal((k, c // groups, *rs)) * (rng.random((k, c // groups, *rs)) < weight_density)
    return Layer(name=f"conv{seed}", op="conv2d", input=_sparse(rng, (n, c, *hw), input_density),
                 weight=weight.astype(np.float32), **geometry)


def _linear(seed, n, c, k, weight_density, input_density):
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((k, c)) * (rng.random((k, c)) < weight_density)
    return Layer(name=f"fc{seed}", op="linear", input=_sparse(rng, (n, c), input_density),
                 weight=weight.astype(np.float32))


def _matmul(seed):
    rng = np.random.default_rng(seed)
    return Layer(name="bmm", op="matmul", input=_sparse(rng, (3, 4, 20), 0.6),
                 weight=(rng.standard_normal((3, 20, 30)) * (rng.random((3, 20, 30)) < 0.3)).astype(np.float32))


def cases() -> dict[str, tuple[Layer, str, tuple[str, ...]]]:
    """name -> (layer, arch, arch overrides)."""
    conv = _conv(1, 1, 16, (12, 12), 40, (3, 3), 0.3, 0.5, padding=1)
    stride2 = _conv(2, 2, 6, (11, 9), 12, (3, 3), 0.5, 0.45, padding=1, stride=2)
    depthwise = _conv(3, 1, 12, (9, 9), 12, (3, 3), 0.8, 0.5, padding=1, groups=12)
    pointwise = _conv(4, 1, 48, (6, 6), 64, (1, 1), 0.2, 0.4)
    fc = _linear(5, 1, 400, 90, 0.15, 0.4)
    fc_batch = _linear(6, 4, 60, 30, 0.4, 0.6)
    dense_input = _conv(7, 1, 3, (19, 19), 8, (5, 5), 0.5, 1.0, stride=2, padding=2)  # iact_format auto: none zero
    dilated = _conv(8, 1, 8, (10, 10), 6, (3, 3), 0.4, 0.5, padding=2, dilation=2, groups=2)
    big_rows = _conv(9, 1, 32, (28, 28), 16, (3, 3), 0.2, 0.35, padding=1)  # strips when the GLB is small
    return {
        "v2_conv": (conv, "eyeriss-v2", ()),
        "v2_conv_dense": (conv, "eyeriss-v2", V2_DENSE),
        "v2_conv_fetch_buffer3_m0_6": (conv, "eyeriss-v2", ("dataflow.fetch_buffer=3", "dataflow.m0=6")),
        "v2_conv_dense_fetch_buffer3_m0_6": (conv, "eyeriss-v2", ("dataflow.fetch_buffer=3", "dataflow.m0=6",
                                                                  *V2_DENSE)),
        "v2_conv_unicast_broadcast": (conv, "eyeriss-v2", ("dataflow.noc_modes.conv.iact=unicast",
                                                           "dataflow.noc_modes.conv.weight=broadcast")),
        "v2_conv_csc_iacts_dense_weights": (conv, "eyeriss-v2", ("dataflow.weight_format=uncompressed",)),
        "v2_conv_uncompressed_iacts_csc_weights": (conv, "eyeriss-v2", ("dataflow.iact_format=uncompressed",)),
        "v2_stride2_batch2": (stride2, "eyeriss-v2", ()),
        "v2_stride2_batch2_dense": (stride2, "eyeriss-v2", V2_DENSE),
        "v2_depthwise": (depthwise, "eyeriss-v2", ()),
        "v2_depthwise_dense": (depthwise, "eyeriss-v2", V2_DENSE),
        "v2_pointwise": (pointwise, "eyeriss-v2", ()),
        "v2_pointwise_dense": (pointwise, "eyeriss-v2", V2_DENSE),
        "v2_fc": (fc, "eyeriss-v2", ()),
        "v2_fc_dense": (fc, "eyeriss-v2", V2_DENSE),
        "v2_fc_batch4": (fc_batch, "eyeriss-v2", ()),
        "v2_matmul_static": (_matmul(10), "eyeriss-v2", ()),
        "v2_dense_input_auto": (dense_input, "eyeriss-v2", ()),
        "v2_dilated_grouped": (dilated, "eyeriss-v2", ()),
        "v2_split_tiles": (conv, "eyeriss-v2", ("dataflow.weight_tile_policy=split", "dataflow.m0=16",
                                                "memory.weight_spad.size_bytes=48")),
        "v2_strips_small_glb": (big_rows, "eyeriss-v2", ("memory.glb_iact.size_bytes=256",
                                                         "memory.glb_psum.size_bytes=256")),
        "v2_strips_spill": (big_rows, "eyeriss-v2", ("memory.glb_iact.size_bytes=256",
                                                     "memory.glb_iact.instances=1",
                                                     "memory.glb_psum.size_bytes=256",
                                                     "memory.glb_psum.instances=1")),
        "v2_strips_small_glb_dense": (big_rows, "eyeriss-v2", ("memory.glb_iact.size_bytes=256",
                                                               "memory.glb_psum.size_bytes=256", *V2_DENSE)),
        "v1_conv": (conv, "eyeriss-v1", ()),
        "v1_conv_dense": (conv, "eyeriss-v1", V1_DENSE),
        "v1_stride2_batch2": (stride2, "eyeriss-v1", ()),
        "v1_depthwise": (depthwise, "eyeriss-v1", ()),
        "v1_pointwise": (pointwise, "eyeriss-v1", ()),
        "v1_fc": (fc, "eyeriss-v1", ()),
        "v1_fc_batch4_dense": (fc_batch, "eyeriss-v1", V1_DENSE),
        "v1_strips_small_glb": (big_rows, "eyeriss-v1", ("memory.glb.size_bytes=4096",)),
        "v1_dense_input": (dense_input, "eyeriss-v1", ()),
        "v2pe_conv": (conv, "eyeriss-v2-pe", ()),
        "v2pe_conv_dense": (conv, "eyeriss-v2-pe", V2_DENSE),
        "v2pe_pointwise": (pointwise, "eyeriss-v2-pe", ()),
    }


def run_case(layer: Layer, arch_name: str, overrides: tuple[str, ...], compute_output: bool = True) -> dict:
    arch = load_arch(arch_name, list(overrides))
    return summary(DATAFLOWS[arch_name]().simulate(layer, arch, compute_output=compute_output))


def main() -> None:
    write_pinned(PINNED_FILE, "Eyeriss v2 / v1 / v2-pe simulate's results before the speed work of issue 20: a "
                 "refactoring guard (bit-identity with the old model), not a correctness claim. Made by "
                 "tests/eyeriss_pinned_cases.py.", {name: run_case(*case) for name, case in cases().items()})


if __name__ == "__main__":
    main()

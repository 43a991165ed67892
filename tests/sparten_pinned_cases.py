"""A refactoring guard for the SparTen dataflow (its dense twin and the one-sided design included): a fixed set of
seeded small layers and arch settings, and every number SparTen.simulate returns for them, pinned in
tests/sparten_pinned.json by the model as it stood before the speed work of issue 20.

This is not a correctness claim: the pinned numbers are the old model's own output, kept so that a faster model can
be shown bit-identical to it (cycles, stall cycles by cause, action counts, metrics, notes and the computed output).
Correctness is argued elsewhere (tests/test_sparten.py, tests/test_sparten_jit.py: outputs against numpy, cycles
worked by hand). Regenerate only on purpose, after a deliberate change of the model, and say so in the commit:

    PYTHONPATH=$PWD python tests/sparten_pinned_cases.py     # rewrites tests/sparten_pinned.json
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from pinned_results import summary, write_pinned

from accelsim.arch_configs import load_arch
from accelsim.dataflows.sparten import SparTen
from accelsim.workload import Layer

PINNED_FILE = Path(__file__).with_name("sparten_pinned.json")
SMALL = ("pe_array.rows=3", "pe_array.cols=4", "memory.input_buffer.instances=12",
         "memory.filter_buffer.instances=12")  # 3 clusters of 4 CUs: several passes, idle clusters


@functools.cache
def sparten_arch(name: str, *overrides: str):
    return load_arch(name, list(overrides))


def _sparse(rng, shape, density, positive=False):
    values = rng.standard_normal(shape)
    return ((np.abs(values) if positive else values) * (rng.random(shape) < density)).astype(np.float32)


def _conv(seed, n, c, hw, k, rs, weight_density, input_density, **geometry):
    rng = np.random.default_rng(seed)
    groups = geometry.get("groups", 1)
    return Layer(name=f"conv{seed}", op="conv2d", input=_sparse(rng, (n, c, *hw), input_density, positive=True),
                 weight=_sparse(rng, (k, c // groups, *rs), weight_density), **geometry)


def _linear(seed, n, c, k, weight_density, input_density):
    rng = np.random.default_rng(seed)
    return Layer(name=f"fc{seed}", op="linear", input=_sparse(rng, (n, c), input_density, positive=True),
                 weight=_sparse(rng, (k, c), weight_density))


def _matmul(seed):
    rng = np.random.default_rng(seed)
    return Layer(name="bmm", op="matmul", input=_sparse(rng, (3, 4, 150), 0.6), weight=_sparse(rng, (3, 150, 9), 0.3))


def cases() -> dict[str, tuple[Layer, str, tuple[str, ...]]]:
    """name -> (layer, arch name, overrides)."""
    stride2 = _conv(1, 1, 8, (11, 10), 12, (3, 3), 0.4, 0.5, stride=2, padding=1)
    one_by_one = _conv(2, 1, 40, (6, 6), 70, (1, 1), 0.3, 0.5)
    depthwise = _conv(3, 1, 6, (9, 9), 6, (3, 3), 0.8, 0.5, groups=6, padding=1)
    grouped_dilated = _conv(4, 1, 8, (12, 12), 12, (3, 3), 0.5, 0.6, groups=4, padding=2, dilation=(2, 1))
    batch = _conv(5, 3, 5, (6, 7), 33, (3, 3), 0.4, 0.5, stride=(1, 2))
    wide = _conv(6, 1, 300, (5, 5), 40, (3, 3), 0.35, 0.45, padding=1)
    fc = _linear(7, 3, 300, 50, 0.3, 0.5)
    conv1_like = _conv(8, 1, 3, (16, 16), 16, (7, 7), 0.5, 1.0, stride=2, padding=3)
    return {
        "conv_stride2_two_sided": (stride2, "sparten", SMALL),
        "conv_stride2_dense": (stride2, "sparten-dense", SMALL),
        "conv_stride2_one_sided": (stride2, "sparten-one-sided", SMALL),
        "conv_stride2_balancing_none": (stride2, "sparten", (*SMALL, "dataflow.balancing=none")),
        "conv_stride2_balancing_gbs": (stride2, "sparten", (*SMALL, "dataflow.balancing=gb-s")),
        "conv_stride2_depth1_narrow_bus": (stride2, "sparten", (*SMALL, "dataflow.input_buffer_depth=1",
                                                                "dataflow.broadcast_bits_per_cycle=32")),
        "conv1x1_two_sided": (one_by_one, "sparten", SMALL),
        "conv1x1_dense": (one_by_one, "sparten-dense", SMALL),
        "conv1x1_one_sided_gbs": (one_by_one, "sparten-one-sided", (*SMALL, "dataflow.balancing=gb-s")),
        "conv1x1_full_arch": (one_by_one, "sparten", ()),
        "depthwise_two_sided": (depthwise, "sparten", SMALL),
        "depthwise_dense": (depthwise, "sparten-dense", SMALL),
        "depthwise_window_chunking": (depthwise, "sparten", (*SMALL, "dataflow.chunking=window",
                                                             "dataflow.chunk_size=16")),
        "grouped_dilated_two_sided": (grouped_dilated, "sparten", SMALL),
        "grouped_dilated_dense_window": (grouped_dilated, "sparten-dense", (*SMALL, "dataflow.chunking=window",
                                                                            "dataflow.chunk_size=32")),
        "batch_two_sided_empty_join2": (batch, "sparten", (*SMALL, "dataflow.empty_join_cycles=2",
                                                           "dataflow.pipeline_depth=1")),
        "batch_dense": (batch, "sparten-dense", SMALL),
        "wide_slices_two_sided": (wide, "sparten", (*SMALL, "memory.filter_buffer.size_bytes=256")),
        "wide_slices_dense": (wide, "sparten-dense", (*SMALL, "memory.filter_buffer.size_bytes=600")),
        "wide_slices_one_sided": (wide, "sparten-one-sided", (*SMALL, "memory.filter_buffer.size_bytes=320")),
        "wide_chunk100_off_chip": (wide, "sparten", (*SMALL, "dataflow.chunk_size=100",
                                                     "memory.global_buffer.size_bytes=1024")),
        "conv1_like_window_chunking": (conv1_like, "sparten", (*SMALL, "dataflow.chunking=window")),
        "conv1_like_channel_chunking": (conv1_like, "sparten", SMALL),
        "conv1_like_dense": (conv1_like, "sparten-dense", SMALL),
        "fc_batch_two_sided": (fc, "sparten", SMALL),
        "fc_batch_dense": (fc, "sparten-dense", SMALL),
        "fc_batch_one_sided": (fc, "sparten-one-sided", SMALL),
        "fc_empty_activations": (_linear(9, 1, 70, 30, 0.5, 0.0), "sparten", SMALL),
        "fc_dense_operands": (_linear(10, 2, 130, 9, 1.0, 1.0), "sparten", SMALL),
        "matmul_static": (_matmul(11), "sparten", SMALL),
        "matmul_static_dense": (_matmul(11), "sparten-dense", SMALL),
    }


def run_case(layer: Layer, arch_name: str, overrides: tuple[str, ...], compute_output: bool = True) -> dict:
    return summary(SparTen().simulate(layer, sparten_arch(arch_name, *overrides), compute_output=compute_output))


def main() -> None:
    write_pinned(PINNED_FILE, "SparTen.simulate's results before the speed work of issue 20: a refactoring guard "
                 "(bit-identity with the old model), not a correctness claim. Made by tests/sparten_pinned_cases.py.",
                 {name: run_case(*case) for name, case in cases().items()})


if __name__ == "__main__":
    main()

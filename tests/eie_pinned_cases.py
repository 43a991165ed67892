"""A refactoring guard for the EIE dataflow: a fixed set of seeded small-to-medium layers and arch settings, and
every number EIE.simulate returns for them, pinned in tests/eie_pinned.json by the model as it stood before the
speed work of issue 20 (the cycle-by-cycle walk of every PE).

This is not a correctness claim: the pinned numbers are the old model's own output, kept so that a faster model can
be shown bit-identical to it (cycles, stall cycles by cause, action counts, metrics, notes and the computed output).
Correctness is argued elsewhere (tests/test_eie.py, tests/test_eie_jit.py: outputs against numpy, cycles worked by
hand). Regenerate only on purpose, after a deliberate change of the model, and say so in the commit:

    PYTHONPATH=$PWD python tests/eie_pinned_cases.py     # rewrites tests/eie_pinned.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pinned_results import summary, write_pinned

from accelsim.arch_configs import load_arch
from accelsim.dataflows.eie import EIE
from accelsim.workload import Layer

PINNED_FILE = Path(__file__).with_name("eie_pinned.json")
DENSE = ("dataflow.skip_zero_weights=false", "dataflow.skip_zero_activations=false")


def eie_arch(pes: int, *overrides: str):
    return load_arch("eie", [f"pe_array.cols={pes}", f"memory.spmat_sram.instances={pes}",
                             f"memory.ptr_sram.instances={2 * pes}", f"memory.act_sram.instances={pes}",
                             *overrides])


def _sparse(rng, shape, density):
    return (rng.standard_normal(shape) * (rng.random(shape) < density)).astype(np.float32)


def _linear(seed, n, c, k, weight_density, input_density):
    rng = np.random.default_rng(seed)
    return Layer(name=f"fc{seed}", op="linear", input=_sparse(rng, (n, c), input_density),
                 weight=_sparse(rng, (k, c), weight_density))


def _conv(seed, n, c, hw, k, rs, weight_density, input_density, **geometry):
    rng = np.random.default_rng(seed)
    groups = geometry.get("groups", 1)
    return Layer(name=f"conv{seed}", op="conv2d", input=_sparse(rng, (n, c, *hw), input_density),
                 weight=_sparse(rng, (k, c // groups, *rs), weight_density), **geometry)


def _matmul(seed):
    rng = np.random.default_rng(seed)
    return Layer(name="bmm", op="matmul", input=_sparse(rng, (3, 4, 20), 0.6), weight=_sparse(rng, (3, 20, 30), 0.3))


def cases() -> dict[str, tuple[Layer, int, tuple[str, ...]]]:
    """name -> (layer, PEs, arch overrides)."""
    fc = _linear(1, 1, 300, 200, 0.1, 0.4)
    conv = _conv(4, 2, 8, (10, 10), 24, (3, 3), 0.3, 0.5, padding=1)
    medium_fc = _linear(3, 1, 1000, 600, 0.1, 0.35)
    return {
        "fc_4pe": (fc, 4, ()),
        "fc_4pe_dense": (fc, 4, DENSE),
        "fc_4pe_ideal_scan": (fc, 4, ("dataflow.activation_scan=ideal",)),
        "fc_4pe_dense_weights_only": (fc, 4, ("dataflow.skip_zero_weights=false",)),
        "fc_4pe_dense_activations_only": (fc, 4, ("dataflow.skip_zero_activations=false",)),
        "fc_batch5_8pe_fifo2_batches": (_linear(2, 5, 257, 130, 0.15, 0.5), 8,
                                        ("dataflow.fifo_depth=2", "components.dst_act_regs.size_bytes=8")),
        "fc_64pe_medium": (medium_fc, 64, ()),
        "fc_64pe_medium_dense": (medium_fc, 64, DENSE),
        "fc_64pe_fifo1": (medium_fc, 64, ("dataflow.fifo_depth=1",)),
        "fc_64pe_fifo64": (medium_fc, 64, ("dataflow.fifo_depth=64", "components.act_fifo.size_bytes=256")),
        "fc_2pe_index2_padding": (_linear(5, 2, 90, 70, 0.03, 0.6), 2,
                                  ("dataflow.relative_index_bits=2", "dataflow.weight_index_bits=2",
                                   "memory.spmat_sram.width_bits=16")),
        "fc_1pe_fifo1_no_drain": (_linear(6, 3, 40, 23, 0.3, 0.5), 1,
                                  ("dataflow.fifo_depth=1", "dataflow.pipeline_drain_cycles=0")),
        "fc_64pe_dense_operands_few_outputs": (_linear(7, 2, 150, 40, 1.0, 1.0), 64, ()),
        "fc_3pe_batches_uneven": (_linear(8, 1, 64, 50, 0.4, 0.7), 3,
                                  ("components.dst_act_regs.size_bytes=4", "dataflow.fifo_depth=3")),
        "fc_empty_activations": (_linear(9, 1, 70, 30, 0.5, 0.0), 4, ()),
        "fc_empty_weights": (_linear(10, 2, 70, 30, 0.0, 0.5), 4, ()),
        "conv3x3_16pe_fifo4": (conv, 16, ("dataflow.fifo_depth=4",)),
        "conv3x3_16pe_dense": (conv, 16, DENSE),
        "conv_stride2_groups2_dilation_4pe_fifo1": (
            _conv(11, 1, 6, (9, 11), 8, (3, 3), 0.5, 0.6, stride=2, padding=1, groups=2, dilation=(1, 2)), 4,
            ("dataflow.fifo_depth=1",)),
        "conv1x1_stride2_64pe": (_conv(12, 1, 32, (8, 8), 96, (1, 1), 0.2, 0.5, stride=2), 64, ()),
        "conv1x1_stride2_64pe_dense": (_conv(12, 1, 32, (8, 8), 96, (1, 1), 0.2, 0.5, stride=2), 64, DENSE),
        "conv5x5_batch3_8pe_batches": (_conv(13, 3, 5, (7, 6), 20, (5, 5), 0.25, 0.45, padding=2), 8,
                                       ("components.dst_act_regs.size_bytes=4", "dataflow.activation_scan=ideal")),
        "matmul_static_4pe": (_matmul(14), 4, ()),
        "matmul_static_4pe_dense": (_matmul(14), 4, DENSE),
    }


def run_case(layer: Layer, pes: int, overrides: tuple[str, ...]) -> dict:
    return summary(EIE().simulate(layer, eie_arch(pes, *overrides), compute_output=True))


def main() -> None:
    write_pinned(PINNED_FILE, "EIE.simulate's results before the speed work of issue 20: a refactoring guard "
                 "(bit-identity with the old model), not a correctness claim. Made by tests/eie_pinned_cases.py.",
                 {name: run_case(*case) for name, case in cases().items()})


if __name__ == "__main__":
    main()

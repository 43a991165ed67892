"""Which measured kernel timings a fit may see and which it is judged on: the held-out splits of
`accelsim.kernel_bench.agreement`, fixed before any model was tuned on them.

**By GEMM shape** (`SHAPE_SPLIT`, what the committed arch is fitted on). A row's shape key is the GEMM of one
sample, "M/batch x reduction x K x groups" (`shape_key`); a row is held out when the CRC-32 of that key is divisible
by 3 (`is_held_out`). So every row of a held-out shape is held out: all its layers (ResNet-50's repeated bottleneck
blocks, BERT's encoder layers 0, 6 and 11 share their shapes), every pruning scheme, every batch and every kernel.
M is taken per sample because the same layer at batch 1 and 32 shares its weight (the same nonzeros, the same rows):
keying on the batch's M would let a fit see a layer at one batch and be judged on it at the other. The rule names no
model, so two models' layers of one shape fall on the same side. A hash, not a list: it is fixed before the data
are looked at and cannot be chosen to flatter a fit; on the committed CPU grid it holds out 7 of the 25 shapes
(2 of bert-base's 4, 5 of resnet50's 21: 308 of 1,744 rows), pinned in tests/test_kernel_bench_fit.py.

The rule before it hashed "model/layer", which put repeats of one shape on both sides: 504 of the 620 rows it held
out had a training row of the same kernel, dtype, batch, scheme, shape and nonzeros within 2 %.

**From one model to another** (`model_splits`): fit on every row of one model, judge on every row of the others
(on the committed grid: resnet50 -> bert-base and bert-base -> resnet50). It asks whether the model carries to
layers of another network, not only to unseen shapes of the same one.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


def shape_key(row: Mapping) -> str:
    """The GEMM of one sample: "M/batch x reduction x K x groups" (M = output pixels x batch, or tokens)."""
    m, batch = int(float(row["m"])), int(float(row["batch"]))
    if batch < 1 or m % batch:
        raise ValueError(f"row {row.get('model')}/{row.get('layer')}: M = {m} is not a multiple of batch {batch}, so "
                         f"its per-sample GEMM shape (the held-out key) is undefined")
    return f"{m // batch}x{int(float(row['reduction']))}x{int(float(row['k']))}x{int(float(row['groups']))}"


def is_held_out(row: Mapping) -> bool:
    """The shape split's rule (module docstring): CRC-32 of the row's shape key divisible by 3."""
    return zlib.crc32(shape_key(row).encode()) % 3 == 0


@dataclass(frozen=True)
class Split:
    name: str
    description: str
    held_out: Callable[[Mapping], bool]

    def training(self, rows: Iterable[Mapping]) -> list[Mapping]:
        return [row for row in rows if not self.held_out(row)]


SHAPE_SPLIT = Split("shape", "held out by GEMM shape: CRC-32 of 'M/batch x reduction x K x groups' divisible by 3, "
                             "every layer, scheme, batch and kernel of a held-out shape", is_held_out)


def model_splits(rows: Iterable[Mapping]) -> list[Split]:
    """One split per model in `rows`: fit on that model's rows, judge on every other model's."""
    models = sorted({row["model"] for row in rows})
    if len(models) < 2:
        return []
    return [Split(f"train {model}, test {'+'.join(m for m in models if m != model)}",
                  f"fitted on every {model} row, judged on every row of the other models",
                  _other_than(model)) for model in models]


def _other_than(model: str) -> Callable[[Mapping], bool]:
    return lambda row: row["model"] != model

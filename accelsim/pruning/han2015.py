"""Han et al. 2015's pruned AlexNet and VGG-16, by per-layer magnitude to the paper's per-layer densities.

Source: S. Han, J. Pool, J. Tran, W. J. Dally, "Learning both Weights and Connections for Efficient Neural
Networks", NIPS 2015 (arXiv 1506.02626), Table 4 (AlexNet) and Table 5 (VGG-16), column "Weights%" (weights
remaining after pruning); as gathered in /work/shared/reference/accelerators.md. EIE (ISCA 2016, Table III)
reuses the fc densities (Alex-6/7/8: 9, 9, 25%; VGG-6/7/8: 4, 4, 23%).

The model is recognised by the shapes of its prunable layers, in order, as torchvision builds them (the module
names below are torchvision's; names need not match, shapes must, except the last layer's number of classes).
torchvision's AlexNet is the single-tower variant (64 conv1 filters, no groups), not the paper's two-GPU
network; the densities are applied per layer all the same. Pruning is one-shot magnitude without retraining: the
sparsity patterns are the paper's in density, not its weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from accelsim.pruning.base import Decision, SchemeBase
from accelsim.pruning.errors import PruningError
from accelsim.pruning.scores import LayerScores
from accelsim.pruning.targets import PrunableWeight
from accelsim.pruning.unstructured import layer_mask


@dataclass(frozen=True)
class Han2015Layer:
    paper_name: str
    torchvision_name: str
    shape: tuple[int | None, ...]
    """None: any size (the classifier's number of classes)."""
    density: float


ALEXNET: tuple[Han2015Layer, ...] = (
    Han2015Layer("conv1", "features.0", (64, 3, 11, 11), 0.84),
    Han2015Layer("conv2", "features.3", (192, 64, 5, 5), 0.38),
    Han2015Layer("conv3", "features.6", (384, 192, 3, 3), 0.35),
    Han2015Layer("conv4", "features.8", (256, 384, 3, 3), 0.37),
    Han2015Layer("conv5", "features.10", (256, 256, 3, 3), 0.37),
    Han2015Layer("fc6", "classifier.1", (4096, 9216), 0.09),
    Han2015Layer("fc7", "classifier.4", (4096, 4096), 0.09),
    Han2015Layer("fc8", "classifier.6", (None, 4096), 0.25),
)

VGG16: tuple[Han2015Layer, ...] = (
    Han2015Layer("conv1_1", "features.0", (64, 3, 3, 3), 0.58),
    Han2015Layer("conv1_2", "features.2", (64, 64, 3, 3), 0.22),
    Han2015Layer("conv2_1", "features.5", (128, 64, 3, 3), 0.34),
    Han2015Layer("conv2_2", "features.7", (128, 128, 3, 3), 0.36),
    Han2015Layer("conv3_1", "features.10", (256, 128, 3, 3), 0.53),
    Han2015Layer("conv3_2", "features.12", (256, 256, 3, 3), 0.24),
    Han2015Layer("conv3_3", "features.14", (256, 256, 3, 3), 0.42),
    Han2015Layer("conv4_1", "features.17", (512, 256, 3, 3), 0.32),
    Han2015Layer("conv4_2", "features.19", (512, 512, 3, 3), 0.27),
    Han2015Layer("conv4_3", "features.21", (512, 512, 3, 3), 0.34),
    Han2015Layer("conv5_1", "features.24", (512, 512, 3, 3), 0.35),
    Han2015Layer("conv5_2", "features.26", (512, 512, 3, 3), 0.29),
    Han2015Layer("conv5_3", "features.28", (512, 512, 3, 3), 0.36),
    Han2015Layer("fc6", "classifier.0", (4096, 25088), 0.04),
    Han2015Layer("fc7", "classifier.3", (4096, 4096), 0.04),
    Han2015Layer("fc8", "classifier.6", (None, 4096), 0.23),
)

MODELS: dict[str, tuple[Han2015Layer, ...]] = {"alexnet": ALEXNET, "vgg16": VGG16}


def _matches(shapes: Sequence[tuple[int, ...]], table: Sequence[Han2015Layer]) -> bool:
    return len(shapes) == len(table) and all(
        len(shape) == len(row.shape)
        and all(want is None or want == got for want, got in zip(row.shape, shape, strict=True))
        for shape, row in zip(shapes, table, strict=True)
    )


def detect_model(shapes: Sequence[tuple[int, ...]]) -> str:
    """The model, "alexnet" or "vgg16", recognised by the prunable layers' shapes in order, else a PruningError."""
    for name, table in MODELS.items():
        if _matches(shapes, table):
            return name
    shown = ", ".join(str(s) for s in shapes[:6]) + (", ..." if len(shapes) > 6 else "")
    raise PruningError(
        f"han2015 applies to alexnet and vgg16 only (torchvision's structure: 8 resp. 16 conv/linear layers with "
        f"the paper's shapes); this model's {len(shapes)} prunable layer(s) have shapes {shown}, which match "
        f"neither. For other models use unstructured:<sparsity> or global:<sparsity>."
    )


class Han2015(SchemeBase):
    """AlexNet or VGG-16 pruned per layer by magnitude to the densities of Han et al. 2015."""

    syntax: ClassVar[str] = "han2015"
    summary: ClassVar[str] = "AlexNet / VGG-16 at the per-layer densities of Han et al., NIPS 2015 (conv1 84% ...)"

    kind: Literal["han2015"] = "han2015"

    @property
    def text(self) -> str:
        return "han2015"

    def plan(self, weights: Sequence[PrunableWeight],
             scores: Mapping[str, LayerScores] | None = None) -> dict[str, Decision]:
        table = MODELS[detect_model([w.shape for w in weights])]
        return {
            w.name: layer_mask(w.tensor, row.density, None if scores is None else scores[w.name])
            for w, row in zip(weights, table, strict=True)
            if not w.excluded
        }

"""Training and evaluating a model on its own labelled data, with pruning masks enforced throughout.

One loop serves the zoo's own training recipes (digits-cnn, digits-mlp) and every schedule that trains after or
while pruning (fine-tuning, rewinding, training a sparse network from initialisation): Adam, mini-batches in an
order drawn from a seeded generator, cross-entropy. A mask (1 keep, 0 pruned) per parameter name is enforced on
every step: the gradient of a pruned weight is zeroed before the step and the weight is zeroed after it (Adam's
moments would otherwise move it), and after training every pruned weight is checked to be exactly zero.

Training runs on one thread unless told otherwise: these models are so small that threads spend more time
synchronising than computing (on 2 busy cores one thread is ten times faster), and the weights then do not depend
on the machine's core count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LabelledData:
    """A fixed train/test split (images as float tensors, labels as int64). Shared between callers: read only."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


@dataclass(frozen=True)
class Recipe:
    """How a zoo model is trained from its initialisation; schedules reuse it (fine-tuning at lr / 10)."""

    epochs: int
    lr: float
    batch_size: int = 64
    threads: int | None = 1
    """torch threads while training (None: leave torch's setting, which follows the core count)."""


@dataclass(frozen=True)
class TrainingSetup:
    """Everything a schedule needs to train a model again: its data, recipe and seeded initialisation."""

    data: LabelledData
    recipe: Recipe
    init: Callable[[], nn.Module]
    """A fresh, untrained model: the initialisation the trained model started from (same seed)."""
    seed: int = 0


class MaskViolation(RuntimeError):
    """A pruned weight came out of training nonzero (a bug: the loop enforces the masks)."""


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of `images` classified as `labels` (eval mode, no gradients; the model's mode is restored)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)
    model.train(was_training)
    return float((predicted == labels).float().mean())


def heldout_accuracy(model: nn.Module, data: LabelledData) -> float:
    """Accuracy on the test split."""
    return accuracy(model, data.test_images, data.test_labels)


def steps_per_epoch(data: LabelledData, batch_size: int) -> int:
    return -(-len(data.train_labels) // batch_size)


def train(model: nn.Module, data: LabelledData, *, epochs: int, lr: float, seed: int, batch_size: int = 64,
          masks: Mapping[str, torch.Tensor] | None = None, on_step: Callable[[int], None] | None = None,
          threads: int | None = 1) -> nn.Module:
    """Train `model` in place for `epochs` on `data`'s training split; returns it in eval mode.

    `masks` maps parameter names (model.named_parameters()) to 0/1 tensors of their shape; `on_step(step)` is
    called after every optimiser step (progress bars, schedules that prune while training, e.g. Zhu and Gupta's);
    it may change `masks` in place (new zeros are enforced from the next step on). `threads`: torch threads while
    training (None: leave torch's setting)."""
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(model, data, epochs, lr, seed, batch_size, masks, on_step)
    finally:
        torch.set_num_threads(previous_threads)


def _train(model, data, epochs, lr, seed, batch_size, masks, on_step) -> nn.Module:
    params = dict(model.named_parameters())
    masks = masks if masks is not None else {}
    unknown = sorted(set(masks) - set(params))
    if unknown:
        raise KeyError(f"masks name {', '.join(unknown)}, which are not parameters of {type(model).__name__}")
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    step = 0
    for _ in range(epochs):
        order = torch.randperm(len(data.train_labels), generator=generator)
        for batch in order.split(batch_size):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(data.train_images[batch]), data.train_labels[batch])
            loss.backward()
            _enforce(params, masks, gradients=True)
            optimiser.step()
            _enforce(params, masks, gradients=False)
            step += 1
            if on_step is not None:
                on_step(step)
    check_masks(model, masks)
    return model.eval()


def _enforce(params: dict[str, nn.Parameter], masks: Mapping[str, torch.Tensor], *, gradients: bool) -> None:
    with torch.no_grad():
        for name, mask in masks.items():
            target = params[name].grad if gradients else params[name]
            if target is not None:
                target.mul_(mask)


def check_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
    """Raise `MaskViolation` when a weight that a mask prunes is not exactly zero."""
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        revived = int(torch.count_nonzero(params[name].detach()[mask == 0]))
        if revived:
            raise MaskViolation(f"{revived} pruned weight(s) of {name} are nonzero after training")


def nonzero_masks(model: nn.Module, names: list[str]) -> dict[str, torch.Tensor]:
    """The 0/1 masks of the named parameters' current nonzeros: what training must keep pruned."""
    params = dict(model.named_parameters())
    return {name: (params[name].detach() != 0).to(params[name].dtype) for name in names}

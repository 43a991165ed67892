"""The digits models: `digits-cnn` and `digits-mlp`, trained on scikit-learn's bundled 8x8 digits (1,797 images)
in seconds.

No pretrained weights can be downloaded on the project's machines, and random weights give unrealistic activation
sparsity. These models have trained weights and real ReLU sparsity, and their data lets pruning schedules
fine-tune and measure accuracy. The trained state is cached (a plain state_dict loaded with `weights_only=True`)
keyed by model, recipe version and seed, so a changed recipe retrains instead of loading a stale file.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from accelsim.cache_folder import cache_dir
from accelsim.frontend.training import LabelledData, Recipe, TrainingSetup, accuracy, train

RECIPE_VERSION = 2  # 2: digits-cnn trains on one thread (v1 used torch's default, so weights varied by core count)
TEST_FRACTION = 0.25
SPLIT_SEED = 0
DigitsData = LabelledData  # the name this module's callers have used


class DigitsCNN(nn.Module):
    """conv 1->16 3x3 -> ReLU -> conv 16->32 3x3 -> ReLU -> maxpool 2 -> fc 512->64 -> ReLU -> fc 64->10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


class DigitsMLP(nn.Module):
    """fc 64->256 -> ReLU -> fc 256->128 -> ReLU -> fc 128->10 on the flattened 8x8 image: a second network on the
    same data, all linear layers, so pruning results are not one architecture's."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc3(torch.relu(self.fc2(x)))


@dataclass(frozen=True)
class DigitsModel:
    cache_name: str
    factory: Callable[[], nn.Module]
    recipe: Recipe


DIGITS_MODELS = {
    # One training thread for both: the weights must not depend on the machine's core count (they still may on its
    # instruction set and BLAS, at float rounding, so no test pins a trained weight).
    "digits-cnn": DigitsModel("digits_cnn", DigitsCNN, Recipe(epochs=40, lr=2e-3, batch_size=64)),
    "digits-mlp": DigitsModel("digits_mlp", DigitsMLP, Recipe(epochs=40, lr=2e-3, batch_size=64)),
}


@functools.cache  # one split per process: the zoo reads it for inputs, training and accuracy
def load_digits_data() -> LabelledData:
    """The fixed train/test split used for training and for every accuracy accelsim reports. Shared: read only."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]  # pixel values are 0..16
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target, test_size=TEST_FRACTION,
                                                        random_state=SPLIT_SEED, stratify=digits.target)
    as_tensor = torch.from_numpy
    return LabelledData(as_tensor(x_train), as_tensor(y_train).long(), as_tensor(x_test), as_tensor(y_test).long())


def initial_model(name: str, seed: int) -> nn.Module:
    """The untrained model `name` as its recipe initialises it for `seed` (the lottery ticket's theta_0)."""
    torch.manual_seed(seed)
    return DIGITS_MODELS[name].factory()


def training_setup(name: str, seed: int) -> TrainingSetup:
    return TrainingSetup(load_digits_data(), DIGITS_MODELS[name].recipe, lambda: initial_model(name, seed), seed)


def train_digits_model(name: str, data: LabelledData, seed: int = 0, epochs: int | None = None,
                       on_step: Callable[[int], None] | None = None) -> nn.Module:
    recipe = DIGITS_MODELS[name].recipe
    model = initial_model(name, seed)
    return train(model, data, epochs=recipe.epochs if epochs is None else epochs, lr=recipe.lr, seed=seed,
                 batch_size=recipe.batch_size, on_step=on_step, threads=recipe.threads)


def train_digits_cnn(data: LabelledData, seed: int = 0, epochs: int = 40) -> nn.Module:
    return train_digits_model("digits-cnn", data, seed, epochs)


def trained_digits_model(name: str, seed: int = 0) -> tuple[nn.Module, dict]:
    """The trained model and {"test_accuracy", "seed", "recipe_version"}; trains once, then loads the cache."""
    entry = DIGITS_MODELS[name]
    path = cache_dir() / f"{entry.cache_name}-v{RECIPE_VERSION}-seed{seed}.pt"
    model = entry.factory()
    if path.is_file():
        state = torch.load(path, weights_only=True)
        model.load_state_dict(state["model"])
        return model.eval(), json.loads(state["info"])
    data = load_digits_data()
    model = train_digits_model(name, data, seed=seed)
    info = {"test_accuracy": accuracy(model, data.test_images, data.test_labels), "seed": seed,
            "recipe_version": RECIPE_VERSION, "test_images": len(data.test_labels)}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".tmp{os.getpid()}")
    torch.save({"model": model.state_dict(), "info": json.dumps(info)}, temporary)
    temporary.replace(path)  # atomic: a crash mid-write never leaves a half file where the cache is read
    return model, info


def trained_digits_cnn(seed: int = 0) -> tuple[nn.Module, dict]:
    return trained_digits_model("digits-cnn", seed)

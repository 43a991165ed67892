"""`digits-cnn`: a small CNN trained on scikit-learn's bundled 8x8 digits (1,797 images) in a few seconds.

No pretrained weights can be downloaded on the project's machines, and random weights give unrealistic activation
sparsity. This model has trained weights and real ReLU sparsity. The trained state is cached (a plain state_dict
loaded with `weights_only=True`) keyed by a version, so a changed recipe retrains instead of loading a stale file.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

RECIPE_VERSION = 1
TEST_FRACTION = 0.25
SPLIT_SEED = 0


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


@dataclass(frozen=True)
class DigitsData:
    train_images: torch.Tensor  # (n, 1, 8, 8), scaled to [0, 1]
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


@functools.cache  # one split per process: the zoo reads it for inputs and for accuracy before and after pruning
def load_digits_data() -> DigitsData:
    """The fixed train/test split used for training and for every accuracy accelsim reports. Shared: read only."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]  # pixel values are 0..16
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target, test_size=TEST_FRACTION,
                                                        random_state=SPLIT_SEED, stratify=digits.target)
    as_tensor = torch.from_numpy
    return DigitsData(as_tensor(x_train), as_tensor(y_train).long(), as_tensor(x_test), as_tensor(y_test).long())


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)
    model.train(was_training)
    return float((predicted == labels).float().mean())


def train_digits_cnn(data: DigitsData, seed: int = 0, epochs: int = 40) -> DigitsCNN:
    torch.manual_seed(seed)
    model = DigitsCNN()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(data.train_labels), generator=generator)
        for batch in order.split(64):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(data.train_images[batch]), data.train_labels[batch])
            loss.backward()
            optimiser.step()
    return model.eval()


def cache_dir() -> Path:
    """$ACCELSIM_CACHE, else $XDG_CACHE_HOME/accelsim, else ~/.cache/accelsim."""
    if os.environ.get("ACCELSIM_CACHE"):
        return Path(os.environ["ACCELSIM_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "accelsim"


def trained_digits_cnn(seed: int = 0) -> tuple[DigitsCNN, dict]:
    """The trained model and {"test_accuracy", "seed", "recipe_version"}; trains once, then loads the cache."""
    path = cache_dir() / f"digits_cnn-v{RECIPE_VERSION}-seed{seed}.pt"
    model = DigitsCNN()
    if path.is_file():
        state = torch.load(path, weights_only=True)
        model.load_state_dict(state["model"])
        return model.eval(), json.loads(state["info"])
    data = load_digits_data()
    model = train_digits_cnn(data, seed=seed)
    info = {"test_accuracy": accuracy(model, data.test_images, data.test_labels), "seed": seed,
            "recipe_version": RECIPE_VERSION, "test_images": len(data.test_labels)}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "info": json.dumps(info)}, temporary)
    temporary.replace(path)  # atomic: a crash mid-write never leaves a half file where the cache is read
    return model, info

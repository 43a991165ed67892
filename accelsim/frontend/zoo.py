"""Named models for the CLI: torchvision CNNs and ViT-B/16, BERT-base and GPT-2 (randomly initialised and seeded: no
weights can be downloaded here), NeuralTalk's LSTM and the keyword spotter TC-ResNet8 (zoo_sequence.py), and
`digits-cnn` and `digits-mlp` (trained on their own data, which pruning schedules use). Each entry builds the model
and a seeded example input."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported when a model is built, not when the zoo's names are looked up
    import torch
    from torch import nn

    from accelsim.frontend.training import TrainingSetup


class UnknownNameError(KeyError):
    """A model, scheme or table name accelsim does not know; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def unknown_name(kind: str, name: str, known) -> UnknownNameError:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UnknownNameError(f"unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(known)}.")


@dataclass(frozen=True)
class ZooModel:
    name: str
    description: str
    default_input_shape: tuple[int, ...]
    build: Callable[[int], nn.Module]
    """Builds the model from a seed (torch.manual_seed before construction)."""
    make_input: Callable[[tuple[int, ...], int], object]
    """Builds the example input for a shape and a seed."""
    training: Callable[[int], TrainingSetup] | None = None
    """For a model with data: its data, recipe and seeded initialisation (fine-tuning, accuracy, rewinding);
    None for a model without data (its accuracy is unknown)."""
    macs: int | None = None
    """MACs of the lowered model at the default input, shown by `accelsim list` (tests/test_zoo_macs.py lowers
    every model on the meta device and checks it)."""


def _seeded(factory: Callable[[], nn.Module]) -> Callable[[int], nn.Module]:
    def build(seed: int) -> nn.Module:
        import torch

        torch.manual_seed(seed)
        return factory().eval()
    return build


def _image_input(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    if len(shape) != 4:
        raise ValueError(f"a vision model takes an input shape N x C x H x W, got {'x'.join(map(str, shape))}")
    import torch

    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _torchvision(name: str, **kwargs) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from accelsim.frontend.tv_compat import import_torchvision

        return getattr(import_torchvision().models, name)(weights=None, **kwargs)

    return build


def _bert_base() -> nn.Module:
    from accelsim.frontend.tv_compat import import_torchvision

    import_torchvision()  # transformers imports torchvision when it is installed
    from transformers import BertConfig, BertModel

    return BertModel(BertConfig())  # BERT-base: 12 layers, hidden 768, 12 heads, FFN 3072


def _token_input(shape: tuple[int, ...], seed: int) -> dict:
    if len(shape) != 2:
        raise ValueError(f"bert-base takes an input shape BATCH x TOKENS, got {'x'.join(map(str, shape))}")
    import torch

    vocab_size = 30522  # BertConfig's default vocabulary
    ids = torch.randint(0, vocab_size, shape, generator=torch.Generator().manual_seed(seed))
    return {"input_ids": ids}


def _digits_model(name: str) -> Callable[[int], nn.Module]:
    def build(seed: int) -> nn.Module:
        from accelsim.frontend.digits import trained_digits_model

        return trained_digits_model(name, seed)[0]

    return build


def _digits_training(name: str) -> Callable[[int], TrainingSetup]:
    def setup(seed: int) -> TrainingSetup:
        from accelsim.frontend.digits import training_setup

        return training_setup(name, seed)

    return setup


def _digits_input(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Real test-set digits (not noise), so that activation sparsity is the trained model's own."""
    import torch

    from accelsim.frontend.digits import load_digits_data

    images = load_digits_data().test_images
    if len(shape) != 4 or shape[1:] != (1, 8, 8) or not 1 <= shape[0] <= len(images):
        raise ValueError(f"the digits models take an input shape Nx1x8x8 with 1 <= N <= {len(images)}, "
                         f"got {'x'.join(map(str, shape))}")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    return images[order[: shape[0]]]


_VISION = {
    "alexnet": ("AlexNet (torchvision)", {}),
    "vgg16": ("VGG-16 (torchvision)", {}),
    "resnet18": ("ResNet-18 (torchvision)", {}),
    "resnet50": ("ResNet-50 (torchvision)", {}),
    "mobilenet_v2": ("MobileNetV2 (torchvision), depthwise convolutions", {}),
    "googlenet": ("GoogLeNet / Inception v1 (torchvision)", {"init_weights": True, "aux_logits": False}),
}

MODELS: dict[str, ZooModel] = {
    name: ZooModel(name, f"{text}, random seeded weights", (1, 3, 224, 224), _seeded(_torchvision(name, **kw)),
                   _image_input)
    for name, (text, kw) in _VISION.items()
}
MODELS["bert-base"] = ZooModel("bert-base", "BERT-base encoder (transformers, from config, random seeded weights)",
                               (1, 128), _seeded(_bert_base), _token_input)
_DIGITS = {"digits-cnn": ("small CNN trained on scikit-learn digits (cached); real test images", 337_536),
           "digits-mlp": ("3-layer MLP (64-256-128-10) trained on scikit-learn digits (cached); real test images",
                          50_432)}
for _name, (_text, _macs) in _DIGITS.items():
    MODELS[_name] = ZooModel(_name, _text, (1, 1, 8, 8), _digits_model(_name), _digits_input, _digits_training(_name),
                             _macs)


_MACS = {"alexnet": 714_188_480, "vgg16": 15_470_264_320, "resnet18": 1_814_073_344, "resnet50": 4_089_184_256,
         "mobilenet_v2": 300_774_272, "googlenet": 1_498_376_192, "bert-base": 11_174_215_680}
for _name, _macs in _MACS.items():
    MODELS[_name] = dataclasses.replace(MODELS[_name], macs=_macs)

from accelsim.frontend import zoo_sequence as _seq  # noqa: E402  (after ZooModel and _seeded, which it does not use)

MODELS["vit-b-16"] = ZooModel("vit-b-16", "ViT-B/16 (torchvision), random seeded weights", (1, 3, 224, 224),
                              _seeded(_seq.vit_b_16), _seq.vit_input, macs=17_563_828_224)
MODELS["gpt2"] = ZooModel("gpt2", "GPT-2 124M with its LM head (transformers, from config, random seeded weights); "
                          "--input TOKENS", (1, 128), _seeded(_seq.gpt2), _seq.gpt2_input, macs=16_114_089_984)
MODELS["neuraltalk-lstm"] = ZooModel("neuraltalk-lstm", "NeuralTalk's captioning LSTM at EIE's benchmark shapes "
                                     "(We, nn.LSTM 600, Wd); --input BATCHxSTEPS", (1, 16),
                                     _seeded(_seq.neuraltalk_lstm), _seq.neuraltalk_input, macs=132_931_200)
MODELS["tc-resnet8"] = ZooModel("tc-resnet8", "TC-ResNet8 keyword spotter (Choi et al. 2019): conv1d over 40 MFCC x "
                                "101 frames", (1, 40, 101), _seeded(_seq.tc_resnet8), _seq.tc_resnet8_input,
                                macs=1_563_264)


# MobileNet v1 (Howard et al. 2017) at width multiplier 0.5 and 128 x 128: Eyeriss v2's benchmark (Chen et al.,
# JETCAS 2019: 49.2 M MACs). The width multiplier is MobileNetV1's parameter (accelsim/frontend/mobilenet_v1.py).
def _mobilenet_v1(width_multiplier: float) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from accelsim.frontend.mobilenet_v1 import MobileNetV1

        return MobileNetV1(width_multiplier)

    return build


MODELS["mobilenet-v1-0.5"] = ZooModel(
    "mobilenet-v1-0.5", "MobileNet v1, width multiplier 0.5 (Eyeriss v2's benchmark, 49.2 M MACs at 128 x 128), "
    "random seeded weights", (1, 3, 128, 128), _seeded(_mobilenet_v1(0.5)), _image_input, macs=49_160_192)


def get_model(name: str) -> ZooModel:
    if name not in MODELS:
        raise unknown_name("model", name, MODELS)
    return MODELS[name]


def parse_shape(text: str) -> tuple[int, ...]:
    """'1x3x224x224' (or '1,3,224,224') -> (1, 3, 224, 224)."""
    parts = text.replace(",", "x").lower().split("x")
    try:
        shape = tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(f"input shape {text!r} is not of the form 1x3x224x224") from None
    if any(size < 1 for size in shape):
        raise ValueError(f"input shape {text!r}: every size must be at least 1")
    return shape

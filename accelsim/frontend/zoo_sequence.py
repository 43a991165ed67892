"""Builders and example inputs of the zoo's sequence and transformer models: `gpt2` (transformers, from its
config), `vit-b-16` (torchvision), `neuraltalk-lstm` (neuraltalk.py) and `tc-resnet8` (tc_resnet.py). Weights are
random and seeded (zoo.py seeds before building); nothing is downloaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn

GPT2_CONTEXT = 1024
GPT2_VOCABULARY = 50257


def gpt2() -> nn.Module:
    """GPT-2 small (124M parameters: 12 layers, hidden 768, 12 heads) with its language-model head, whose weight is
    the token embedding's (tied, as in GPT-2)."""
    from accelsim.frontend.tv_compat import import_torchvision

    import_torchvision()  # transformers imports torchvision when it is installed
    from transformers import GPT2Config, GPT2LMHeadModel

    return GPT2LMHeadModel(GPT2Config())


def gpt2_input(shape: tuple[int, ...], seed: int) -> dict:
    """TOKENS or BATCHxTOKENS random token ids."""
    if len(shape) == 1:
        shape = (1, *shape)
    if len(shape) != 2 or shape[1] > GPT2_CONTEXT:
        raise ValueError(f"gpt2 takes an input shape TOKENS or BATCHxTOKENS with at most {GPT2_CONTEXT} tokens (its "
                         f"context), e.g. 128 or 1x128; got {'x'.join(map(str, shape))}")
    import torch

    ids = torch.randint(0, GPT2_VOCABULARY, shape, generator=torch.Generator().manual_seed(seed))
    return {"input_ids": ids}


def vit_b_16() -> nn.Module:
    from accelsim.frontend.tv_compat import import_torchvision

    return import_torchvision().models.vit_b_16(weights=None)


def vit_input(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    if len(shape) != 4 or shape[1:] != (3, 224, 224):
        raise ValueError(f"vit-b-16 takes an input shape Nx3x224x224 (its 16x16 patches and position embeddings are "
                         f"those of a 224x224 image); got {'x'.join(map(str, shape))}")
    import torch

    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def neuraltalk_lstm() -> nn.Module:
    from accelsim.frontend.neuraltalk import NeuralTalkLSTM

    return NeuralTalkLSTM()


def neuraltalk_input(shape: tuple[int, ...], seed: int):
    from accelsim.frontend.neuraltalk import neuraltalk_input as make

    return make(shape, seed)


def tc_resnet8() -> nn.Module:
    from accelsim.frontend.tc_resnet import TCResNet8

    return TCResNet8()


def tc_resnet8_input(shape: tuple[int, ...], seed: int):
    from accelsim.frontend.tc_resnet import mfcc_input

    return mfcc_input(shape, seed)

"""TC-ResNet8 (Choi et al., "Temporal Convolution for Real-time Keyword Spotting on Mobile Devices", Interspeech
2019): keyword spotting with 1-D convolutions over time, the 40 MFCC coefficients of each of 101 frames (1 s of
audio at a 10 ms hop) as input channels. A 3-tap conv to 16 channels, three residual blocks of two 9-tap convs
(24, 32, 48 channels; the first of each at stride 2, with a strided 1x1 conv on the shortcut), batch norm and ReLU,
average pooling over time, a linear layer to 12 classes (Google Speech Commands' 10 words, silence, unknown): 66K
parameters and 3.0M FLOPs in the paper's Table 1. Paddings that keep the length at stride 1 are our reading."""

from __future__ import annotations

import torch
from torch import nn

MFCC = 40
FRAMES = 101
CLASSES = 12


class _Block(nn.Module):
    def __init__(self, channels_in: int, channels_out: int):
        super().__init__()
        self.conv1 = nn.Conv1d(channels_in, channels_out, 9, stride=2, padding=4, bias=False)
        self.bn1 = nn.BatchNorm1d(channels_out)
        self.conv2 = nn.Conv1d(channels_out, channels_out, 9, padding=4, bias=False)
        self.bn2 = nn.BatchNorm1d(channels_out)
        self.shortcut = nn.Sequential(nn.Conv1d(channels_in, channels_out, 1, stride=2, bias=False),
                                      nn.BatchNorm1d(channels_out), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + self.shortcut(x))


class TCResNet8(nn.Module):
    """MFCC (N, 40, frames) -> class scores (N, 12)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(MFCC, 16, 3, padding=1, bias=False)
        self.blocks = nn.Sequential(_Block(16, 24), _Block(24, 32), _Block(32, 48))
        self.fc = nn.Linear(48, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.blocks(self.conv(x)).mean(dim=-1))


def mfcc_input(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Seeded noise of the MFCC shape N x 40 x FRAMES."""
    if len(shape) != 3 or shape[1] != MFCC:
        raise ValueError(f"tc-resnet8 takes an input shape Nx{MFCC}xFRAMES ({MFCC} MFCC coefficients per frame; "
                         f"{FRAMES} frames are one second), e.g. 1x{MFCC}x{FRAMES}; got {'x'.join(map(str, shape))}")
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))

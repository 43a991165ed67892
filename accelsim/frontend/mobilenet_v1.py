"""MobileNet v1 (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
arXiv 1704.04861, Table 1) as a torch module, with the width multiplier alpha as a parameter.

A 3 x 3 stride-2 conv, then 13 depthwise-separable blocks (a 3 x 3 depthwise conv and a 1 x 1 pointwise conv, each
followed by batch norm and ReLU), a global average pool and the classifier. Every channel count is the paper's
times alpha (Section 4.2: "the number of input channels M becomes alpha M"). Table 1 prints the last depthwise conv
as stride 2 on a 7 x 7 input, which would not keep its 7 x 7 output; like the reference implementations we give it
stride 1 (accelsim/data/mobilenet_v1.csv says the same). At alpha 0.5 and a 128 x 128 input the network does
49.15 M MACs (the MobileNet paper's Table 6 row "0.50 MobileNet-128": 49 million mult-adds; Eyeriss v2's
benchmark, 49.2 M MACs).
"""

from __future__ import annotations

import torch
from torch import nn

STEM_CHANNELS = 32
"""Output channels of the first (full) conv at width 1.0."""
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
          (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
"""(pointwise output channels at width 1.0, depthwise stride) of the 13 depthwise-separable blocks (Table 1)."""


def scaled_channels(channels: int, width_multiplier: float) -> int:
    """alpha x channels, at least one (0.25, 0.5, 0.75 and 1.0 give whole numbers for every MobileNet layer)."""
    return max(1, round(channels * width_multiplier))


def _conv_bn_relu(in_channels: int, out_channels: int, kernel: int, stride: int, groups: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, groups=groups,
                      bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


class MobileNetV1(nn.Module):
    """MobileNet v1 at width multiplier `width_multiplier` (alpha in (0, 1]) for `num_classes` classes; any input
    of at least 32 x 32 pixels (the five stride-2 layers divide it by 32)."""

    def __init__(self, width_multiplier: float = 1.0, num_classes: int = 1000):
        super().__init__()
        if not 0 < width_multiplier <= 1:
            raise ValueError(f"MobileNet v1 width_multiplier must be in (0, 1], got {width_multiplier}")
        channels = scaled_channels(STEM_CHANNELS, width_multiplier)
        layers = _conv_bn_relu(3, channels, 3, 2, 1)
        for out_channels, stride in BLOCKS:
            out_channels = scaled_channels(out_channels, width_multiplier)
            layers += _conv_bn_relu(channels, channels, 3, stride, channels)  # depthwise
            layers += _conv_bn_relu(channels, out_channels, 1, 1, 1)  # pointwise
            channels = out_channels
        self.width_multiplier = width_multiplier
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)
        for module in self.modules():  # torchvision's initialisation of its MobileNets
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))

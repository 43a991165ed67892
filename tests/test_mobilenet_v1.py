"""MobileNet v1 (accelsim/frontend/mobilenet_v1.py) as the Eyeriss v2 paper runs it: width 0.5 at 128 x 128."""

from __future__ import annotations

import pytest
import torch

from accelsim.frontend.lower import lower
from accelsim.frontend.mobilenet_v1 import MobileNetV1
from accelsim.frontend.zoo import get_model


def test_mobilenet_0_5_at_128_does_the_papers_49_2_million_macs():
    # At width 0.5 and 128 x 128 (outputs 64, 32, 16, 8, 4 pixels a side after the stride-2 layers):
    #   conv 3->16 3x3 at 64^2: 1,769,472
    #   dw16 at 64^2 589,824 + pw 16->32 at 64^2 2,097,152
    #   dw32 s2 at 32^2 294,912 + pw 32->64 at 32^2 2,097,152;  dw64 at 32^2 589,824 + pw 64->64 4,194,304
    #   dw64 s2 at 16^2 147,456 + pw 64->128 2,097,152;        dw128 at 16^2 294,912 + pw 128->128 4,194,304
    #   dw128 s2 at 8^2 73,728 + pw 128->256 2,097,152;         5 x (dw256 at 8^2 147,456 + pw 256->256 4,194,304)
    #   dw256 s2 at 4^2 36,864 + pw 256->512 2,097,152;         dw512 at 4^2 73,728 + pw 512->512 4,194,304
    #   fc 512 -> 1000: 512,000.                       Sum: 49,160,192 (the paper's 49.2 M)
    entry = get_model("mobilenet-v1-0.5")
    assert entry.default_input_shape == (1, 3, 128, 128)
    workload = lower(entry.build(0), entry.make_input(entry.default_input_shape, 0))
    assert sum(layer.macs for layer in workload) == 49_160_192
    assert len(workload) == 28
    depthwise = [layer for layer in workload if layer.op == "conv2d" and layer.groups > 1]
    assert len(depthwise) == 13 and all(layer.groups == layer.dims["C"] for layer in depthwise)


@pytest.mark.parametrize(("width", "channels"), [(0.25, 256), (0.5, 512), (1.0, 1024)])
def test_the_width_multiplier_scales_every_channel(width, channels):
    model = MobileNetV1(width)
    assert model.classifier.in_features == channels
    assert model.features[0].out_channels == round(32 * width)
    convs = [module for module in model.modules() if isinstance(module, torch.nn.Conv2d)]
    assert len(convs) == 27 and sum(conv.groups > 1 for conv in convs) == 13


def test_a_width_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="width_multiplier must be in"):
        MobileNetV1(1.5)

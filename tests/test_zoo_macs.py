"""The MACs `accelsim list` shows for each zoo model are its lowering's at the default input (lowered on the meta
device: shapes only, no weights), and agree with figures from outside: torchvision's own operation counts, the
transformer formula, the paper of each small model."""

import pytest
import torch

from accelsim.frontend.digits import DIGITS_MODELS
from accelsim.frontend.lower import lower
from accelsim.frontend.tv_compat import import_torchvision
from accelsim.frontend.zoo import MODELS


def _to_meta(value):
    if isinstance(value, dict):
        return {key: item.to("meta") for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(item.to("meta") for item in value)
    return value.to("meta")


def lowered_on_meta(name: str, shape=None):
    entry = MODELS[name]
    shape = shape or entry.default_input_shape
    with torch.device("meta"):
        # the digits models are trained when built; their architecture alone is enough for shapes
        model = DIGITS_MODELS[name].factory() if name in DIGITS_MODELS else entry.build(0)
    example = torch.zeros(shape) if name in DIGITS_MODELS else entry.make_input(shape, 0)
    return model, lower(model, _to_meta(example))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_listed_macs_are_the_lowered_models(name):
    _, workload = lowered_on_meta(name)
    assert MODELS[name].macs == workload.macs, f"{name}: the lowering at {MODELS[name].default_input_shape} has " \
                                               f"{workload.macs:_} MACs"
    assert all(item["op"] in ("embedding", "embedding_bag") for item in workload.not_lowered)


@pytest.mark.parametrize(("name", "torchvision_name"), [
    ("alexnet", "alexnet"), ("vgg16", "vgg16"), ("resnet18", "resnet18"), ("resnet50", "resnet50"),
    ("mobilenet_v2", "mobilenet_v2"), ("googlenet", "googlenet"), ("vit-b-16", "vit_b_16")])
def test_vision_macs_match_torchvision_operation_counts(name, torchvision_name):
    # torchvision's weight tables give each model's "GFLOPS" at 224x224, counted as multiply-adds, to 3 decimals
    published = import_torchvision().models.get_model_weights(torchvision_name).DEFAULT.meta["_ops"]
    assert MODELS[name].macs / 1e9 == pytest.approx(published, abs=0.0006)


def _transformer_macs(tokens: int, layers: int = 12, hidden: int = 768, ffn: int = 3072) -> int:
    """Per layer: Q, K, V and output projections, the FFN's two matrices, and QK^T and AV over all heads."""
    return layers * (tokens * (4 * hidden * hidden + 2 * hidden * ffn) + 2 * tokens * tokens * hidden)


def test_gpt2_and_bert_macs_follow_the_transformer_formula():
    assert MODELS["gpt2"].macs == _transformer_macs(128) + 128 * 768 * 50257  # + the LM head over the vocabulary
    assert MODELS["bert-base"].macs == _transformer_macs(128) + 768 * 768  # + the pooler on the first token
    _, workload = lowered_on_meta("gpt2", (2, 16))
    assert workload.macs == _transformer_macs(32) - 12 * 2 * 32 * 32 * 768 + 12 * 2 * 2 * 16 * 16 * 768 \
        + 32 * 768 * 50257  # attention stays within each of the 2 sequences


def test_neuraltalk_and_tc_resnet8_macs_and_parameters():
    steps = 16  # We on the image; the LSTM's 4 gates x 600 over input and hidden at every step; Wd on every step
    assert MODELS["neuraltalk-lstm"].macs == 4096 * 600 + steps * 2 * 600 * 2400 + steps * 600 * 8791
    model, _ = lowered_on_meta("tc-resnet8")
    parameters = sum(p.numel() for p in model.parameters())
    assert parameters == pytest.approx(66_000, rel=0.02)  # Choi et al. 2019, Table 1: 66K parameters
    assert 2 * MODELS["tc-resnet8"].macs == pytest.approx(3.0e6, rel=0.05)  # and 3.0M FLOPs


def test_mobilenet_v1_half_macs_are_eyeriss_v2s_benchmark():
    # Chen et al., JETCAS 2019 (Eyeriss v2): MobileNet with width multiplier 0.5 at 128 x 128 has 49.2 M MACs
    assert MODELS["mobilenet-v1-0.5"].macs / 1e6 == pytest.approx(49.2, abs=0.05)

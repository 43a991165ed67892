"""`apply` on whole models: which weights, the report, exclusion, composition with earlier pruning, han2015."""

import pytest
import torch
from pydantic import TypeAdapter
from torch import nn
from torch.nn.utils import prune

from accelsim.pruning import (
    NM,
    Block,
    Channel,
    Global,
    Han2015,
    NoPruning,
    PruningError,
    Random,
    Scheme,
    Unstructured,
    apply,
    find_prunable_weights,
)

EVERY_SCHEME = [
    Unstructured(sparsity=0.6),
    Global(sparsity=0.6),
    Random(sparsity=0.6, seed=1),
    NM(n=2, m=4),
    Block(block_rows=4, block_cols=4, sparsity=0.5),
    Channel(sparsity=0.5),
    NoPruning(),
]


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, 3))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class AttentionNet(nn.Module):
    def __init__(self, kdim=None):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 2, kdim=kdim, vdim=kdim)
        self.head = nn.Linear(16, 4)


def _convnet():
    torch.manual_seed(0)
    return ConvNet()


def _nonzeros(t):
    return int(torch.count_nonzero(t))


def test_prunable_weights_are_conv_linear_and_attention_projections():
    assert [w.name for w in find_prunable_weights(_convnet())] == [
        "features.0",
        "features.3",
        "classifier.1",
        "classifier.3",
    ]
    assert [w.name for w in find_prunable_weights(AttentionNet())] == ["attn.in_proj_weight", "attn.out_proj", "head"]
    names = [w.name for w in find_prunable_weights(AttentionNet(kdim=8))]
    assert names == ["attn.q_proj_weight", "attn.k_proj_weight", "attn.v_proj_weight", "attn.out_proj", "head"]


@pytest.mark.parametrize("scheme", EVERY_SCHEME, ids=lambda s: s.text)
def test_every_scheme_leaves_biases_and_other_layers_alone(scheme):
    model = _convnet()
    state = model.state_dict()
    untouched = {k: v.clone() for k, v in state.items() if not k.endswith("weight") or k == "features.1.weight"}
    report = apply(model, scheme)
    for key, value in untouched.items():
        assert torch.equal(model.state_dict()[key], value), key
    assert [r.name for r in report.rows] == ["features.0", "features.3", "classifier.1", "classifier.3"]
    assert all(r.pruned or r.status.startswith("left dense: ") for r in report.rows)
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 10)


def test_report_rows_and_overall_density_by_hand():
    model = nn.Sequential(nn.Linear(10, 4), nn.Linear(4, 2))  # 40 + 8 weights
    report = apply(model, Unstructured(sparsity=0.75))  # keeps 10 and 2
    assert [(r.shape, r.nonzeros_before, r.nonzeros_after, r.status) for r in report.rows] == [
        ((4, 10), 40, 10, "pruned"),
        ((2, 4), 8, 2, "pruned"),
    ]
    assert report.density_before == 1.0
    assert report.density_after == pytest.approx(12 / 48)
    text = str(report)
    assert "unstructured:0.75" in text and "25.00%" in text and "(4, 10)" in text


def test_nm_leaves_a_non_divisible_layer_dense_and_lists_why():
    model = _convnet()
    report = apply(model, NM(n=2, m=4))
    first = report.row("features.0")
    assert first.status == "left dense: input channels C=3 not divisible by m=4"
    assert first.nonzeros_after == first.numel
    assert [r.name for r in report.left_dense] == ["features.0"]
    assert "left dense: input channels C=3" in str(report)
    w = model.features[3].weight.permute(0, 2, 3, 1).reshape(-1, 4)
    assert ((w != 0).sum(dim=1) <= 2).all()


def test_block_that_fits_no_layer_raises_and_leaves_the_model_untouched():
    model = _convnet()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(PruningError, match=r"block:3x7:0.5.*fits no layer.*features\.0: GEMM view 8x27"):
        apply(model, Block(block_rows=3, block_cols=7, sparsity=0.5))
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    report = apply(model, Block(block_rows=8, block_cols=9, sparsity=0.5))  # fits the convs only
    assert [r.pruned for r in report.rows] == [True, True, False, False]
    assert "not divisible into 8x9 blocks" in report.row("classifier.1").status


def test_exclude_keeps_named_modules_and_whole_containers_dense():
    model = _convnet()
    report = apply(model, Unstructured(sparsity=0.5, exclude=["classifier", "features.0"]))
    assert [r.status for r in report.rows] == ["left dense: excluded", "pruned"] + ["left dense: excluded"] * 2
    assert _nonzeros(model.classifier[1].weight) == model.classifier[1].weight.numel()
    assert "(exclude: classifier, features.0)" in report.scheme


def test_exclude_of_an_unknown_module_says_did_you_mean():
    with pytest.raises(PruningError, match=r"'clasifier' \(did you mean 'classifier'\?\).*not a module"):
        apply(_convnet(), Unstructured(sparsity=0.5, exclude=["clasifier"]))


def test_nothing_to_prune_is_an_error_except_for_none():
    with pytest.raises(PruningError, match=r"no prunable layer \(nn.Linear, nn.Conv1d/2d/3d, .*nn.LSTM"):
        apply(nn.Sequential(nn.BatchNorm1d(4), nn.ReLU()), Unstructured(sparsity=0.5))
    assert apply(nn.Sequential(nn.ReLU()), NoPruning()).rows == ()
    with pytest.raises(PruningError, match="covers every prunable layer"):
        apply(_convnet(), NM(n=2, m=4, exclude=["features", "classifier"]))


def test_none_lists_every_layer_as_left_dense():
    report = apply(_convnet(), "none")
    assert {r.status for r in report.rows} == {"left dense: scheme 'none'"}
    assert report.density_after == report.density_before == 1.0


def test_nan_weights_are_refused():
    model = nn.Sequential(nn.Linear(4, 4))
    with torch.no_grad():
        model[0].weight[1, 2] = float("nan")
    with pytest.raises(PruningError, match=r"weight '0' contains NaN"):
        apply(model, "unstructured:0.5")


def test_attention_in_proj_is_pruned_and_the_module_still_runs():
    torch.manual_seed(0)
    model = AttentionNet()
    report = apply(model, NM(n=2, m=4))
    assert [r.status for r in report.rows] == ["pruned"] * 3
    assert report.row("attn.in_proj_weight").density_after == 0.5
    assert isinstance(model.attn.in_proj_weight, nn.Parameter)
    x = torch.randn(5, 1, 16)
    out, _ = model.attn(x, x, x)
    assert torch.isfinite(out).all()


# composition with earlier pruning -------------------------------------------------------------------------------


def test_a_live_torch_prune_mask_is_folded_in_and_its_zeros_stay():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 10), nn.Linear(10, 3))
    prune.random_unstructured(model[0], "weight", amount=0.5)
    prune.l1_unstructured(model[1], "weight", amount=0.4)
    old_zeros = model[0].weight_mask == 0
    report = apply(model, Unstructured(sparsity=0.3, exclude=["1"]))
    assert (model[0].weight[old_zeros] == 0).all()
    assert report.row("0").nonzeros_before == 100
    assert report.row("0").nonzeros_after == 100  # already sparser than 30%: nothing revived, nothing more cut
    for layer in model:  # both folded, the excluded one included: plain Parameters, no hooks
        assert not hasattr(layer, "weight_orig") and not hasattr(layer, "weight_mask")
        assert isinstance(layer.weight, nn.Parameter) and not prune.is_pruned(layer)
    assert report.row("1").nonzeros_after == 18


@pytest.mark.parametrize("second", [NM(n=2, m=4), Random(sparsity=0.7, seed=2), Channel(sparsity=0.5, norm=2)])
def test_pruning_twice_composes(second):
    model = _convnet()
    apply(model, Unstructured(sparsity=0.5))
    zeros = {name: p == 0 for name, p in model.named_parameters() if name.endswith("weight")}
    apply(model, second)
    for name, p in model.named_parameters():
        if name in zeros:
            assert (p[zeros[name]] == 0).all(), name


def test_a_live_mask_combines_with_a_new_scheme_on_the_same_layer():
    torch.manual_seed(0)
    layer = nn.Linear(16, 8)
    prune.l1_unstructured(layer, "weight", amount=0.25)  # 32 of 128 zero
    old_zeros = layer.weight_mask == 0
    apply(nn.Sequential(layer), NM(n=1, m=4))
    assert (layer.weight[old_zeros] == 0).all()
    assert ((layer.weight != 0).reshape(-1, 4).sum(dim=1) <= 1).all()


def test_schemes_validate_from_dicts_by_kind():
    adapter = TypeAdapter(Scheme)
    assert adapter.validate_python({"kind": "nm", "n": 2, "m": 4}) == NM(n=2, m=4)
    with pytest.raises(ValueError, match="extra"):
        adapter.validate_python({"kind": "unstructured", "sparsity": 0.5, "sparsty": 0.5})


# han2015 --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torchvision():
    from accelsim.frontend.tv_compat import import_torchvision

    return import_torchvision()


ALEXNET_DENSITIES = {
    "features.0": 0.84,
    "features.3": 0.38,
    "features.6": 0.35,
    "features.8": 0.37,
    "features.10": 0.37,
    "classifier.1": 0.09,
    "classifier.4": 0.09,
    "classifier.6": 0.25,
}
VGG16_DENSITIES = dict(
    zip(
        [f"features.{i}" for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)]
        + ["classifier.0", "classifier.3", "classifier.6"],
        [0.58, 0.22, 0.34, 0.36, 0.53, 0.24, 0.42, 0.32, 0.27, 0.34, 0.35, 0.29, 0.36, 0.04, 0.04, 0.23],
        strict=True,
    )
)


@pytest.mark.slow
def test_han2015_alexnet_matches_the_paper_per_layer(torchvision):
    torch.manual_seed(0)
    model = torchvision.models.alexnet()
    report = apply(model, Han2015())
    assert [r.name for r in report.rows] == list(ALEXNET_DENSITIES)
    for row in report.rows:
        assert abs(row.nonzeros_after - ALEXNET_DENSITIES[row.name] * row.numel) <= 1, row.name
        module = model.get_submodule(row.name)
        assert _nonzeros(module.weight) == row.nonzeros_after
    assert report.density_after == pytest.approx(6.8e6 / 61.1e6, abs=0.005)  # the paper's 9x fewer weights


@pytest.mark.slow
def test_han2015_vgg16_matches_the_paper_per_layer(torchvision):
    torch.manual_seed(0)
    model = torchvision.models.vgg16()
    report = apply(model, Han2015(exclude=["classifier.6"]))
    assert [r.name for r in report.rows] == list(VGG16_DENSITIES)
    for row in report.rows[:-1]:
        assert abs(row.nonzeros_after - VGG16_DENSITIES[row.name] * row.numel) <= 1, row.name
    assert report.row("classifier.6").status == "left dense: excluded"


def test_han2015_recognises_alexnet_with_another_class_count(torchvision):
    report = apply(torchvision.models.alexnet(num_classes=10), Han2015(exclude=["features", "classifier.1"]))
    assert abs(report.row("classifier.6").nonzeros_after - 0.25 * 40960) <= 1


def test_han2015_on_another_model_says_what_it_applies_to():
    with pytest.raises(PruningError, match=r"han2015 applies to alexnet and vgg16 only.*4 prunable layer\(s\)"):
        apply(_convnet(), Han2015())

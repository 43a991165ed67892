"""Masks and models from other tools lower as they are: torch.nn.utils.prune masks, torch.ao.pruning sparsifiers
(parametrizations, live and in a checkpoint), models Torch-Pruning shrank structurally, and a user's mask file."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.ao.pruning import WeightNormSparsifier
from torch.nn.utils import prune as torch_prune

from accelsim.frontend.checkpoint import CheckpointError, load_checkpoint
from accelsim.frontend.lower import lower
from accelsim.frontend.mask_file import MaskFileError, apply_mask_file, read_mask_file
from accelsim.frontend.training import LabelledData
from accelsim.pruning import Unstructured, apply
from accelsim.pruning.criteria import ScoringContext, Snip
from accelsim.pruning.prune import prune


def _cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(8 * 6 * 6, 10))


def _sparsified() -> tuple[nn.Sequential, torch.Tensor]:
    model = _cnn()
    sparsifier = WeightNormSparsifier(sparsity_level=0.5, sparse_block_shape=(1, 4), zeros_per_block=4)
    sparsifier.prepare(model, config=[{"tensor_fqn": "5.weight"}])
    sparsifier.step()
    mask = model[5].parametrizations.weight[0].mask.clone()
    return model, mask


def test_a_torch_ao_sparsifier_mask_is_lowered_and_folded():
    model, mask = _sparsified()
    assert 0 < int(mask.sum()) < mask.numel()
    x = torch.randn(2, 3, 6, 6)
    workload = lower(model, x)  # lowering sees the parametrized (masked) weight
    assert torch.equal(torch.from_numpy(workload.layers[2].weight.copy()) != 0, mask.bool())
    report = apply(model, "none")  # folds the parametrization into a plain parameter
    assert not hasattr(model[5], "parametrizations") and isinstance(model[5].weight, nn.Parameter)
    assert report.row("5").nonzeros_after == int(mask.sum())
    apply(model, Unstructured(sparsity=0.75))  # pruning on top keeps the sparsifier's zeros
    assert not bool((model[5].weight != 0)[~mask.bool()].any())


def test_a_sparsified_checkpoint_loads_squashed_and_is_refused_without_its_masks(tmp_path):
    model, mask = _sparsified()
    torch.save(model.state_dict(), tmp_path / "unsquashed.pt")  # FakeSparsity's mask is not in the state_dict
    with pytest.raises(CheckpointError, match="squash_mask"):
        load_checkpoint(_cnn(), tmp_path / "unsquashed.pt")
    state = {key: value for key, value in model.state_dict().items() if "parametrizations" not in key}
    torch.save({**state, "5.parametrizations.weight.original": model[5].parametrizations.weight.original,
                "5.parametrizations.weight.0.mask": mask}, tmp_path / "with_mask.pt")
    fresh = _cnn()
    load_checkpoint(fresh, tmp_path / "with_mask.pt")
    assert torch.equal(fresh[5].weight != 0, mask.bool())


def test_torch_prune_masks_score_and_prune_through_a_criterion():
    model = _cnn()
    torch_prune.l1_unstructured(model[2], "weight", amount=0.5)
    data = LabelledData(torch.randn(8, 3, 6, 6), torch.arange(8) % 10, torch.randn(8, 3, 6, 6), torch.arange(8) % 10)
    report = prune(model, Unstructured(sparsity=0.75), Snip(batch_size=8), ScoringContext(model, data))
    assert report.row("2").nonzeros_before == 288 and report.row("2").nonzeros_after == 144
    assert isinstance(model[2].weight, nn.Parameter) and not hasattr(model[2], "weight_mask")


def test_a_model_shrunk_by_torch_pruning_lowers_with_its_new_shapes():
    tp = pytest.importorskip("torch_pruning")  # declared in the dev and interop extras
    model = _cnn()
    x = torch.randn(1, 3, 6, 6)
    pruner = tp.pruner.MagnitudePruner(model, x, importance=tp.importance.MagnitudeImportance(p=2),
                                       pruning_ratio=0.5, ignored_layers=[model[5]])
    pruner.step()
    assert model[0].out_channels == 4 and model[2].out_channels == 4
    workload = lower(model, x)
    assert [layer.weight.shape for layer in workload.layers] == [(4, 3, 3, 3), (4, 4, 3, 3), (10, 144)]
    assert (torch.from_numpy(workload.layers[1].weight.copy()) == model[2].weight.detach()).all()
    apply(model, "nm:2:4")  # and accelsim prunes the shrunk model further
    assert int(torch.count_nonzero(model[5].weight)) == 10 * 144 // 2


def test_a_mask_file_from_torch_prune_buffers_applies(tmp_path):
    source = _cnn()
    torch_prune.random_unstructured(source[0], "weight", amount=0.5)
    torch_prune.l1_unstructured(source[5], "weight", amount=0.9)
    masks = {k: v for k, v in source.state_dict().items() if k.endswith("_mask")}
    torch.save(masks, tmp_path / "masks.pt")
    model = _cnn()
    assert apply_mask_file(tmp_path / "masks.pt", model) == 2
    assert torch.equal(model[0].weight != 0, masks["0.weight_mask"].bool())
    assert torch.equal(model[5].weight != 0, masks["5.weight_mask"].bool())
    assert int(torch.count_nonzero(model[2].weight)) == model[2].weight.numel()  # not named: untouched


@pytest.mark.parametrize(("content", "message"), [
    ({"5.wieght": torch.ones(10, 288)}, "Did you mean '5.weight'"),
    ({"5.weight": torch.ones(10, 10)}, "has shape"),
    ({"5.weight": torch.full((10, 288), 0.5)}, "other than 0 and 1"),
    ({}, "holds no masks"),
])
def test_a_bad_mask_file_names_the_key_and_what_is_wrong(tmp_path, content, message):
    torch.save(content, tmp_path / "masks.pt")
    with pytest.raises(MaskFileError, match=message):
        read_mask_file(tmp_path / "masks.pt", _cnn())


def test_a_mask_file_that_is_not_plain_tensors_is_refused_unloaded(tmp_path):
    torch.save({"5.weight": torch.ones(10, 288), "extra": Unstructured(sparsity=0.5)}, tmp_path / "unsafe.pt")
    with pytest.raises(CheckpointError, match="not safe to load"):
        read_mask_file(tmp_path / "unsafe.pt", _cnn())

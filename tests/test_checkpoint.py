"""Checkpoints: state_dicts load (plain, nested, with live prune masks folded); anything that would run code on
unpickling, or is not a torch file, or does not fit the model, is a CheckpointError naming the file."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as prune
from torch import nn

from accelsim.frontend.checkpoint import CheckpointError, fold_prune_masks, load_checkpoint, read_state_dict


def _model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))


def _assert_same_state(model, state):
    own = model.state_dict()
    assert set(own) == set(state)
    for key, value in state.items():
        assert torch.equal(own[key], value), key


class Opaque:
    """A custom class: torch.load(weights_only=True) must refuse to rebuild it."""

    def __init__(self):
        self.value = 3


class Trap:
    """Unpickling this would create a file: proof that no code ran if the file is still absent."""

    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


# --- what loads ---------------------------------------------------------------------------------------------

def test_plain_state_dict_loads(tmp_path):
    source = _model(0)
    path = tmp_path / "plain.pt"
    torch.save(source.state_dict(), path)
    state = read_state_dict(path)
    _assert_same_state(source, state)
    target = _model(1)
    assert not torch.equal(target[0].weight, source[0].weight)
    load_checkpoint(target, path)
    _assert_same_state(target, source.state_dict())


@pytest.mark.parametrize("key", ["state_dict", "model"])
def test_state_dict_nested_in_a_training_checkpoint_loads(tmp_path, key):
    source = _model(0)
    path = tmp_path / "train.pt"
    torch.save({"epoch": 12, key: source.state_dict(), "best_acc": 0.91, "arch": "mlp"}, path)
    target = _model(1)
    load_checkpoint(target, str(path))
    _assert_same_state(target, source.state_dict())


def test_prune_masks_fold_into_weights(tmp_path):
    torch.manual_seed(0)
    layer = nn.Linear(10, 6)
    prune.l1_unstructured(layer, "weight", amount=0.6)
    state = layer.state_dict()
    assert {"weight_orig", "weight_mask", "bias"} == set(state)  # live masks, as torch saves them
    orig, mask = state["weight_orig"].clone(), state["weight_mask"].clone()
    path = tmp_path / "pruned.pt"
    torch.save(state, path)

    folded = read_state_dict(path)
    assert set(folded) == {"weight", "bias"}
    assert torch.equal(folded["weight"], orig * mask)

    target = nn.Linear(10, 6)
    load_checkpoint(target, path)
    weight = target.weight.detach()
    assert torch.equal(weight, orig * mask)
    assert torch.equal(weight == 0, mask == 0)  # exactly the pruned positions are zero
    assert int((weight == 0).sum()) == round(0.6 * 60) == 36
    assert torch.equal(target.bias.detach(), state["bias"])


def test_prune_masks_fold_in_nested_modules_and_biases(tmp_path):
    model = _model(0)
    prune.random_unstructured(model[0], "weight", amount=0.5)
    prune.l1_unstructured(model[2], "bias", amount=1)
    state = model.state_dict()
    expected = {
        "0.weight": state["0.weight_orig"] * state["0.weight_mask"],
        "0.bias": state["0.bias"],
        "2.weight": state["2.weight"],
        "2.bias": state["2.bias_orig"] * state["2.bias_mask"],
    }
    path = tmp_path / "pruned.pt"
    torch.save({"state_dict": state}, path)
    target = _model(1)
    load_checkpoint(target, path)
    _assert_same_state(target, expected)
    assert int((target[2].bias == 0).sum()) == 1


def test_fold_prune_masks_by_hand():
    state = {
        "conv.weight_orig": torch.tensor([1.0, 2.0, 3.0, 4.0]),
        "conv.weight_mask": torch.tensor([1.0, 0.0, 1.0, 0.0]),
        "conv.bias": torch.tensor([5.0]),
        "attn_mask": torch.tensor([1.0, 0.0]),  # a buffer that merely ends in _mask: kept
        "lonely_orig": torch.tensor([7.0]),  # _orig without a _mask partner: kept
    }
    folded = fold_prune_masks(state)
    assert set(folded) == {"conv.weight", "conv.bias", "attn_mask", "lonely_orig"}
    assert torch.equal(folded["conv.weight"], torch.tensor([1.0, 0.0, 3.0, 0.0]))
    assert torch.equal(folded["attn_mask"], torch.tensor([1.0, 0.0]))
    assert torch.equal(folded["lonely_orig"], torch.tensor([7.0]))


def test_fold_prune_masks_leaves_a_plain_state_dict_alone():
    state = _model(0).state_dict()
    folded = fold_prune_masks(state)
    assert set(folded) == set(state)
    assert all(torch.equal(folded[key], state[key]) for key in state)


# --- what is refused ----------------------------------------------------------------------------------------

def _refused(path, match=None):
    with pytest.raises(CheckpointError, match=match) as excinfo:
        read_state_dict(path)
    assert str(path) in str(excinfo.value), str(excinfo.value)
    return str(excinfo.value)


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)


def test_custom_class_instance_is_refused(tmp_path):
    path = tmp_path / "opaque.pt"
    torch.save({"weight": torch.ones(2), "extra": Opaque()}, path)
    message = _refused(path)
    assert "weights_only" in message and "state_dict" in message


def test_whole_module_is_refused(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(_model(0), path)
    message = _refused(path)
    assert "weights_only" in message and "state_dict" in message
    with pytest.raises(CheckpointError):
        load_checkpoint(_model(1), path)


def test_unsafe_checkpoint_runs_no_code(tmp_path):
    sentinel = tmp_path / "code_ran"
    path = tmp_path / "trap.pt"
    torch.save({"weight": torch.ones(2), "payload": Trap(str(sentinel))}, path)
    _refused(path, match="weights_only")
    assert not sentinel.exists()
    torch.load(path, weights_only=False)  # control: the trap does fire when unpickled unsafely
    assert sentinel.exists()


def test_missing_file(tmp_path):
    _refused(tmp_path / "absent.pt", match="no such file")
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(_model(0), tmp_path / "absent.pt")


def test_directory_is_not_a_file(tmp_path):
    _refused(tmp_path, match="no such file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    _refused(path)


def test_text_garbage_file(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("hello world, this is not a torch checkpoint\n")
    _refused(path)


def test_random_bytes_file(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 512, dtype=np.uint8).tobytes())
    _refused(path)


def test_corrupt_zip_file(tmp_path):
    path = tmp_path / "cut.pt"
    torch.save(_model(0).state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _refused(path, match="not a readable torch file")


def test_a_list_of_tensors_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([torch.ones(2), torch.zeros(3)], path)
    _refused(path, match="not a state_dict")


def test_dict_with_non_tensor_values_is_not_a_state_dict(tmp_path):
    path = tmp_path / "mixed.pt"
    torch.save({"weight": torch.ones(2), "epoch": 3}, path)
    _refused(path, match="not a state_dict")


def test_unexpected_key_is_named(tmp_path):
    state = _model(0).state_dict()
    state["3.weight"] = torch.ones(2, 3)
    path = tmp_path / "extra.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(_model(1), path)
    message = str(excinfo.value)
    assert "3.weight" in message and str(path) in message and "Sequential" in message


def test_missing_key_is_named(tmp_path):
    state = _model(0).state_dict()
    del state["2.bias"]
    path = tmp_path / "short.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(_model(1), path)
    message = str(excinfo.value)
    assert "2.bias" in message and str(path) in message


def test_renamed_keys_do_not_fit(tmp_path):
    state = {f"module.{key}": value for key, value in _model(0).state_dict().items()}  # DataParallel-style
    path = tmp_path / "renamed.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"module\.0\.weight"):
        load_checkpoint(_model(1), path)


def test_wrong_shapes_do_not_fit(tmp_path):
    # same keys, other sizes (e.g. a checkpoint for another number of classes): a CheckpointError too
    path = tmp_path / "other_classes.pt"
    torch.manual_seed(0)
    torch.save(nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 10)).state_dict(), path)
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(_model(1), path)
    assert "2.weight" in str(excinfo.value) and str(path) in str(excinfo.value)

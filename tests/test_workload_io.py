"""Saving and loading a Workload: a bit-exact round trip, and one clear WorkloadError naming the folder for every
kind of damaged, edited or mismatched folder."""

import json

import numpy as np
import pytest

from accelsim.workload import Layer, Workload, WorkloadError
from accelsim.workload_io import FORMAT_VERSION, load_workload, save_workload

PROVENANCE = {
    "model": "tiny-cnn",
    "pruning": {"scheme": "unstructured", "amount": 0.8, "per_layer": [0.5, 0.9]},
    "seed": 7,
    "input": [2, 4, 9, 9],
    "accelsim_version": "0.1.0",
    "note": None,
    "exact": True,
}
NOT_LOWERED = ({"name": "pool", "op": "max_pool2d", "reason": "no multiply-accumulates"},
               {"name": "softmax", "op": "softmax", "reason": "elementwise"})


def _sparse(rng, shape, density, dtype):
    # np.where, not a product with the mask: a product leaves -0.0 behind (see test_negative_zeros_load_as_zeros)
    return np.where(rng.random(shape) < density, rng.normal(size=shape), 0.0).astype(dtype)


@pytest.fixture
def workload():
    rng = np.random.default_rng(0)
    conv = Layer("features.0", "conv2d", _sparse(rng, (2, 4, 9, 9), 0.6, np.float32),
                 _sparse(rng, (6, 2, 3, 2), 0.3, np.float32), stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                 groups=2)
    fc = Layer("classifier", "linear", _sparse(rng, (2, 20), 0.5, np.float16),
               _sparse(rng, (5, 20), 0.2, np.float16))
    qk = Layer("attn.qk", "matmul", _sparse(rng, (3, 4, 8), 0.9, np.float64),
               _sparse(rng, (3, 8, 4), 0.9, np.float64), weight_is_static=False)
    quant = Layer("quant.fc", "linear", rng.integers(-8, 8, (3, 6)).astype(np.int8),
                  rng.integers(-8, 8, (4, 6)).astype(np.int8))
    return Workload((conv, fc, qk, quant), provenance=PROVENANCE, not_lowered=NOT_LOWERED)


@pytest.fixture
def saved(workload, tmp_path):
    folder = tmp_path / "wl"
    save_workload(workload, folder)
    return folder


def _assert_same_array(a, b):
    assert a.dtype == b.dtype
    assert a.shape == b.shape
    assert a.tobytes() == b.tobytes()


# --- round trip ---------------------------------------------------------------------------------------------

def test_round_trip_keeps_every_field(workload, saved):
    loaded = load_workload(saved)
    assert len(loaded) == len(workload)
    for before, after in zip(workload, loaded, strict=True):
        assert after.name == before.name
        assert after.op == before.op
        assert after.stride == before.stride and isinstance(after.stride, tuple)
        assert after.padding == before.padding and isinstance(after.padding, tuple)
        assert after.dilation == before.dilation and isinstance(after.dilation, tuple)
        assert after.groups == before.groups
        assert after.weight_is_static is before.weight_is_static
        _assert_same_array(after.input, before.input)
        _assert_same_array(after.weight, before.weight)
        assert after.macs == before.macs and after.output_shape == before.output_shape
    assert loaded.provenance == PROVENANCE
    assert loaded.not_lowered == NOT_LOWERED
    assert isinstance(loaded.not_lowered, tuple)


def test_round_trip_keeps_dtypes_and_flags(saved, workload):
    loaded = load_workload(saved)
    assert loaded["classifier"].input.dtype == np.float16
    assert loaded["quant.fc"].weight.dtype == np.int8
    assert loaded["attn.qk"].weight_is_static is False
    assert loaded.weight_density == workload.weight_density


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int32, np.uint8, ">f4"])
def test_round_trip_of_awkward_values(tmp_path, dtype):
    # all zeros, all nonzero, a size that is not a multiple of 8, extreme values
    info = np.finfo(dtype) if np.dtype(dtype).kind == "f" else np.iinfo(dtype)
    x = np.zeros((1, 13), dtype)
    w = np.array([[info.max, info.min, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, info.max]] * 3, dtype)
    layers = (Layer("zeros", "linear", x, w), Layer("full", "linear", np.ones((2, 13), dtype), w))
    loaded = load_workload(save_workload(Workload(layers), tmp_path / "wl"))
    for before, after in zip(layers, loaded, strict=True):
        _assert_same_array(after.input, before.input)
        _assert_same_array(after.weight, before.weight)


def test_negative_zeros_load_as_zeros(tmp_path):
    # torch's pruning multiplies negative weights by a 0 mask: -0.0 is common in pruned checkpoints
    w = np.array([[-0.0, 1.5, -0.0, -2.0]], np.float32)
    folder = save_workload(Workload((Layer("fc", "linear", np.ones((2, 4), np.float32), w),)), tmp_path / "wl")
    loaded = load_workload(folder)["fc"].weight
    np.testing.assert_array_equal(loaded, w)  # -0.0 == 0.0: the sign of a zero may or may not survive
    assert loaded.dtype == np.float32


def test_nan_and_inf_round_trip(tmp_path):
    w = np.array([[np.nan, 0.0, np.inf, -np.inf]])
    folder = save_workload(Workload((Layer("fc", "linear", np.ones((1, 4)), w),)), tmp_path / "wl")
    _assert_same_array(load_workload(folder)["fc"].weight, w)


def test_loaded_arrays_are_read_only(saved):
    for layer in load_workload(saved):
        assert not layer.input.flags.writeable and not layer.weight.flags.writeable


def test_save_returns_the_folder_and_creates_parents(workload, tmp_path):
    folder = tmp_path / "a" / "b" / "wl"
    assert save_workload(workload, str(folder)) == folder
    assert (folder / "manifest.json").is_file() and (folder / "tensors.npz").is_file()
    assert len(load_workload(str(folder))) == 4


def test_manifest_is_readable_json(saved):
    manifest = json.loads((saved / "manifest.json").read_text())
    assert isinstance(manifest["format_version"], int)
    assert [layer["name"] for layer in manifest["layers"]] == ["features.0", "classifier", "attn.qk", "quant.fc"]
    assert manifest["provenance"] == PROVENANCE


def test_save_over_an_existing_folder_replaces_it(workload, saved):
    smaller = Workload(workload.layers[:1], provenance={"model": "other"})
    save_workload(smaller, saved)
    loaded = load_workload(saved)
    assert [layer.name for layer in loaded] == ["features.0"]
    assert loaded.provenance == {"model": "other"}


def test_numpy_scalars_in_provenance_are_saved_as_plain_values(tmp_path):
    layer = Layer("fc", "linear", np.ones((1, 2)), np.ones((3, 2)))
    folder = save_workload(Workload((layer,), provenance={"seed": np.int64(3), "amount": np.float32(0.5)}),
                           tmp_path / "wl")
    assert load_workload(folder).provenance == {"seed": 3, "amount": 0.5}


def test_empty_workload_round_trips(tmp_path):
    folder = save_workload(Workload((), provenance={"model": "none"}), tmp_path / "empty")
    loaded = load_workload(folder)
    assert len(loaded) == 0 and loaded.provenance == {"model": "none"}


# --- damaged folders ----------------------------------------------------------------------------------------

def _error(folder, match=None):
    with pytest.raises(WorkloadError, match=match) as excinfo:
        load_workload(folder)
    assert str(folder) in str(excinfo.value), str(excinfo.value)
    return str(excinfo.value)


def _swap_tensors(folder, workload, tmp_path, replace):
    """Put into `folder` the tensors.npz that save_workload writes for `workload` with some layers replaced
    (index -> Layer, or -> None to drop it): the manifest stays that of the original. This alters one array
    without depending on how tensors.npz lays arrays out inside."""
    layers = [replace.get(index, layer) for index, layer in enumerate(workload.layers)]
    other = save_workload(Workload(tuple(layer for layer in layers if layer is not None)), tmp_path / "other")
    (folder / "tensors.npz").write_bytes((other / "tensors.npz").read_bytes())


def _with(layer, **changes):
    fields = dict(name=layer.name, op=layer.op, input=layer.input, weight=layer.weight, stride=layer.stride,
                  padding=layer.padding, dilation=layer.dilation, groups=layer.groups,
                  weight_is_static=layer.weight_is_static)
    return Layer(**(fields | changes))


def _drop_arrays(folder, prefix):
    with np.load(folder / "tensors.npz") as npz:
        arrays = {key: npz[key] for key in npz.files}
    dropped = [key for key in arrays if key == prefix or key.startswith(prefix + ".")]
    assert dropped, sorted(arrays)
    for key in dropped:
        del arrays[key]
    (folder / "tensors.npz").unlink()
    np.savez(folder / "tensors.npz", **arrays)


def _edit_manifest(folder, change):
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_missing_folder(tmp_path):
    _error(tmp_path / "nowhere", match="no such folder")


def test_path_is_a_file(tmp_path):
    file = tmp_path / "file.npz"
    file.write_bytes(b"not a folder")
    _error(file)


def test_missing_manifest(saved):
    (saved / "manifest.json").unlink()
    _error(saved, match="manifest.json is missing")


def test_missing_tensors(saved):
    (saved / "tensors.npz").unlink()
    _error(saved, match="tensors.npz is missing")


def test_manifest_not_json(saved):
    (saved / "manifest.json").write_text('{"format": "accelsim-workload", "layers": [')
    _error(saved, match="not valid JSON")


def test_manifest_binary_garbage(saved):
    (saved / "manifest.json").write_bytes(bytes(range(128, 256)))
    _error(saved, match="not valid JSON")


def test_manifest_of_something_else(saved):
    (saved / "manifest.json").write_text(json.dumps({"name": "some other tool's manifest"}))
    _error(saved, match="not an accelsim workload manifest")


def test_manifest_that_is_a_list(saved):
    (saved / "manifest.json").write_text("[1, 2, 3]")
    _error(saved, match="not an accelsim workload manifest")


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, FORMAT_VERSION - 1, str(FORMAT_VERSION), None, 99])
def test_wrong_format_version(saved, version):
    _edit_manifest(saved, lambda m: m.update(format_version=version))
    message = _error(saved, match="format_version")
    assert f"version {FORMAT_VERSION}" in message  # says which version this accelsim reads


def test_missing_format_version(saved):
    _edit_manifest(saved, lambda m: m.pop("format_version"))
    _error(saved, match="format_version")


def test_truncated_tensors(saved):
    data = (saved / "tensors.npz").read_bytes()
    (saved / "tensors.npz").write_bytes(data[: len(data) // 2])
    _error(saved, match="truncated or corrupted")


def test_tensors_not_a_zip(saved):
    (saved / "tensors.npz").write_bytes(b"\x00" * 64)
    _error(saved)


def test_changed_array_content_fails_the_hash(saved, workload, tmp_path):
    load_workload(saved)  # intact: loads
    weight = np.array(workload[1].weight)
    nonzero = np.flatnonzero(weight)[0]
    weight.flat[nonzero] *= 2  # one value changed, same shape, dtype and zero pattern
    _swap_tensors(saved, workload, tmp_path, {1: _with(workload[1], weight=weight)})
    message = _error(saved, match="SHA-256")
    assert "classifier" in message and "weight" in message


def test_changed_zero_pattern_fails(saved, workload, tmp_path):
    x = np.array(workload[0].input)
    x.flat[np.flatnonzero(x == 0)[0]] = 1.0  # one more nonzero
    _swap_tensors(saved, workload, tmp_path, {0: _with(workload[0], input=x)})
    assert "features.0" in _error(saved)


def test_array_of_another_shape_fails(saved, workload, tmp_path):
    # the classifier's input stored with 21 features instead of 20: does not fit the manifest's [2, 20]
    other = Layer("classifier", "linear", np.ones((2, 21), np.float16), np.ones((5, 21), np.float16))
    _swap_tensors(saved, workload, tmp_path, {1: other})
    message = _error(saved)
    assert "classifier" in message and "[2, 20]" in message


def test_array_of_another_dtype_fails(saved, workload, tmp_path):
    quant = workload[3]
    _swap_tensors(saved, workload, tmp_path, {3: _with(quant, input=np.asarray(quant.input, np.int16))})
    message = _error(saved)
    assert "quant.fc" in message and "int8" in message


def test_tensors_of_a_shorter_workload_miss_arrays(saved, workload, tmp_path):
    _swap_tensors(saved, workload, tmp_path, {2: None, 3: None})
    message = _error(saved, match="missing")
    assert "attn.qk" in message


def test_missing_array_key(saved):
    _drop_arrays(saved, "2.weight")
    message = _error(saved, match="missing")
    assert "attn.qk" in message and "2.weight" in message


@pytest.mark.parametrize("shape", [[2, 21], [2, 19], [3, 13], [40]])
def test_manifest_shape_edited(saved, shape):
    # the classifier's input is [2, 20]; a manifest edited to any other shape must not load
    _edit_manifest(saved, lambda m: m["layers"][1]["input"].update(shape=shape))
    assert "classifier" in _error(saved)


def test_manifest_without_layers(saved):
    _edit_manifest(saved, lambda m: m.pop("layers"))
    _error(saved, match="layers")


def test_manifest_layer_without_a_field(saved):
    _edit_manifest(saved, lambda m: m["layers"][0].pop("stride"))
    _error(saved, match="stride")


def test_manifest_with_an_invalid_layer_names_the_folder(saved):
    # the file was edited into an impossible layer: the error must still say which folder it came from
    _edit_manifest(saved, lambda m: m["layers"][0].update(op="conv3d"))
    _error(saved, match="conv3d")


def test_manifest_layers_not_a_list(saved):
    _edit_manifest(saved, lambda m: m.update(layers=5))
    _error(saved)

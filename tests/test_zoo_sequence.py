"""The zoo's sequence and transformer models: every linear and attention matmul lowered, the lowered layers matching
the modules' own outputs (on small configurations of the same classes), inputs checked, and the CLI around them."""

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.frontend.build import build_workload
from accelsim.frontend.lower import LoweringError, lower
from accelsim.frontend.tv_compat import import_torchvision
from accelsim.frontend.zoo import MODELS
from accelsim.reference import reference_output
from tests.test_zoo_macs import lowered_on_meta

runner = CliRunner()


def _outputs(model, x, kinds):
    """Torch's own output of every module of `kinds`, by module name (hooks, independent of accelsim)."""
    seen = {}
    for name, module in model.named_modules():
        if isinstance(module, kinds):
            module.register_forward_hook(lambda m, args, out, name=name: seen.__setitem__(name, out.detach()))
    with torch.no_grad():
        model(**x) if isinstance(x, dict) else model(*x) if isinstance(x, tuple) else model(x)
    return seen


def test_gpt2_lowers_every_projection_and_attention_matmul():
    _, workload = lowered_on_meta("gpt2", (1, 8))
    blocks = [f"transformer.h.{i}" for i in range(12)]
    assert [layer.name for layer in workload] == [
        *(name for block in blocks for name in (f"{block}.attn.c_attn", f"{block}.attn.attention_scores",
                                                f"{block}.attn.attention_values", f"{block}.attn.c_proj",
                                                f"{block}.mlp.c_fc", f"{block}.mlp.c_proj")), "lm_head"]
    assert sum(layer.op == "linear" and layer.weight_is_static for layer in workload) == 49
    assert sum(layer.op == "matmul" and not layer.weight_is_static for layer in workload) == 24
    assert [item["name"] for item in workload.not_lowered] == ["transformer.wte.embedding",
                                                               "transformer.wpe.embedding"]


def test_vit_lowers_every_linear_and_attention_matmul():
    _, workload = lowered_on_meta("vit-b-16")
    assert workload[0].name == "conv_proj" and workload[0].shape_text == "N1 C3 K768 16x16/16 224x224->14x14"
    assert sum(layer.op == "linear" for layer in workload) == 12 * 4 + 1  # in_proj, out_proj, 2 MLP; head
    assert sum(layer.op == "matmul" for layer in workload) == 24 and len(workload) == 74


def test_small_gpt2_lowered_layers_reproduce_its_modules():
    import_torchvision()
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.pytorch_utils import Conv1D

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=100, n_positions=16)).eval()
    x = {"input_ids": torch.randint(0, 100, (2, 10))}
    workload = lower(model, x)
    outputs = _outputs(model, x, (Conv1D, nn.Linear))
    for name, out in outputs.items():
        module = model.get_submodule(name)
        expected = (out.reshape(-1, out.shape[-1]) - (module.bias if module.bias is not None else 0)).detach()
        np.testing.assert_allclose(reference_output(workload[name]), expected.double().numpy(), rtol=1e-4, atol=1e-5)
    assert len(outputs) == 2 * 4 + 1


def test_neuraltalk_lstm_is_we_the_lstm_steps_and_wd():
    entry = MODELS["neuraltalk-lstm"]
    x = entry.make_input((2, 4), 0)
    model = entry.build(0)
    workload = lower(model, x)
    assert [layer.name for layer in workload] == ["We", "lstm.weight_ih_l0", *(f"lstm.weight_hh_l0.t{t}" for t in
                                                                               range(4)), "Wd"]
    assert workload["lstm.weight_hh_l0.t0"].shape_text == "N2 C600 K2400"  # EIE's NT-LSTM matrix is 1201 x 2400
    assert workload["We"].input_density == 1.0  # the image feature is dense, as EIE's Table III has it
    with torch.no_grad():
        scores = model(*x)  # (batch, steps, 8791); Wd's rows are (batch, step) in batch-first order
    np.testing.assert_allclose(reference_output(workload["Wd"]) + model.Wd.bias.detach().double().numpy(),
                               scores.reshape(8, -1).double().numpy(), rtol=1e-4, atol=1e-4)


def test_tc_resnet8_is_conv1d_throughout():
    entry = MODELS["tc-resnet8"]
    x = entry.make_input((2, 40, 101), 0)
    model = entry.build(0)
    workload = lower(model, x)
    convs = [layer for layer in workload if layer.op == "conv2d"]
    assert len(convs) == 10 and all(layer.dims["H"] == 1 and layer.dims["R"] == 1 for layer in convs)
    assert [layer.dims["Q"] for layer in convs] == [101, 51, 51, 51, 26, 26, 26, 13, 13, 13]
    with torch.no_grad():
        expected = model(x) - model.fc.bias
    np.testing.assert_allclose(reference_output(workload["fc"]), expected.double().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "shape", "message"), [
    ("gpt2", (1, 1025), "at most 1024 tokens"),
    ("gpt2", (1, 2, 3), "TOKENS or BATCHxTOKENS"),
    ("vit-b-16", (1, 3, 32, 32), "Nx3x224x224"),
    ("tc-resnet8", (1, 3, 101), "Nx40xFRAMES"),
    ("neuraltalk-lstm", (1, 2, 3), "BATCHxSTEPS"),
])
def test_bad_input_shapes_name_the_shape_the_model_takes(name, shape, message):
    with pytest.raises(ValueError, match=message):
        MODELS[name].make_input(shape, 0)


def test_gpt2_takes_a_token_count_alone():
    assert MODELS["gpt2"].make_input((16,), 0)["input_ids"].shape == (1, 16)


def test_a_zoo_model_failing_on_its_input_names_its_default():
    with pytest.raises(LoweringError, match="alexnet takes --input shapes like its default 1x3x224x224"):
        build_workload("alexnet", input_shape=(1, 3, 8, 8))


def test_cli_groups_time_steps_and_lists_macs(tmp_path):
    result = runner.invoke(app, ["lower", "neuraltalk-lstm", "--input", "1x5", "--time-steps-per-layer", "0",
                                 "-o", str(tmp_path / "nt")])
    assert result.exit_code == 0, result.output
    assert "lstm.weight_hh_l0.t0-4" in result.output and "wrote 4 layers" in result.output
    assert "embed.embedding (embedding): an embedding lookup" in result.output
    listing = runner.invoke(app, ["list"])
    assert "16.1 G" in listing.output and "tc-resnet8" in listing.output

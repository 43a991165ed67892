"""Lowering: every conv/linear/matmul a model runs becomes a Layer whose operands reproduce torch's own result."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torch.nn.utils.prune
from torch import nn

from accelsim.frontend.lower import LoweringError, lower
from accelsim.reference import reference_output


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.fc = nn.Linear(8 * 4 * 4, 5)
        self.proj = nn.Parameter(torch.randn(5, 7))

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = torch.relu(self.dw(x))
        x = self.fc(x.flatten(1))
        return x @ self.proj  # a functional GEMM with a parameter: a linear layer, weight proj^T


def _outputs_by_module(model, x):
    """Torch's own outputs of the leaf modules, minus bias, captured with hooks (independent of accelsim)."""
    seen = {}

    def hook(module, args, out):
        bias = getattr(module, "bias", None)
        if bias is not None:
            shape = (1, -1, 1, 1) if out.dim() == 4 else (1, -1)
            out = out - bias.reshape(shape)
        seen[module] = out.detach().double().numpy()

    names = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            module.register_forward_hook(hook)
            names[name] = module
    with torch.no_grad():
        model(x)
    return {name: seen[module] for name, module in names.items()}


def test_tiny_net_layers_reproduce_torch():
    torch.manual_seed(0)
    model = TinyNet()
    x = torch.randn(2, 3, 8, 8)
    workload = lower(model, x)
    assert [layer.name for layer in workload] == ["conv", "dw", "fc", "linear"]
    assert [layer.op for layer in workload] == ["conv2d", "conv2d", "linear", "linear"]
    assert workload["dw"].groups == 8 and workload["conv"].stride == (2, 2) and workload["conv"].padding == (1, 1)
    expected = _outputs_by_module(model, x)
    for name in ("conv", "dw", "fc"):
        np.testing.assert_allclose(reference_output(workload[name]), expected[name], rtol=1e-4, atol=1e-4)
    with torch.no_grad():
        fc_out = model.fc(torch.relu(model.dw(torch.relu(model.conv(x)))).flatten(1))
        np.testing.assert_allclose(reference_output(workload["linear"]), (fc_out @ model.proj).double().numpy(),
                                   rtol=1e-4, atol=1e-4)
    # ReLU zeros are the activation sparsity the dw layer sees.
    with torch.no_grad():
        relu_out = torch.relu(model.conv(x)).numpy()
    assert workload["dw"].input_density == pytest.approx(np.count_nonzero(relu_out) / relu_out.size)
    assert model.training  # the model's mode is restored


def test_multihead_attention_is_decomposed_into_its_gemms():
    torch.manual_seed(1)
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    x = torch.randn(3, 5, 16)
    workload = lower(mha, (x, x, x))
    assert [layer.name for layer in workload] == ["in_proj", "attention_scores", "attention_values", "out_proj"]
    scores, values, out_proj = workload["attention_scores"], workload["attention_values"], workload["out_proj"]
    assert scores.dims == dict(N=5, C=4, K=5, R=1, S=1, P=1, Q=1, H=1, W=1, G=12)
    assert not scores.weight_is_static and workload["in_proj"].weight_is_static
    # The attention probabilities recorded are torch's own.
    with torch.no_grad():
        _, probabilities = mha(x, x, x, average_attn_weights=False)
        output, _ = mha(x, x, x)
    np.testing.assert_allclose(values.input, probabilities.reshape(12, 5, 5).numpy(), rtol=1e-5, atol=1e-6)
    # The output projection of the recorded context reproduces the module's output (sequence-first rows).
    projected = reference_output(out_proj) + mha.out_proj.bias.detach().double().numpy()
    np.testing.assert_allclose(projected, output.transpose(0, 1).reshape(15, 16).double().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_scaled_dot_product_attention_with_causal_mask():
    class Attend(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    torch.manual_seed(2)
    q, k, v = (torch.randn(2, 3, 4, 8) for _ in range(3))
    workload = lower(Attend(), (q, k, v))
    probabilities = workload["attention_values"].input.reshape(2, 3, 4, 4)
    assert np.all(np.triu(probabilities, k=1) == 0)  # the causal mask shows up as activation zeros
    np.testing.assert_allclose(reference_output(workload["attention_values"]).reshape(2, 3, 4, 8),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy(), rtol=1e-4,
                               atol=1e-5)


def test_unsupported_ops_and_lookups_are_listed_not_dropped():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.mix = nn.Parameter(torch.randn(4, 4))
            self.fc = nn.Linear(4, 2)

        def forward(self, tokens):
            return self.fc(torch.einsum("btc,cd->btd", self.embed(tokens), self.mix))

    workload = lower(Mixed(), torch.tensor([[1, 2, 3]]))
    assert [layer.name for layer in workload] == ["fc"]
    assert workload.not_lowered == (
        {"name": "embed.embedding", "op": "embedding",
         "reason": "an embedding lookup reads rows of a table: it does no multiply-accumulates"},
        {"name": "einsum", "op": "einsum", "reason": "einsum is not supported by the accelsim IR "
                                                     "(conv2d, linear and matmul are)"})


def test_model_without_lowerable_layers_fails_loudly():
    with pytest.raises(LoweringError, match="ran no conv, linear, matmul or recurrent layer"):
        lower(nn.Sequential(nn.ReLU()), torch.randn(2, 3))


def test_model_that_raises_names_the_input():
    with pytest.raises(LoweringError, match=r"tensor\[2, 3\]"):
        lower(nn.Linear(4, 2), torch.randn(2, 3))


def test_live_prune_masks_lower_as_pruned_weights():
    torch.manual_seed(3)
    fc = nn.Linear(10, 6)
    torch.nn.utils.prune.l1_unstructured(fc, "weight", amount=0.7)
    workload = lower(fc, torch.randn(4, 10))
    assert np.count_nonzero(workload["linear"].weight) == 18  # 60 weights, 42 pruned
    np.testing.assert_array_equal(workload["linear"].weight, (fc.weight_orig * fc.weight_mask).detach().numpy())


def test_shared_module_called_twice_gets_unique_names():
    fc = nn.Linear(4, 4)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = fc

        def forward(self, x):
            return self.fc(self.fc(x))

    workload = lower(Twice(), torch.randn(1, 4))
    assert [layer.name for layer in workload] == ["fc", "fc#2"]


def test_same_padding_with_even_kernel_matches_torch():
    conv = nn.Conv2d(2, 3, 4, padding="same", bias=False)
    x = torch.randn(1, 2, 7, 7)
    layer = lower(conv, x)[0]
    with torch.no_grad():
        np.testing.assert_allclose(reference_output(layer), conv(x).double().numpy(), rtol=1e-4, atol=1e-5)

"""Wanda (Sun et al. 2023): |W_ij| x ||X_j||_2 compared within each output row, checked against the paper's rule
computed here directly from torch (the layer inputs captured by hooks or read off the module's own outputs)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from accelsim.pruning import PruningError, parse_scheme, prune
from accelsim.pruning.criteria import ScoringContext, parse_criterion


def _keep_per_row(scores: np.ndarray, kept: int) -> np.ndarray:
    """The paper's per-output rule: each row keeps its `kept` highest scores (ties: lower index)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    keep = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(keep, order[:, :kept], True, axis=1)
    return keep


def _wanda(model, x, scheme):
    return prune(model, parse_scheme(scheme), parse_criterion("wanda"), ScoringContext(model, example_input=x))


def _inputs_by_hook(model, x):
    seen = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear | nn.Conv1d):
            module.register_forward_hook(lambda m, args, out, name=name: seen.__setitem__(name, args[0].detach()))
    with torch.no_grad():
        model(x)
    return seen


def test_wanda_unstructured_on_linear_and_conv1d_keeps_the_top_half_of_every_row():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(4, 6, 3, padding=1, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 5, 8))
    x = torch.randn(3, 4, 10) * torch.tensor([1.0, 5.0, 0.1, 2.0])[None, :, None]  # features of unequal scale
    inputs = _inputs_by_hook(model, x)
    weights = {name: model[int(name)].weight.detach().clone() for name in ("0", "3")}
    _wanda(model, x, "unstructured:0.5")
    # linear: ||X_j|| over the batch rows
    fc_scores = weights["3"].abs().numpy() * inputs["3"].norm(dim=0).numpy()
    np.testing.assert_array_equal(model[3].weight.detach().numpy() != 0, _keep_per_row(fc_scores, 15))
    # conv1d: ||X_j|| over the im2col columns (torch's unfold, padding zeros included), j = (c, tap)
    columns = F.unfold(inputs["0"].unsqueeze(2), (1, 3), padding=(0, 1), stride=(1, 2))  # (N, C*3, L_out)
    norms = columns.transpose(1, 2).reshape(-1, 12).norm(dim=0).numpy()
    conv_scores = weights["0"].reshape(6, 12).abs().numpy() * norms
    np.testing.assert_array_equal(model[0].weight.detach().reshape(6, 12).numpy() != 0, _keep_per_row(conv_scores, 6))


def test_wanda_n_m_keeps_two_of_four_by_the_weighted_score():
    torch.manual_seed(1)
    fc = nn.Linear(8, 3)
    x = torch.randn(5, 8) * torch.arange(1, 9)
    before = fc.weight.detach().clone()
    _wanda(fc, x, "nm:2:4")
    scores = (before.abs() * x.norm(dim=0)).reshape(-1, 4).numpy()
    np.testing.assert_array_equal(fc.weight.detach().reshape(-1, 4).numpy() != 0, _keep_per_row(scores, 2))


def test_wanda_on_an_lstm_weighs_the_recurrent_matrix_by_the_real_hidden_states():
    torch.manual_seed(2)
    lstm = nn.LSTM(3, 4)
    x = torch.randn(6, 2, 3)
    with torch.no_grad():
        output, _ = lstm(x)  # h_1 .. h_T; the recurrent matrix meets h_0 = 0 .. h_{T-1}
    hidden = output[:-1].reshape(-1, 4)
    before = lstm.weight_hh_l0.detach().clone()
    _wanda(lstm, x, "unstructured:0.75")
    expected = _keep_per_row(before.abs().numpy() * hidden.norm(dim=0).numpy(), 1)
    np.testing.assert_array_equal(lstm.weight_hh_l0.detach().numpy() != 0, expected)


def test_wanda_needs_a_calibration_input_and_every_weight_used():
    with pytest.raises(PruningError, match="calibration input"):
        prune(nn.Linear(4, 2), parse_scheme("unstructured:0.5"), parse_criterion("wanda"))

    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = nn.Linear(4, 4), nn.Linear(4, 4)

        def forward(self, x):
            return self.used(x)

    model = Unused()
    with pytest.raises(PruningError, match="no activations by spare"):
        _wanda(model, torch.randn(2, 4), "unstructured:0.5")

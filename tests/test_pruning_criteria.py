"""Criteria against scores computed by hand (closed forms in numpy) on tiny models, and how each structure ranks
by a criterion's scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from accelsim.frontend.training import LabelledData
from accelsim.pruning import NM, Block, Channel, Global, PruningError, Random, Unstructured, apply, parse_scheme
from accelsim.pruning.criteria import (
    GraSP,
    Magnitude,
    RandomScores,
    ScoringContext,
    Snip,
    SynFlow,
    Taylor,
    parse_criterion,
)
from accelsim.pruning.prune import prune
from accelsim.pruning.scores import LayerScores
from accelsim.pruning.targets import find_prunable_weights

W1 = np.array([[1.0, -1.0], [0.5, 2.0]])
W2 = np.array([[1.0, -2.0], [0.25, 1.0]])
X = np.array([[1.0, 2.0], [-1.0, 0.5]])  # two samples
Y = np.array([0, 1])


def _two_layer() -> nn.Sequential:
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(W1))
        model[1].weight.copy_(torch.tensor(W2))
    return model.double()


def _data(n: int) -> LabelledData:
    images = torch.tensor(X[:n])
    labels = torch.tensor(Y[:n])
    return LabelledData(images, labels, images, labels)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _hand_gradients(x: np.ndarray, y: int) -> tuple[np.ndarray, np.ndarray]:
    """dL/dW1, dL/dW2 of cross-entropy for z = W2 W1 x (no activation): dz = p - onehot(y)."""
    h = W1 @ x
    dz = _softmax(W2 @ h) - np.eye(2)[y]
    return np.outer(W2.T @ dz, x), np.outer(dz, h)


def _scores(criterion, model, data=None):
    weights = find_prunable_weights(model)
    context = ScoringContext(model, data, torch.ones(1, 2, dtype=torch.float64), seed=0)
    return {name: s.values.numpy() for name, s in criterion.scores(context, weights).items()}


def test_magnitude_is_the_absolute_weight():
    scores = _scores(Magnitude(), _two_layer())
    assert np.array_equal(scores["0"], np.abs(W1)) and np.array_equal(scores["1"], np.abs(W2))


def test_taylor_is_weight_times_the_gradient_averaged_over_the_batches():
    g1 = [_hand_gradients(X[i], Y[i]) for i in range(2)]
    mean_w1 = (g1[0][0] + g1[1][0]) / 2
    mean_w2 = (g1[0][1] + g1[1][1]) / 2
    scores = _scores(Taylor(batches=2, batch_size=1), _two_layer(), _data(2))
    np.testing.assert_allclose(scores["0"], np.abs(W1 * mean_w1), rtol=1e-12)
    np.testing.assert_allclose(scores["1"], np.abs(W2 * mean_w2), rtol=1e-12)


def test_snip_is_the_connection_sensitivity_on_one_batch():
    g_w1, g_w2 = _hand_gradients(X[0], Y[0])
    scores = _scores(Snip(batch_size=1), _two_layer(), _data(1))
    np.testing.assert_allclose(scores["0"], np.abs(W1 * g_w1), rtol=1e-12)
    np.testing.assert_allclose(scores["1"], np.abs(W2 * g_w2), rtol=1e-12)


def test_grasp_is_weight_times_hessian_gradient_product():
    # One linear layer z = W x / T: dL/dW = (p - y) x^T / T and (H v)_ij = x_j p_i ((v x)_i - sum_k p_k (v x)_k) / T^2.
    temperature = 2.0
    model = nn.Sequential(nn.Linear(2, 2, bias=False)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(W1))
    x, y = X[0], Y[0]
    p = _softmax(W1 @ x / temperature)
    g = np.outer(p - np.eye(2)[y], x) / temperature
    gx = g @ x
    hg = np.outer(p * (gx - p @ gx), x) / temperature**2
    scores = _scores(GraSP(batch_size=1, temperature=temperature), model, _data(1))
    np.testing.assert_allclose(scores["0"], W1 * hg, rtol=1e-10)


def test_synflow_is_the_path_flow_through_absolute_weights():
    # R = 1^T |W2| |W1| 1: dR/d|W1|_ij = column sum of |W2| at i; dR/d|W2|_ki = row sum of |W1| at i.
    scores = _scores(SynFlow(), _two_layer())
    np.testing.assert_allclose(scores["0"], np.abs(W1) * np.abs(W2).sum(axis=0)[:, None], rtol=1e-12)
    np.testing.assert_allclose(scores["1"], np.abs(W2) * np.abs(W1).sum(axis=1)[None, :], rtol=1e-12)


def test_the_random_criterion_draws_what_the_random_scheme_draws():
    model = nn.Sequential(nn.Linear(16, 8), nn.Linear(8, 4))
    twin = nn.Sequential(nn.Linear(16, 8), nn.Linear(8, 4))
    twin.load_state_dict(model.state_dict())
    apply(model, Random(sparsity=0.5, seed=3))
    prune(twin, Unstructured(sparsity=0.5), RandomScores(), ScoringContext(twin, seed=3))
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("text", ["unstructured:0.6", "global:0.6", "erk:0.6", "nm:2:4", "block:2x4:0.5",
                                  "channel:0.5", "channel:0.5:l2"])
def test_explicit_magnitude_scores_prune_as_the_default_does(text):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(4, 8, 3), nn.Flatten(), nn.Linear(8 * 4 * 4, 8))
    with torch.no_grad():  # ties and zeros: the two paths must break them alike
        model[0].weight[0] = 0.5
        model[2].weight[:, :40] = 0.0
    twin = nn.Sequential(nn.Conv2d(4, 8, 3), nn.Flatten(), nn.Linear(8 * 4 * 4, 8))
    twin.load_state_dict(model.state_dict())
    apply(model, text)
    prune(twin, parse_scheme(text), Magnitude())
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


def _single(weight: list[list[float]]) -> nn.Sequential:
    model = nn.Sequential(nn.Linear(len(weight[0]), len(weight), bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(weight))
    return model


@pytest.mark.parametrize(("scheme", "signed", "kept_rows"), [
    (Channel(sparsity=0.5), False, [0]),  # l1 of the scores: |-3| + 1 = 4 beats 1 + 1 = 2
    (Channel(sparsity=0.5), True, [1]),   # signed scores rank by their sum: -2 against 2
    (Block(block_rows=1, block_cols=2, sparsity=0.5), False, [0]),
    (Block(block_rows=1, block_cols=2, sparsity=0.5), True, [1]),
])
def test_groups_rank_by_a_norm_of_the_scores_or_by_their_sum_when_signed(scheme, signed, kept_rows):
    model = _single([[1.0, 1.0], [1.0, 1.0]])
    scores = {"0": LayerScores(torch.tensor([[-3.0, 1.0], [1.0, 1.0]]), signed=signed)}
    apply(model, scheme, scores)
    assert [row for row in range(2) if model[0].weight[row].any()] == kept_rows


def test_nm_and_global_keep_the_highest_scores_and_zeros_go_first():
    model = _single([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    scores = {"0": LayerScores(torch.tensor([[4.0, 1.0, 2.0, 9.0], [1.0, 3.0, 2.0, 0.5]]))}
    apply(model, NM(n=2, m=4), scores)  # the zero (score 9) goes first
    assert model[0].weight.tolist() == [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]]
    model = _single([[1.0, 1.0, 1.0, 1.0]])
    apply(model, Global(sparsity=0.5, min_layer_density=0.0), {"0": LayerScores(torch.tensor([[1.0, 4.0, 3.0, 2.0]]))})
    assert model[0].weight.tolist() == [[0.0, 1.0, 1.0, 0.0]]


def test_scores_that_do_not_fit_or_are_not_finite_are_refused():
    model = _single([[1.0, 2.0]])
    with pytest.raises(PruningError, match="do not fit"):
        apply(model, Unstructured(sparsity=0.5), {"0": LayerScores(torch.ones(2, 2))})
    with pytest.raises(PruningError, match="NaN"):
        apply(model, Unstructured(sparsity=0.5), {"0": LayerScores(torch.tensor([[1.0, float("nan")]]))})


def test_synflow_prunes_in_exponential_steps_to_the_exact_target():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 10))
    report = prune(model, Global(sparsity=0.9, min_layer_density=0.0), SynFlow(iterations=5),
                   ScoringContext(model, example_input=torch.zeros(1, 10)))
    assert sum(row.nonzeros_after for row in report.rows) == 40  # 10% of 400, exactly
    assert all(row.nonzeros_before == row.numel for row in report.rows)


def test_criteria_parse_with_options_and_errors_name_what_is_allowed():
    assert parse_criterion("taylor:batches=8") == Taylor(batches=8)
    assert parse_criterion("SynFlow:iterations=20").text == "synflow:iterations=20"
    assert parse_criterion(GraSP(temperature=100.0).text) == GraSP(temperature=100.0)
    with pytest.raises(PruningError, match="Did you mean 'snip'"):
        parse_criterion("snp")
    with pytest.raises(PruningError, match="allowed: batches=, batch_size="):
        parse_criterion("taylor:rounds=3")
    with pytest.raises(PruningError, match="greater than or equal to 1"):
        parse_criterion("synflow:iterations=0")


def test_data_criteria_refuse_a_context_without_data_and_synflow_needs_a_float_input():
    model = _two_layer()
    with pytest.raises(PruningError, match="training data"):
        Taylor().scores(ScoringContext(model), find_prunable_weights(model))
    with pytest.raises(PruningError, match="float tensor"):
        SynFlow().scores(ScoringContext(model, example_input=torch.ones(1, 2, dtype=torch.long)),
                         find_prunable_weights(model))

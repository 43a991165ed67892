"""LSTM, GRU and RNN lowered to linear layers: the lowered operands, run through accelsim.reference and torch's
documented gate equations (written out here in numpy), reproduce the module's own output step by step."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from accelsim.frontend.lower import lower
from accelsim.reference import reference_output


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _cell(kind: str, input_gates, hidden_gates, h, c):
    """torch.nn's documented equations; input_gates/hidden_gates include their biases."""
    if kind == "LSTM":
        i, f, g, o = np.split(input_gates + hidden_gates, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c
    if kind == "GRU":
        x_r, x_z, x_n = np.split(input_gates, 3, axis=-1)
        h_r, h_z, h_n = np.split(hidden_gates, 3, axis=-1)
        r, z = _sigmoid(x_r + h_r), _sigmoid(x_z + h_z)
        n = np.tanh(x_n + r * h_n)
        return (1 - z) * n + z * h, c
    return (np.tanh if kind == "RNN-tanh" else lambda v: np.maximum(v, 0))(input_gates + hidden_gates), c


def _bias(module, name):
    return getattr(module, name).detach().double().numpy() if module.bias else 0.0


def _replay(module, kind, workload, steps, batch):
    """Rebuild the module's output from the lowered layers alone, checking on the way that every recurrent layer's
    activations are the hidden states the equations give."""
    directions = 2 if module.bidirectional else 1
    layer_input = None
    for index in range(module.num_layers):
        outputs = []
        for direction in range(directions):
            suffix = f"l{index}" + ("_reverse" if direction else "")
            ih = workload[f"weight_ih_{suffix}"]
            if layer_input is not None:  # the layer's input rows are the previous layer's outputs
                np.testing.assert_allclose(ih.input, layer_input.reshape(steps * batch, -1), rtol=1e-5, atol=1e-6)
            input_gates = (reference_output(ih) + _bias(module, f"bias_ih_{suffix}")).reshape(steps, batch, -1)
            h = np.zeros((batch, module.hidden_size if not getattr(module, "proj_size", 0) else module.proj_size))
            c = np.zeros((batch, module.hidden_size))
            out = np.zeros((steps, batch, h.shape[1]))
            for time in (range(steps - 1, -1, -1) if direction else range(steps)):
                hh = workload[f"weight_hh_{suffix}.t{time}"]
                np.testing.assert_allclose(hh.input, h, rtol=1e-5, atol=1e-6)
                h, c = _cell(kind, input_gates[time], reference_output(hh) + _bias(module, f"bias_hh_{suffix}"), h, c)
                if getattr(module, "proj_size", 0):
                    hr = workload[f"weight_hr_{suffix}.t{time}"]
                    np.testing.assert_allclose(hr.input, h, rtol=1e-5, atol=1e-6)
                    h = reference_output(hr)
                out[time] = h
            outputs.append(out)
        layer_input = np.concatenate(outputs, axis=-1)
    return layer_input


CASES = {
    "LSTM": (lambda: nn.LSTM(4, 5), False),
    "LSTM-2-layers-bidirectional-batch-first": (lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True,
                                                                batch_first=True), True),
    "LSTM-projection": (lambda: nn.LSTM(4, 6, proj_size=3, num_layers=2), False),
    "GRU-2-layers-bidirectional": (lambda: nn.GRU(4, 5, num_layers=2, bidirectional=True), False),
    "RNN-tanh-no-bias": (lambda: nn.RNN(4, 5, bias=False, batch_first=True), True),
    "RNN-relu": (lambda: nn.RNN(4, 5, nonlinearity="relu", num_layers=2), False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_lowered_recurrent_layers_reproduce_the_module(case):
    make, batch_first = CASES[case]
    kind = case.split("-")[0] if not case.startswith("RNN") else "-".join(case.split("-")[:2])
    torch.manual_seed(0)
    module = make()
    steps, batch = 6, 3
    x = torch.randn((batch, steps, 4) if batch_first else (steps, batch, 4))
    workload = lower(module, x)
    directions = 2 if module.bidirectional else 1
    per_step = 2 if getattr(module, "proj_size", 0) else 1
    assert len(workload) == module.num_layers * directions * (1 + per_step * steps)
    assert workload.not_lowered == () and all(layer.op == "linear" for layer in workload)
    with torch.no_grad():
        expected, _ = module(x)
    if batch_first:
        expected = expected.transpose(0, 1)
    np.testing.assert_allclose(_replay(module, kind, workload, steps, batch),
                               expected.double().numpy(), rtol=1e-4, atol=1e-5)


def test_the_first_step_multiplies_the_initial_state_and_its_zeros():
    torch.manual_seed(1)
    lstm = nn.LSTM(3, 4)
    x = torch.randn(5, 2, 3)
    assert np.count_nonzero(lower(lstm, x)["weight_hh_l0.t0"].input) == 0  # h0 defaults to zeros
    h0, c0 = torch.randn(1, 2, 4), torch.randn(1, 2, 4)
    workload = lower(lstm, (x, (h0, c0)))
    np.testing.assert_array_equal(workload["weight_hh_l0.t0"].input, h0[0].numpy())
    relu = nn.RNN(3, 8, nonlinearity="relu")
    later = lower(relu, x)["weight_hh_l0.t3"]
    assert 0 < later.input_density < 1  # the ReLU's zeros are the hidden state's own


def test_unbatched_sequence_and_cells():
    torch.manual_seed(2)
    gru = nn.GRU(3, 4)
    workload = lower(gru, torch.randn(5, 3))  # (T, features), no batch
    assert workload["weight_ih_l0"].input.shape == (5, 3) and workload["weight_hh_l0.t4"].input.shape == (1, 4)
    cell = nn.LSTMCell(3, 4)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    workload = lower(cell, (x, (h, c)))
    assert [layer.name for layer in workload] == ["weight_ih", "weight_hh"]
    with torch.no_grad():
        gates = (reference_output(workload["weight_ih"]) + reference_output(workload["weight_hh"])
                 + (cell.bias_ih + cell.bias_hh).double().numpy())
        h_next, _ = cell(x, (h, c))
    expected_h, _ = _cell("LSTM", gates, 0.0, None, c.double().numpy())
    np.testing.assert_allclose(expected_h, h_next.double().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("per_layer", "names"), [
    (3, ["weight_ih_l0", "weight_hh_l0.t0-2", "weight_hh_l0.t3-5", "weight_hh_l0.t6"]),
    (0, ["weight_ih_l0", "weight_hh_l0.t0-6"]),
])
def test_time_steps_grouped_into_fewer_layers(per_layer, names):
    torch.manual_seed(3)
    lstm = nn.LSTM(3, 4)
    x = torch.randn(7, 2, 3)
    one_per_step = lower(lstm, x)
    grouped = lower(lstm, x, time_steps_per_layer=per_layer)
    assert [layer.name for layer in grouped] == names
    stacked = np.concatenate([one_per_step[f"weight_hh_l0.t{t}"].input for t in range(7)])
    np.testing.assert_array_equal(np.concatenate([layer.input for layer in grouped.layers[1:]]), stacked)
    assert grouped.macs == one_per_step.macs
    assert grouped.provenance["time_steps_per_layer"] == per_layer


def test_packed_sequences_are_listed_not_lowered():
    lstm = nn.LSTM(3, 4)
    packed = pack_padded_sequence(torch.randn(5, 2, 3), [5, 3])
    with pytest.raises(Exception, match="packed sequence"):
        lower(lstm, (packed,))  # a PackedSequence is a tuple: wrapped, it is one argument

    class PackedThenLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.fc = lstm, nn.Linear(4, 2)

        def forward(self, sequence):
            _, (h, _) = self.lstm(sequence)
            return self.fc(h[-1])

    workload = lower(PackedThenLinear(), (packed,))
    assert [layer.name for layer in workload] == ["fc"]
    assert workload.not_lowered[0]["name"] == "lstm.lstm" and "PackedSequence" in workload.not_lowered[0]["reason"]

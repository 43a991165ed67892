"""nn.LSTM, nn.GRU and nn.RNN (any layers, bidirectional, batch_first, LSTM projections) and their cells, lowered
to the GEMMs an accelerator runs, with the real hidden states as activations.

Per layer and direction (names after the weights, `lstm.weight_ih_l0`, `lstm.weight_hh_l1_reverse.t3`):
- the input projection of all time steps as one linear layer: rows (time x batch, time-major), weight
  `weight_ih_l{k}` (gates x hidden, input features);
- the recurrent projection as one linear layer per time step (`.t{time}`): rows (batch), weight `weight_hh_l{k}`,
  activations the hidden state that step really multiplies (the initial state at the first step: zeros unless
  given, and they are the layer's real zeros). `time_steps_per_layer` = k groups k consecutive steps into one
  layer (`.t0-3`; 0: all steps), for fewer layers; the rows are then the k steps' hidden states, which on hardware
  would still run one after another;
- an LSTM with proj_size: the projection `weight_hr_l{k}` of each step the same way.
The gates follow torch's definitions (LSTM i, f, g, o; GRU r, z, n with r applied to W_hn h + b_hn), computed here
in the model's precision to produce the hidden states; the model's own kernel still computes the model's output.
Packed sequences (PackedSequence) are listed as not lowered: pad them to lower every step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from accelsim.frontend.recorder import LayerRecorder, to_numpy
from accelsim.workload import Layer

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
KERNELS = {torch.lstm: "lstm", torch.gru: "gru", torch.rnn_tanh: "rnn_tanh", torch.rnn_relu: "rnn_relu",
           torch.lstm_cell: "lstm_cell", torch.gru_cell: "gru_cell", torch.rnn_tanh_cell: "rnn_tanh_cell",
           torch.rnn_relu_cell: "rnn_relu_cell"}


def record(recorder: LayerRecorder, func, args: tuple, kwargs: dict) -> None:
    kind = KERNELS[func]
    if kwargs:
        recorder.skip(kind, f"{kind} called with keyword arguments, which accelsim does not parse")
    elif kind.endswith("_cell"):
        _record_cell(recorder, kind, *args)
    elif _is_packed(kind, args):
        recorder.skip(kind, f"{kind} on a packed sequence (PackedSequence) is not lowered: its steps have varying "
                            "batch sizes; pad the sequences (batch_first or not) to lower every step")
    else:
        _record_sequence(recorder, kind, *args)


def _is_packed(kind: str, args: tuple) -> bool:
    # torch.lstm(input, (h0, c0), params, ...) vs torch.lstm(data, batch_sizes, (h0, c0), params, ...); the
    # others take hx as a tensor, so their packed form is recognised by where the parameter list is.
    if kind == "lstm":
        return isinstance(args[1], torch.Tensor)
    return not isinstance(args[2], list | tuple)


def _record_cell(recorder: LayerRecorder, kind: str, input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> None:
    hidden = hx[0] if kind == "lstm_cell" else hx
    recorder.add_linear(input, w_ih, kind="weight_ih")
    recorder.add_linear(hidden, w_hh, kind="weight_hh")


def _record_sequence(recorder: LayerRecorder, kind: str, input, hx, params, has_biases: bool, num_layers: int,
                     dropout: float, train: bool, bidirectional: bool, batch_first: bool) -> None:
    directions = 2 if bidirectional else 1
    per_direction = len(params) // (num_layers * directions)
    has_projection = per_direction in (3, 5)
    x = input.transpose(0, 1) if batch_first and input.dim() == 3 else input
    h0, c0 = (hx[0], hx[1]) if kind == "lstm" else (hx, None)
    if x.dim() == 2:  # unbatched: (T, features), hx (layers x directions, hidden)
        x, h0 = x.unsqueeze(1), h0.unsqueeze(1)
        c0 = c0.unsqueeze(1) if c0 is not None else None
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            weights = params[index * per_direction: (index + 1) * per_direction]
            w_ih, w_hh = weights[0], weights[1]
            b_ih, b_hh = (weights[2], weights[3]) if has_biases else (None, None)
            w_hr = weights[-1] if has_projection else None
            suffix = f"l{layer}" + ("_reverse" if direction else "")
            state = (h0[index], c0[index] if c0 is not None else None)
            outputs.append(_run_direction(recorder, kind, suffix, x, state, (w_ih, w_hh, b_ih, b_hh, w_hr),
                                          reverse=direction == 1))
        x = torch.cat(outputs, dim=-1)


class _StepGroups:
    """Collects the activations of consecutive steps of one recurrent weight and records them as layers of
    `steps_per_layer` steps each (0: all)."""

    def __init__(self, recorder: LayerRecorder, kind: str, weight: torch.Tensor, steps_per_layer: int):
        self.recorder, self.kind, self.source = recorder, kind, weight
        self.weight = to_numpy(weight)  # one copy shared by every step's layer
        self.steps_per_layer = steps_per_layer
        self.times: list[int] = []
        self.rows: list[torch.Tensor] = []

    def add(self, time: int, rows: torch.Tensor, last: bool) -> None:
        self.times.append(time)
        self.rows.append(rows)
        if last or len(self.times) == self.steps_per_layer:
            label = f"t{self.times[0]}" if len(self.times) == 1 else f"t{self.times[0]}-{self.times[-1]}"
            layer = Layer(name=self.recorder.name_for(f"{self.kind}.{label}"), op="linear",
                          input=to_numpy(torch.cat(self.rows)), weight=self.weight)
            self.recorder.add(layer, source=self.source)
            self.times, self.rows = [], []


def _run_direction(recorder: LayerRecorder, kind: str, suffix: str, x: torch.Tensor, state, weights,
                   reverse: bool) -> torch.Tensor:
    """Record one direction of one layer over the sequence x (T, B, features); return its outputs (T, B, H)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    steps, batch = x.shape[:2]
    recorder.add_linear(x.reshape(steps * batch, -1), w_ih, kind=f"weight_ih_{suffix}")
    input_gates = F.linear(x, w_ih, b_ih)
    per_layer = recorder.time_steps_per_layer
    recurrent = _StepGroups(recorder, f"weight_hh_{suffix}", w_hh, per_layer)
    projection = _StepGroups(recorder, f"weight_hr_{suffix}", w_hr, per_layer) if w_hr is not None else None
    h, c = state
    outputs: list[torch.Tensor | None] = [None] * steps
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for position, time in enumerate(order):
        last = position == steps - 1
        recurrent.add(time, h, last)
        gates = input_gates[time]
        hidden_gates = F.linear(h, w_hh, b_hh)
        if kind == "lstm":
            i, f, g, o = (gates + hidden_gates).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            if projection is not None:
                projection.add(time, h, last)
                h = F.linear(h, w_hr)
        elif kind == "gru":
            x_r, x_z, x_n = gates.chunk(3, dim=-1)
            h_r, h_z, h_n = hidden_gates.chunk(3, dim=-1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            h = (1 - z) * n + z * h
        else:
            activation = torch.tanh if kind == "rnn_tanh" else torch.relu
            h = activation(gates + hidden_gates)
        outputs[time] = h
    return torch.stack(outputs)

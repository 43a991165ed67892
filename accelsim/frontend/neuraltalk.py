"""NeuralTalk's captioning LSTM at the shapes of EIE's benchmark layers, as a real nn.Module.

Han et al. (EIE, ISCA 2016, Table III) benchmark three layers of NeuralTalk (Karpathy and Fei-Fei, CVPR 2015):
NT-We, the image embedding (4096 -> 600), NT-Wd, the word decoder (600 -> 8791) and NT-LSTM, the LSTM's matrix
(1201 -> 2400: input 600, hidden 600 and a bias row into 4 gates x 600). This model has those layers: a CNN
feature vector of 4096 embedded by We into the first step, word embeddings (8791 words, 600) for the following
steps, an nn.LSTM(600, 600), and Wd on every step's hidden state. Lowered, the LSTM's matrix is split as an
accelerator runs it over a sequence: the input projection of all steps (600 -> 2400) and one recurrent projection
(600 -> 2400) per step; its biases are added outside the GEMMs.

The image feature is drawn uniform in (0, 1): non-negative like a post-ReLU CNN feature, and dense, as EIE's
Table III gives NT-We's activation density as 100%.
"""

from __future__ import annotations

import torch
from torch import nn

VOCABULARY = 8791
HIDDEN = 600
IMAGE_FEATURES = 4096


class NeuralTalkLSTM(nn.Module):
    """image feature (B, 4096) and words (B, T-1) -> word scores (B, T, 8791)."""

    def __init__(self):
        super().__init__()
        self.We = nn.Linear(IMAGE_FEATURES, HIDDEN)
        self.embed = nn.Embedding(VOCABULARY, HIDDEN)
        self.lstm = nn.LSTM(HIDDEN, HIDDEN, batch_first=True)
        self.Wd = nn.Linear(HIDDEN, VOCABULARY)

    def forward(self, image_features: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        steps = torch.cat([self.We(image_features).unsqueeze(1), self.embed(words)], dim=1)
        hidden, _ = self.lstm(steps)
        return self.Wd(hidden)


def neuraltalk_input(shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """BATCH x STEPS: one image feature vector and STEPS - 1 random words per caption."""
    if len(shape) != 2:
        raise ValueError(f"neuraltalk-lstm takes an input shape BATCHxSTEPS (captions x time steps: the image, then "
                         f"STEPS - 1 words), e.g. 1x16; got {'x'.join(map(str, shape))}")
    batch, steps = shape
    generator = torch.Generator().manual_seed(seed)
    features = torch.rand(batch, IMAGE_FEATURES, generator=generator)
    words = torch.randint(0, VOCABULARY, (batch, steps - 1), generator=generator)
    return features, words

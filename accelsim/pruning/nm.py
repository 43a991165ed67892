"""N:M fine-grained structured sparsity, as sparse tensor cores (Ampere and later, 2:4) need it.

Groups run along the reduction dimension, the one a GEMM sums over:
- linear weight (K, C): groups of m consecutive input features of each row;
- conv weight (K, C, R, S): groups of m consecutive input channels C for each (k, r, s). This is NVIDIA ASP's
  convention (apex/contrib/sparsity, sparse_masklib.create_mask permutes the weight to (R, S, K, C) before
  grouping): the channels-last implicit-GEMM layout that cuDNN's sparse kernels read, where C is the innermost
  reduction index. A grouped conv's weight (K, C/groups, R, S) is grouped along its C/groups; a conv1d's (K, C, R)
  along C for each (k, r). Weights are seen in their GEMM layout (layouts.py): a transposed conv's groups run
  along its input channels, a conv3d's along the (depth tap, channel) axis of the conv2d it is lowered as (along C
  for each depth tap when C is a multiple of m), an LSTM's along the input or hidden features of each gate row.
In each group the n largest |w| (or, with a criterion, the n highest scores; zeros first to go) are kept (ties:
the lower channel index; nm_jit.py). A reduction length not divisible by m
cannot be N:M: `mask` raises, and at model level the layer is left dense and listed (ASP skips such layers too).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import model_validator

from accelsim.pruning.base import PerLayerScheme
from accelsim.pruning.errors import LayerMismatch
from accelsim.pruning.nm_jit import keep_top_n
from accelsim.pruning.scores import LayerScores, element_scores


class NM(PerLayerScheme):
    """Keep n of every m consecutive weights along the reduction dimension (2:4, 1:4, 4:8, ...)."""

    syntax: ClassVar[str] = "nm:<n>:<m>"
    summary: ClassVar[str] = (
        "keep the n largest |w| of every m consecutive weights along the reduction dim (sparse tensor cores 2:4)"
    )

    kind: Literal["nm"] = "nm"
    n: int
    """Weights kept per group (1 <= n <= m)."""
    m: int
    """Group length along the reduction dimension (m >= 1)."""

    @model_validator(mode="after")
    def _check_n_m(self) -> NM:
        if self.n < 1 or self.m < 1 or self.n > self.m:
            raise ValueError(
                f"N:M sparsity needs 1 <= n <= m (n weights kept of every m, e.g. 2:4, 1:4, 4:8); "
                f"got n={self.n}, m={self.m}"
            )
        return self

    @property
    def text(self) -> str:
        return f"nm:{self.n}:{self.m}"

    def mask(self, weight: torch.Tensor, *, layer_name: str = "", scores: LayerScores | None = None) -> torch.Tensor:
        scores = element_scores(weight, scores)
        channels_last = (0, *range(2, weight.dim()), 1)
        if weight.dim() >= 3:
            scores = scores.permute(channels_last)  # (K, R, S, C): C innermost, as ASP groups it
            what = "input channels C"
        elif weight.dim() == 2:
            what = "input features C"
        else:
            raise LayerMismatch(
                f"{weight.dim()}-D weight",
                f"N:M {self.n}:{self.m} applies to linear (K, C) and conv (K, C, taps...) weights; got a weight of "
                f"shape {tuple(weight.shape)}.",
            )
        length = scores.shape[-1]
        if length % self.m:
            raise LayerMismatch(
                f"{what}={length} not divisible by m={self.m}",
                f"N:M {self.n}:{self.m} cannot prune a weight of shape {tuple(weight.shape)}: its {what}={length} "
                f"(the reduction dimension the groups of m run along) is not divisible by m={self.m}. Allowed: a "
                f"reduction length that is a multiple of m; at model level such a layer is left dense and listed "
                f"in the report.",
            )
        groups = scores.detach().reshape(-1, self.m).cpu().numpy()
        keep = torch.from_numpy(keep_top_n(groups, self.n)).reshape(scores.shape).to(weight.device)
        if weight.dim() == 2:
            return keep
        return keep.permute(0, weight.dim() - 1, *range(1, weight.dim() - 1)).contiguous()

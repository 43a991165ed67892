"""How many weights a density keeps, and which ones: the two rules every scheme shares.

Rounding: a layer (or block grid, or filter set) of `count` units at density `d` keeps `d * count` rounded half
up, after dropping float noise below 1e-9 (so 1 - 0.7 = 0.30000000000000004 does not tip a tie). Half up, not
Python's `round` (half to even, which torch.nn.utils.prune uses): the count then never depends on parity.

Ties: among units of equal score the one earlier in flat (row-major) order is kept (torch.topk, which
torch.nn.utils.prune uses, leaves the order of ties unspecified). The threshold comes from numpy's
`np.partition` (linear time), several times faster on CPU than torch's `kthvalue`/`topk` on VGG-16's 100M-weight
fc6.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def kept_count(density: float, count: int) -> int:
    """Units kept at `density` out of `count`: density x count rounded half up (see module docstring)."""
    return min(count, max(0, math.floor(round(density * count, 9) + 0.5)))


def at_least_count(density: float, count: int) -> int:
    """Smallest number of units whose share of `count` is at least `density` (the collapse guard's floor)."""
    return min(count, max(0, math.ceil(round(density * count, 9))))


def top_k_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Bool mask of `scores`' shape keeping exactly the `k` highest scores; ties go to the earlier flat index."""
    flat = scores.detach().reshape(-1).cpu().numpy()
    keep = top_k_flat(flat, k)
    return torch.from_numpy(keep).reshape(scores.shape).to(scores.device)


def top_k_flat(flat: np.ndarray, k: int) -> np.ndarray:
    """`top_k_mask` on a 1-D numpy array of scores (no NaN)."""
    n = flat.size
    if k >= n:
        return np.ones(n, dtype=bool)
    if k <= 0:
        return np.zeros(n, dtype=bool)
    threshold = np.partition(flat, n - k)[n - k]
    keep = flat > threshold
    ties = np.flatnonzero(flat == threshold)
    keep[ties[: k - int(keep.sum())]] = True
    return keep


def top_k_per_row(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Bool mask of a 2-D `scores` keeping the `k` highest of every row; ties go to the earlier column (a stable
    descending sort keeps equal scores in index order)."""
    order = torch.argsort(scores.detach(), dim=1, descending=True, stable=True)
    keep = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
    keep.scatter_(1, order[:, :k], True)
    return keep

"""What `apply` did to each prunable weight: one row per weight, nothing left out, printable as a table."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LayerRow:
    """One prunable weight before and after. `status` is "pruned" or "left dense: <reason>"."""

    name: str
    """Module name, with the parameter appended when it is not `weight` ("attn.in_proj_weight")."""
    shape: tuple[int, ...]
    nonzeros_before: int
    nonzeros_after: int
    status: str

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def density_before(self) -> float:
        return self.nonzeros_before / self.numel if self.numel else 0.0

    @property
    def density_after(self) -> float:
        return self.nonzeros_after / self.numel if self.numel else 0.0

    @property
    def pruned(self) -> bool:
        return self.status == "pruned"


@dataclass(frozen=True)
class PruneReport:
    """Per-weight rows in module order, and overall densities over all of them (excluded ones included)."""

    scheme: str
    """The scheme in CLI form, with its exclude list if any."""
    rows: tuple[LayerRow, ...]

    @property
    def numel(self) -> int:
        return sum(row.numel for row in self.rows)

    @property
    def density_before(self) -> float:
        return sum(row.nonzeros_before for row in self.rows) / self.numel if self.numel else 0.0

    @property
    def density_after(self) -> float:
        return sum(row.nonzeros_after for row in self.rows) / self.numel if self.numel else 0.0

    @property
    def left_dense(self) -> tuple[LayerRow, ...]:
        return tuple(row for row in self.rows if not row.pruned)

    def row(self, name: str) -> LayerRow:
        """The row of one weight, by name."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no prunable weight {name!r} in this report; rows: {', '.join(r.name for r in self.rows)}")

    def __str__(self) -> str:
        header = ("layer", "shape", "density before", "density after", "status")
        table = [header] + [
            (r.name, str(r.shape), f"{r.density_before:.2%}", f"{r.density_after:.2%}", r.status) for r in self.rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
        lines = [
            f"pruning {self.scheme}: {len(self.rows)} weights, {len(self.rows) - len(self.left_dense)} pruned, "
            f"{len(self.left_dense)} left dense; overall density {self.density_before:.2%} -> "
            f"{self.density_after:.2%}"
        ]
        for line in table:
            cells = [cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)]
            lines.append("  ".join([*cells, line[-1]]).rstrip())
        return "\n".join(lines)

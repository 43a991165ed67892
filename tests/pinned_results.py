"""Shared by the refactoring guards of issue 20 (tests/*_pinned_cases.py): every number of a LayerResult in JSON form,
and the pinned file written with the commit it came from."""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from accelsim.results import LayerResult


def summary(result: LayerResult) -> dict:
    """Every number of a LayerResult, with the computed output as its shape and the SHA-256 of its float64 bytes."""
    output = np.ascontiguousarray(result.output, dtype=np.float64)
    return {
        "cycles": result.cycles, "macs": result.macs, "macs_issued": result.macs_issued,
        "effectual_macs": result.effectual_macs, "multipliers": result.multipliers,
        "stall_cycles": dict(result.stall_cycles),
        "actions": {f"{component}.{action}": count for (component, action), count in sorted(result.actions.items())},
        "metrics": dict(result.metrics), "notes": list(result.notes),
        "output_shape": list(output.shape), "output_sha256": hashlib.sha256(output.tobytes()).hexdigest(),
    }


def write_pinned(path: Path, about: str, results: dict[str, dict]) -> None:
    """Writes {about, made, commit, cases} to `path`, the commit marked when accelsim/ has uncommitted changes."""
    root = Path(__file__).resolve().parents[1]
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "accelsim"], capture_output=True,
                           text=True, check=True).stdout.strip()
    pinned = {"about": about, "made": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "commit": commit + (" (accelsim/ modified)" if dirty else ""), "cases": results}
    path.write_text(json.dumps(pinned, indent=1, sort_keys=False) + "\n")
    print(f"wrote {path} ({len(results)} cases) from {pinned['commit']}", file=sys.stderr)

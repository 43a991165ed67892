"""Where accelsim keeps what it can rebuild (trained digits models, lowered workloads of sweeps): one rule for all."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$ACCELSIM_CACHE, else $XDG_CACHE_HOME/accelsim, else ~/.cache/accelsim."""
    if os.environ.get("ACCELSIM_CACHE"):
        return Path(os.environ["ACCELSIM_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "accelsim"

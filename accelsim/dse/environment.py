"""What a sweep's folder records about where its numbers came from: accelsim's version and source commit, Python,
the packages that shape results or runs, the machine, the executor and the command."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

import accelsim

PACKAGES = ("numpy", "numba", "pydantic", "pyyaml", "torch", "torchvision", "scikit-learn", "pyarrow", "pandas",
            "dask", "distributed", "optuna")


def package_versions(packages=PACKAGES) -> dict[str, str]:
    versions = {}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def source_commit() -> dict[str, str | bool | None]:
    """The git commit accelsim's source was at, and whether it had uncommitted changes (None outside git)."""
    repository = Path(accelsim.__file__).resolve().parents[1]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=repository, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "uncommitted_changes": bool(status) if status is not None else None}


def environment(executor: str, workers: int | None, scheduler: str | None) -> dict:
    return {
        "accelsim_version": accelsim.__version__, "accelsim_source": source_commit(),
        "python": platform.python_version(), "packages": package_versions(),
        "machine": platform.platform(), "processor": platform.machine(), "cpu_count": os.cpu_count(),
        "executor": executor, "workers": workers, "scheduler": scheduler, "command": sys.argv,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }

"""The files a study script writes into its results folder: CSV tables, figures and a provenance record (command,
date, commit, versions), each announced on the terminal. Shared by studies/*/run_studies.py."""

from __future__ import annotations

import csv
import datetime
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: studies run headless
import matplotlib.pyplot as plt


class StudyFiles:
    """Writes into `folder` (created on first use); `repository` is where `git rev-parse HEAD` is asked."""

    def __init__(self, folder: Path, repository: Path):
        self.folder = folder
        self.repository = repository

    def _path(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / name

    def write_csv(self, name: str, rows: list[dict]) -> None:
        """One row per dict; the first row's keys are the header."""
        path = self._path(name)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {path}")

    def write_json(self, name: str, data) -> None:
        path = self._path(name)
        path.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {path}")

    def save_figure(self, figure, name: str) -> None:
        path = self._path(name)
        figure.tight_layout()
        figure.savefig(path, dpi=120)
        plt.close(figure)
        print(f"wrote {path}")

    def write_provenance(self, command: str, **details: str) -> None:
        """provenance.json: the command, today's date, the commit the run started from, Python, numpy, numba and
        torch versions, the machine, and the study's own `details` (what its workloads are)."""
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=self.repository).stdout.strip()
        versions = {package: importlib.metadata.version(package) for package in ("numpy", "numba", "torch")}
        info = {"command": command, "date": datetime.date.today().isoformat(),
                "git_commit_before_this_run": commit, "python": platform.python_version(), **versions,
                "machine": platform.platform(), **details}
        self.write_json("provenance.json", info)

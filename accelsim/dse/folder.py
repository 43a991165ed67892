"""A sweep's folder: the Parquet shards of its rows at the top, and `_sweep/` with what makes it reproducible and
what it drew: the spec (`spec.yaml`, and every spec ever run here under `specs/`), `environment.json` (the latest
run's accelsim version and commit, packages, machine, executor), `runs.jsonl` (one line per run: what it computed,
how it ended, its environment), the Pareto fronts (`pareto-X-Y.png` and `.csv`), and a lock that keeps two sweeps
from writing at once."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

RECORDS = "_sweep"


class SweepBusyError(RuntimeError):
    """Another sweep is writing the folder."""


class SweepFolder:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.records = self.path / RECORDS
        self._lock = None

    def open(self) -> None:
        """Create the folder and take its lock (released when the process ends, however it ends)."""
        self.records.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform: one sweep per folder is then the user's rule
            return
        handle = open(self.records / "lock", "a+")  # held open for the sweep's life: the lock lives as long
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise SweepBusyError(f"{self.path}: another sweep is writing this folder (pid {holder}); wait for it "
                                 f"or give another folder") from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def record_spec(self, text: str) -> str:
        """Keep the spec as run (spec.yaml, and specs/<hash>.yaml for every spec run here); its hash."""
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        (self.records / "specs").mkdir(exist_ok=True)
        (self.records / "specs" / f"{digest}.yaml").write_text(text)
        (self.records / "spec.yaml").write_text(text)
        return digest

    def record_environment(self, environment: dict) -> None:
        (self.records / "environment.json").write_text(json.dumps(environment, indent=2) + "\n")

    def record_run(self, record: dict) -> None:
        with open(self.records / "runs.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def front_path(self, x: str, y: str, suffix: str) -> Path:
        return self.records / f"pareto-{x}-{y}{suffix}"

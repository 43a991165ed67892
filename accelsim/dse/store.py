"""A sweep's rows on disk: Parquet shards `part-*.parquet` in the sweep's folder, all with the sweep's schema, so
`pandas.read_parquet(DIR)` reads them as one table (files and folders whose names start with `_` or `.` are not
read: the sweep's records live in `_sweep/`, rows of earlier specs in `_stale/`).

Rows are buffered and written as a shard every `flush_seconds` or `flush_rows`, and whenever the sweep stops
(finished, Ctrl-C, SIGTERM, a lost worker). Each shard is written beside its name and renamed into place, so a
reader never sees half a file; a SIGKILL of the sweep process itself loses at most the last `flush_seconds`.
A finished sweep compacts its shards into one file, under a journal (`_compaction.json`) that the next run
completes if the process died halfway: no row is ever lost or read twice.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from accelsim.dse.columns import column_value

SHARD_PATTERN = "part-*.parquet"
STALE_FOLDER = "_stale"
COMPACTION_JOURNAL = "_compaction.json"


class ResultStore:
    def __init__(self, folder: Path, schema: pa.Schema, *, flush_rows: int = 256, flush_seconds: float = 1.0):
        self.folder = Path(folder)
        self.schema = schema
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.run_token = time.strftime("%Y%m%dT%H%M%S") + f"-{uuid.uuid4().hex[:8]}"  # shard names never repeat
        self._sequence = 0
        self._buffer: list[dict] = []
        self._last_flush = time.monotonic()

    def shards(self) -> list[Path]:
        return sorted(self.folder.glob(SHARD_PATTERN))

    def index(self) -> dict[str, str]:
        """point_id -> status of every row on disk."""
        found: dict[str, str] = {}
        for shard in self.shards():
            table = pq.read_table(shard, columns=["point_id", "status"])
            for point_id, status in zip(table["point_id"].to_pylist(), table["status"].to_pylist(), strict=True):
                found.setdefault(point_id, status)
        return found

    def read(self, point_ids: Iterable[str] | None = None) -> pa.Table:
        """Every row on disk (in the sweep's schema), or those of `point_ids`."""
        tables = [conform(pq.read_table(shard), self.schema) for shard in self.shards()]
        table = pa.concat_tables(tables) if tables else self.schema.empty_table()
        if point_ids is not None:
            table = table.filter(pc.is_in(table["point_id"], pa.array(list(point_ids), pa.string())))
        return table

    def add(self, row: dict) -> None:
        self._buffer.append({field.name: column_value(row.get(field.name), field.type) for field in self.schema})
        self.maybe_flush()

    def maybe_flush(self) -> None:
        if len(self._buffer) >= self.flush_rows or (
                self._buffer and time.monotonic() - self._last_flush >= self.flush_seconds):
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._sequence += 1
            name = f"part-{self.run_token}-{self._sequence:05d}.parquet"
            _write_atomically(pa.Table.from_pylist(self._buffer, schema=self.schema), self.folder / name)
            self._buffer = []
        self._last_flush = time.monotonic()

    def compact(self) -> None:
        """All shards as one: written beside its place, the journal names the shards it replaces, they go, it is
        renamed into place, the journal goes. `recover` finishes what a death midway left."""
        shards = self.shards()
        if len(shards) < 2:
            return
        merged = self.folder / f"part-{self.run_token}-compacted.parquet"
        partial = merged.with_name(f".{merged.name}.partial")
        pq.write_table(self.read(), partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        journal = self.folder / COMPACTION_JOURNAL
        journal.write_text(json.dumps({"merged": merged.name, "replaces": [shard.name for shard in shards]}))
        self.recover()

    def recover(self) -> None:
        """Finish an interrupted compaction: the replaced shards go, the merged file takes its place."""
        journal = self.folder / COMPACTION_JOURNAL
        if not journal.is_file():
            return
        record = json.loads(journal.read_text())
        merged = self.folder / record["merged"]
        partial = merged.with_name(f".{merged.name}.partial")
        if partial.is_file():  # the merged file is whole (it was written before the journal)
            for name in record["replaces"]:
                (self.folder / name).unlink(missing_ok=True)
            os.replace(partial, merged)
        journal.unlink()

    def conform_all(self) -> int:
        """Rewrite the shards whose schema is not the sweep's (a changed spec adds override or stall columns):
        missing columns become empty, types widen. Returns how many were rewritten."""
        rewritten = 0
        for shard in self.shards():
            table = pq.read_table(shard)
            if not table.schema.equals(self.schema):
                _write_atomically(conform(table, self.schema), shard)
                rewritten += 1
        return rewritten

    def retire(self, point_ids: set[str]) -> int:
        """Move the rows of `point_ids` out of the results into `_stale/` (kept, never read with the results).
        Returns how many rows moved."""
        moved = 0
        if not point_ids:
            return moved
        wanted = pa.array(sorted(point_ids), pa.string())
        for shard in self.shards():
            table = pq.read_table(shard)
            leaving = pc.is_in(table["point_id"], wanted)
            count = pc.sum(leaving).as_py() or 0
            if not count:
                continue
            stale = self.folder / STALE_FOLDER
            stale.mkdir(exist_ok=True)
            _write_atomically(table.filter(leaving), stale / f"{self.run_token}-{shard.name}")
            kept = table.filter(pc.invert(leaving))
            if kept.num_rows:
                _write_atomically(kept, shard)
            else:
                shard.unlink()
            moved += count
        return moved


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` in `schema`: columns in its order, missing ones empty, others cast; columns it lacks dropped."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table[field.name].cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _write_atomically(table: pa.Table, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    pq.write_table(table, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)

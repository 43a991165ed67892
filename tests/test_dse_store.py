"""Result shards: rows written as Parquet that `pandas.read_parquet(DIR)` reads whole next to the sweep's records,
rows moved out of the results, shards brought to a grown schema, nothing half-written."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from accelsim.dse.columns import results_schema
from accelsim.dse.store import ResultStore


def schema(overrides=None):
    return results_schema(overrides or {"dataflow.fifo_depth": pa.int64()}, ["load_imbalance"])


def row(point_id: str, status: str = "ok", **values) -> dict:
    return {"point_id": point_id, "model": "tiny.csv", "arch": "eie", "status": status, **values}


def test_rows_buffer_then_land_as_shards_read_as_one_table(tmp_path):
    store = ResultStore(tmp_path, schema(), flush_rows=2, flush_seconds=3600)
    store.add(row("a", cycles=10, **{"set.dataflow.fifo_depth": 8}))
    assert store.shards() == []  # buffered
    store.add(row("b", "failed", error="ValueError: no"))
    store.add(row("c", cycles=30))
    assert len(store.shards()) == 1  # two rows reached flush_rows
    store.flush()
    (tmp_path / "_sweep").mkdir()
    (tmp_path / "_sweep" / "spec.yaml").write_text("models: []\n")  # records beside the shards are not read
    frame = pd.read_parquet(tmp_path).sort_values("point_id")
    assert frame["point_id"].tolist() == ["a", "b", "c"]
    assert frame["cycles"].tolist()[::2] == [10, 30] and frame["error"].tolist()[1] == "ValueError: no"
    assert frame["set.dataflow.fifo_depth"].tolist()[0] == 8
    assert store.index() == {"a": "ok", "b": "failed", "c": "ok"}
    assert list(frame.columns) == schema().names
    assert not list(tmp_path.glob(".*partial"))


def test_retired_rows_leave_the_results_for_stale(tmp_path):
    store = ResultStore(tmp_path, schema(), flush_rows=2)
    for point_id in "abc":
        store.add(row(point_id))
    store.flush()
    assert store.retire({"a", "c", "zzz"}) == 2
    assert pd.read_parquet(tmp_path)["point_id"].tolist() == ["b"]
    assert sorted(pd.read_parquet(tmp_path / "_stale")["point_id"]) == ["a", "c"]
    assert len(store.shards()) == 1  # the shard left with no row is gone


def test_a_grown_schema_rewrites_old_shards(tmp_path):
    old = ResultStore(tmp_path, schema())
    old.add(row("a", **{"set.dataflow.fifo_depth": 8}))
    old.flush()
    grown = schema({"dataflow.fifo_depth": pa.float64(), "pe_array.cols": pa.int64()})
    store = ResultStore(tmp_path, grown)
    assert store.conform_all() == 1 and store.conform_all() == 0
    store.add(row("b", **{"set.pe_array.cols": 4}))
    store.flush()
    assert all(pq.read_schema(shard).equals(grown) for shard in store.shards())
    frame = pd.read_parquet(tmp_path).sort_values("point_id")
    assert frame["set.dataflow.fifo_depth"].tolist()[0] == 8.0 and pd.isna(frame["set.pe_array.cols"].tolist()[0])
    assert frame["set.pe_array.cols"].tolist()[1] == 4
    assert store.read(["b"]).num_rows == 1


def test_compaction_keeps_every_row_once_even_when_it_dies_halfway(tmp_path):
    store = ResultStore(tmp_path, schema(), flush_rows=1)
    for point_id in "abcd":
        store.add(row(point_id, cycles=ord(point_id)))
    assert len(store.shards()) == 4
    store.compact()
    assert len(store.shards()) == 1 and not (tmp_path / "_compaction.json").exists()
    assert sorted(pd.read_parquet(tmp_path)["point_id"]) == list("abcd")
    # Death after the journal, with one replaced shard already gone: the next store finishes the job.
    for point_id in "ef":
        store.add(row(point_id))
    shards = store.shards()
    merged = tmp_path / "part-x-compacted.parquet"
    pq.write_table(store.read(), tmp_path / f".{merged.name}.partial")
    journal = {"merged": merged.name, "replaces": [shard.name for shard in shards]}
    (tmp_path / "_compaction.json").write_text(json.dumps(journal))
    shards[0].unlink()
    ResultStore(tmp_path, schema()).recover()
    assert [path.name for path in ResultStore(tmp_path, schema()).shards()] == [merged.name]
    assert sorted(pd.read_parquet(tmp_path)["point_id"]) == list("abcdef")

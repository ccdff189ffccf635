from pathlib import Path

from switchroom.store import EventLog, records_window, connection_counts


def api_call(n: int, status: int | None = 204, connection: str = "c1", **extra: object) -> dict[str, object]:
    return {"kind": "api_call", "direction": "inbound", "connection_id": connection, "status_code": status,
            "request_id": f"r{n}", **extra}


def test_append_assigns_gap_free_seqs_and_reads_back_in_order(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "hub.sqlite")
    first = log.append([api_call(n) for n in range(3)])
    second = log.append([api_call(n) for n in range(3, 5)])
    assert [r["seq"] for r in first + second] == [1, 2, 3, 4, 5]
    read = log.read_after(0, 100)
    assert [r["request_id"] for r in read] == ["r0", "r1", "r2", "r3", "r4"]
    assert read == first + second
    assert [r["seq"] for r in log.read_after(3, 100)] == [4, 5]
    assert [r["seq"] for r in log.read_after(0, 2)] == [1, 2]


def test_replicated_batch_round_trips_and_duplicates_cannot_be_stored(tmp_path: Path) -> None:
    hub = EventLog(tmp_path / "hub.sqlite")
    records = hub.append([api_call(n, status=502 if n % 2 else 204) for n in range(10)])
    cache = EventLog(tmp_path / "cache.sqlite")

    assert cache.replicate(records[:6], through_seq=6) == 6
    assert cache.replicate(records[4:], through_seq=10) == 4  # 5 and 6 again: ignored
    assert cache.cursor() == 10
    assert cache.read_after(0, 100) == records
    assert connection_counts(cache)[0].calls == 10
    assert connection_counts(cache)[0].errors == 5


def test_cursor_never_moves_backwards(tmp_path: Path) -> None:
    cache = EventLog(tmp_path / "cache.sqlite")
    cache.replicate([], through_seq=7)
    cache.replicate([], through_seq=3)
    assert cache.cursor() == 7


def test_through_seq_passes_over_kinds_not_asked_for(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "hub.sqlite")
    log.append([api_call(1), {"kind": "trigger_event", "trigger_id": "t"}, api_call(2), {"kind": "trigger_event"}])
    bodies, through = log.read_after_json(0, 100, kinds=("api_call",))
    assert len(bodies) == 2 and through == 4
    bodies, through = log.read_after_json(4, 100, kinds=("api_call",))
    assert bodies == [] and through == 4


def test_hub_id_is_made_once_per_database(tmp_path: Path) -> None:
    first = EventLog(tmp_path / "hub.sqlite").ensure_hub_id()
    assert EventLog(tmp_path / "hub.sqlite").ensure_hub_id() == first
    assert EventLog(tmp_path / "other.sqlite").ensure_hub_id() != first


def test_skipped_calls_are_not_failures(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "hub.sqlite")
    log.append([api_call(1, status=None, skipped=True), api_call(2, status=None), api_call(3, status=422)])
    (counts,) = connection_counts(log)
    assert (counts.calls, counts.errors) == (3, 2)


def test_window_reads_the_same_rows_from_either_end(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "hub.sqlite")
    log.append([api_call(n) for n in range(50)])
    log.append([{"kind": "trigger_event"}])  # not an api_call: not in the window
    for offset in (0, 10, 24, 25, 40, 45):
        rows = records_window(log, offset, 5)
        assert [r["request_id"] for r in rows] == [f"r{n}" for n in range(offset, min(offset + 5, 50))]
    assert records_window(log, 48, 5)[-1]["request_id"] == "r49"
    assert records_window(log, 60, 5) == []


def test_a_window_is_of_the_records_counted_not_of_those_stored_since(tmp_path: Path) -> None:
    """A list counts its rows, then reads the rows in view: records stored in between must not move the
    window (read from the tail, they did: a paused view jumped by as many rows)."""
    log = EventLog(tmp_path / "hub.sqlite")
    log.append([api_call(n) for n in range(50)])
    counted_through = log.head_seq()
    log.append([api_call(n) for n in range(50, 53)])
    rows = records_window(log, 40, 5, total=50, through_seq=counted_through)
    assert [r["request_id"] for r in rows] == [f"r{n}" for n in range(40, 45)]


def test_reads_for_a_frame_stop_at_the_size_budget_but_never_return_nothing(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.sqlite")
    log.append([{"kind": "api_call", "request_id": str(n), "note": "x" * 1000} for n in range(10)])
    bodies, through = log.read_after_json(0, 100, max_chars=3500)
    assert len(bodies) == 3 and through == 3  # the cursor stops where the frame does
    bodies, through = log.read_after_json(3, 100, max_chars=10)
    assert len(bodies) == 1 and through == 4  # one record larger than the budget still goes alone
    bodies, through = log.read_after_json(4, 100)
    assert len(bodies) == 6 and through == 10


def test_a_replica_keeps_only_texts_and_the_index_the_dashboard_reads_use(tmp_path: Path) -> None:
    def indexes(log: EventLog, table: str = "record_texts") -> set[str]:
        return {name for (name,) in log.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,))}

    hub = EventLog(tmp_path / "hub.sqlite")
    assert indexes(hub, "records") == {"idx_records_kind_seq", "idx_records_kind_ts", "idx_records_connection_id_feature_id"}
    records = hub.append([api_call(n, status=502 if n % 3 == 0 else 204, connection=f"c{n % 2}") for n in range(9)])
    old_cache = EventLog(tmp_path / "old-cache.sqlite")  # made before replicas had their own schema
    old_cache.replicate(records, through_seq=9)
    old_cache.close()
    for path in (tmp_path / "cache.sqlite", tmp_path / "old-cache.sqlite"):
        cache = EventLog(path, replica=True)
        cache.replicate(records, through_seq=9)
        assert indexes(cache) == {"idx_records_kind_seq"}
        assert [(s.connection_id, s.calls, s.errors) for s in connection_counts(cache)] == [("c0", 5, 2), ("c1", 4, 1)]
        assert records_window(cache, 6, 3) == records[6:]
        assert cache.execute("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM records WHERE kind = 'api_call'")[0][3] == (
            "SEARCH record_texts USING COVERING INDEX idx_records_kind_seq (kind=?)"
        )
        assert cache.execute("SELECT type FROM sqlite_master WHERE name = 'records'") == [("view",)]
        cache.close()
    reader = EventLog(tmp_path / "old-cache.sqlite")  # a reader of a cache sees the same records
    assert reader.keeps_texts and records_window(reader, 6, 3) == records[6:]



def test_the_hubs_own_state_lives_in_the_hubs_log_and_never_in_a_dashboard_cache(tmp_path: Path) -> None:
    def tables(log: EventLog) -> set[str]:
        return {name for (name,) in log.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    hub = EventLog(tmp_path / "hub.sqlite")
    cache = EventLog(tmp_path / "cache.sqlite", replica=True)
    assert {"trigger_seen", "user_connections"} <= tables(hub)
    assert not {"trigger_seen", "user_connections"} & tables(cache)
    records = hub.append([api_call(n) for n in range(3)])
    cache.replicate(records, through_seq=3)
    cache.close()
    for reopened in (EventLog(tmp_path / "cache.sqlite", replica=True), EventLog(tmp_path / "cache.sqlite")):
        assert not {"trigger_seen", "user_connections"} & tables(reopened)  # the second as its readers open it
        assert records_window(reopened, 0, 3) == records
        reopened.close()

"""The hub's batch layout, written by ``batch_frame`` and read back by ``batch_rows``: each record's text
arrives exactly as the hub stored it, and a frame in any other layout says the same records."""

import json

import orjson

from switchroom.protocol.batches import batch_frame, batch_rows


def stored(seq: int) -> str:
    """A record's text as the hub's log keeps it: seq first, then the rest (orjson, no spaces)."""
    return orjson.dumps({"seq": seq, "ts": "2026-11-26T10:00:00.000Z", "kind": "api_call",
                         "text": 'a "quoted" ,{"seq": inside', "items": [{"n": seq}]}).decode()


def test_a_frame_the_hub_writes_is_read_back_text_for_text() -> None:
    bodies = [stored(seq) for seq in (7, 8, 9)]
    frame = batch_frame(bodies, 12)
    assert json.loads(frame) == {"type": "batch", "records": [json.loads(b) for b in bodies], "through_seq": 12}
    assert batch_rows(frame) == ([(7, "api_call", bodies[0]), (8, "api_call", bodies[1]),
                                  (9, "api_call", bodies[2])], 12)
    assert batch_rows(frame.encode()) == batch_rows(frame)
    assert batch_rows(batch_frame([], 30)) == ([], 30)  # a stretch of other kinds still moves the cursor


def test_a_frame_in_another_layout_gives_the_same_records() -> None:
    records = [json.loads(stored(seq)) for seq in (1, 2)]
    spaced = json.dumps({"through_seq": 2, "records": records, "type": "batch"}, indent=2)
    rows, through = batch_rows(spaced)
    assert through == 2
    assert [(seq, kind, json.loads(text)) for seq, kind, text in rows] == [(1, "api_call", records[0]),
                                                                         (2, "api_call", records[1])]

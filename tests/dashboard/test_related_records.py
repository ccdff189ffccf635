"""What a record's detail view links to, over a real cache file; and how a failing script line is drawn."""

from datetime import UTC
from pathlib import Path
import io

from rich.console import Console

from switchroom.store import EventLog
from switchroom.store.related import related_records
from switchroom.tui.record_text import ScriptSource, json_block
from switchroom.tui.screens.record_detail import sections, title


def build(tmp_path: Path) -> tuple[EventLog, dict[str, dict]]:
    log = EventLog(tmp_path / "cache.sqlite", replica=True)
    base = {"connection_id": "rain-alert", "feature_id": "umbrella", "user_id": "user-001", "user_feature_id": "uf1"}
    noise = [{"kind": "api_call", "direction": "inbound", "method": "POST", "path": "/x", "request_id": f"n{n}",
              "status_code": 204} for n in range(50)]
    [event] = log.append([{"kind": "trigger_event", **base, "trigger_id": "weather.rain_tomorrow",
                           "trigger_identity": "t1", "meta_id": "m1", "ingredients": {"city": "London"},
                           "delivered_to": "script"}])
    log.append(noise)
    calls = log.append([
        {"kind": "api_call", **base, "direction": "inbound", "method": "POST", "path": "/run", "op": "action",
         "op_id": "messages.send_text", "status_code": 502, "source": "script", "script_run_id": "run-1",
         "request_id": "req-1"},
        {"kind": "api_call", **base, "direction": "outbound", "method": "POST", "path": "/ifttt/v1/actions/send_text",
         "op": "action", "op_id": "messages.send_text", "status_code": 500, "request_id": "req-1"},
    ])
    log.append(noise)
    [run] = log.append([{"kind": "script_run", **base, "script_run_id": "run-1", "op_id": "weather.rain_tomorrow",
                         "trigger_event_id": event["seq"], "status": "error", "duration_ms": 3.0,
                         "time_limit_ms": 10000, "script_version": "abc",
                         "calls": [{"kind": "action", "op_id": "messages.send_text", "request_id": "req-1",
                                    "status_code": 502, "api_call_id": calls[0]["seq"]}]}])
    [rerun] = log.append([{**calls[0], "seq": None, "source": "rerun", "rerun_of": calls[0]["seq"],
                           "request_id": "req-2", "status_code": 204}])
    return log, {"event": event, "inbound": calls[0], "outbound": calls[1], "run": run, "rerun": rerun}


def labels_and_seqs(log: EventLog, record: dict) -> list[tuple[str, int]]:
    return [(r.label, r.record["seq"]) for r in related_records(log, record)]


def test_a_script_run_links_its_trigger_event_and_calls(tmp_path: Path) -> None:
    log, r = build(tmp_path)
    assert labels_and_seqs(log, r["run"]) == [("trigger event that started it", r["event"]["seq"]),
                                             ("call 1: action messages.send_text", r["inbound"]["seq"])]


def test_a_call_links_its_other_half_its_script_run_and_its_reruns(tmp_path: Path) -> None:
    log, r = build(tmp_path)
    assert labels_and_seqs(log, r["inbound"]) == [("outbound half of this call", r["outbound"]["seq"]),
                                                 ("script run that made this call", r["run"]["seq"]),
                                                 ("rerun of this call", r["rerun"]["seq"])]
    assert ("original call (this is a rerun of it)", r["inbound"]["seq"]) in labels_and_seqs(log, r["rerun"])


def test_a_trigger_event_links_its_delivery(tmp_path: Path) -> None:
    log, r = build(tmp_path)
    assert labels_and_seqs(log, r["event"]) == [("delivery: script run", r["run"]["seq"])]


def drawn(source: ScriptSource, width: int) -> list[str]:
    console = Console(width=width, color_system=None, record=True, file=io.StringIO())
    console.print(source)
    return console.export_text().splitlines()


def test_a_rerun_record_links_the_original_and_the_new_call(tmp_path: Path) -> None:
    log, r = build(tmp_path)
    [audit] = log.append([{"kind": "rerun", "phase": "item", "original": r["inbound"]["seq"], "outcome": "ok",
                           "status_code": 204, "api_call_id": r["rerun"]["seq"], "actor": "default",
                           "reason": "back up", "connection_id": "rain-alert", "op_id": "messages.send_text"}])
    assert labels_and_seqs(log, audit) == [("original call (the one rerun)", r["inbound"]["seq"]),
                                           ("new call (the rerun)", r["rerun"]["seq"])]
    heading = title(audit, UTC)
    assert heading.startswith(f"rerun #{audit['seq']} · {audit['ts'][:10]} {audit['ts'][11:23]} UTC · ")
    assert heading.endswith(f"rerun of #{r['inbound']['seq']} → ok 204")
    [(section, text), *_] = sections(audit, [], None)
    assert section == "Rerun" and "reason      back up" in str(text) and f"new call    #{r['rerun']['seq']}" in str(text)


def test_the_failing_line_is_the_marked_one() -> None:
    source = "\n".join(f"line {n}" for n in range(1, 31))
    text = drawn(ScriptSource(source, 17, 3), 80)
    marked = [line for line in text if line.startswith("▶")]
    assert marked == ["▶ 17 │ line 17"]
    assert text[text.index(marked[0]) + 1].index("^") == len("▶ 17 │ ") + 2  # under column 3
    assert text[0] == "  11 │ line 11" and text[-1] == "  23 │ line 23"  # six lines either side


def test_bodies_are_drawn_literally() -> None:
    text = json_block({"note": "[bold red]x[/]\x1b[2J"}).plain
    assert "[bold red]x[/]" in text and "\x1b" not in text


def test_the_caret_goes_under_its_column_on_the_row_where_a_long_line_wraps() -> None:
    line = "const x = " + "".join(f"word{n} " for n in range(30)) + "end"
    column = line.index("word17") + 1
    for width in (40, 57, 80, 200):
        text = drawn(ScriptSource(f"first\n{line}\nlast", 2, column), width)
        [marked] = [n for n, row in enumerate(text) if row.startswith("▶")]
        [caret] = [n for n, row in enumerate(text) if row.strip() == "^"]
        rows = text[marked:caret]
        gutter = len("▶ 2 │ ")
        wrapped = rows + text[caret + 1:-1]  # the line's rows, the caret's row taken out; then "3 │ last"
        assert "".join(row[gutter:] for row in wrapped) == line and all(len(row) <= width for row in text)
        under = text[caret].index("^")  # the caret sits under the column's own cell, on its own row
        assert sum(len(row) - gutter for row in rows[:-1]) + under - gutter == column - 1
        assert rows[-1][under] == "w"

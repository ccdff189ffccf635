"""The records linked to one record, for its detail view: a script run's trigger event and calls, a
call's script run and its other half, a trigger event's delivery, a rerun chain.

Links that a record names by seq (``api_call_id``, ``trigger_event_id``, ``rerun_of``) are looked up
by key. Links that point forward in time (the script run a call belongs to is written after the
call; a rerun after its original) are searched for among the next ``LOOK_AHEAD`` records of the
right kind only, through the ``(kind, seq)`` index, so a look-up costs the same on any size of cache.
"""

from dataclasses import dataclass
from typing import Any


from switchroom.protocol.kinds import API_CALL, RERUN, SCRIPT_RUN, TRIGGER_EVENT
from switchroom.store.eventlog import EventLog, record_of

LOOK_AHEAD = 20_000
"""Records past a record within which its script run, delivery or reruns are looked for."""
LOOK_AROUND = 2_000
"""Records either side of a call within which its other half (same request id) is looked for."""


@dataclass(frozen=True)
class Related:
    label: str
    """What the link is, e.g. ``script run`` or ``call 2 of the script``."""
    record: dict[str, Any]


def record_at(log: EventLog, seq: int) -> dict[str, Any] | None:
    rows = log.execute("SELECT body FROM records WHERE seq = ?", (seq,))
    return record_of(rows[0][0]) if rows else None


def related_records(log: EventLog, record: dict[str, Any]) -> list[Related]:
    kind = record.get("kind")
    if kind == API_CALL:
        return _for_call(log, record)
    if kind == SCRIPT_RUN:
        return _for_script_run(log, record)
    if kind == TRIGGER_EVENT:
        return _for_trigger_event(log, record)
    if kind == RERUN:
        return _for_rerun(log, record)
    return []


def _for_call(log: EventLog, call: dict[str, Any]) -> list[Related]:
    seq = int(call["seq"])
    found = _by_seq(log, [("original call (this is a rerun of it)", call.get("rerun_of")),
                          ("trigger event", call.get("trigger_event_id"))])
    if call.get("request_id"):
        found += [Related(f"{other.get('direction', '')} half of this call", other) for other in records_near(
            log, API_CALL, "request_id", call["request_id"], seq - LOOK_AROUND, seq + LOOK_AROUND, skip=seq)]
    if call.get("script_run_id"):
        found += [Related("script run that made this call", run) for run in records_near(
            log, SCRIPT_RUN, "script_run_id", call["script_run_id"], seq, seq + LOOK_AHEAD, limit=1)]
    found += [Related("rerun of this call", rerun) for rerun in records_near(
        log, API_CALL, "rerun_of", seq, seq, seq + LOOK_AHEAD)]
    return found


def _for_script_run(log: EventLog, run: dict[str, Any]) -> list[Related]:
    calls = run.get("calls") or []
    return _by_seq(log, [("trigger event that started it", run.get("trigger_event_id")),
                         *((f"call {n}: {c.get('kind', '')} {c.get('op_id', '')}", c.get("api_call_id"))
                           for n, c in enumerate(calls, start=1))])


def _for_trigger_event(log: EventLog, event: dict[str, Any]) -> list[Related]:
    seq = int(event["seq"])
    runs = records_near(log, SCRIPT_RUN, "trigger_event_id", seq, seq, seq + LOOK_AHEAD, limit=1)
    hooks = records_near(log, API_CALL, "trigger_event_id", seq, seq, seq + LOOK_AHEAD)
    return [Related("delivery: script run", run) for run in runs] + [
        Related("delivery: webhook call", hook) for hook in hooks]


def _for_rerun(log: EventLog, rerun: dict[str, Any]) -> list[Related]:
    what = "trigger event replayed" if rerun.get("replay") else "original call (the one rerun)"
    found = _by_seq(log, [(what, rerun.get("original")), ("new call (the rerun)", rerun.get("api_call_id"))])
    if rerun.get("script_run_id"):
        seq = int(rerun["seq"])
        found += [Related("script run of the replay", run) for run in records_near(
            log, SCRIPT_RUN, "script_run_id", rerun["script_run_id"], seq - LOOK_AROUND, seq, limit=1)]
    return found


def _by_seq(log: EventLog, links: list[tuple[str, Any]]) -> list[Related]:
    found = []
    for label, seq in links:
        record = record_at(log, seq) if isinstance(seq, int) else None
        if record is not None:
            found.append(Related(label, record))
    return found


def records_near(log: EventLog, kind: str, key: str, value: object, low: int, high: int,
                 skip: int | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Records of ``kind`` with ``seq`` in [low, high] whose body has ``key`` = ``value``, oldest first."""
    rows = log.execute(
        "SELECT body FROM records WHERE kind = ? AND seq BETWEEN ? AND ? AND seq IS NOT ? "
        f"AND json_extract(body, '$.{key}') = ? ORDER BY seq LIMIT ?",
        (kind, low, high, skip, value, limit),
    )
    return [record_of(body) for (body,) in rows]

"""The record kinds (DESIGN §7): each has its struct in ``protocol.records``, and what a real hub writes of
each kind decodes into it, strictly, and says no more and no less than the struct encodes again."""

from pathlib import Path

import httpx
import msgspec

from switchroom.store.hub_log import open_hub_log
from switchroom.protocol import Record, body_of
from switchroom.protocol.kinds import KINDS, LOG_STREAM_KINDS, OUTCOME_FIELD, RECORD_TYPE, TRIGGER_STREAM_KINDS
from tests.support.hubproc import start_hub
from tests.support.sample_services import SampleServices
from tests.support.hub_calls import inbound, rerun, run_action, wait_bulk
from tests.support.triggers import failed_rain_alert_run, of, start, wait_for


def test_every_kind_has_its_struct_and_one_stream() -> None:
    # DESIGN §7's four, and the script trials' own record (issue 22: never counted as live traffic)
    assert set(KINDS) == {"api_call", "script_run", "trigger_event", "rerun", "script_trial"}
    for kind in KINDS:
        struct = RECORD_TYPE[kind]
        assert issubclass(struct, Record) and struct.__struct_config__.tag == kind
        assert OUTCOME_FIELD[kind] in struct.__struct_fields__
    assert sorted(LOG_STREAM_KINDS + TRIGGER_STREAM_KINDS) == sorted(KINDS)  # DESIGN §7: logs and triggers
    assert TRIGGER_STREAM_KINDS == ("trigger_event",)


def stored_bodies(db: Path | str) -> list[tuple[str, str]]:
    log = open_hub_log(db)
    try:
        return [(kind, body) for kind, body in log.execute("SELECT kind, body FROM records ORDER BY seq")]
    finally:
        log.close()


def test_what_the_hub_writes_of_each_kind_decodes_into_its_struct(services: SampleServices, tmp_path: Path) -> None:
    """A trigger event whose script throws (trigger_event, script_run and the api_calls of the poll and of
    the script's call), replayed (rerun records of phases requested and item), then a script trial on it
    (script_trial)."""
    hub = start(services, tmp_path)
    try:
        run = failed_rain_alert_run(hub, services)
        answer = httpx.post(f"{hub.url}/v1/ops/replays", json={"trigger_event_id": run["trigger_event_id"]},
                            headers={"Authorization": f"Bearer {hub.token}", "Idempotency-Key": "k1"}, timeout=60)
        assert answer.status_code == 200, answer.text
        wait_for(hub.db, of("rerun", phase="item"))
        tried = httpx.post(f"{hub.url}/v1/ops/script-trials", json={"connection_id": "rain-alert", "source": "1;"},
                           headers={"Authorization": f"Bearer {hub.token}"}, timeout=60)
        assert tried.status_code == 200 and '"trial_summary"' in tried.text, tried.text
        wait_for(hub.db, of("script_trial"))
    finally:
        hub.stop()
    seen = decoded_kinds(hub.db)
    assert {kind for kind, _ in seen} == set(KINDS)
    assert {("rerun", "requested"), ("rerun", "item")} <= seen


def test_what_a_bulk_rerun_writes_decodes_into_its_structs(tmp_path: Path) -> None:
    """Failed action runs (inbound and outbound api_calls), rerun in one bulk (rerun records of phases
    requested, item and bulk; the new api_calls)."""
    hub = start_hub(tmp_path / "hub")
    try:
        hub.set_lights_faults(outage=True)
        failed = [inbound(hub, run_action(hub, user_id=f"user-{n:03d}")) for n in range(1, 6)]
        assert any(call["status_code"] == 502 for call in failed)
        hub.set_lights_faults()
        started = rerun(hub, {"filter": "feature:glow status:502 dir:inbound"})
        assert started.status_code == 202, started.text
        wait_bulk(hub, started.json()["id"])
    finally:
        hub.stop()
    assert {("rerun", "requested"), ("rerun", "item"), ("rerun", "bulk"), ("api_call", None)} <= decoded_kinds(hub.db)


def decoded_kinds(db: Path | str) -> set[tuple[str, str | None]]:
    """Decode every record the hub stored into its kind's struct, strictly; the kinds (and rerun phases) met."""
    seen = set()
    for kind, body in stored_bodies(db):
        record = msgspec.json.decode(body, type=RECORD_TYPE[kind], strict=True)
        # No field the struct leaves out, no null written for an absent one, nothing the struct drops.
        assert body_of(record) == msgspec.json.decode(body), body
        seen.add((kind, getattr(record, "phase", None)))
    return seen

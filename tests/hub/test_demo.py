"""The demo: every catalog connection busy, with successes, client errors, service errors and skips."""

from pathlib import Path
from typing import Any

import httpx
import msgspec

from switchroom.protocol.kinds import RECORD_TYPE
from switchroom.store import EventLog
from switchroom.store.hub_log import open_hub_log
from tests.support.hubproc import start_hub
from tests.support.streams import collect


def busy_enough(records: list[dict[str, Any]]) -> bool:
    """Enough traffic to judge by, with scripts run for both scripted connections and a webhook sent."""
    scripted = {r["connection_id"] for r in records if r["kind"] == "script_run" and r["calls"]}
    return (len(records) >= 2500 and {"liked-video-texts", "rain-alert"} <= scripted
            and any(r.get("direction") == "webhook" for r in records))


async def test_demo_traffic_reaches_every_connection_with_every_kind_of_answer(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, traffic_rate=150)
    try:
        records = await collect(hub.ws_url, hub.token, busy_enough, timeout=90)
        records += await collect(hub.ws_url, hub.token, lambda rs: len(rs) >= 20, path="/v1/streams/triggers")
        ops = httpx.get(f"{hub.url}/v1/ops/connections", headers={"Authorization": f"Bearer {hub.token}"}).json()
    finally:
        hub.stop()

    inbound = [r for r in records if r["kind"] == "api_call" and r["direction"] == "inbound"]
    connections = {row["id"] for row in ops["data"]}
    assert {r.get("connection_id") for r in inbound} - {None} == connections
    assert any(r.get("op") == "notification" and r["status_code"] == 200 for r in inbound)  # services signal
    scripted = [r for r in records if r["kind"] == "script_run"]
    assert {r["connection_id"] for r in scripted} >= {"liked-video-texts", "rain-alert"}
    assert any(r["status"] == "ok" and r["calls"] for r in scripted)
    assert all(r["status"] in ("ok", "error", "timeout") for r in scripted)
    assert any(r["kind"] == "api_call" and r["direction"] == "webhook" for r in records)
    assert all(row["calls"] > 0 for row in ops["data"])
    statuses = {r["status_code"] for r in inbound}
    assert {200, 204} <= statuses  # query performs and action runs
    assert {404, 422} & statuses and {502} <= statuses
    assert any(r.get("skipped") for r in inbound)
    assert any(r["method"] == "PUT" and r["status_code"] == 200 for r in inbound)  # users reconfiguring
    overridden = [r for r in inbound if r["status_code"] == 204 and (r.get("request_body") or {}).get("fields")]
    assert overridden  # one-off field overrides in use

    for record in records:  # what the hub writes is what the protocol says
        msgspec.convert(record, RECORD_TYPE[record["kind"]])

    log = open_hub_log(hub.db)
    assert not isinstance(log, EventLog) or log.integrity_ok()

"""``GET /v1/ops/records``: the hub's log through the filter language, paged; checked against the log read
record by record."""

from pathlib import Path
import uuid

import httpx

from switchroom.hub.records_api import records_page
from switchroom.store import EventLog
from switchroom.store.hub_log import open_hub_log
from switchroom.protocol.kinds import KINDS
from switchroom.store.filters import RecordFilter, parse_filter
from tests.support.hub_calls import assert_error, post_run
from tests.support.hubproc import RunningHub


def pages(hub: RunningHub, **params: object) -> tuple[list[dict[str, object]], int]:
    """Every record the filter shows, following ``next`` to the end; and how many pages it took."""
    auth = {"Authorization": f"Bearer {hub.token}"}
    found: list[dict[str, object]] = []
    after, count = 0, 0
    while True:
        answer = httpx.get(f"{hub.url}/v1/ops/records", params={**params, "after": after}, headers=auth)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["type"] == "list" and body["head_seq"] >= after
        found += body["data"]
        count += 1
        if "next" not in body:
            return found, count
        assert body["next"]["after"] > after
        after = body["next"]["after"]


def test_a_filter_pages_through_exactly_the_records_it_shows(hub: RunningHub) -> None:
    hub.set_lights_faults(outage=True)
    try:
        failed = sum(post_run(hub, {"user_id": f"user-{n + 1:03d}"}, request_id=uuid.uuid4().hex).status_code >= 500
                     for n in range(5))
    finally:
        hub.set_lights_faults()
    for n in range(3):
        post_run(hub, {"user_id": f"user-{n + 1:03d}"})
    found, count = pages(hub, filter="conn:evening-glow dir:inbound status:5xx", limit=2)
    log = open_hub_log(hub.db)
    try:
        expected = [r for r in log.read_after(0, 10_000_000) if r["kind"] == "api_call"
                    and r.get("connection_id") == "evening-glow" and r.get("direction") == "inbound"
                    and isinstance(r.get("status_code"), int) and r["status_code"] >= 500]
    finally:
        log.close()
    assert len(expected) >= failed > 0 and found == expected
    assert count >= len(expected) // 2  # two a page
    every, _ = pages(hub, limit=1000)  # no filter: every record of every kind, in seq order
    log = open_hub_log(hub.db)
    try:
        assert [r["seq"] for r in every] == [r["seq"] for r in log.read_after(0, 10_000_000)][:len(every)]
    finally:
        log.close()
    assert len(every) >= len(expected) and {r["kind"] for r in every} <= set(KINDS)


def test_bad_requests_answer_in_the_error_shape(hub: RunningHub) -> None:
    url, auth = f"{hub.url}/v1/ops/records", {"Authorization": f"Bearer {hub.token}"}
    assert_error(httpx.get(url), 401, "unauthorized")
    assert_error(httpx.get(url, params={"filter": "colour:red"}, headers=auth), 422, "invalid_parameters")
    assert_error(httpx.get(url, params={"filter": "x" * 1001}, headers=auth), 422, "invalid_parameters")
    for limit in ("0", "1001", "many", "٣"):
        assert_error(httpx.get(url, params={"limit": limit}, headers=auth), 422, "invalid_parameters")
    assert_error(httpx.get(url, params={"after": "-1"}, headers=auth), 422, "invalid_parameters")


def test_a_page_reads_a_bounded_stretch_of_the_log_and_says_where_to_go_on(tmp_path: Path) -> None:
    """A filter that matches one record in 1,000 still answers each page after reading ``scan`` seqs."""
    log = EventLog(tmp_path / "hub.sqlite")
    try:
        log.append([{"kind": "api_call", "ts": "2026-12-06T05:00:00.000Z", "direction": "inbound",
                     "user_id": "needle" if n == 900 else "hay", "status_code": 204} for n in range(1000)])
        needle = parse_filter("user:needle", RecordFilter(kinds=KINDS))
        first = records_page(log, needle, 0, 10, scan=300)
        assert (first.bodies, first.next_after, first.head_seq) == ([], 300, 1000)
        third = records_page(log, needle, 700, 10, scan=300)
        assert len(third.bodies) == 1 and b'"needle"' in third.bodies[0] and third.next_after is None
    finally:
        log.close()

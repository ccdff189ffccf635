"""Calls to a hub's Connect API as a developer's backend makes them, and reads of what the hub's log
recorded for them (an answered call is in the log: DESIGN §7)."""

from collections.abc import Callable
from typing import Any
import time
import uuid

import httpx

from switchroom.store.hub_log import open_hub_log
from tests.support.hubproc import RunningHub

RUN = "/v2/connections/evening-glow/actions/lights.change_color/run"


def post_run(hub: RunningHub, body: object, *, key: str | None = None, request_id: str | None = None,
             content: bytes | None = None) -> httpx.Response:
    headers = {"IFTTT-Service-Key": hub.service_key if key is None else key,
               "X-Request-ID": request_id or uuid.uuid4().hex}
    if content is not None:
        return httpx.post(hub.url + RUN, content=content, headers=headers)
    return httpx.post(hub.url + RUN, json=body, headers=headers)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error" and body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    assert "Traceback" not in response.text
    return body


def run_action(hub: RunningHub, user_id: str = "user-001", fields: dict[str, Any] | None = None) -> str:
    request_id = uuid.uuid4().hex
    body: dict[str, Any] = {"user_id": user_id, **({"fields": fields} if fields else {})}
    httpx.post(hub.url + RUN, json=body, headers={"IFTTT-Service-Key": hub.service_key, "X-Request-ID": request_id})
    return request_id


def records(hub: RunningHub, **match: Any) -> list[dict[str, Any]]:
    log = open_hub_log(hub.db)
    try:
        return [r for r in log.read_after(0, 1_000_000) if all(r.get(k) == v for k, v in match.items())]
    finally:
        log.close()


def inbound(hub: RunningHub, request_id: str) -> dict[str, Any]:
    [found] = records(hub, request_id=request_id, direction="inbound")  # answered, so in the log (DESIGN §7)
    return found


def rerun(hub: RunningHub, body: dict[str, Any], key: str | None = "fresh") -> httpx.Response:
    headers = {"Authorization": f"Bearer {hub.token}"}
    if key is not None:
        headers["Idempotency-Key"] = uuid.uuid4().hex if key == "fresh" else key
    return httpx.post(f"{hub.url}/v1/ops/reruns", json=body, headers=headers, timeout=30)


def wait_bulk(hub: RunningHub, bulk_id: str,
              until: Callable[[dict[str, Any]], bool] = lambda status: status["state"] != "running") -> dict[str, Any]:
    """The bulk's status once ``until`` holds for it (by default: once it has ended)."""
    deadline = time.monotonic() + 60
    while True:
        status = httpx.get(f"{hub.url}/v1/ops/reruns/{bulk_id}", headers={"Authorization": f"Bearer {hub.token}"}).json()
        if until(status):
            return status
        assert time.monotonic() < deadline, f"bulk {bulk_id} still at {status} after 60 s"
        time.sleep(0.1)

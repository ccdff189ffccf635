"""Several hub processes on one PostgreSQL database (DESIGN §12): one hub id, one log that any of them
streams, and user connections that one hub writes and the next request on another reads."""

from collections.abc import Iterator
from pathlib import Path
import asyncio
import json
import uuid

import httpx
import pytest
import websockets

from tests.support.hub_calls import RUN
from tests.support.hubproc import RunningHub
from tests.support.sample_services import SampleServices
from tests.support.triggers import ENABLE, USER, key, start


@pytest.fixture
def two_hubs(services: SampleServices, postgres_url: str, tmp_path: Path) -> Iterator[tuple[RunningHub, RunningHub]]:
    first = start(services, tmp_path / "a", db=postgres_url, enable=False)
    second = start(services, tmp_path / "b", db=postgres_url, enable=False)
    yield first, second
    first.stop()
    second.stop()


def test_a_user_connection_written_through_one_hub_is_read_by_the_next_request_on_another(
        two_hubs: tuple[RunningHub, RunningHub]) -> None:
    first, second = two_hubs
    for n in range(20):  # each time a new user, so nothing the second hub loaded at start can answer
        user = f"shared-{n}"
        put = httpx.put(f"{first.url}/v2/connections/rain-alert/user_connection", params={"user_id": user},
                        json=ENABLE["rain-alert"], headers=key(first))
        assert put.status_code == 200, put.text
        shown = httpx.get(f"{second.url}/v2/connections/rain-alert", params={"user_id": user}, headers=key(second))
        assert shown.json()["user_status"] == "enabled"
        disabled = httpx.post(f"{second.url}/v2/connections/rain-alert/disable", params={"user_id": user},
                              headers=key(second))
        assert disabled.status_code == 200
        shown = httpx.get(f"{first.url}/v2/connections/rain-alert", params={"user_id": user}, headers=key(first))
        assert shown.json()["user_status"] == "disabled"


def test_every_hub_names_one_hub_id_and_streams_what_any_hub_wrote(two_hubs: tuple[RunningHub, RunningHub]) -> None:
    first, second = two_hubs
    health = [httpx.get(f"{hub.url}/v1/health").json() for hub in two_hubs]
    assert health[0]["hub_id"] == health[1]["hub_id"]
    put = httpx.put(f"{first.url}/v2/connections/evening-glow/user_connection", params={"user_id": USER},
                    json={"user_features": [{"feature_id": "glow"}]}, headers=key(first))
    assert put.status_code == 200, put.text

    async def run_through_first_and_read_from_second() -> None:
        async with websockets.connect(f"{second.ws_url}/v1/streams/logs",
                                      additional_headers={"Authorization": f"Bearer {second.token}"}) as stream:
            await stream.send(json.dumps({"type": "subscribe", "after": 0}))
            hello = json.loads(await stream.recv())
            assert hello["hub_id"] == health[0]["hub_id"]
            request_id = uuid.uuid4().hex
            answer = await asyncio.to_thread(
                httpx.post, first.url + RUN, json={"user_id": USER},
                headers={**key(first), "X-Request-ID": request_id})
            assert answer.status_code in (204, 502, 504)
            while True:  # the second hub, which ran nothing, streams the run the first hub answered
                frame = json.loads(await asyncio.wait_for(stream.recv(), 10))
                if any(r.get("request_id") == request_id and r.get("direction") == "inbound"
                       for r in frame.get("records", [])):
                    return

    asyncio.run(run_through_first_and_read_from_second())

"""The log stream of a real hub over real websockets."""

import asyncio

import httpx
import pytest
import websockets

from switchroom.protocol import loads
from tests.support.hub_calls import RUN
from tests.support.hubproc import RunningHub
from tests.support.streams import collect


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
async def test_wrong_or_missing_token_is_refused_with_1008(hub: RunningHub, headers: dict[str, str]) -> None:
    async with websockets.connect(hub.ws_url + "/v1/streams/logs", additional_headers=headers) as ws:
        frame = loads(await ws.recv())
        assert frame["type"] == "error" and frame["code"] == "unauthorized"
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 1008


async def test_bad_subscribe_gets_an_error_frame(hub: RunningHub) -> None:
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with websockets.connect(hub.ws_url + "/v1/streams/logs", additional_headers=headers) as ws:
        await ws.send('{"type": "subscribe", "after": "yesterday"}')
        frame = loads(await ws.recv())
        assert frame["type"] == "error" and frame["code"] == "bad_subscribe"
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()


async def test_hello_then_backlog_then_live_with_nothing_skipped_or_repeated(hub: RunningHub) -> None:
    async with httpx.AsyncClient(base_url=hub.url, headers={"IFTTT-Service-Key": hub.service_key}) as http:
        async def run_actions(count: int) -> None:
            for n in range(count):
                await http.post(RUN, json={"user_id": "user-001"})  # enabled every demo connection

        await run_actions(20)
        head_before = httpx.get(f"{hub.url}/v1/health").json()["head_seq"]
        live = asyncio.create_task(run_actions(20))  # more records arrive while the backlog streams
        target = head_before + 40  # 20 more runs: an inbound and an outbound record each
        records = await collect(hub.ws_url, hub.token, lambda rs: len(rs) >= target)
        await live

    seqs = [r["seq"] for r in records]
    assert seqs == list(range(1, len(seqs) + 1))  # gap-free, in order, none twice


async def test_hello_names_the_hub_and_its_head(hub: RunningHub) -> None:
    health = httpx.get(f"{hub.url}/v1/health").json()
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with websockets.connect(hub.ws_url + "/v1/streams/logs", additional_headers=headers) as ws:
        await ws.send('{"type": "subscribe", "after": 0}')
        hello = loads(await ws.recv())
    assert hello["type"] == "hello" and hello["protocol"] == 1
    assert hello["hub_id"] == health["hub_id"] and hello["head_seq"] >= health["head_seq"]


async def test_many_dashboards_at_once_each_get_the_whole_stream(hub: RunningHub) -> None:
    async with httpx.AsyncClient(base_url=hub.url, headers={"IFTTT-Service-Key": hub.service_key}) as http:
        head = httpx.get(f"{hub.url}/v1/health").json()["head_seq"]
        target = head + 40
        readers = [asyncio.create_task(collect(hub.ws_url, hub.token, lambda rs: len(rs) >= target, timeout=60))
                   for _ in range(25)]
        for _ in range(20):
            await http.post(RUN, json={"user_id": "user-001"})
        streams = await asyncio.gather(*readers)
    first = [r["seq"] for r in streams[0]]
    assert first[:target] == list(range(1, target + 1))
    assert all([r["seq"] for r in stream][:target] == first[:target] for stream in streams)


async def test_a_cursor_past_the_head_is_refused_as_cursor_ahead(hub: RunningHub) -> None:
    head = httpx.get(f"{hub.url}/v1/health").json()["head_seq"]
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with websockets.connect(hub.ws_url + "/v1/streams/logs", additional_headers=headers) as ws:
        await ws.send(f'{{"type": "subscribe", "after": {head + 1000}}}')
        frame = loads(await ws.recv())
        assert frame["type"] == "error" and frame["code"] == "cursor_ahead"
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 4000

"""A minimal stream reader for tests: subscribe and collect records until a condition holds."""

from collections.abc import Callable
from typing import Any
import asyncio

import websockets

from switchroom.protocol import loads
from tests.support.waiting import described

Record = dict[str, Any]


async def collect(ws_url: str, token: str, until: Callable[[list[Record]], bool], *, after: int = 0,
                  path: str = "/v1/streams/logs", timeout: float = 60.0) -> list[Record]:
    """Every record the stream sends, from ``after`` on, until ``until(records)`` is true."""
    records: list[Record] = []
    async with websockets.connect(ws_url + path, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.send(f'{{"type": "subscribe", "after": {after}}}')
        try:
            async with asyncio.timeout(timeout):
                while not until(records):
                    frame = loads(await ws.recv())
                    if frame["type"] == "batch":
                        records.extend(frame["records"])
        except TimeoutError:
            raise AssertionError(f"waited {timeout:.0f} s on {path} for: {described(until, None)}; got "
                                 f"{len(records)} records, the last {records[-3:]}") from None
    return records


def with_request_id(request_id: str) -> Callable[[list[Record]], bool]:
    """True once both the inbound call and (for a run that reached a service) its outbound call arrived."""
    return lambda records: any(
        r.get("request_id") == request_id and r.get("direction") == "inbound" for r in records
    )

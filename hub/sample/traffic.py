"""Demo traffic: a developer backend running actions through the hub's Connect API over HTTP.

Most requests are good; a few are the mistakes real backends make (a colour the action does not
offer, a user who never enabled the connection, an action the connection does not have), so 4xx
answers show beside the 5xx ones the sample services' faults cause.
"""

import asyncio
import logging
import random

import httpx

from hub.sample.catalog import DEMO_USERS

log = logging.getLogger("switchroom.demo")

MAX_IN_FLIGHT = 20


class TrafficGenerator:
    def __init__(self, hub_url: str, service_key: str, rate: float, seed: int = 5) -> None:
        self.rate = rate
        self._rng = random.Random(seed)
        self._http = httpx.AsyncClient(
            base_url=hub_url, headers={"IFTTT-Service-Key": service_key}, timeout=10.0
        )
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.rate > 0:
            self._task = asyncio.create_task(self._run(), name="demo-traffic")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._http.aclose()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._rng.expovariate(self.rate))
            await self._slots.acquire()
            task = asyncio.create_task(self._one_request())
            task.add_done_callback(lambda _: self._slots.release())

    async def _one_request(self) -> None:
        path, body = self._next_request()
        try:
            await self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            log.debug("demo request failed: %s", exc)

    def _next_request(self) -> tuple[str, dict[str, object]]:
        user = f"user-{self._rng.randint(1, DEMO_USERS):03d}"
        action = "lights.change_color"
        body: dict[str, object] = {"user_id": user}
        draw = self._rng.random()
        if draw < 0.04:
            body["fields"] = {"color": "ultraviolet"}
        elif draw < 0.06:
            body["user_id"] = "user-unknown"
        elif draw < 0.07:
            action = "lights.dim"
        elif draw < 0.15:
            body["fields"] = {"color": self._rng.choice(["red", "blue", "green"])}
        return f"/v2/connections/evening-glow/actions/{action}/run", body

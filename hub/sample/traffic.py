"""Demo traffic: a developer backend calling the hub's Connect API over HTTP, as its users act.

Most requests are good action runs and query performs for users who enabled the connection; a few
are trigger tests and reconfigurations; and some are the mistakes real backends make (a field value
the operation does not offer, a user who never enabled the connection, an operation the connection
does not have, a limit out of range), so 4xx answers show beside the 5xx ones the sample services'
faults cause.
"""

from dataclasses import dataclass
from typing import Any
import asyncio
import logging
import random

import httpx

from switchroom.hub.catalog import PLURALS, Catalog, feature_entries
from switchroom.hub.sample.demo_users import user_connection_body
from switchroom.protocol.catalog import OperationKind, UserConnection

log = logging.getLogger("switchroom.demo")

MAX_IN_FLIGHT = 32
EVENT_SHARE = 1 / 8  # trigger events made per demo request
NOTIFY_SHARE = 0.7  # events the service announces at once; the rest wait for the hub's next poll


@dataclass(frozen=True)
class _Target:
    connection_id: str
    kind: OperationKind
    ref: str
    select_options: tuple[tuple[str, tuple[str, ...]], ...]  # (field id, its option values)


@dataclass(frozen=True)
class DemoRequest:
    method: str
    path: str
    body: dict[str, Any] | None = None


class TrafficGenerator:
    def __init__(self, hub_url: str, service_key: str, rate: float, catalog: Catalog,
                 user_connections: list[UserConnection], seed: int = 5) -> None:
        self.rate = rate
        self._catalog = catalog
        self._rng = random.Random(seed)
        self._targets = _targets(catalog)
        self._triggers = [t for t in dict.fromkeys(self._targets) if t.kind == "trigger"]
        self._users = {(uc.user_id, uc.connection_id) for uc in user_connections}
        self._by_connection: dict[str, list[str]] = {}
        for user_id, connection_id in sorted(self._users):
            self._by_connection.setdefault(connection_id, []).append(user_id)
        self._http = httpx.AsyncClient(base_url=hub_url, headers={"IFTTT-Service-Key": service_key}, timeout=15.0)
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if self.rate > 0 and self._targets:
            self._tasks.append(asyncio.create_task(self._run(), name="demo-traffic"))
        if self.rate > 0 and self._triggers:
            self._tasks.append(asyncio.create_task(self._run_events(), name="demo-trigger-events"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._rng.expovariate(self.rate))
            await self._slots.acquire()
            task = asyncio.create_task(self._send(self.next_request()))
            task.add_done_callback(lambda _: self._slots.release())

    async def _run_events(self) -> None:
        """Play the services: new trigger items for users, mostly announced to the hub at once."""
        while True:
            await asyncio.sleep(self._rng.expovariate(self.rate * EVENT_SHARE))
            target = self._rng.choice(self._triggers)
            user_id = self._rng.choice(self._by_connection.get(target.connection_id) or ["user-unknown"])
            service = self._catalog.services[target.ref.split(".")[0]]
            slug = target.ref.split(".", 1)[1]
            try:
                await self._http.post(f"{service.base_url}/_events/{slug}", json={"user_id": user_id})
                if self._rng.random() < NOTIFY_SHARE:
                    await self._http.post("/v1/notifications", json={"data": [{"user_id": user_id}]})
            except httpx.HTTPError as exc:
                log.debug("demo trigger event failed: %s", exc)

    async def _send(self, request: DemoRequest) -> None:
        try:
            await self._http.request(request.method, request.path, json=request.body)
        except httpx.HTTPError as exc:
            log.debug("demo request failed: %s", exc)

    def next_request(self) -> DemoRequest:
        target = self._rng.choice(self._targets)
        user_id = self._rng.choice(self._by_connection.get(target.connection_id) or ["user-unknown"])
        base = f"/v2/connections/{target.connection_id}"
        draw = self._rng.random()
        if draw < 0.02:  # the user changes their settings
            n = int(user_id.rsplit("-", 1)[-1]) if user_id[-1].isdigit() else 0
            body = user_connection_body(self._catalog, self._catalog.connections[target.connection_id], n, self._rng)
            return DemoRequest("PUT", f"{base}/user_connection?user_id={user_id}", body)
        path = f"{base}/{PLURALS[target.kind]}/{target.ref}/" + {"action": "run", "query": "perform",
                                                                   "trigger": "test"}[target.kind]
        body = {"user_id": user_id}
        if target.kind == "query":
            body["limit"] = self._rng.choice([3, 5, 10, 20])
        if draw < 0.12 and target.select_options and target.kind != "trigger":  # a one-off override
            field_id, options = self._rng.choice(target.select_options)
            body["fields"] = {field_id: self._rng.choice(options)}
        elif draw < 0.15 and target.select_options:
            body["fields"] = {target.select_options[0][0]: "ultraviolet"}  # not an option
        elif draw < 0.17:
            body["user_id"] = f"user-{self._rng.randint(900, 999)}"  # never enabled anything
        elif draw < 0.18:
            path = f"{base}/actions/{target.ref.split('.')[0]}.self_destruct/run"  # no such action
        elif draw < 0.185 and target.kind == "query":
            body["limit"] = 5000  # out of range
        return DemoRequest("POST", path, body)


def _targets(catalog: Catalog) -> list[_Target]:
    """What the backend calls: every action and query, and (rarely) trigger tests, weighted."""
    targets = []
    for connection in catalog.connections.values():
        for feature in connection.features:
            for kind, entry in feature_entries(feature):
                found = catalog.operation(kind, entry.ref)
                if found is None:
                    continue
                selects = tuple((f.id, tuple(o.value for o in f.options or [])) for f in found[1].fields
                                if f.type == "select" and f.options)
                weight = {"action": 6, "query": 3, "trigger": 1}[kind]
                targets.extend([_Target(connection.id, kind, entry.ref, selects)] * weight)
    return targets

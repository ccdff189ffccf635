"""``switchroom-hub samples``: the demo's sample side apart from any hub, for a demo on several hubs.

It runs the sample services, writes the demo catalog pointed at them (for every hub to serve with
``--catalog``), waits for the hub URL it is given (a load balancer in front of the hubs), enables the
simulated users through the Connect API, and sends the demo traffic there until stopped. So the traffic
spreads over every hub, and the sample side outlives any one of them.
"""

from pathlib import Path
import asyncio
import random
import shutil

import httpx

from switchroom.hub.catalog import Catalog
from switchroom.hub.catalog_file import SAMPLE_PREFIX, load_catalog
from switchroom.hub.sample.demo import Demo
from switchroom.hub.sample.demo_users import demo_user_connections, user_connection_body
from switchroom.hub.sample.traffic import TrafficGenerator
from switchroom.hub.settings import DEMO_CATALOG, SERVICE_KEY_ENV
from switchroom.protocol.catalog import UserConnection

HUB_WAIT_S = 300.0
USERS_IN_FLIGHT = 16


class Samples:
    def __init__(self, hub_url: str, service_key: str, host: str, traffic_rate: float, catalog_out: Path) -> None:
        self.hub_url, self.catalog_out = hub_url.rstrip("/"), catalog_out
        self._key, self._rate = service_key, traffic_rate
        self._demo = Demo(host, service_key, self.hub_url, traffic_rate)  # binds the services' ports
        self._traffic: TrafficGenerator | None = None

    @property
    def urls(self) -> dict[str, str]:
        return self._demo.sample_urls

    def write_catalog(self) -> None:
        """The demo catalog, its ``sample:NAME`` addresses replaced by these services', its scripts beside it."""
        text = DEMO_CATALOG.read_text(encoding="utf-8")
        for name, url in self.urls.items():
            text = text.replace(f'"{SAMPLE_PREFIX}{name}"', f'"{url}"')
        self.catalog_out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(DEMO_CATALOG.parent / "scripts", self.catalog_out.parent / "scripts", dirs_exist_ok=True)
        self.catalog_out.write_text(text, encoding="utf-8")

    async def run(self, stop: asyncio.Event) -> None:
        """Serve the services, then (once the hub answers) the users and the traffic, until ``stop``."""
        for server in self._demo.servers.values():
            await server.start()
        try:
            catalog = load_catalog(self.catalog_out, {SERVICE_KEY_ENV: self._key})
            async with httpx.AsyncClient(base_url=self.hub_url, headers={"IFTTT-Service-Key": self._key},
                                         timeout=15.0) as http:
                if not await _hub_answers(http, stop):
                    return
                users = await _enable_users(http, catalog)
            self._traffic = TrafficGenerator(self.hub_url, self._key, self._rate, catalog, users)
            await self._traffic.start()
            await stop.wait()
        finally:
            if self._traffic is not None:
                await self._traffic.stop()
            for server in self._demo.servers.values():
                await server.stop()


async def _hub_answers(http: httpx.AsyncClient, stop: asyncio.Event) -> bool:
    """Wait until the hub answers its health check (it may start after the samples); False if stopped."""
    deadline = asyncio.get_running_loop().time() + HUB_WAIT_S
    while not stop.is_set():
        try:
            if (await http.get("/v1/health")).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no hub answered at {http.base_url} in {HUB_WAIT_S:.0f} s")
        await asyncio.sleep(0.5)
    return False


async def _enable_users(http: httpx.AsyncClient, catalog: Catalog) -> list[UserConnection]:
    """The simulated users, enabled through the Connect API: those the hubs have already keep their settings."""
    wanted = demo_user_connections(catalog)
    slots = asyncio.Semaphore(USERS_IN_FLIGHT)

    async def enable(n: int, user_connection: UserConnection) -> None:
        connection = catalog.connections[user_connection.connection_id]
        params = {"user_id": user_connection.user_id}
        async with slots:
            shown = await http.get(f"/v2/connections/{connection.id}", params=params)
            if shown.status_code == 200 and shown.json().get("user_status") == "enabled":
                return
            body = user_connection_body(catalog, connection, n, random.Random(f"{user_connection.user_id}/{connection.id}"))
            (await http.put(f"/v2/connections/{connection.id}/user_connection", params=params, json=body)).raise_for_status()

    await asyncio.gather(*(enable(int(uc.user_id.rsplit("-", 1)[1]), uc) for uc in wanted))
    return wanted

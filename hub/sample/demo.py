"""What ``--demo`` adds to a hub: the sample services, simulated users and demo traffic.

Where hubs share one database, the first demo hub runs the sample side (services, users, traffic) and
names its services' addresses in the database (``SAMPLES_META``); a demo hub started while it runs uses
those instead of starting its own, so every hub serves one catalog (``hub.peers``). Demo traffic goes to
the hub that makes it, or to ``--demo-traffic-url`` (a load balancer in front of the hubs), so that it
spreads over them all.
"""

from typing import TYPE_CHECKING
import json

from switchroom.hub.catalog import Catalog
from switchroom.hub.sample.demo_users import demo_user_connections
from switchroom.hub.sample.developer import developer_app
from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.server import BackgroundServer
from switchroom.hub.sample.services import SAMPLE_APPS
from switchroom.hub.sample.traffic import TrafficGenerator
from switchroom.hub.users import UserConnections

if TYPE_CHECKING:  # psycopg is an optional extra: a SQLite hub never loads it
    from switchroom.store.postgres_log import PostgresLog

SAMPLES_META = "demo_samples"
"""Meta key of the shared database: which hub process runs the demo's sample services, and at what URLs."""

# How each sample service misbehaves in the demo, so every kind of answer shows up.
DEMO_FAULTS = {
    "lights": dict(error_rate=0.10, error_status=503, skip_rate=0.06, latency_ms=15, seed=1),
    "messages": dict(error_rate=0.04, error_status=500, latency_ms=30, seed=2),
    "videos": dict(error_rate=0.03, error_status=502, latency_ms=40, seed=3),
    "weather": dict(error_rate=0.05, error_status=500, latency_ms=60, outage_every_s=180, outage_for_s=20, seed=4),
    "developer": dict(error_rate=0.08, error_status=500, latency_ms=25, outage_every_s=300, outage_for_s=15, seed=6),
}


class Demo:
    def __init__(self, host: str, service_key: str, hub_url: str, traffic_rate: float) -> None:
        apps = {**SAMPLE_APPS, "developer": developer_app}  # the developer's backend receives webhooks
        self.servers = {
            name: BackgroundServer(make_app(service_key, Faults(**DEMO_FAULTS.get(name, {}))), host)  # type: ignore[arg-type]
            for name, make_app in apps.items()
        }
        self._service_key, self._hub_url, self._traffic_rate = service_key, hub_url, traffic_rate
        self._traffic: TrafficGenerator | None = None

    @property
    def sample_urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    def enable_users(self, catalog: Catalog, users: UserConnections) -> None:
        """Seed the simulated users (those a stored hub already has keep their settings), and aim the
        traffic at everyone who has a connection enabled."""
        for user_connection in demo_user_connections(catalog):
            if users.get(user_connection.user_id, user_connection.connection_id) is None:
                users.put(user_connection)
        self._traffic = TrafficGenerator(self._hub_url, self._service_key, self._traffic_rate, catalog,
                                         list(users.enabled()))

    async def start(self) -> None:
        for server in self.servers.values():
            await server.start()
        if self._traffic:
            await self._traffic.start()

    async def stop(self) -> None:
        if self._traffic:
            await self._traffic.stop()
        for server in self.servers.values():
            await server.stop()


def running_samples(log: "PostgresLog", live_within_s: float) -> dict[str, str] | None:
    """The sample services' URLs of the demo hub that runs them on this shared database, if it runs."""
    try:
        named = json.loads(log.meta(SAMPLES_META) or "null")
        holder, urls = named["process_id"], named["urls"]
    except (TypeError, KeyError, ValueError):
        return None
    live = {row[0] for row in log.live_hubs(live_within_s)}
    return {str(k): str(v) for k, v in urls.items()} if holder in live and isinstance(urls, dict) else None


def samples_meta(process_id: str, urls: dict[str, str]) -> str:
    return json.dumps({"process_id": process_id, "urls": urls})

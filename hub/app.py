"""The hub's ASGI app: Connect API, streams and health, with the demo parts when asked for."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.actions import ActionRunner
from hub.auth import OperatorTokens
from hub.catalog import Catalog
from hub.connect_api import ConnectApi
from hub.recorder import Recorder
from hub.sample.catalog import demo_connections, demo_services, demo_user_connections
from hub.sample.faults import Faults
from hub.sample.lights import lights_app
from hub.sample.server import BackgroundServer
from hub.sample.traffic import TrafficGenerator
from hub.service_client import ServiceClient
from hub.settings import HubSettings
from hub.streams import stream_routes
from hub.users import UserConnections

DEMO_FAULTS = Faults(error_rate=0.12, error_status=503, skip_rate=0.05, latency_ms=15)


@dataclass
class Demo:
    """The sample services and traffic that ``--demo`` adds, started and stopped with the hub."""

    lights: BackgroundServer
    traffic: TrafficGenerator

    async def start(self) -> None:
        await self.lights.start()
        await self.traffic.start()

    async def stop(self) -> None:
        await self.traffic.stop()
        await self.lights.stop()


def create_app(settings: HubSettings, hub_url: str) -> Starlette:
    recorder = Recorder(settings.db)
    services = ServiceClient()
    users = UserConnections()
    demo: Demo | None = None
    if settings.demo:
        lights = BackgroundServer(lights_app(settings.service_key.value, DEMO_FAULTS), settings.host)
        catalog = Catalog(demo_services(lights.url, settings.service_key.value), demo_connections())
        for user_connection in demo_user_connections():
            users.put(user_connection)
        demo = Demo(lights, TrafficGenerator(hub_url, settings.service_key.value, settings.traffic_rate))
    else:
        catalog = Catalog([], [])

    connect_api = ConnectApi(catalog, users, ActionRunner(catalog, users, services, recorder), recorder)
    tokens = OperatorTokens({"default": settings.token.value})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "hub_id": recorder.hub_id, "head_seq": recorder.head_seq})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await recorder.start()
        if demo:
            await demo.start()
        try:
            yield
        finally:
            if demo:
                await demo.stop()
            await services.aclose()
            await recorder.stop()

    app = Starlette(
        routes=[Route("/v1/health", health, methods=["GET"]), *connect_api.routes(), *stream_routes(recorder, tokens)],
        lifespan=lifespan,
    )
    app.state.recorder = recorder
    app.state.demo = demo
    return app

"""The hub's ASGI app: Connect API, streams and health, with the demo parts when asked for."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import cast
import asyncio

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchroom.hub import __version__
from switchroom.hub.access_log import AccessLog
from switchroom.hub.auth import OperatorTokens
from switchroom.hub.catalog_file import load_catalog
from switchroom.hub.catalog_reload import CatalogReload
from switchroom.hub.catalog_reload_api import CatalogReloadApi
from switchroom.hub.connect_api import ConnectApi
from switchroom.hub.openapi import openapi_document
from switchroom.hub.peers import LIVE_WITHIN_S, Peers
from switchroom.hub.poll_leases import PollLeases
from switchroom.hub.ops_api import OpsApi
from switchroom.hub.records_api import RecordsApi
from switchroom.hub.errors import ConnectApiError
from switchroom.hub.inbound import Unauthenticated
from switchroom.hub.metrics import HubMetrics, MetricsPortOnly, metrics_route
from switchroom.hub.replay_api import ReplayApi
from switchroom.hub.replays import Replays
from switchroom.hub.rerun_api import RerunApi
from switchroom.hub.reruns import Reruns
from switchroom.hub.rate_limit import UserRateLimit
from switchroom.hub.recorder import Recorder
from switchroom.hub.redaction import Redactor
from switchroom.hub.runner import OperationRunner
from switchroom.hub.sample.demo import SAMPLES_META, Demo, samples_meta
from switchroom.hub.service_client import ServiceClient
from switchroom.hub.settings import HubSettings
from switchroom.hub.slow_requests import BodyDeadline
from switchroom.hub.streams import stream_routes
from switchroom.hub.script_runs import ScriptRuns
from switchroom.hub.script_trial_api import ScriptTrialApi
from switchroom.hub.script_trials import ScriptTrials
from switchroom.hub.shared_reruns import SharedReruns
from switchroom.hub.scripts import Limits, ScriptEngine
from switchroom.hub.triggers import FiredEvent, Subscriptions, TriggerPipeline
from switchroom.hub.webhooks import Webhooks
from switchroom.hub.users import UserConnections
from switchroom.protocol import ApiCall, ErrorBody, ScriptRun
from switchroom.protocol.hub_info import Health, HubProcess, ScriptsHealth
from switchroom.store.hub_log import is_postgres_url, open_hub_log

SCRIPT_SLOTS = 16  # runs at once: most of a run is waiting on its calls, not running JavaScript
WARM_CONTEXTS = 4


def samples_elsewhere(db: Path | str) -> dict[str, str] | None:
    """Where hubs share a database: the sample services a running demo hub there serves, if one does."""
    if not is_postgres_url(db):
        return None
    from switchroom.hub.sample.demo import running_samples
    from switchroom.store.postgres_log import PostgresLog

    log = cast(PostgresLog, open_hub_log(db))
    try:
        return running_samples(log, LIVE_WITHIN_S)
    finally:
        log.close()


def create_app(settings: HubSettings, hub_url: str) -> Starlette:
    """Build the hub. Raises ``CatalogError`` when the catalog file has problems."""
    shared_samples = samples_elsewhere(settings.db) if settings.demo else None
    demo = (Demo(settings.host, settings.service_key.value, settings.demo_traffic_url or hub_url, settings.traffic_rate)
            if settings.demo and shared_samples is None else None)
    sample_urls = shared_samples or (demo.sample_urls if demo else {})
    read_catalog = partial(load_catalog, settings.catalog, settings.catalog_env(), sample_urls)  # again on a reload
    catalog = read_catalog()
    redactor = Redactor([settings.token.value, settings.service_key.value,
                         *(s.service_key for s in catalog.services.values())])
    metrics = HubMetrics()
    recorder = Recorder(settings.db, redactor, metrics.observe)
    peers = Peers(recorder, hub_url, __version__)
    peers.adopt_catalog(catalog.fingerprint(), settings.token.value)
    if demo is not None and recorder.shared:  # the demo hubs started after this one use its sample services
        named = samples_meta(peers.process_id, demo.sample_urls)
        recorder.before_start(lambda log: log.set_meta(SAMPLES_META, named))
    services = ServiceClient()
    users = UserConnections(recorder.stored_user_connections(), recorder.remember_user_connection,
                            recorder.user_connection if recorder.shared else None)
    runner = OperationRunner(catalog, users, services, recorder)
    engine = ScriptEngine(Limits(wall_time_s=settings.script_time_limit), max_concurrent=SCRIPT_SLOTS, warm=WARM_CONTEXTS)
    metrics.watch(recorder, engine, __version__)
    scripts = ScriptRuns(engine, users, runner, recorder)
    webhooks = Webhooks(services, recorder)
    reruns = Reruns(catalog, runner, recorder, SharedReruns(recorder, peers.process_id) if recorder.shared else None)

    async def deliver(event: FiredEvent) -> ApiCall | ScriptRun:
        if event.subscription.target.connection.runtime_script:
            return await scripts.run(event)
        return await webhooks.deliver(event)

    subscriptions = Subscriptions(catalog, users, runner)
    leases = PollLeases(recorder, settings.poll_interval, peers.process_id) if recorder.shared else None
    triggers = TriggerPipeline(runner, recorder, subscriptions, deliver, settings.poll_interval, leases)
    rate_limit = UserRateLimit(settings.user_rate_limit, str(settings.db) if recorder.shared else None)
    connect_api = ConnectApi(catalog, users, runner, triggers, recorder, rate_limit,
                             Unauthenticated(settings.unauthenticated_rate))
    tokens = OperatorTokens({"default": settings.token.value})
    catalog_reload = CatalogReload(catalog, settings.catalog, read_catalog, redactor, peers)
    if demo:  # its users and traffic play the catalog the hub starts with, whatever reloads follow
        demo.enable_users(catalog.snapshot(), users)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(Health(
            hub_id=recorder.hub_id, head_seq=recorder.head_seq,
            hubs=[HubProcess(**hub.model_dump(exclude={"url"})) for hub in await peers.live()],  # for anyone: no URLs
            scripts=ScriptsHealth(running=engine.running, queue_depth=engine.queue_depth,
                                  time_limit_s=engine.limits.wall_time_s),
        ).model_dump())

    openapi = openapi_document(__version__)

    async def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(openapi)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await recorder.start()
        others = [asyncio.create_task(recorder.follow_user_connections(users.stored)),
                  asyncio.create_task(peers.beat())] if recorder.shared else []
        try:
            await reruns.load()
            if demo:
                await demo.start()
            await triggers.start()
            try:
                yield
            finally:
                if demo:
                    await demo.stop()
                await triggers.stop()
                await reruns.stop()
                await engine.aclose()
                await services.aclose()
                await rate_limit.aclose()
        finally:
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            await peers.leave()
            await recorder.stop()  # whatever else failed, what was recorded is written

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = {404: "not_found", 405: "invalid_request"}.get(status, "internal_error")
        body = ErrorBody(code=code, message="No such route" if status == 404 else str(getattr(exc, "detail", "")))
        headers = getattr(exc, "headers", None) if isinstance(exc, HTTPException) else None
        return JSONResponse(body.model_dump(), status_code=status if status in (404, 405) else 500, headers=headers)

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ConnectApiError)
        return JSONResponse(exc.body.model_dump(), status_code=exc.status, headers=exc.headers)

    async def client_gone(request: Request, exc: Exception) -> Response:
        """A client that hung up while its request was read: nobody to answer, nothing to log."""
        return Response(status_code=400, headers={"Connection": "close"})

    app = Starlette(
        exception_handlers={HTTPException: http_error, ConnectApiError: api_error, ClientDisconnect: client_gone,
                            Exception: http_error},
        middleware=[
            Middleware(AccessLog, redactor=redactor, count=metrics.count_request),
            *([Middleware(MetricsPortOnly, port=settings.metrics_port)] if settings.metrics_port else []),
            Middleware(BodyDeadline, timeout=settings.request_timeout),
        ],
        routes=[
            Route("/v1/health", health, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
            metrics_route(metrics, recorder, tokens, settings.metrics_port),
            *connect_api.routes(),
            *OpsApi(catalog, users, recorder, tokens, peers).routes(),
            *CatalogReloadApi(catalog_reload, tokens).routes(),
            Route("/v1/ops/records", RecordsApi(recorder, tokens).records, methods=["GET"]),
            *RerunApi(reruns, tokens).routes(),
            *ReplayApi(Replays(reruns, subscriptions, deliver, recorder), reruns, tokens).routes(),
            *ScriptTrialApi(ScriptTrials(engine, catalog.snapshot, users, runner, recorder), tokens).routes(),
            *stream_routes(recorder, tokens, metrics.stream_subscribers),
        ],
        lifespan=lifespan,
    )
    metrics.name_routes(app.routes)
    app.state.recorder = recorder
    app.state.catalog_reload = catalog_reload  # SIGHUP reloads it too (hub/cli.py)
    app.state.sample_urls = sample_urls
    app.state.sample_side = "this hub" if demo else "another hub on this database" if shared_samples else None
    app.state.traffic_rate = settings.traffic_rate if demo else 0.0
    return app

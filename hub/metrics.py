"""``GET /metrics``: the hub's figures in the Prometheus text format, for a Prometheus (or any scraper) to
collect from every hub process.

The figures come from two doors every request and record already pass: the access log middleware counts
each request by its route's template (never its raw path, so the labels stay as few as the routes), and
the recorder shows each record to ``observe`` as it queues it, from which action runs, service calls,
webhooks, trigger polls and script runs are counted. Every other label is a catalog id (a connection, a
service, an operation), a status or an outcome: bounded by the catalog, never by what a client sends.

Each app has its own ``CollectorRegistry``, so several hubs in one process never share a figure. The
scrape is answered on the hub's own port to an operator token, and, with ``--metrics-port``, on a port of
its own without one (``MetricsPortOnly``).
"""

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from switchroom.hub.auth import OperatorTokens
from switchroom.hub.recorder import Recorder
from switchroom.hub.scripts import ScriptEngine
from switchroom.protocol import ApiCall, ErrorBody, Record, ScriptRun

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
"""The route label of a request no route took (a 404 for an unknown path)."""
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: from a fast service's few milliseconds to a slow service's timeout and a script's time limit."""


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self._requests = Counter("switchroom_http_requests", "HTTP requests and websockets answered, by route "
                                 "template, method and status", ["route", "method", "status"], registry=r)
        self._action_runs = Histogram("switchroom_action_run_duration_seconds", "Connect API action runs (from "
                                      "the API, runtime scripts and reruns), answered to the end",
                                      ["connection", "source"], buckets=LATENCY_BUCKETS, registry=r)
        self._service_calls = Counter("switchroom_service_calls", "Calls from the hub to services' Service API, "
                                      "by outcome: ok, skipped, service_error, service_timeout",
                                      ["service", "operation", "outcome"], registry=r)
        self._webhooks = Counter("switchroom_webhook_deliveries", "Trigger events posted to a connection's "
                                 "webhook, by outcome", ["connection", "outcome"], registry=r)
        self._trigger_polls = Counter("switchroom_trigger_polls", "Polls of trigger subscriptions (on the "
                                      "interval or on a notification), by outcome", ["outcome"], registry=r)
        self._script_runs = Counter("switchroom_script_runs", "Runtime-script runs, by status: ok, error, "
                                    "timeout, oom", ["connection", "status"], registry=r)
        self._script_durations = Histogram("switchroom_script_run_duration_seconds", "Runtime-script runs' "
                                           "time in the engine, queueing not included", ["connection"],
                                           buckets=LATENCY_BUCKETS, registry=r)
        self.stream_subscribers = Gauge("switchroom_stream_subscribers", "Clients connected to a stream with a "
                                        "valid token now", ["stream"], registry=r)
        self._head_seq = Gauge("switchroom_log_head_seq", "The event log's last committed seq (on a shared "
                               "database, every hub's records), read at the scrape", registry=r)
        self._scripts_running = Gauge("switchroom_scripts_running", "Runtime-script runs in the engine now",
                                      registry=r)
        self._script_queue = Gauge("switchroom_script_queue_depth", "Runtime-script runs waiting for a slot",
                                   registry=r)
        self._info = Gauge("switchroom_hub_info", "This hub: its hub id (the log's) and version",
                           ["hub_id", "version"], registry=r)
        self._templates: dict[Any, str] = {}
        self._children: dict[tuple[Any, ...], Any] = {}

    def name_routes(self, routes: Iterable[BaseRoute]) -> None:
        """Learn the app's routes, so that a request is counted under its route's template: the route that
        takes a request puts its endpoint in the scope (each route here has an endpoint of its own)."""
        for route in routes:
            endpoint, template = getattr(route, "endpoint", None), getattr(route, "path_format", None)
            if endpoint is not None and template is not None:
                self._templates[endpoint] = template

    def watch(self, recorder: Recorder, engine: ScriptEngine, version: str) -> None:
        """Read the figures that are states, not events, from where they live, at each scrape."""
        self._head_seq.set_function(lambda: recorder.head_seq)
        self._scripts_running.set_function(lambda: engine.running)
        self._script_queue.set_function(lambda: engine.queue_depth)
        self._info.labels(recorder.hub_id, version).set(1)

    def count_request(self, scope: Scope, method: str, status: int) -> None:
        """One answered request (the access log middleware calls this for each)."""
        endpoint = scope.get("endpoint")  # set by the route that took the request, also for a 405
        key = ("request", endpoint, method, status)
        counter = self._children.get(key)
        if counter is None:
            counter = self._children[key] = self._requests.labels(
                self._templates.get(endpoint, UNMATCHED), method, str(status))
        counter.inc()

    def observe(self, record: Record) -> None:
        """Count what a record says happened (the recorder calls this for each record it queues)."""
        if type(record) is ApiCall:
            self._api_call(record)
        elif type(record) is ScriptRun:
            self._child(self._script_runs, record.connection_id, record.status).inc()
            self._child(self._script_durations, record.connection_id).observe(record.duration_ms / 1000)

    def _api_call(self, call: ApiCall) -> None:
        if call.direction == "inbound":
            # only calls whose service key the connection's owner verified name a connection
            if call.op == "action" and call.connection_id is not None and call.latency_ms is not None:
                self._child(self._action_runs, call.connection_id, call.source).observe(call.latency_ms / 1000)
            return
        outcome = "skipped" if call.skipped else call.error_code or "ok"
        if call.direction == "webhook":
            self._child(self._webhooks, call.connection_id or "", outcome).inc()
            return
        operation = call.op_id or ""
        self._child(self._service_calls, operation.partition(".")[0], operation, outcome).inc()
        if call.op == "trigger" and call.source == "poll":
            self._child(self._trigger_polls, outcome).inc()

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, kept: the lookup is on the path of every record."""
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The figures now, in the format the scraper accepts (``Accept``), and its content type."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


def metrics_route(metrics: HubMetrics, recorder: Recorder, tokens: OperatorTokens,
                  metrics_port: int | None) -> Route:
    """``GET /metrics``: with an operator token on the hub's port; without one on ``metrics_port``."""

    async def scrape(request: Request) -> Response:
        if not on_port(request.scope, metrics_port):
            tokens.required(request.headers.get("authorization"))
        try:
            await recorder.head_now()  # on a shared database: the head as committed by every hub
        except Exception:  # the database is away: the figures still answer, with the head last known
            pass
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, headers={"Content-Type": content_type})

    return Route(METRICS_PATH, scrape, methods=["GET"])


def on_port(scope: Scope, port: int | None) -> bool:
    """Whether the request of ``scope`` came in on ``port`` (the hub listens on two with ``--metrics-port``)."""
    server = scope.get("server")
    return port is not None and server is not None and server[1] == port


class MetricsPortOnly:
    """ASGI middleware: on the metrics port, ``/metrics`` alone is served (anything else is a 404 in the
    error shape, a websocket is refused), so that the port open without a token shows nothing else."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or not on_port(scope, self.port) or (
                scope["type"] == "http" and scope["path"] == METRICS_PATH):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = ErrorBody(code="not_found", message=f"Only {METRICS_PATH} is served on this port")
        await JSONResponse(body.model_dump(), status_code=404)(scope, receive, send)

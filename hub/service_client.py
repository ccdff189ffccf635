"""Calls from the hub to services' Service API (DESIGN §4), with the status mapping.

One pooled HTTP client for every service, explicit timeouts, the service key and a request id on
every call. The client is aiohttp's rather than httpx's: on this hot path (every action run, query
and poll) httpx's async client managed about 280 requests/s at 16 in flight on the reference machine
where aiohttp managed 6,600 (see docs/architecture.md). Answers map to: 2xx ok; 400 whose first error says ``status: "SKIP"`` → skipped;
401 → the user's authorization is broken; other 4xx/5xx → 502 ``service_error``; no answer in time
or a refused connection → 504 ``service_timeout``.
"""

from dataclasses import dataclass
from typing import Any
import time

import asyncio

import aiohttp
import orjson

from switchroom.protocol.catalog import Service
from switchroom.protocol.errors import ErrorCode

SERVICE_KEY_HEADER = "IFTTT-Service-Key"
MAX_ANSWER_BYTES = 4 << 20
WEBHOOK_PATH = "/ifttt/v1/webhooks/trigger_subscription/fired"


@dataclass(frozen=True)
class ServiceResult:
    """What a service call came to. ``status_code`` is None when no answer arrived."""

    method: str
    path: str
    request_body: dict[str, Any]
    status_code: int | None
    response_body: Any
    latency_ms: float
    skipped: bool = False
    error_code: ErrorCode | None = None  # the Connect API code this maps to, when it failed
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


class ServiceClient:
    """One pooled HTTP client for every service; each call uses its service's own timeouts."""

    def __init__(self, max_connections: int = 256) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:  # made on first use, inside the running event loop
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, json_serialize=_json_text)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def run_action(
        self, service: Service, slug: str, fields: dict[str, Any], user: dict[str, Any], request_id: str
    ) -> ServiceResult:
        body = {"actionFields": fields, "user": user, "ifttt_source": {"id": request_id, "url": ""}}
        return await self._post(service, f"/ifttt/v1/actions/{slug}", body, request_id)

    async def perform_query(
        self, service: Service, slug: str, fields: dict[str, Any], limit: int, cursor: str | None, request_id: str
    ) -> ServiceResult:
        body: dict[str, Any] = {"queryFields": fields, "limit": limit}
        if cursor is not None:
            body["cursor"] = cursor
        return await self._post(service, f"/ifttt/v1/queries/{slug}", body, request_id)

    async def poll_trigger(
        self, service: Service, slug: str, identity: str, fields: dict[str, Any], limit: int,
        user: dict[str, Any], request_id: str,
    ) -> ServiceResult:
        body = {"trigger_identity": identity, "triggerFields": fields, "limit": limit, "user": user}
        return await self._post(service, f"/ifttt/v1/triggers/{slug}", body, request_id)

    async def post_webhook(self, base_url: str, owner: Service, body: dict[str, Any], request_id: str) -> ServiceResult:
        """Deliver a trigger event to a developer's backend (DESIGN §5), with the owner service's key and
        timeouts; the answer maps like a service's (a SKIP means nothing there)."""
        return await self._post(owner, WEBHOOK_PATH, body, request_id, base_url)

    async def _post(self, service: Service, path: str, body: dict[str, Any], request_id: str,
                    base_url: str | None = None) -> ServiceResult:
        url = (base_url or service.base_url).rstrip("/") + path
        headers = {SERVICE_KEY_HEADER: service.service_key, "X-Request-ID": request_id}
        timeout = aiohttp.ClientTimeout(sock_connect=service.connect_timeout, sock_read=service.read_timeout,
                                        total=service.connect_timeout + service.read_timeout)
        started = time.perf_counter()
        try:
            async with self._http().post(url, json=body, headers=headers, timeout=timeout,
                                         allow_redirects=False) as response:
                status, raw = response.status, await response.content.read(MAX_ANSWER_BYTES + 1)
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientConnectorDNSError) as exc:
            return ServiceResult(
                "POST", path, body, None, None, _ms_since(started),
                error_code="service_error", error_message=f"{service.name} cannot be reached: {type(exc).__name__}",
            )
        except (asyncio.TimeoutError, aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
            return ServiceResult(
                "POST", path, body, None, None, _ms_since(started),
                error_code="service_timeout", error_message=f"{service.name} did not answer: {type(exc).__name__}",
            )
        except aiohttp.ClientError as exc:
            return ServiceResult(
                "POST", path, body, None, None, _ms_since(started),
                error_code="service_error", error_message=f"{service.name} call failed: {type(exc).__name__}",
            )
        if len(raw) > MAX_ANSWER_BYTES:
            return ServiceResult("POST", path, body, status, None, _ms_since(started), error_code="service_error",
                                 error_message=f"{service.name} answered more than {MAX_ANSWER_BYTES} bytes")
        return _map_answer(service, path, body, status, _decoded(raw), _ms_since(started))


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _decoded(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw[:2000].decode(errors="replace")


def _map_answer(
    service: Service, path: str, body: dict[str, Any], status: int, payload: Any, latency_ms: float
) -> ServiceResult:
    common = dict(method="POST", path=path, request_body=body, status_code=status, response_body=payload,
                  latency_ms=latency_ms)
    if 200 <= status < 300:
        return ServiceResult(**common)
    if 300 <= status < 400:  # redirects are not followed: they would carry the service key elsewhere
        return ServiceResult(**common, error_code="service_error",
                             error_message=f"{service.name} answered a redirect ({status})")
    first_error = _first_error(payload)
    if status == 400 and first_error.get("status") == "SKIP":
        return ServiceResult(**common, skipped=True, error_message=first_error.get("message"))
    if status == 401:
        return ServiceResult(**common, error_code="service_error",
                             error_message=f"{service.name} refused the user's authorization (401)")
    message = first_error.get("message") or f"{service.name} answered {status}"
    return ServiceResult(**common, error_code="service_error", error_message=str(message))


def _first_error(payload: Any) -> dict[str, Any]:
    if isinstance(payload, dict):
        errors = payload.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
    return {}


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)

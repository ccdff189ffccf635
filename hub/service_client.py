"""Calls from the hub to services' Service API (DESIGN §4), with the status mapping.

One pooled httpx client for every service, explicit timeouts, the service key and a request id on
every call. Answers map to: 2xx ok; 400 whose first error says ``status: "SKIP"`` → skipped;
401 → the user's authorization is broken; other 4xx/5xx → 502 ``service_error``; no answer in time
or a refused connection → 504 ``service_timeout``.
"""

from dataclasses import dataclass
from typing import Any
import time

import httpx

from protocol.catalog import Service

SERVICE_KEY_HEADER = "IFTTT-Service-Key"


@dataclass(frozen=True)
class ServiceTimeouts:
    connect: float = 2.0
    read: float = 5.0


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
    error_code: str | None = None  # the Connect API code this maps to, when it failed
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


class ServiceClient:
    def __init__(self, timeouts: ServiceTimeouts = ServiceTimeouts()) -> None:
        self._timeouts = timeouts
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def run_action(
        self, service: Service, slug: str, fields: dict[str, Any], user: dict[str, Any], request_id: str
    ) -> ServiceResult:
        body = {"actionFields": fields, "user": user, "ifttt_source": {"id": request_id, "url": ""}}
        return await self._post(service, f"/ifttt/v1/actions/{slug}", body, request_id)

    async def _post(self, service: Service, path: str, body: dict[str, Any], request_id: str) -> ServiceResult:
        url = service.base_url.rstrip("/") + path
        headers = {SERVICE_KEY_HEADER: service.service_key, "X-Request-ID": request_id}
        started = time.perf_counter()
        try:
            response = await self._http.post(url, json=body, headers=headers)
        except (httpx.TimeoutException, httpx.ConnectError) as exc:
            return ServiceResult(
                "POST", path, body, None, None, _ms_since(started),
                error_code="service_timeout", error_message=f"{service.name} did not answer: {type(exc).__name__}",
            )
        except httpx.HTTPError as exc:
            return ServiceResult(
                "POST", path, body, None, None, _ms_since(started),
                error_code="service_error", error_message=f"{service.name} call failed: {type(exc).__name__}",
            )
        return _map_answer(service, path, body, response, _ms_since(started))


def _map_answer(
    service: Service, path: str, body: dict[str, Any], response: httpx.Response, latency_ms: float
) -> ServiceResult:
    try:
        payload: Any = response.json()
    except ValueError:
        payload = response.text[:2000]
    status = response.status_code
    common = dict(method="POST", path=path, request_body=body, status_code=status, response_body=payload,
                  latency_ms=latency_ms)
    if 200 <= status < 300:
        return ServiceResult(**common)
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

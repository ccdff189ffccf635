"""A sample developer backend: receives trigger events as webhooks (DESIGN §5) and answers, sometimes badly.

It checks the service key and the body IFTTT documents for
``POST /ifttt/v1/webhooks/trigger_subscription/fired``, keeps the latest deliveries (``GET /_received``,
for demos and tests), and fails as its ``Faults`` say (``GET/POST /_faults``), like the sample services.
"""

from collections import deque
from typing import Any
import asyncio
import hmac
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.service_api import SERVICE_KEY_HEADER, errors_response

KEEP = 500
_DATA_KEYS = ("connection_id", "user_id", "trigger_id", "feature_id", "user_feature_id")


def developer_app(service_key: str, faults: Faults) -> Starlette:
    received: deque[dict[str, Any]] = deque(maxlen=KEEP)
    key = service_key.encode()

    def authorized(request: Request) -> bool:
        return hmac.compare_digest(request.headers.get(SERVICE_KEY_HEADER, "").encode(), key)

    async def fired(request: Request) -> JSONResponse:
        if not authorized(request):
            return errors_response(401, "Invalid service key")
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.roll() == "error":
            return errors_response(faults.error_status, "The backend failed (injected error)")
        try:
            body = json.loads(await request.body())
        except (ValueError, RecursionError):
            return errors_response(400, "The request body is not valid JSON")
        problem = _problem(body)
        if problem:
            return errors_response(400, problem)
        received.append(body)
        return JSONResponse({"data": {"received": body["data"]["user_feature_id"]}})

    async def recent(request: Request) -> JSONResponse:
        if not authorized(request):
            return errors_response(401, "Invalid service key")
        return JSONResponse({"data": list(received)})

    async def fault_settings(request: Request) -> JSONResponse:
        if not authorized(request):
            return errors_response(401, "Invalid service key")
        if request.method == "POST":
            try:
                changes = json.loads(await request.body())
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object of fault settings")
                faults.update(changes)
            except (ValueError, RecursionError) as exc:
                return errors_response(400, str(exc))
        return JSONResponse(faults.as_dict())

    return Starlette(routes=[
        Route("/ifttt/v1/webhooks/trigger_subscription/fired", fired, methods=["POST"]),
        Route("/_received", recent, methods=["GET"]),
        Route("/_faults", fault_settings, methods=["GET", "POST"]),
    ])


def _problem(body: Any) -> str | None:
    """What is wrong with a webhook body, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("sent_at"), str):
        return "Expected an object with 'sent_at', 'data' and 'event_data'"
    data, event_data = body.get("data"), body.get("event_data")
    if not isinstance(data, dict) or any(not isinstance(data.get(k), str) for k in _DATA_KEYS):
        return f"'data' must name {', '.join(_DATA_KEYS)}"
    if not isinstance(event_data, dict) or not isinstance(event_data.get("ingredients"), dict):
        return "'event_data.ingredients' must be an object"
    return None

"""The ``lights`` sample service: smart lights whose colour can be changed (Service API, DESIGN §4)."""

import asyncio
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.sample.faults import Faults
from protocol.catalog import Field, FieldOption, Operation

COLORS = ["red", "green", "blue", "warm_white", "purple"]
LIGHTS = ["living_room", "kitchen", "bedroom", "porch"]

CHANGE_COLOR = Operation(
    id="change_color",
    label="Change light colour",
    fields=[
        Field(id="light", label="Which light", type="select", required=True,
              options=[FieldOption(label=name.replace("_", " ").title(), value=name) for name in LIGHTS]),
        Field(id="color", label="Colour", type="select", required=True,
              options=[FieldOption(label=name.replace("_", " ").title(), value=name) for name in COLORS]),
    ],
)


def lights_app(service_key: str, faults: Faults) -> Starlette:
    """A real HTTP app; ``POST /_faults`` changes its fault injection while it runs."""
    state: dict[str, str] = {}

    def authorized(request: Request) -> bool:
        return request.headers.get("IFTTT-Service-Key") == service_key

    async def status(request: Request) -> JSONResponse:
        if not authorized(request):
            return _errors(401, "Invalid service key")
        return JSONResponse({"data": {"status": "ok"}})

    async def change_color(request: Request) -> JSONResponse:
        if not authorized(request):
            return _errors(401, "Invalid service key")
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        outcome = faults.roll()
        if outcome == "error":
            return _errors(faults.error_status, "The light bridge is not answering")
        try:
            fields = (await request.json())["actionFields"]
            light, color = fields["light"], fields["color"]
        except (ValueError, KeyError, TypeError):
            return _errors(400, "actionFields.light and actionFields.color are required")
        if outcome == "skip":
            return _errors(400, f"Light '{light}' is switched off at the wall", status="SKIP")
        state[light] = color
        return JSONResponse({"data": [{"id": uuid.uuid4().hex[:12]}]})

    async def fault_settings(request: Request) -> JSONResponse:
        if not authorized(request):
            return _errors(401, "Invalid service key")
        if request.method == "POST":
            faults.update(await request.json())
        return JSONResponse(faults.as_dict())

    return Starlette(routes=[
        Route("/ifttt/v1/status", status, methods=["GET"]),
        Route("/ifttt/v1/actions/change_color", change_color, methods=["POST"]),
        Route("/_faults", fault_settings, methods=["GET", "POST"]),
    ])


def _errors(status_code: int, message: str, status: str | None = None) -> JSONResponse:
    error: dict[str, str] = {"message": message}
    if status:
        error["status"] = status
    return JSONResponse({"errors": [error]}, status_code=status_code)

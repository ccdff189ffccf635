"""``POST /v1/ops/replays`` (DESIGN §9), over ``hub.replays``: replay one trigger event.

The body is ``{trigger_event_id, reason?, dry_run?, force?}``; anything but a dry run needs an
``Idempotency-Key`` header, from the same key space as the reruns': the same key is answered the same
and never runs twice, also across a restart, and a key spent on a rerun is a 422 here. The answer waits for the delivery (a script run takes up
to its time limit) and says how it went: ``{type: "replay", original, outcome, delivered_to,
script_run_id?, status_code?, error_code?, message?}``.
"""

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchroom.hub.auth import OperatorTokens
from switchroom.hub.connect_api import json_object
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.replays import Replays
from switchroom.hub.rerun_api import Outcome, error_response, parse_rerun_request, run_once
from switchroom.hub.reruns import Reruns
from switchroom.protocol.ops_answers import ReplayPlan


@dataclass
class ReplayApi:
    replays: Replays
    reruns: Reruns
    tokens: OperatorTokens

    def routes(self) -> list[Route]:
        return [Route("/v1/ops/replays", self.post, methods=["POST"])]

    async def post(self, request: Request) -> JSONResponse:
        try:
            actor = self.tokens.required(request.headers.get("authorization"))
            body = await json_object(request)
            seq = _event_seq(body)
            # The rerun request's checks of what the two share, the event standing where a call would.
            shared = {k: body[k] for k in ("reason", "dry_run", "force") if k in body}
            asked = parse_rerun_request({**shared, "api_call_id": seq}, actor, request.headers.get("idempotency-key"))
            if asked.dry_run:
                target = await self.replays.target(seq, asked.order)
                return JSONResponse(ReplayPlan(trigger_event_id=seq, delivered_to=target.delivered_to).model_dump())
        except ConnectApiError as exc:
            return error_response(exc)

        async def replay() -> Outcome:
            target = await self.replays.target(seq, asked.order)
            await self.reruns.claim(seq, asked.order)
            await self.reruns.requested(asked.order, {"original": seq, "replay": True})
            return 200, await self.replays.replay(target, asked.order), True

        return await run_once(self.reruns, asked.order, replay, answers=frozenset({"replay"}))


def _event_seq(body: dict[str, Any]) -> int:
    seq = body.get("trigger_event_id")
    if type(seq) is not int or not 0 < seq < 1 << 63:
        message = "must be a trigger event's seq (a positive whole number)"
        raise ConnectApiError("invalid_parameters", f"trigger_event_id: {message}",
                              [field_error("/trigger_event_id", message)])
    return seq

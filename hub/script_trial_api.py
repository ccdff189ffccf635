"""``POST /v1/ops/script-trials``, over ``hub.script_trials``: try a candidate runtime script on recorded
trigger events. The body is a ``ScriptTrialRequest``; a request that cannot start (an unknown connection,
a script that does not compile, a filter that means nothing) is answered with the ops API's error shape
at once. A trial that starts is answered as JSON lines (``application/x-ndjson``), one as each event is
tried: ``trial_started``, a ``trial_item`` per event in event order, then ``trial_summary`` once the
trial's ``script_trial`` record is in the log (or an ``error`` line)."""

from dataclasses import dataclass

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from switchroom.hub.auth import OperatorTokens
from switchroom.hub.connect_api import json_object
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.rerun_api import error_response
from switchroom.hub.script_trials import ScriptTrials, lines_of
from switchroom.protocol.ops import ScriptTrialRequest

JSON_LINES = "application/x-ndjson"


@dataclass
class ScriptTrialApi:
    trials: ScriptTrials
    tokens: OperatorTokens

    def routes(self) -> list[Route]:
        return [Route("/v1/ops/script-trials", self.post, methods=["POST"])]

    async def post(self, request: Request) -> Response:
        try:
            actor = self.tokens.required(request.headers.get("authorization"))
            plan = await self.trials.plan(_trial_request(await json_object(request)), actor)
        except ConnectApiError as exc:
            return error_response(exc)
        return StreamingResponse(lines_of(self.trials, plan), media_type=JSON_LINES)


def _trial_request(body: dict[str, object]) -> ScriptTrialRequest:
    try:
        return ScriptTrialRequest.model_validate(body)
    except ValidationError as exc:
        details = [field_error("/" + "/".join(str(p) for p in error["loc"]), error["msg"]) for error in exc.errors()]
        raise ConnectApiError("invalid_parameters", "the trial request has problems: "
                              + "; ".join(f"{d.parameter}: {d.message}" for d in details), details) from None




"""Inbound Connect API calls: answered in the §3 error shape whatever happens, and recorded.

Two kinds of call are not recorded as they came, so that nobody without a key can fill the log:

- a client that hangs up before its request was read (Starlette's ``ClientDisconnect``) is not recorded
  at all: nobody was answered and nothing ran; a run whose client leaves later is recorded as usual;
- a call without a valid service key (401) is recorded with its path cut to ``MAX_UNAUTHENTICATED_PATH``
  characters, and only while ``Unauthenticated`` allows (a few a second, all callers together); past
  that the caller is answered 429 and nothing is written.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
import logging
import time

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from switchroom.hub.errors import ConnectApiError
from switchroom.hub.rate_limit import RateLimiter
from switchroom.hub.recorder import Recorder
from switchroom.hub.record_bodies import MAX_RECORDED_BODY, capped, cut, cut_id
from switchroom.hub.request_ids import request_id
from switchroom.protocol import ApiCall, loads
from switchroom.protocol.records import Op, Source

log = logging.getLogger("switchroom.hub")
MAX_UNAUTHENTICATED_PATH = 200


class Unauthenticated:
    """How many calls without a valid key the hub records: ``rate`` a second on average, bursts of twice
    that, counted over every such caller together (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self._limiter = RateLimiter(rate)

    def refusal(self) -> ConnectApiError | None:
        """None while one more may be recorded, else the 429 to answer instead."""
        retry_after = self._limiter.retry_after(("unauthenticated", ""))
        if retry_after is None:
            return None
        return ConnectApiError("rate_limited", f"Too many requests without a valid key; retry in {retry_after} s",
                               headers={"Retry-After": str(retry_after)})


@dataclass
class CallContext:
    """What an inbound call was about, filled in by its handler as it learns it, for the record."""

    request_id: str
    op: Op = "other"
    op_id: str | None = None
    connection_id: str | None = None
    feature_id: str | None = None
    user_id: str | None = None
    user_feature_id: str | None = None
    request_body: Any = None
    resolved_fields: dict[str, Any] | None = None
    skipped: bool = False


Handler = Callable[[Request, CallContext], Awaitable[Response]]


def recorded(recorder: Recorder, handler: Handler,
             unauthenticated: Unauthenticated) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: errors become §3 error bodies (never a traceback), and the call is recorded."""

    async def endpoint(request: Request) -> Response:
        ctx = CallContext(request_id=request_id(request.scope))
        started = time.perf_counter()
        error: ConnectApiError | None = None
        try:
            response = await handler(request, ctx)
        except ConnectApiError as exc:
            error = exc
        except ClientDisconnect:  # gone before it was understood: nobody to answer, nothing to record
            return Response(status_code=400, headers={"Connection": "close"})
        except Exception:  # the operator's log keeps the traceback; the client gets the error shape
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            error = ConnectApiError("internal_error", "Internal error")
        if error is not None and error.body.code == "unauthorized" and (refusal := unauthenticated.refusal()):
            return JSONResponse(refusal.body.model_dump(), status_code=refusal.status, headers=refusal.headers)
        if error is not None:
            response = JSONResponse(error.body.model_dump(), status_code=error.status, headers=error.headers)
        # An answered call is in the log (DESIGN §7): the answer waits for the group commit that stores this
        # record and, before it, the calls the handler made. Building the record never raises: see capped().
        await recorder.record_with_seq(_record(request, ctx, response, error, started))
        return response

    return endpoint


def _record(request: Request, ctx: CallContext, response: Response, error: ConnectApiError | None,
            started: float) -> ApiCall:
    response_body = error.body.model_dump() if error else _decoded(response)
    path = request.url.path
    if error is not None and error.body.code == "unauthorized" and len(path) > MAX_UNAUTHENTICATED_PATH:
        path = path[:MAX_UNAUTHENTICATED_PATH] + "…[truncated]"
    return call_record(request.method, path, ctx, response.status_code, error, response_body, started)


def call_record(method: str, path: str, ctx: CallContext, status_code: int | None, error: ConnectApiError | None,
                response_body: Any, started: float, source: Source = "api",
                script_run_id: str | None = None, rerun_of: int | None = None) -> ApiCall:
    """The ``api_call`` record of a Connect API call, made over HTTP or by a runtime script. The caller
    chose the ids, the path and what the error message repeats of them: each is cut (record_bodies)."""
    return ApiCall(
        direction="inbound", method=method, path=cut(path), op=ctx.op, op_id=cut_id(ctx.op_id),
        connection_id=cut_id(ctx.connection_id), feature_id=cut_id(ctx.feature_id), user_id=cut_id(ctx.user_id),
        user_feature_id=cut_id(ctx.user_feature_id), status_code=status_code, skipped=ctx.skipped,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        error_code=error.body.code if error else None, error_message=cut(str(error)) if error else None,
        request_body=capped(ctx.request_body), response_body=capped(response_body), source=source,
        script_run_id=script_run_id, resolved_fields=ctx.resolved_fields, rerun_of=rerun_of,
        request_id=ctx.request_id,
    )


def _decoded(response: Response) -> Any:
    if not response.body:
        return None
    try:
        return loads(response.body)
    except ValueError:
        return bytes(response.body[:MAX_RECORDED_BODY]).decode(errors="replace")

"""``POST /v1/ops/reruns`` and its bulk status and cancel routes (DESIGN §9), over ``hub.reruns``.

A request names one ``api_call_id`` or a ``filter`` (the dashboard's filter language); ``fields``
override resolved values, ``reason`` goes in the audit, ``dry_run`` only counts, ``force`` reruns what
succeeded or was rerun before, ``rate`` caps a bulk's reruns per second. A dry run of a filter answers
with its bound (``through_seq``, ``as_of``); a bulk that sends it back runs exactly what was counted,
none of what failed since. Anything that runs needs an ``Idempotency-Key`` header: the same key is
answered the same, and never runs twice.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchroom.hub.auth import OperatorTokens
from switchroom.hub.connect_api import json_object
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.reruns import DEFAULT_RATE, MAX_RATE, PlanBound, RerunOrder, Reruns
from switchroom.protocol.ops_answers import RerunAnswer, RerunBulk, RerunPlan

MAX_KEY_LENGTH = 200
MAX_REASON_LENGTH = 1_000


Outcome = tuple[int, dict[str, Any], bool]
"""An answer's status and body, and whether anything ran (then its key keeps the answer for good)."""


@dataclass(frozen=True)
class RerunRequest:
    order: RerunOrder
    api_call_id: int | None
    filter_text: str | None
    dry_run: bool
    rate: float
    bound: PlanBound | None = None
    """The dry run's ``through_seq`` and ``as_of``, when the request confirms one."""


@dataclass
class RerunApi:
    reruns: Reruns
    tokens: OperatorTokens

    def routes(self) -> list[Route]:
        return [Route("/v1/ops/reruns", self.post, methods=["POST"]),
                Route("/v1/ops/reruns/{bulk_id}", self.status, methods=["GET"]),
                Route("/v1/ops/reruns/{bulk_id}/cancel", self.cancel, methods=["POST"])]

    async def post(self, request: Request) -> JSONResponse:
        try:
            actor = self._authorize(request)
            asked = parse_rerun_request(await json_object(request), actor, request.headers.get("idempotency-key"))
            if asked.dry_run:
                return JSONResponse(await self._dry_run(asked))
        except ConnectApiError as exc:
            return error_response(exc)
        return await run_once(self.reruns, asked.order, lambda: self._run(asked))

    async def _run(self, asked: RerunRequest) -> Outcome:
        if asked.api_call_id is not None:
            original = await self.reruns.original(asked.api_call_id, asked.order)
            await self.reruns.claim(original["seq"], asked.order)
            await self.reruns.requested(asked.order, {"original": asked.api_call_id})
            item = await self.reruns.rerun(original, asked.order)
            return 200, RerunAnswer(**item.as_json()).model_dump(), True
        order = replace(asked.order, bulk_id=uuid.uuid4().hex)
        plan = await self.reruns.plan(asked.filter_text or "", order, asked.bound)
        await self.reruns.requested(order, {"filter": asked.filter_text})
        bulk = self.reruns.start_bulk(plan, order, asked.rate)
        started = RerunBulk(**bulk.as_json(with_items=False), refused_before_start=dict(plan.refused))
        return 202, started.model_dump(), True

    async def _dry_run(self, asked: RerunRequest) -> dict[str, Any]:
        if asked.api_call_id is not None:
            original = await self.reruns.original(asked.api_call_id, asked.order)  # refusals raise
            return RerunPlan(count=1, refused={}, api_call_ids=[original["seq"]]).model_dump()
        return (await self.reruns.plan(asked.filter_text or "", asked.order, asked.bound)).as_json()

    async def status(self, request: Request) -> JSONResponse:
        try:
            self._authorize(request)
            bulk_id = request.path_params["bulk_id"]
            after = request.query_params.get("after", "0")
            if not after.isdigit() or len(after) > 18:
                raise _bad("/after", "must be how many items the caller has already (a whole number)")
            body = await self.reruns.bulk_status(bulk_id, int(after))
            if body is None:
                raise ConnectApiError("not_found", "No such bulk rerun")
        except ConnectApiError as exc:
            return error_response(exc)
        return JSONResponse(body)

    async def cancel(self, request: Request) -> JSONResponse:
        try:
            self._authorize(request)
            body = await self.reruns.cancel_bulk(request.path_params["bulk_id"])
            if body is None:
                raise ConnectApiError("not_found", "No such bulk rerun")
        except ConnectApiError as exc:
            return error_response(exc)
        return JSONResponse(body)

    def _authorize(self, request: Request) -> str:
        return self.tokens.required(request.headers.get("authorization"))


RERUN_ANSWERS = frozenset({"rerun", "rerun_bulk"})
"""What ``POST /v1/ops/reruns`` answers a request that ran: one rerun, or a bulk started."""


async def run_once(reruns: Reruns, order: RerunOrder, work: Callable[[], Awaitable[Outcome]],
                   answers: frozenset[str] = RERUN_ANSWERS) -> JSONResponse:
    """Do ``work`` for the order's idempotency key, unless that key was answered (or is being answered)
    already: then the same answer again, marked ``Idempotent-Replayed``. Reruns and replays share one key
    space; a key spent on the other route (its answer not of a type in ``answers``) is a 422, never that
    route's answer."""
    key = order.idempotency_key
    assert key is not None
    previous = await reruns.once(key)
    if previous is not None:
        spent_on = previous[1].get("type")
        if spent_on != "error" and spent_on not in answers:
            return error_response(_bad("/headers/Idempotency-Key",
                                       f"was used for another request (answered as {spent_on}); use a new key"))
        return JSONResponse(previous[1], previous[0], headers={"Idempotent-Replayed": "true"})
    status, body, keep = 500, {}, False
    try:
        status, body, keep = await work()
    except ConnectApiError as exc:
        status, body = exc.status, exc.body.model_dump()
    finally:
        await reruns.answered(key, status, body, remember=keep)
    return JSONResponse(body, status)


def parse_rerun_request(body: dict[str, Any], actor: str, key: str | None) -> RerunRequest:
    """The request's parts, each checked; every problem a 422 (400 for a missing key) with its pointer."""
    api_call_id, filter_text = body.get("api_call_id"), body.get("filter")
    if (api_call_id is None) == (filter_text is None):
        raise _bad("/api_call_id", "name one api_call_id or a filter")
    if api_call_id is not None and (type(api_call_id) is not int or not 0 < api_call_id < 1 << 63):
        raise _bad("/api_call_id", "must be a record's seq (a positive whole number)")
    if filter_text is not None and (not isinstance(filter_text, str) or not filter_text.strip()):
        raise _bad("/filter", "must be a non-empty filter, e.g. 'status:5xx feature:glow since:1h'")
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise _bad("/fields", "must be an object of field values")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
        raise _bad("/reason", f"must be text of at most {MAX_REASON_LENGTH} characters")
    flags = {name: body.get(name, False) for name in ("dry_run", "force")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise _bad(f"/{name}", "must be true or false")
    rate = body.get("rate", DEFAULT_RATE)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= MAX_RATE:
        raise _bad("/rate", f"must be reruns per second, more than 0 and at most {MAX_RATE:,.0f}")
    if not flags["dry_run"] and (not key or len(key) > MAX_KEY_LENGTH or not key.isprintable()):
        raise ConnectApiError("invalid_request", "A rerun needs an Idempotency-Key header (printable, at most "
                              f"{MAX_KEY_LENGTH} characters): the same key never runs twice",
                              [field_error("/headers/Idempotency-Key", "is required")])
    order = RerunOrder(actor, reason, fields, flags["force"], key)
    return RerunRequest(order, api_call_id, filter_text, flags["dry_run"], float(rate), _bound(body, filter_text))


def _bound(body: dict[str, Any], filter_text: str | None) -> PlanBound | None:
    """The plan bound a request carries (``through_seq`` and ``as_of``, both or neither), checked."""
    through_seq, as_of = body.get("through_seq"), body.get("as_of")
    if through_seq is None and as_of is None:
        return None
    if filter_text is None:
        raise _bad("/through_seq", "binds a filter's plan: send it with the filter it was counted for")
    if type(through_seq) is not int or not 0 <= through_seq < 1 << 63:
        raise _bad("/through_seq", "must be the through_seq of the dry run this confirms (a whole number)")
    try:
        moment = datetime.fromisoformat(as_of) if isinstance(as_of, str) and len(as_of) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _bad("/as_of", "must be the as_of of the dry run this confirms (an ISO time with its zone)")
    return PlanBound(through_seq, moment)


def _bad(pointer: str, message: str) -> ConnectApiError:
    return ConnectApiError("invalid_parameters", f"{pointer.lstrip('/')}: {message}", [field_error(pointer, message)])


def error_response(exc: ConnectApiError) -> JSONResponse:
    return JSONResponse(exc.body.model_dump(), status_code=exc.status, headers=exc.headers)


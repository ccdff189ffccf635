"""``GET /v1/ops/records``: the hub's event log read through the filter language, a page at a time, for
scripts and cron jobs that ask the hub itself rather than a dashboard's cache.

Pages go forward in seq order from ``after``. Each request reads at most ``SCAN_SEQS`` seqs of the log,
so that a filter matching little in a long log answers quickly with what it found so far and a ``next``
cursor to go on from, rather than one request walking a million records.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from switchroom.protocol.kinds import KINDS
from switchroom.hub.auth import OperatorTokens
from switchroom.hub.errors import ConnectApiError, filter_param, query_int
from switchroom.hub.recorder import Recorder
from switchroom.store import EventLog
from switchroom.store.filters import RecordFilter

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
SCAN_SEQS = 200_000
"""The most seqs of the log one request reads past ``after``."""
MAX_PAGE_BYTES = 8 << 20
"""A page ends early (its ``next`` says where to go on) once its records' JSON passes this."""


@dataclass(frozen=True)
class RecordsPage:
    bodies: list[bytes]
    """Each record's JSON, as stored."""
    next_after: int | None
    """Where the next page starts; None once the page reached the head."""
    head_seq: int


def records_page(log: EventLog, record_filter: RecordFilter, after: int, limit: int,
                 scan: int = SCAN_SEQS) -> RecordsPage:
    """Up to ``limit`` records past ``after`` that the filter shows, oldest first, reading at most
    ``scan`` seqs and answering at most about ``MAX_PAGE_BYTES``."""
    [(head,)] = log.execute("SELECT IFNULL(MAX(seq), 0) FROM records")
    last = min(head, after + scan)
    where, params = record_filter.where()
    rows = log.execute(f"SELECT seq, body FROM records WHERE {where} AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                       (*params, after, last, limit + 1))
    bodies: list[bytes] = []
    size = 0
    for seq, body in rows[:limit]:
        bodies.append(body if isinstance(body, bytes) else body.encode())
        size += len(bodies[-1])
        if size > MAX_PAGE_BYTES or len(bodies) == limit < len(rows):
            return RecordsPage(bodies, seq, head)
    return RecordsPage(bodies, last if last < head else None, head)


@dataclass
class RecordsApi:
    recorder: Recorder
    tokens: OperatorTokens

    async def records(self, request: Request) -> Response:
        """The records a filter shows, a page at a time (``filter``, ``after``, ``limit``)."""
        try:
            self.tokens.required(request.headers.get("authorization"))
            record_filter = _filter(request.query_params.get("filter", ""))
            after = query_int(request.query_params.get("after"), "after", 0, 1 << 62, 0)
            limit = query_int(request.query_params.get("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
        except ConnectApiError as exc:
            return JSONResponse(exc.body.model_dump(), status_code=exc.status)
        page = await self.recorder.read(lambda log: records_page(log, record_filter, after, limit))
        tail = b"" if page.next_after is None else b',"next":{"after":%d}' % page.next_after
        body = (b'{"type":"list","head_seq":%d,"data":[' % page.head_seq + b",".join(page.bodies) + b"]"
                + tail + b"}")
        return Response(body, media_type="application/json")


def _filter(text: str) -> RecordFilter:
    """The filter language over every kind of record (``kind:`` narrows it, and the language bounds its
    length); relative times from now."""
    return filter_param(text, RecordFilter(kinds=KINDS), datetime.now(UTC))

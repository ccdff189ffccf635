"""Reruns (DESIGN §9): failed action calls run again exactly as they were resolved, one or in bulk,
audited, and never twice for one idempotency key.

The event log is the memory of it all. Before anything runs, a ``rerun`` record of phase ``requested``
is committed with the request's idempotency key; each rerun then writes its new ``api_call`` (source
``rerun``, ``rerun_of`` the original) and a ``rerun`` record of phase ``item`` (actor, reason, original,
result); a bulk also writes phase ``bulk`` records with its progress. On start the hub reads these back:
which calls were rerun already, and what each idempotency key was answered — so a repeated request,
also after a restart, is answered from the log instead of running again. A key whose request was
interrupted by a restart is refused rather than run a second time.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
import asyncio
import logging
import time
import uuid

import orjson

from switchroom.hub.catalog import Catalog
from switchroom.hub.errors import ConnectApiError, field_error, filter_param
from switchroom.hub.inbound import CallContext, call_record
from switchroom.hub.recorder import Recorder
from switchroom.hub.resolution import resolve_fields
from switchroom.hub.runner import OperationRunner, ResolvedOperation, raise_for
from switchroom.hub.shared_reruns import SharedReruns
from switchroom.protocol import ErrorBody, Rerun, body_of
from switchroom.protocol.kinds import API_CALL, RERUN
from switchroom.protocol.ops_answers import RerunBulkId, RerunPlan
from switchroom.store import EventLog, iso_timestamp
from switchroom.store.filters import RecordFilter
from switchroom.store.related import LOOK_AROUND, record_at, records_near

log = logging.getLogger("switchroom.hub")

BULK_CONCURRENCY = 64
"""Reruns of one bulk in flight at once."""
DEFAULT_RATE = 500.0
"""Reruns per second a bulk starts at most, unless the request asks for another rate."""
MAX_RATE = 20_000.0
MAX_BULK = 100_000
PROGRESS_EVERY = 1_000
"""A bulk writes its progress as a record after this many items (and when it ends)."""

Outcome = Literal["ok", "failed", "refused"]


@dataclass(frozen=True)
class RerunOrder:
    """What the operator asked for, beside which records: who, why, and how."""

    actor: str
    reason: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    force: bool = False
    idempotency_key: str | None = None
    bulk_id: str | None = None


@dataclass(frozen=True)
class ItemResult:
    original: int
    outcome: Outcome
    status_code: int | None = None
    api_call_id: int | None = None
    error_code: str | None = None
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class PlanBound:
    """Where a filter was read: the records up to ``through_seq``, relative times (``since:1h``) counted back
    from ``as_of``. A dry run answers with its bound; a confirmed bulk that carries it runs exactly the
    calls that were counted, whatever failed since (DESIGN §9)."""

    through_seq: int
    as_of: datetime


@dataclass
class Plan:
    """The calls a request would rerun, and those it refuses, by reason, read within ``bound``."""

    originals: list[dict[str, Any]]
    refused: Counter[str]
    bound: PlanBound

    def as_json(self) -> dict[str, Any]:
        return RerunPlan(count=len(self.originals), refused=dict(self.refused),
                         api_call_ids=[r["seq"] for r in self.originals[:1000]],
                         through_seq=self.bound.through_seq, as_of=iso_timestamp(self.bound.as_of)).model_dump()


@dataclass
class Bulk:
    id: str
    total: int
    state: Literal["running", "finished", "cancelled", "interrupted"] = "running"
    counts: Counter[str] = field(default_factory=Counter)
    items: list[ItemResult] = field(default_factory=list)
    task: "asyncio.Task[None] | None" = None

    def as_json(self, with_items: bool = True, after: int = 0) -> dict[str, Any]:
        """Counts, and the item results past the first ``after`` (a poller asks only for what is new: the
        list only grows, in the order the items finished). Written by hand, for a bulk may have a hundred
        thousand items: tests/hub/test_openapi.py holds it to ``protocol.ops_answers.RerunBulk``."""
        body: dict[str, Any] = {"type": "rerun_bulk", "id": self.id, "state": self.state, "total": self.total,
                                "done": sum(self.counts.values()), **{k: self.counts[k] for k in ("ok", "failed", "refused")}}
        if with_items:
            body["items_after"] = after
            body["items"] = [item.as_json() for item in self.items[after:]]
        return body


@dataclass
class RerunMemory:
    """What the log says of reruns: which calls were rerun and how often, what each idempotency key was
    answered, and the bulks. A hub reads it back from its log at start (``Reruns.load``); ``switchroom-hub
    migrate`` from the log it copies."""

    rerun: Counter[int] = field(default_factory=Counter)
    """Original seq → times rerun (refusals not counted)."""
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    """Idempotency key → the status and body it was answered with."""
    bulks: dict[str, Bulk] = field(default_factory=dict)

    def remember(self, record: dict[str, Any], answers: bool = False) -> None:
        """Count a rerun; with ``answers``, also what its idempotency key stands for (a record read back from
        the log, or a request just committed)."""
        phase, key = record.get("phase"), record.get("idempotency_key")
        if phase == "item" and record.get("outcome") != "refused":
            self.rerun[record["original"]] += 1
        if not answers or not key:
            return
        if phase == "requested":  # answered below when its item comes; a restart in between leaves this
            self.answers[key] = (409, ErrorBody(code="conflict", message=(
                "The request with this Idempotency-Key was interrupted before it answered (a hub restart or a "
                "dropped request) and is not run again; see its rerun records")).model_dump())
            if record.get("bulk_id"):
                self.bulks.setdefault(record["bulk_id"], Bulk(record["bulk_id"], 0, "interrupted"))
                self.answers[key] = (202, RerunBulkId(id=record["bulk_id"]).model_dump())
        elif phase == "item" and not record.get("bulk_id"):
            answer_type = "replay" if record.get("replay") else "rerun"
            self.answers[key] = (200, {"type": answer_type, **item_fields(record)})
        elif phase == "bulk":
            bulk = Bulk(record["bulk_id"], record.get("total", 0),
                        record.get("state") if record.get("state") != "running" else "interrupted",
                        Counter({k: record.get(k, 0) for k in ("ok", "failed", "refused")}))
            self.bulks[bulk.id] = bulk


class Refusal(ConnectApiError):
    """A call that this order may not rerun: ``not_found``, ``not_rerunnable`` or ``already_rerun``."""


class Reruns:
    def __init__(self, catalog: Catalog, runner: OperationRunner, recorder: Recorder,
                 shared: SharedReruns | None = None) -> None:
        """``shared``: where keys and claims live when hubs share the database (else this hub's memory)."""
        self._catalog, self._runner, self._recorder, self._shared = catalog, runner, recorder, shared
        self.memory = RerunMemory()
        self._running: dict[str, asyncio.Future[tuple[int, dict[str, Any]]]] = {}
        self.bulks = self.memory.bulks
        self._followers: set[asyncio.Task[None]] = set()

    async def load(self) -> None:
        """Read back from the log what was rerun and how each idempotency key was answered."""
        for record in await self._recorder.read(_rerun_records):
            self.memory.remember(record, answers=True)

    # -- answering requests -----------------------------------------------------------------------

    async def once(self, key: str) -> tuple[int, dict[str, Any]] | None:
        """The answer already given to ``key`` (waiting for it while that request still runs); None if the
        key is new, in which case this request holds it until ``answered``."""
        if key in self._running:  # before the answers: a running request's key is already marked spent
            return await asyncio.shield(self._running[key])
        if key in self.memory.answers:
            return self.memory.answers[key]
        if self._shared is not None:
            answer = await self._shared.claim_or_answer(key)
            if answer is not None:
                return answer
        self._running[key] = asyncio.get_running_loop().create_future()
        return None

    async def answered(self, key: str, status: int, body: dict[str, Any], remember: bool) -> None:
        """The request holding ``key`` is answered; requests waiting on it get the same answer. A key is
        remembered for good once anything ran (a refusal ran nothing: the key may be used again)."""
        if self._shared is not None:
            await self._shared.answered(key, status, body, remember)
        if remember:
            self.memory.answers[key] = (status, body)
        future = self._running.pop(key, None)
        if future is not None and not future.done():
            future.set_result((status, body))

    async def requested(self, order: RerunOrder, target: dict[str, Any]) -> None:
        """Commit the request (with its key) to the log before anything of it runs; from here on the key
        is spent, even if this request never gets to answer (see ``RerunMemory.remember``)."""
        record = Rerun(phase="requested", idempotency_key=order.idempotency_key, actor=order.actor,
                       reason=order.reason, fields=order.fields, force=order.force, bulk_id=order.bulk_id, **target)
        await self._recorder.record_with_seq(record)
        self.memory.remember(body_of(record), answers=True)

    async def claim(self, seq: int, order: RerunOrder) -> None:
        """Just before record ``seq`` is rerun (or replayed): where hubs share the database, claim it there,
        so that "already rerun" holds whichever hub reran it; ``already_rerun`` if another claimed it first."""
        if self._shared is not None and not await self._shared.claim_rerun(seq, order.force):
            self.memory.rerun[seq] = max(self.memory.rerun[seq], 1)
            raise Refusal("already_rerun", f"#{seq} was rerun before; force reruns it again")

    async def read_claims(self, seqs: list[int]) -> None:
        """Where hubs share the database, learn which of ``seqs`` other hubs reran (for ``check``)."""
        if self._shared is not None:
            for seq, times in (await self._shared.times_rerun(seqs)).items():
                self.memory.rerun[seq] = max(self.memory.rerun[seq], times)

    # -- planning -----------------------------------------------------------------------------------

    async def original(self, api_call_id: int, order: RerunOrder) -> dict[str, Any]:
        """The inbound action call that ``api_call_id`` names (its outbound half leads to it); refusals raise."""
        record = await self._recorder.read(lambda log: _inbound_of(log, api_call_id))
        if record is None:
            raise Refusal("not_found", f"No api_call #{api_call_id} in the log")
        await self.read_claims([record["seq"]])
        self.check(record, order)
        return record

    async def plan(self, filter_text: str, order: RerunOrder, bound: PlanBound | None = None) -> Plan:
        """Every call the filter shows that would be rerun, oldest first; the rest counted by reason. Read
        within ``bound`` when the request carries one (the dry run it confirms), else at the log's head now."""
        as_of = bound.as_of if bound else datetime.now(UTC)
        record_filter = _filter(filter_text, as_of)
        through_seq, found = await self._recorder.read(
            lambda log: _filtered_inbound(log, record_filter, bound.through_seq if bound else log.head_seq()))
        plan = Plan([], Counter(), PlanBound(through_seq, as_of))
        await self.read_claims([record["seq"] for record in found])
        for record in found:
            try:
                self.check(record, order)
            except Refusal as refusal:
                plan.refused[refusal.body.code] += 1
            else:
                plan.originals.append(record)
        if len(plan.originals) > MAX_BULK:
            raise ConnectApiError("invalid_parameters", f"The filter matches {len(plan.originals):,} reruns; "
                                  f"at most {MAX_BULK:,} go in one bulk", [field_error("/filter", "narrow it")])
        return plan

    def check(self, record: dict[str, Any], order: RerunOrder) -> None:
        if record.get("kind") != API_CALL or record.get("op") != "action" or record.get("resolved_fields") is None:
            raise Refusal("not_rerunnable", f"#{record.get('seq')} is not an action run (only actions are rerun)")
        succeeded = record.get("skipped") or (record.get("status_code") or 0) in range(200, 400)
        if succeeded and not order.force:
            raise Refusal("not_rerunnable", f"#{record['seq']} succeeded ({record.get('status_code')}); "
                          "force reruns it anyway")
        if self.memory.rerun[record["seq"]] and not order.force:
            raise Refusal("already_rerun", f"#{record['seq']} was rerun before; force reruns it again")

    # -- running ------------------------------------------------------------------------------------

    async def rerun(self, original: dict[str, Any], order: RerunOrder) -> ItemResult:
        """Run the original action again as it was resolved (with the order's field overrides) through the
        Connect API's own path, recording the new call and the audit record."""
        ctx = CallContext(request_id=uuid.uuid4().hex, op="action", op_id=original.get("op_id"),
                          connection_id=original.get("connection_id"), feature_id=original.get("feature_id"),
                          user_id=original.get("user_id"), user_feature_id=original.get("user_feature_id"))
        started = time.perf_counter()
        error: ConnectApiError | None = None
        try:
            run = self._resolved(original, order.fields)
            ctx.resolved_fields = run.fields
            ctx.request_body = {"user_id": run.user_id, "user_feature_id": run.user_feature_id, "fields": run.fields}
            result = await self._runner.run_action(run, ctx.request_id, "rerun")
            raise_for(result)
            ctx.skipped = result.skipped
        except ConnectApiError as exc:
            error = exc
        except Exception:  # a fault of the hub's own: recorded as a 500, the traceback in the hub's log
            log.exception("rerun of #%s failed in the hub", original.get("seq"))
            error = ConnectApiError("internal_error", "Internal error")
        status = error.status if error else 204
        seq = await self._recorder.record_with_seq(call_record(
            "POST", str(original.get("path", "")), ctx, status, error, error.body.model_dump() if error else None,
            started, "rerun", rerun_of=original["seq"]))
        item = ItemResult(original["seq"], "failed" if error else "ok", status, seq,
                          error.body.code if error else None, str(error) if error else None)
        await self.audit(item, original, order)
        return item

    async def refused(self, original: int, refusal: Refusal, order: RerunOrder) -> ItemResult:
        item = ItemResult(original, "refused", refusal.status, None, refusal.body.code, str(refusal))
        await self.audit(item, {"seq": original}, order)
        return item

    def start_bulk(self, plan: Plan, order: RerunOrder, rate: float) -> Bulk:
        assert order.bulk_id is not None
        bulk = self.bulks[order.bulk_id] = Bulk(order.bulk_id, len(plan.originals))
        bulk.task = asyncio.create_task(self._run_bulk(bulk, plan.originals, order, rate), name=f"rerun-{bulk.id}")
        if self._shared is not None:
            follower = asyncio.create_task(self._shared.follow_bulk(bulk, lambda: self.cancel(bulk.id)))
            self._followers.add(follower)
            follower.add_done_callback(self._followers.discard)
        return bulk

    def cancel(self, bulk_id: str) -> Bulk | None:
        bulk = self.bulks.get(bulk_id)
        if bulk is not None and bulk.task is not None and not bulk.task.done():
            bulk.task.cancel()
        return bulk

    async def bulk_status(self, bulk_id: str, after: int) -> dict[str, Any] | None:
        """A bulk's state and its item results past the first ``after``: from this hub if it runs (or, alone
        on its log, ran) the bulk, else from the shared database, where the hub that runs it writes them."""
        bulk = self.bulks.get(bulk_id)
        if bulk is not None and (bulk.task is not None or self._shared is None):
            return bulk.as_json(after=after)
        shared = await self._shared.bulk(bulk_id, after) if self._shared is not None else None
        return shared or (bulk.as_json(after=after) if bulk is not None else None)

    async def cancel_bulk(self, bulk_id: str) -> dict[str, Any] | None:
        """Cancel a bulk, here or (through the shared database) on the hub that runs it; its state once it
        has stopped."""
        bulk = self.bulks.get(bulk_id)
        if bulk is not None and (bulk.task is not None or self._shared is None):
            self.cancel(bulk_id)
            if bulk.task is not None:
                await asyncio.gather(bulk.task, return_exceptions=True)
            return bulk.as_json(with_items=False)
        shared = await self._shared.cancel(bulk_id) if self._shared is not None else None
        return shared or (bulk.as_json(with_items=False) if bulk is not None else None)

    async def stop(self) -> None:
        tasks = [b.task for b in self.bulks.values() if b.task is not None and not b.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._followers, return_exceptions=True)  # each writes its bulk's end

    async def _run_bulk(self, bulk: Bulk, originals: list[dict[str, Any]], order: RerunOrder, rate: float) -> None:
        """Each call of the plan once — a call that fails again is not queued again — at most
        ``BULK_CONCURRENCY`` at a time and ``rate`` started per second."""
        queue = iter(originals)
        interval, next_start = 1.0 / rate, time.monotonic()

        async def worker() -> None:
            nonlocal next_start
            for original in queue:
                wait = next_start - time.monotonic()
                next_start = max(next_start, time.monotonic()) + interval
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    self.check(original, order)  # another request may have rerun it since the plan
                    await self.claim(original["seq"], order)
                    item = await self.rerun(original, order)
                except Refusal as refusal:
                    item = await self.refused(original["seq"], refusal, order)
                bulk.items.append(item)
                bulk.counts[item.outcome] += 1
                if len(bulk.items) % PROGRESS_EVERY == 0:
                    self._progress(bulk, order)

        try:
            await asyncio.gather(*(worker() for _ in range(BULK_CONCURRENCY)))
            bulk.state = "finished"
        except asyncio.CancelledError:
            bulk.state = "cancelled"
        finally:
            await self._progress(bulk, order)  # the end is in the log before a cancel is answered

    def _progress(self, bulk: Bulk, order: RerunOrder) -> "asyncio.Future[int]":
        progress = bulk.as_json(with_items=False)
        return self._recorder.record_with_seq(Rerun(
            phase="bulk", bulk_id=bulk.id, actor=order.actor, reason=order.reason,
            idempotency_key=order.idempotency_key,
            **{k: progress[k] for k in ("state", "total", "done", "ok", "failed", "refused")},
        ))

    def _resolved(self, original: dict[str, Any], overrides: dict[str, Any]) -> ResolvedOperation:
        """The original run's target, user and fields, with the overrides checked like any request's."""
        connection = self._catalog.connection(str(original.get("connection_id")))
        target = next((t for t in self._catalog.feature_ops(connection, "action", str(original.get("op_id")))
                       if t.feature.id == original.get("feature_id")), None)
        if target is None:
            raise ConnectApiError("not_found", f"Connection '{connection.id}' no longer has this action in "
                                  f"feature '{original.get('feature_id')}'")
        fields = resolve_fields(target.operation, {}, {}, {**original["resolved_fields"], **overrides})
        return ResolvedOperation(target, str(original["user_id"]), str(original["user_feature_id"]), fields)

    def was_rerun(self, seq: int) -> bool:
        """Whether record ``seq`` was rerun (or replayed) before, by any request."""
        return self.memory.rerun[seq] > 0

    def audit(self, item: ItemResult, original: dict[str, Any], order: RerunOrder,
              **extra: Any) -> "asyncio.Future[int]":
        """Write the ``rerun`` record of phase ``item`` (``extra``: what a replay adds) and count it; the
        future is done once the record is committed (what answers a request waits for)."""
        record = Rerun(
            phase="item", actor=order.actor, reason=order.reason, idempotency_key=order.idempotency_key,
            bulk_id=order.bulk_id, fields=order.fields, force=order.force,
            connection_id=original.get("connection_id"), feature_id=original.get("feature_id"),
            user_id=original.get("user_id"), op_id=original.get("op_id"), **item.as_json(), **extra,
        )
        committed = self._recorder.record_with_seq(record)
        self.memory.remember(body_of(record))
        return committed



def item_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("original", "outcome", "status_code", "api_call_id", "error_code", "message",
                                   "delivered_to", "script_run_id") if k in record}


def _rerun_records(log: EventLog) -> list[dict[str, Any]]:
    rows = log.execute("SELECT body FROM records WHERE kind = ? ORDER BY seq", (RERUN,))
    return [orjson.loads(body) for (body,) in rows]


def _inbound_of(log: EventLog, seq: int, through_seq: int | None = None) -> dict[str, Any] | None:
    """The record ``seq``; for the outbound half of an action call, its inbound half (the run to repeat),
    which the hub records after it, up to ``through_seq``."""
    record = record_at(log, seq)
    if record is None or record.get("kind") != API_CALL or record.get("direction") != "outbound":
        return record
    if record.get("source") == "rerun":
        return record
    last = seq + LOOK_AROUND if through_seq is None else min(seq + LOOK_AROUND, through_seq)
    inbound = records_near(log, API_CALL, "request_id", record.get("request_id"), seq, last, skip=seq, limit=5)
    return next((r for r in inbound if r.get("direction") == "inbound"), record)


def _filtered_inbound(log: EventLog, record_filter: RecordFilter,
                      through_seq: int) -> tuple[int, list[dict[str, Any]]]:
    """The inbound action calls among what the filter shows up to ``through_seq`` (an outbound call standing
    for its inbound half), each once, oldest first; and ``through_seq``."""
    where, params = record_filter.where()
    rows = log.execute(f"SELECT seq, body FROM records WHERE {where} AND op_id IS NOT NULL AND seq <= ? "
                       "ORDER BY seq", (*params, through_seq))
    found: dict[int, dict[str, Any]] = {}
    for seq, body in rows:
        record = orjson.loads(body)
        if record.get("direction") == "outbound":
            record = _inbound_of(log, seq, through_seq) or record
        found.setdefault(record["seq"], record)
    return through_seq, sorted(found.values(), key=lambda r: r["seq"])


def _filter(text: str, as_of: datetime) -> RecordFilter:
    """The filter language read for reruns: api calls only, relative times counted back from ``as_of``."""
    return filter_param(text, RecordFilter(kinds=(API_CALL,)), as_of)

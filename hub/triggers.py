"""The trigger pipeline (DESIGN §5): subscriptions, polling, realtime notifications, dedupe, delivery.

Every enabled user-feature trigger is a subscription with a ``trigger_identity``. The hub polls each
one on an interval (spread evenly over it) and again whenever its service signals new data through
``POST /v1/notifications``. A poll asks the service for its newest items; items whose ``meta.id`` this
subscription has seen before are dropped, and each new one becomes a ``trigger_event`` record, committed
together with the mark that it was seen (so a restarted hub never delivers it again), and only then is
delivered: to the connection's runtime script, else to its webhook.

A subscription's first successful poll is its baseline: the items it returns happened before the user
enabled the feature, so they are marked seen and not delivered. Polls of one subscription never
overlap; a signal that arrives while one runs makes it poll once more when done.

When hubs share one database, which hub polls a subscription, and when, is decided there
(``hub.poll_leases``), and each poll reads the seen marks afresh.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
import asyncio
import logging
import time
import uuid

from switchroom.hub.catalog import Catalog
from switchroom.hub.errors import ConnectApiError
from switchroom.hub.poll_leases import PollLeases
from switchroom.hub.record_bodies import capped
from switchroom.hub.recorder import MadeElsewhere, Recorder
from switchroom.hub.runner import OperationRequest, OperationRunner, ResolvedOperation
from switchroom.hub.service_client import ServiceResult
from switchroom.hub.users import UserConnections
from switchroom.protocol import ApiCall, ScriptRun, Source, TriggerEvent

log = logging.getLogger("switchroom.hub")

POLL_LIMIT = 50
TEST_POLL_LIMIT = 1
POLL_CONCURRENCY = 16
FIRST_ROUND_SECONDS = 60.0
MAX_META_ID = 200
MAX_LEASE_TICK_S = 0.5
"""How often a hub sharing its database looks for due subscriptions, at most (a tenth of the interval)."""
BASELINE = ""  # the meta id that marks a subscription's baseline as taken

Signal = Literal["poll", "notification", "test"]


@dataclass(frozen=True)
class FiredEvent:
    """A trigger event as recorded, on its way to the connection's script or webhook."""

    subscription: ResolvedOperation
    source: Source
    """How the event's item was found (``rerun`` when it is replayed); its delivery's record says the same."""
    seq: int
    ingredients: dict[str, Any]
    """Whole, as the service sent them (the record keeps a size-capped copy)."""


Deliver = Callable[[FiredEvent], Awaitable[ApiCall | ScriptRun]]
"""Delivers an event to its connection's script or webhook; gives back that delivery's record (a
``script_run``, or a ``webhook`` api_call), which a replay reports."""


class Subscriptions:
    """Every enabled user-feature trigger, resolved, by trigger identity; rebuilt when users change or
    the catalog is reloaded."""

    def __init__(self, catalog: Catalog, users: UserConnections, runner: OperationRunner) -> None:
        self._catalog, self._users, self._runner = catalog, users, runner
        self._version = (-1, -1)
        self._by_identity: dict[str, ResolvedOperation] = {}

    def all(self) -> dict[str, ResolvedOperation]:
        version = (self._users.version, self._catalog.generation)
        if self._version != version:
            self._by_identity = {sub.trigger_identity: sub for sub in self._build()}
            self._version = version
        return self._by_identity

    def matching(self, service_ids: set[str], identity: str | None, user_id: str | None) -> list[ResolvedOperation]:
        """The subscriptions a notification item names, among triggers of the notifying services."""
        if identity is not None:
            sub = self.all().get(identity)
            found = [sub] if sub is not None else []
        else:
            found = [sub for sub in self.all().values() if sub.user_id == user_id]
        return [sub for sub in found if sub.target.service.id in service_ids]

    def _build(self) -> Iterable[ResolvedOperation]:
        catalog = self._catalog.snapshot()
        for user_connection in self._users.enabled():
            connection = catalog.connections.get(user_connection.connection_id)
            if connection is None:
                continue
            features = {f.id: f for f in connection.features}
            for user_feature in user_connection.user_features:
                feature = features.get(user_feature.feature_id)
                if not user_feature.enabled or feature is None:
                    continue
                for entry in feature.triggers:
                    request = OperationRequest(connection.id, "trigger", entry.ref, user_connection.user_id,
                                               user_feature.id)
                    try:
                        yield self._runner.resolve(request, catalog)
                    except ConnectApiError as exc:  # e.g. a required user field never set: nothing to poll
                        log.debug("no subscription for %s/%s: %s", user_feature.id, entry.id, exc)


@dataclass
class TriggerPipeline:
    runner: OperationRunner
    recorder: Recorder
    subscriptions: Subscriptions
    deliver: Deliver
    poll_interval: float = 300.0
    leases: PollLeases | None = None
    """Set when hubs share the database: polls are claimed there, not scheduled here."""

    def __post_init__(self) -> None:
        self._seen: dict[str, set[str]] = {}
        self._polling: dict[str, asyncio.Lock] = {}
        self._again: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(POLL_CONCURRENCY)
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        if self.leases is not None:
            self._loop_task = asyncio.create_task(self._leased_poll_loop(self.leases), name="trigger-polling")
        elif self.poll_interval > 0:
            self._loop_task = asyncio.create_task(self._poll_loop(), name="trigger-polling")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- signals ----------------------------------------------------------------------------------

    def notify(self, service_ids: set[str], items: list[Mapping[str, str]]) -> int:
        """Poll the subscriptions that realtime notification ``items`` name; how many were found."""
        found: dict[str, ResolvedOperation] = {}
        for item in items:
            for sub in self.subscriptions.matching(service_ids, item.get("trigger_identity"), item.get("user_id")):
                found[sub.trigger_identity] = sub
        if self.leases is not None and found:
            self._spawn(self._due_now(self.leases, list(found)))
            return len(found)
        for sub in found.values():
            self._spawn(self.poll(sub, "notification"))
        return len(found)

    async def _due_now(self, leases: PollLeases, identities: list[str]) -> None:
        await leases.make_due(identities)
        self._wake.set()

    async def test(self, run: ResolvedOperation, request_id: str) -> ServiceResult:
        """Poll once and deliver the newest item (if any) as a test event. Tests ignore and keep no dedupe."""
        result = await self.runner.poll_trigger(run, TEST_POLL_LIMIT, request_id, source="test")
        if result.ok and not result.skipped:
            for item in _items(result.response_body)[:TEST_POLL_LIMIT]:
                self._emit(run, item, _meta_id(item) or "", "test", request_id)
        return result

    # -- polling ----------------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        """Poll every subscription once per interval, their starts spread evenly across it (the first
        round, which takes every subscription's baseline, over at most FIRST_ROUND_SECONDS)."""
        spread = min(self.poll_interval, FIRST_ROUND_SECONDS)
        while True:
            started = time.monotonic()
            subs = list(self.subscriptions.all().values())
            for n, sub in enumerate(subs):
                await asyncio.sleep(max(0.0, started + n * spread / len(subs) - time.monotonic()))
                await self._slots.acquire()
                task = self._spawn(self.poll(sub, "poll"))
                task.add_done_callback(lambda _: self._slots.release())
            await asyncio.sleep(max(0.0, started + self.poll_interval - time.monotonic()))
            spread = self.poll_interval

    async def _leased_poll_loop(self, leases: PollLeases) -> None:
        """Claim the due subscriptions no other hub holds, as many as there are free slots, and poll them;
        look again every ``LEASE_TICK_S`` of the interval, or at once after a notification."""
        tick = min(MAX_LEASE_TICK_S, self.poll_interval / 10) if self.poll_interval > 0 else MAX_LEASE_TICK_S
        in_flight: set[str] = set()
        while True:
            subs = self.subscriptions.all()
            try:
                await leases.schedule(subs, min(self.poll_interval, FIRST_ROUND_SECONDS))
                claimed = await leases.claim([i for i in subs if i not in in_flight], POLL_CONCURRENCY - len(in_flight))
            except Exception:  # the database is away (restarting): look again next tick
                log.warning("could not claim due trigger polls; trying again", exc_info=True)
                claimed = []
            for identity, notified in claimed:
                sub = subs.get(identity)
                if sub is not None:
                    in_flight.add(identity)
                    task = self._spawn(self._leased_poll(leases, sub, "notification" if notified else "poll"))
                    task.add_done_callback(lambda _, i=identity: (in_flight.discard(i), self._wake.set()))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), tick)
            except TimeoutError:
                pass

    async def _leased_poll(self, leases: PollLeases, sub: ResolvedOperation, signal: Signal) -> None:
        try:
            await self.poll(sub, signal)
            await self.recorder.committed()  # the seen marks, before another hub may poll it
        finally:
            await leases.release(sub.trigger_identity)

    async def poll(self, sub: ResolvedOperation, signal: Signal) -> None:
        """Poll one subscription and turn its new items into trigger events (never two polls at once)."""
        identity = sub.trigger_identity
        lock = self._polling.setdefault(identity, asyncio.Lock())
        if lock.locked():
            self._again.add(identity)
            return
        async with lock:
            await self._poll_once(sub, signal)
            while identity in self._again:
                self._again.discard(identity)
                await self._poll_once(sub, signal)

    async def _poll_once(self, sub: ResolvedOperation, signal: Signal) -> None:
        request_id = uuid.uuid4().hex
        result = await self.runner.poll_trigger(sub, POLL_LIMIT, request_id, source="poll")
        if not result.ok or result.skipped:
            return  # recorded as an outbound call; the next poll tries again
        identity = sub.trigger_identity
        items = [(item, meta_id) for item in _items(result.response_body) if (meta_id := _meta_id(item))]
        seen = await self._seen_ids(identity)
        if seen is None:
            self._seen[identity] = {BASELINE, *(meta_id for _, meta_id in items)}
            self.recorder.remember_seen(identity, [BASELINE, *(meta_id for _, meta_id in items)])
            return
        for item, meta_id in reversed(items):  # services answer newest first; deliver oldest first
            if meta_id in seen:
                continue
            seen.add(meta_id)
            self.recorder.remember_seen(identity, [meta_id])  # committed with the event below
            self._emit(sub, item, meta_id, signal, request_id)

    async def _seen_ids(self, identity: str) -> set[str] | None:
        if identity not in self._seen or self.leases is not None:  # shared: other hubs add marks too
            stored = await self.recorder.seen_meta_ids(identity)
            if stored is None:
                return None
            self._seen[identity] = stored
        return self._seen[identity]

    # -- events -----------------------------------------------------------------------------------

    def _emit(self, sub: ResolvedOperation, item: dict[str, Any], meta_id: str, signal: Signal,
              request_id: str) -> None:
        """Record a trigger event, then (once it is committed) deliver it."""
        ingredients = {k: v for k, v in item.items() if k != "meta"}
        event = _event(sub, ingredients, meta_id, signal, request_id)
        seq = self.recorder.record_with_seq(event)
        self._spawn(self._deliver_when_recorded(sub, event, seq, ingredients))

    async def _deliver_when_recorded(self, sub: ResolvedOperation, event: TriggerEvent,
                                     seq: "asyncio.Future[int]", ingredients: dict[str, Any]) -> None:
        try:
            event_seq = await seq
        except MadeElsewhere:
            return  # another hub polled the same item at the same moment and delivers it
        if event.delivered_to != "none":
            await self.deliver(FiredEvent(sub, event.source, event_seq, ingredients))

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _logged(work: Awaitable[None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # one event's failure must not stop the others
            log.exception("trigger pipeline step failed")


def _items(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _meta_id(item: dict[str, Any]) -> str | None:
    """The item's ``meta.id`` as text; None when it has none (such an item cannot be deduplicated)."""
    meta = item.get("meta")
    value = meta.get("id") if isinstance(meta, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)[:MAX_META_ID]


def _event(sub: ResolvedOperation, ingredients: dict[str, Any], meta_id: str, signal: Signal,
           request_id: str) -> TriggerEvent:
    t = sub.target
    delivered_to = "script" if t.connection.runtime_script else "webhook" if t.connection.webhook_url else "none"
    return TriggerEvent(
        trigger_id=t.entry.ref, connection_id=t.connection.id, feature_id=t.feature.id, user_id=sub.user_id,
        user_feature_id=sub.user_feature_id, trigger_identity=sub.trigger_identity, meta_id=meta_id,
        ingredients=_capped_ingredients(ingredients), source=signal, delivered_to=delivered_to, request_id=request_id,
    )


def _capped_ingredients(ingredients: dict[str, Any]) -> dict[str, Any]:
    """Ingredients as a record keeps them: whole when they fit, else a cut text of them."""
    kept = capped(ingredients)
    return kept if isinstance(kept, dict) else {"_truncated": kept}

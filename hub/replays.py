"""Replays (DESIGN §9): a recorded trigger event delivered once more, through its connection's runtime
script (or its webhook, when it has none), as the subscription of that trigger identity stands today.

The rules are the reruns' rules, and so is the bookkeeping (``hub.reruns``): the same idempotency keys,
a ``requested`` record before anything runs, and a ``rerun`` record of phase ``item`` with ``replay: true``
and ``original`` the trigger event's seq. Refusals: ``not_found``; ``not_rerunnable`` when the record is no
trigger event, its ingredients were too large to be kept whole, its user no longer has that subscription,
the connection has neither script nor webhook now, or its first delivery succeeded (unless ``force``);
``already_rerun`` when it was replayed before (unless ``force``). The new delivery's records (the
``script_run``, or the ``webhook`` call) have ``source: rerun`` and the original ``trigger_event_id``.
"""

from dataclasses import dataclass
from typing import Any
import logging

from switchroom.hub.recorder import Recorder
from switchroom.hub.reruns import ItemResult, Refusal, RerunOrder, Reruns
from switchroom.hub.runner import ResolvedOperation
from switchroom.hub.triggers import Deliver, FiredEvent, Subscriptions
from switchroom.protocol import ApiCall, ScriptRun, body_of
from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN, TRIGGER_EVENT
from switchroom.protocol.ops_answers import Delivery, ReplayAnswer
from switchroom.store import EventLog
from switchroom.store.related import LOOK_AHEAD, record_at, records_near

log = logging.getLogger("switchroom.hub")


@dataclass(frozen=True)
class ReplayTarget:
    """A trigger event that may be replayed, and the subscription that will receive it."""

    event: dict[str, Any]
    subscription: ResolvedOperation

    @property
    def delivered_to(self) -> Delivery:
        return "script" if self.subscription.target.connection.runtime_script else "webhook"


class Replays:
    def __init__(self, reruns: Reruns, subscriptions: Subscriptions, deliver: Deliver, recorder: Recorder) -> None:
        self._reruns, self._subscriptions, self._deliver, self._recorder = reruns, subscriptions, deliver, recorder

    async def target(self, seq: int, order: RerunOrder) -> ReplayTarget:
        """The trigger event ``seq`` and its subscription; a ``Refusal`` when it may not be replayed."""
        event = await self._recorder.read(lambda log: record_at(log, seq))
        if event is None:
            raise Refusal("not_found", f"No record #{seq} in the log")
        if event.get("kind") != TRIGGER_EVENT:
            raise Refusal("not_rerunnable", f"#{seq} is not a trigger event (only trigger events are replayed)")
        if "_truncated" in event.get("ingredients", {}):
            raise Refusal("not_rerunnable", f"#{seq}'s ingredients were too large to be kept whole")
        sub = self._subscriptions.all().get(str(event.get("trigger_identity")))
        if sub is None:
            raise Refusal("not_rerunnable", f"User '{event.get('user_id')}' no longer has the subscription of #{seq}")
        connection = sub.target.connection
        if not connection.runtime_script and not connection.webhook_url:
            raise Refusal("not_rerunnable", f"Connection '{connection.id}' has neither a runtime script nor a webhook")
        if not order.force:
            delivery = await self._recorder.read(lambda log: _first_delivery(log, seq))
            if delivery is not None and _succeeded(delivery):
                raise Refusal("not_rerunnable", f"#{seq} was delivered successfully; force replays it anyway")
            await self._reruns.read_claims([seq])
            if self._reruns.was_rerun(seq):
                raise Refusal("already_rerun", f"#{seq} was replayed before; force replays it again")
        return ReplayTarget(event, sub)

    async def replay(self, target: ReplayTarget, order: RerunOrder) -> dict[str, Any]:
        """Deliver the event again (waiting for the script run or webhook call), audit it, and answer."""
        event = target.event
        fired = FiredEvent(target.subscription, "rerun", event["seq"], event["ingredients"])
        try:
            item, script_run_id = _outcome(event["seq"], await self._deliver(fired))
        except Exception:  # a fault of the hub's own: a failed replay, the traceback in the hub's log
            log.exception("replay of #%s failed in the hub", event["seq"])
            item = ItemResult(event["seq"], "failed", 500, None, "internal_error", "Internal error")
            script_run_id = None
        extra = {"delivered_to": target.delivered_to, **({"script_run_id": script_run_id} if script_run_id else {})}
        await self._reruns.audit(item, event, order, replay=True, **extra)
        return ReplayAnswer(**item.as_json(), **extra).model_dump()


def _outcome(seq: int, delivery: ApiCall | ScriptRun) -> tuple[ItemResult, str | None]:
    """What a delivery's record says of it: the item result, and the script run's id if it was one."""
    ok = _succeeded(body_of(delivery))
    if isinstance(delivery, ScriptRun):
        message = delivery.error.message if delivery.error else None
        return ItemResult(seq, "ok" if ok else "failed", None, None, None if ok else delivery.status,
                          None if ok else message), delivery.script_run_id
    return ItemResult(seq, "ok" if ok else "failed", delivery.status_code, None,
                      None if ok else delivery.error_code, None if ok else delivery.error_message), None


def _succeeded(delivery: dict[str, Any]) -> bool:
    if delivery.get("kind") == SCRIPT_RUN:
        return delivery.get("status") == "ok"
    return (delivery.get("status_code") or 0) in range(200, 300)


def _first_delivery(log: EventLog, seq: int) -> dict[str, Any] | None:
    """The event's own delivery (not a replay's): its script run, else its webhook call; None if there
    is none yet (never delivered, or still running), which does not stand in a replay's way."""
    for kind in (SCRIPT_RUN, API_CALL):
        found = records_near(log, kind, "trigger_event_id", seq, seq, seq + LOOK_AHEAD)
        first = next((r for r in found if r.get("source") != "rerun"), None)
        if first is not None:
            return first
    return None

"""Trigger items of a sample service (DESIGN §5): per ``trigger_identity``, a seeded history, then
items added on demand through the service's ``/_events`` hook. Nothing happens in the background."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
import hashlib
import random
import time

# (random source, the identity's checked triggerFields, when it happened) -> the item's ingredients
ItemMaker = Callable[[random.Random, Mapping[str, Any], datetime], dict[str, Any]]


@dataclass
class _Subscription:
    user_id: str | None
    fields: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)  # oldest first


class TriggerFeed:
    """The items of one trigger, per ``trigger_identity``.

    An identity appears when it is first polled and gets ``history`` seeded items, spaced about
    ``spacing`` apart in the past, so a first poll returns something. Seeded items' ``meta.id`` comes
    from the identity, so a restarted sample service gives the same history the same ids; a new item's
    is the feed's creation time (ms) and a running number, unique and never reused across restarts.
    """

    def __init__(self, ingredients: Sequence[str], make_item: ItemMaker, seed: int,
                 spacing: timedelta = timedelta(hours=1), history: int = 3, keep: int = 200) -> None:
        self.ingredients = tuple(ingredients)
        self._make_item = make_item
        self._seed = seed
        self._random = random.Random(seed)
        self._spacing = spacing
        self._history = history
        self._keep = keep
        self._id_prefix = f"{time.time_ns() // 1_000_000:x}"
        self._count = 0
        self._subscriptions: dict[str, _Subscription] = {}

    def poll(self, identity: str, fields: dict[str, Any], user_id: str | None, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` items of ``identity``, newest first; a new identity gets its seeded history."""
        subscription = self._subscriptions.get(identity)
        if subscription is None:
            subscription = self._subscriptions[identity] = _Subscription(user_id, fields)
            self._seed_history(identity, subscription)
        else:  # a poll carries the identity's current fields and user
            subscription.fields, subscription.user_id = fields, user_id
        return subscription.items[::-1][:limit]

    def add(self, identity: str | None, user_id: str | None,
            overrides: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """One new item for ``identity``, else for each identity of ``user_id``, else for every identity.

        ``overrides`` replace generated ingredients. Raises ``ValueError`` for keys that are not
        ingredients of this trigger and ``LookupError`` for an identity that was never polled.
        """
        unknown = sorted(set(overrides) - set(self.ingredients))
        if unknown:
            raise ValueError(f"not ingredients of this trigger: {', '.join(unknown)}")
        now = datetime.now(timezone.utc)
        return [(name, self._append(subscription, self._random, now, overrides))
                for name, subscription in self._targets(identity, user_id)]

    def _targets(self, identity: str | None, user_id: str | None) -> list[tuple[str, _Subscription]]:
        if identity is not None:
            if identity not in self._subscriptions:
                raise LookupError(f"trigger_identity '{identity[:100]}' has not been polled yet")
            return [(identity, self._subscriptions[identity])]
        return [(name, subscription) for name, subscription in self._subscriptions.items()
                if user_id is None or subscription.user_id == user_id]

    def _seed_history(self, identity: str, subscription: _Subscription) -> None:
        """Seeded by the identity, so the same identity always starts with the same items."""
        rng = random.Random(f"{self._seed}:{identity}")
        at = datetime.now(timezone.utc)
        times = []
        for _ in range(self._history):
            at -= self._spacing * rng.uniform(0.5, 1.5)
            times.append(at.replace(microsecond=0))
        history_id = hashlib.sha256(f"{self._seed}:{identity}".encode()).hexdigest()[:12]
        for n, at in enumerate(reversed(times)):
            self._append(subscription, rng, at, {}, f"h{history_id}-{n}")

    def _append(self, subscription: _Subscription, rng: random.Random, at: datetime,
                overrides: Mapping[str, Any], meta_id: str | None = None) -> dict[str, Any]:
        self._count += 1
        meta_id = meta_id or f"{self._id_prefix}-{self._count}"
        item = {**self._make_item(rng, subscription.fields, at), **overrides,
                "meta": {"id": meta_id, "timestamp": int(at.timestamp())}}
        subscription.items.append(item)
        del subscription.items[:-self._keep]
        return item

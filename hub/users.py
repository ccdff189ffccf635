"""Which users enabled which connections, with their per-feature field values.

Kept in memory, and stored through ``on_change`` (the hub writes them with its event log), behind this
narrow interface so the store can change without touching callers. When other hubs share the store, a
request reads its user's connection afresh (``fresh``) and the changes other hubs make arrive through
``stored``.
"""

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator

from switchroom.protocol.catalog import UserConnection


class UserConnections:
    def __init__(self, stored: Iterable[UserConnection] = (),
                 on_change: Callable[[UserConnection], None] | None = None,
                 fetch: Callable[[str, str], Awaitable[UserConnection | None]] | None = None) -> None:
        """``stored``: what earlier runs kept; ``on_change`` is told of every change, to keep it; ``fetch``
        reads one as stored, when other hubs may have changed it."""
        self._by_key: dict[tuple[str, str], UserConnection] = {}
        self._enabled = Counter[str]()  # connection id → users with it enabled
        self.version = 0
        """Moves on every change, so derived views (trigger subscriptions) know when to rebuild."""
        for user_connection in stored:
            self._set(user_connection)
        self._on_change = on_change
        self._fetch = fetch

    async def fresh(self, user_id: str, connection_id: str) -> UserConnection | None:
        """The user's connection as stored now (another hub may have changed it a moment ago)."""
        if self._fetch is not None:
            stored = await self._fetch(user_id, connection_id)
            if stored is not None and stored != self._by_key.get((user_id, connection_id)):
                self._set(stored)
        return self.get(user_id, connection_id)

    def stored(self, user_connection: UserConnection) -> None:
        """A change another hub made (already stored)."""
        if user_connection != self._by_key.get((user_connection.user_id, user_connection.connection_id)):
            self._set(user_connection)

    def get(self, user_id: str, connection_id: str) -> UserConnection | None:
        return self._by_key.get((user_id, connection_id))

    def put(self, user_connection: UserConnection) -> None:
        self._set(user_connection)
        if self._on_change is not None:
            self._on_change(user_connection)

    def __len__(self) -> int:
        return len(self._by_key)

    def _set(self, user_connection: UserConnection) -> None:
        key = (user_connection.user_id, user_connection.connection_id)
        previous = self._by_key.get(key)
        if previous is not None and previous.status == "enabled":
            self._enabled[previous.connection_id] -= 1
        if user_connection.status == "enabled":
            self._enabled[user_connection.connection_id] += 1
        self._by_key[key] = user_connection
        self.version += 1

    def enabled(self) -> Iterator[UserConnection]:
        """Every user connection that is enabled."""
        return (uc for uc in self._by_key.values() if uc.status == "enabled")

    def enabled_count(self, connection_id: str) -> int:
        return self._enabled[connection_id]

"""Which users enabled which connections, with their per-feature field values.

Kept in memory behind this narrow interface so it can move to a database without touching callers.
"""

from protocol.catalog import UserConnection


class UserConnections:
    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], UserConnection] = {}

    def get(self, user_id: str, connection_id: str) -> UserConnection | None:
        return self._by_key.get((user_id, connection_id))

    def put(self, user_connection: UserConnection) -> None:
        self._by_key[(user_connection.user_id, user_connection.connection_id)] = user_connection

    def enabled_count(self, connection_id: str) -> int:
        return sum(
            1 for (_, cid), uc in self._by_key.items() if cid == connection_id and uc.status == "enabled"
        )

"""How the hub's connections are defined (``GET /v1/ops/connections/{id}``), as the dashboard needs
them for detail views: fetched on demand, kept in memory, and saved beside the hub's cache so that a
script's source can still be shown when the hub is gone."""

from pathlib import Path
from typing import Any

import orjson

from tui.http import HubUnreachable, hub_request

FETCH_TIMEOUT = 5.0


class Definitions:
    def __init__(self, hub_url: str, token: str, cache_dir: Path) -> None:
        self.hub_url = hub_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._cache_dir = cache_dir
        self._known: dict[str, dict[str, dict[str, Any]]] = {}
        """Per hub id: connection id → definition."""

    def _saved_path(self, hub_id: str) -> Path:
        return self._cache_dir / "hubs" / f"{hub_id}.connections.json"

    async def get(self, hub_id: str, connection_id: str) -> dict[str, Any] | None:
        """The connection's definition: from the hub when it answers, else as last saved; None if neither."""
        try:
            response = await hub_request(self.hub_url, "GET", f"/v1/ops/connections/{connection_id}", FETCH_TIMEOUT,
                                         FETCH_TIMEOUT, headers=self._headers)
        except HubUnreachable:
            return self._saved(hub_id).get(connection_id)
        if response.status_code != 200:
            return self._saved(hub_id).get(connection_id)
        definition: dict[str, Any] = response.json()
        known = self._saved(hub_id)
        if known.get(connection_id) != definition:
            known[connection_id] = definition
            self._save(hub_id, known)
        return definition

    def _saved(self, hub_id: str) -> dict[str, dict[str, Any]]:
        if hub_id not in self._known:
            try:
                self._known[hub_id] = orjson.loads(self._saved_path(hub_id).read_bytes())
            except (OSError, orjson.JSONDecodeError):
                self._known[hub_id] = {}
        return self._known[hub_id]

    def _save(self, hub_id: str, known: dict[str, dict[str, Any]]) -> None:
        path = self._saved_path(hub_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(known))
        temporary.replace(path)

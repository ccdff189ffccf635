"""What the hub tells of its connections beyond its log: how each is defined (``GET
/v1/ops/connections/{id}``, for detail views) and how many features and enabled users each has (``GET
/v1/ops/connections``, for the Connections pane). Fetched when needed and saved beside the hub's cache,
so that they still show when the hub is gone."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote
import os

import orjson

from switchroom.store.private_files import private_folder
from switchroom.tui.http import HubUnreachable, hub_request

FETCH_TIMEOUT = 5.0


class ConnectionFacts(NamedTuple):
    """What the hub alone knows of a connection (not its log): how many features it has and how many
    users have it enabled."""

    features: int
    enabled_users: int


@dataclass(frozen=True)
class BadAnswer:
    """The hub answered ``GET /v1/ops/connections/{id}`` with something that is no connection definition
    (a hub is untrusted input): shown as a message, never read as one."""

    what: str
    """What it was, e.g. ``a JSON array``."""


_JSON_TYPES = {list: "a JSON array", str: "a JSON string", int: "a number", float: "a number", bool: "true or false",
               type(None): "null"}
"""What each JSON value that is not an object is called in the message that shows it."""


def _facts_path(cache_dir: Path, hub_id: str) -> Path:
    return cache_dir / "hubs" / f"{hub_id}.connection-facts.json"


def saved_connection_ids(cache_dir: Path, hub_id: str) -> set[str]:
    """The ids of the connections the hub listed when last asked (empty when it never was)."""
    try:
        saved = orjson.loads(_facts_path(cache_dir, hub_id).read_bytes())
    except (OSError, ValueError):
        return set()
    return set(saved) if isinstance(saved, dict) else set()


class Definitions:
    def __init__(self, hub_url: str, token: str, cache_dir: Path) -> None:
        self.hub_url = hub_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._cache_dir = cache_dir
        self._known: dict[str, dict[str, dict[str, Any]]] = {}
        """Per hub id: connection id → definition."""
        self._written_facts: dict[str, dict[str, ConnectionFacts]] = {}
        """Per hub id: the facts last saved by this run."""

    def _saved_path(self, hub_id: str) -> Path:
        return self._cache_dir / "hubs" / f"{hub_id}.connections.json"

    async def get(self, hub_id: str, connection_id: str) -> dict[str, Any] | BadAnswer | None:
        """The connection's definition: from the hub when it answers, else as last saved; None if neither.
        An answer that is not a JSON object is a ``BadAnswer`` when nothing was saved before."""
        try:
            # the id is the hub's (from its records): quoted, so that any text makes one path segment
            response = await hub_request(self.hub_url, "GET", f"/v1/ops/connections/{quote(connection_id, safe='')}",
                                         FETCH_TIMEOUT, FETCH_TIMEOUT, headers=self._headers)
        except HubUnreachable:
            return self._saved(hub_id).get(connection_id)
        if response.status_code != 200:
            return self._saved(hub_id).get(connection_id)
        try:
            definition = response.json()
        except ValueError:
            return self._saved(hub_id).get(connection_id) or BadAnswer("text that is not JSON")
        if not isinstance(definition, dict):
            return self._saved(hub_id).get(connection_id) or BadAnswer(_JSON_TYPES[type(definition)])
        known = self._saved(hub_id)
        if known.get(connection_id) != definition:
            known[connection_id] = definition
            self._save(hub_id, known)
        return definition

    async def facts(self, hub_id: str) -> dict[str, ConnectionFacts]:
        """Every connection of the hub with its ``ConnectionFacts`` (``GET /v1/ops/connections``), saved
        beside the cache; as last saved when the hub does not answer (empty if it never did)."""
        path = _facts_path(self._cache_dir, hub_id)
        try:
            response = await hub_request(self.hub_url, "GET", "/v1/ops/connections", FETCH_TIMEOUT, FETCH_TIMEOUT,
                                         headers=self._headers)
            listed = response.json()["data"] if response.status_code == 200 else None
            found = {str(c["id"]): ConnectionFacts(len(c["features"]), int(c["enabled_users"])) for c in listed or []}
        except (HubUnreachable, ValueError, KeyError, TypeError):
            listed = None
        if listed is None:
            try:
                return {key: ConnectionFacts(*value) for key, value in orjson.loads(path.read_bytes()).items()}
            except (OSError, ValueError, TypeError, AttributeError):  # none saved, or a damaged file
                return {}
        if self._written_facts.get(hub_id) != found:  # asked every 30 s: written only when they change
            _write(path, orjson.dumps({key: list(value) for key, value in found.items()}))
            self._written_facts[hub_id] = found
        return found

    def _saved(self, hub_id: str) -> dict[str, dict[str, Any]]:
        if hub_id not in self._known:
            try:
                saved = orjson.loads(self._saved_path(hub_id).read_bytes())
            except (OSError, orjson.JSONDecodeError):
                saved = None
            self._known[hub_id] = saved if isinstance(saved, dict) else {}  # none saved, or a damaged file
        return self._known[hub_id]

    def _save(self, hub_id: str, known: dict[str, dict[str, Any]]) -> None:
        _write(self._saved_path(hub_id), orjson.dumps(known))


def _write(path: Path, content: bytes) -> None:
    """Replace ``path``'s content at once (a reader never sees half of it), readable by the user alone
    (definitions carry developer field values)."""
    private_folder(path.parent)
    temporary = path.with_suffix(".tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)  # a temporary file left by an older version may have another mode
    with os.fdopen(handle, "wb") as file:
        file.write(content)
    temporary.replace(path)

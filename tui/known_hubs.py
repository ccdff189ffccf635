"""Which cache file holds which hub: ``hubs/index.json`` in the cache directory, hub key → hub id.

A hub is known by its URL (the embedded demo hub, whose port changes, by ``embedded``), so the cache of
a hub that is gone can still be found and browsed.
"""

from pathlib import Path
import json
import os
import tempfile

from switchroom.store.private_files import private_folder

EMBEDDED = "embedded"
MAX_INDEX_BYTES = 1 << 20


def _index(cache_dir: Path) -> Path:
    return cache_dir / "hubs" / "index.json"


def hub_key(hub_url: str) -> str:
    return hub_url.rstrip("/").lower()


def _read_index(cache_dir: Path) -> dict[str, str]:
    """The index; empty when it is missing or damaged (each hub's cache is then found again on its next
    connection): not a regular file, larger than ``MAX_INDEX_BYTES``, not JSON, or nested past Python's
    recursion limit."""
    path = _index(cache_dir)
    try:
        if not path.is_file() or path.stat().st_size > MAX_INDEX_BYTES:
            return {}
        index = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return {}
    return {k: v for k, v in index.items() if isinstance(v, str)} if isinstance(index, dict) else {}


def known_hub_id(cache_dir: Path, key: str) -> str | None:
    return _read_index(cache_dir).get(key)


def remember_hub(cache_dir: Path, key: str, hub_id: str) -> None:
    """Record that ``key``'s cache is ``hub_id``'s; written whole and renamed into place."""
    path = _index(cache_dir)
    index = _read_index(cache_dir)
    if index.get(key) == hub_id:
        return
    index[key] = hub_id
    private_folder(path.parent)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".index-")
    with os.fdopen(handle, "w") as file:
        json.dump(index, file)
    os.replace(temporary, path)


def known_hub_keys(cache_dir: Path) -> list[str]:
    """Every hub this machine keeps a cache of: the embedded demo hub and hub URLs, as in the index."""
    return sorted(_read_index(cache_dir))

"""Reloading the catalog file while the hub runs: on ``SIGHUP`` and ``POST /v1/ops/catalog/reload``
(``docs/catalog.md``).

The file the hub started with is read and checked again, exactly as at start and off the event loop (its
scripts compile in V8). A file with problems is refused with the same messages (file, place, script
file:line:column) and the hub goes on serving the catalog it had. A good one takes the old one's place in one
step (``Catalog.take``): requests, trigger events and runs that begin after it use the new catalog; those
begun before finish on the snapshot they hold, and each ``script_run`` records the version of the script it
ran. One reload at a time.

Where hubs share a database, they must serve one catalog (``hub.peers``): a reload that changes it is
refused while another hub runs there.

A reload is not a record of the event log: the hub's log says who asked (the token's name, or the signal)
and what changed, and the access log has the request.
"""

from collections.abc import Callable, Mapping
from pathlib import Path
import asyncio
import logging

from pydantic import BaseModel

from switchroom.hub.catalog import Catalog
from switchroom.hub.catalog_file import CatalogError
from switchroom.hub.peers import CatalogMismatch, Peers
from switchroom.hub.redaction import Redactor
from switchroom.hub.script_runs import script_version
from switchroom.protocol.catalog import Connection
from switchroom.protocol.ops_answers import CatalogReloaded, IdChanges, ScriptVersions

log = logging.getLogger("switchroom.hub")


class CatalogReload:
    def __init__(self, catalog: Catalog, path: Path, load: Callable[[], Catalog], redactor: Redactor,
                 peers: Peers) -> None:
        """``catalog``: the one the hub serves; ``load`` reads and checks ``path`` (``load_catalog`` with the
        hub's environment and sample services), raising ``CatalogError``."""
        self._catalog, self._path, self._load, self._redactor, self._peers = catalog, path, load, redactor, peers
        self._one_at_a_time = asyncio.Lock()
        self._signalled: set[asyncio.Task[None]] = set()

    async def reload(self, cause: str) -> CatalogReloaded:
        """Read the catalog file again and serve it; what changed. ``cause`` says who asked, for the log.
        Raises ``CatalogError`` (the file has problems) or ``CatalogMismatch`` (other hubs on the database);
        either way the catalog stays as it was."""
        async with self._one_at_a_time:
            try:
                new = await asyncio.to_thread(self._load)
                changes = catalog_changes(self._catalog, new, self._path)
                if changes.changed:
                    await self._peers.change_catalog(new.fingerprint())
                    self._redactor.learn(service.service_key for service in new.services.values())
                    self._catalog.take(new)
            except CatalogError as exc:
                for problem in exc.problems:
                    log.warning("catalog reload (%s) refused, the catalog stays as it was: %s: %s", cause, exc.path,
                                problem)
                raise
            except CatalogMismatch as exc:
                log.warning("catalog reload (%s) refused, the catalog stays as it was: %s", cause, exc)
                raise
        log.info("catalog reloaded from %s (%s): %s", self._path, cause, summary(changes))
        return changes

    def reload_soon(self, cause: str) -> None:
        """``reload`` for a signal, in a task of its own: nobody to answer, so the outcome is only logged."""
        task = asyncio.get_running_loop().create_task(self._reload_logged(cause), name="catalog-reload")
        self._signalled.add(task)
        task.add_done_callback(self._signalled.discard)

    async def _reload_logged(self, cause: str) -> None:
        try:
            await self.reload(cause)
        except (CatalogError, CatalogMismatch):
            pass  # logged by reload
        except Exception:  # e.g. the shared database is away: the catalog stays, and the operator is told why
            log.exception("catalog reload (%s) failed, the catalog stays as it was", cause)


def catalog_changes(old: Catalog, new: Catalog, path: Path) -> CatalogReloaded:
    """What serving ``new`` instead of ``old`` changes."""
    connections, services = _id_changes(old.connections, new.connections), _id_changes(old.services, new.services)
    with_scripts = {cid for catalog in (old, new) for cid, c in catalog.connections.items()
                    if c.runtime_script is not None}
    return CatalogReloaded(
        file=str(path),
        changed=any(ids.added or ids.removed or ids.changed for ids in (connections, services)),
        connections=connections, services=services,
        scripts=[ScriptVersions(connection_id=cid, old_version=_version(old.connections.get(cid)),
                                new_version=_version(new.connections.get(cid)))
                 for cid in sorted(with_scripts)],
    )


def _id_changes(old: Mapping[str, BaseModel], new: Mapping[str, BaseModel]) -> IdChanges:
    return IdChanges(added=sorted(new.keys() - old.keys()), removed=sorted(old.keys() - new.keys()),
                     changed=sorted(key for key in old.keys() & new.keys() if old[key] != new[key]))


def _version(connection: Connection | None) -> str | None:
    script = connection.runtime_script if connection else None
    return script_version(script) if script is not None else None


def summary(changes: CatalogReloaded) -> str:
    """One line for the log: ``connections +added -removed ~changed; services …; script id old → new``."""
    if not changes.changed:
        return "nothing changed"
    parts = [f"{name} " + " ".join(f"{sign}{key}" for sign, keys in (("+", ids.added), ("-", ids.removed),
                                                                         ("~", ids.changed)) for key in keys)
             for name, ids in (("connections", changes.connections), ("services", changes.services))
             if ids.added or ids.removed or ids.changed]
    parts += [f"script {s.connection_id} {s.old_version or 'none'} → {s.new_version or 'none'}"
              for s in changes.scripts if s.old_version != s.new_version]
    return "; ".join(parts)

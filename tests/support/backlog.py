"""A hub's log holding a large backlog, for tests that stream it while cutting the link or killing the
dashboard."""

from pathlib import Path

from switchroom.store.hub_log import open_hub_log
from tests.support.hubproc import hub_db

BACKLOG = 200_000


def build_backlog(path: Path) -> None:
    """The log of a hub started with ``db=path`` (on PostgreSQL, when the tests run there)."""
    log = open_hub_log(hub_db(path))
    log.ensure_hub_id()
    for start in range(0, BACKLOG, 50_000):
        log.append([{"kind": "api_call", "direction": "inbound", "method": "POST", "path": "/v2/x", "op": "action",
                     "connection_id": "evening-glow", "status_code": 204, "request_id": f"backlog-{n}"}
                    for n in range(start, start + 50_000)])
    log.close()

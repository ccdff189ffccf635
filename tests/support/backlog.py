"""A hub's log holding a large backlog, for tests that stream it while cutting the link or killing the
dashboard."""

from pathlib import Path

from switchroom.store import EventLog

BACKLOG = 200_000


def build_backlog(path: Path) -> None:
    log = EventLog(path)
    log.ensure_hub_id()
    for start in range(0, BACKLOG, 50_000):
        log.append([{"kind": "api_call", "direction": "inbound", "method": "POST", "path": "/v2/x", "op": "action",
                     "connection_id": "evening-glow", "status_code": 204, "request_id": f"backlog-{n}"}
                    for n in range(start, start + 50_000)])
    log.close()

"""A dashboard cache of a hub that is gone: records written as the replicator would have left them, and
the dashboard opened on it, so that what it shows depends on those records alone."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from switchroom.store import EventLog, iso_timestamp
from switchroom.tui import known_hubs
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.config import Config

GONE_HUB = "http://127.0.0.1:9"  # the discard port: no hub answers there
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
APPEND_CHUNK = 20_000


def records() -> list[dict[str, Any]]:
    """Half an hour of a small hub: calls that succeed and fail, script runs, trigger events, a rerun."""
    found: list[dict[str, Any]] = []
    at = NOW - timedelta(minutes=30)
    for n in range(60):
        at += timedelta(seconds=29)
        connection, feature, op = [("evening-glow", "glow", "lights.change_color"),
                                   ("rain-alert", "umbrella", "messages.send_text")][n % 2]
        status = [204, 204, 204, 502, 204, 422][n % 6]
        base = {"ts": iso_timestamp(at), "connection_id": connection, "feature_id": feature, "user_id": f"user-{n % 7:03d}",
                "user_feature_id": f"uf-{n % 7}", "op": "action", "op_id": op, "request_id": f"r{n}"}
        found.append({"kind": "api_call", **base, "direction": "inbound", "method": "POST",
                      "path": f"/v2/connections/{connection}/actions/{op}/run", "status_code": status,
                      "latency_ms": 10.0 + n % 9, "source": "api", "resolved_fields": {"color": "blue"},
                      **({"error_code": "service_error", "error_message": "the service failed"} if status == 502 else {})})
        if n % 5 == 0:
            found.append({"kind": "trigger_event", **base, "trigger_id": "weather.rain_tomorrow",
                          "trigger_identity": f"t{n}", "meta_id": f"m{n}", "delivered_to": "script", "source": "poll",
                          "ingredients": {"location": "[bold red]x[/]\x1b[2J", "rain_chance": 80}})
            found.append({"kind": "script_run", **base, "script_run_id": f"s{n}", "op_id": "weather.rain_tomorrow",
                          "status": ["ok", "error", "timeout"][n % 3], "duration_ms": [40.0, 12.0, 10000.0][n % 3],
                          "time_limit_ms": 10000.0, "script_version": "abc123",
                          **({"error": {"message": "TypeError: x is undefined", "line": 7, "column": 12}}
                             if n % 3 == 1 else {})})
    found.append({"kind": "rerun", "ts": iso_timestamp(NOW - timedelta(minutes=1)), "phase": "item", "original": 4,
                  "outcome": "ok", "status_code": 204, "api_call_id": 200, "actor": "default", "reason": "back up",
                  "connection_id": "evening-glow", "feature_id": "glow", "op_id": "lights.change_color"})
    return found




def write_offline_cache(cache_dir: Path, made: list[dict[str, Any]], hub_id: str = "snapshot-hub") -> None:
    """``made`` in ``cache_dir`` as copied from the hub ``hub_id``, which was at ``GONE_HUB``."""
    log = EventLog(cache_dir / "hubs" / f"{hub_id}.sqlite", replica=True)
    log.set_meta("hub_id", hub_id)
    for start in range(0, len(made), APPEND_CHUNK):
        stored = log.append(made[start:start + APPEND_CHUNK])
    log.replicate([], stored[-1]["seq"])
    log.close()
    known_hubs.remember_hub(cache_dir, known_hubs.hub_key(GONE_HUB), hub_id)


def offline_app(cache_dir: Path, config: Config | None = None) -> SwitchroomApp:
    """The dashboard on the cache in ``cache_dir``, its hub gone."""
    return SwitchroomApp(GONE_HUB, "no-token", cache_dir, config=config)

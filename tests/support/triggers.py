"""A hub over the demo catalog pointed at the test process's own sample services, with a user who enabled
its connections; making trigger items and notifications, and reading the hub's log until records arrive."""

from collections.abc import Callable
from pathlib import Path
from typing import Any
import time

import httpx

from switchroom.store.hub_log import open_hub_log
from tests.support.hubproc import RunningHub, start_hub
from tests.support.sample_services import SampleServices

Record = dict[str, Any]
USER = "user-t1"
PHONE = "+15550100001"
HANG_SCRIPT = """console.log("about to hang");
await runAction("lights.change_color", {});
while (true) {}
"""
HANG_CONNECTION = """
[connections.hang-on]
name = "Hang on"
owner_service = "lights"
runtime_script = "scripts/hang.js"

[[connections.hang-on.features]]
id = "hang"
name = "Hang"

[[connections.hang-on.features.triggers]]
id = "ft_hang_light_on"
ref = "lights.light_on"
fields.light = { visibility = "user", value = "bedroom" }

[[connections.hang-on.features.actions]]
id = "fa_hang_color"
ref = "lights.change_color"
fields.light = { visibility = "developer", value = "bedroom" }
fields.color = { visibility = "user", value = "blue" }
"""

BOMB_SCRIPT = "const hoard = [];\nwhile (true) { hoard.push(new Array(100000).fill(hoard.length)); }\n"
GLOBALS_SCRIPT = """console.log(JSON.stringify({
  zone: Meta.currentUserTime.format("Z"), trigger: Trigger.id, light: Trigger.ingredients.light,
  user: Connection.serviceUserId, feature: Connection.currentFeatureName, userFeature: Connection.userFeatureId,
  configuration: Connection.configuration,
}));
"""


def script_connection(connection_id: str, script: str) -> str:
    """A catalog connection on the light_on trigger whose script is ``scripts/{script}``."""
    return f"""
[connections.{connection_id}]
name = "{connection_id}"
owner_service = "lights"
runtime_script = "scripts/{script}"
configuration = {{ greeting = "hello" }}

[[connections.{connection_id}.features]]
id = "{connection_id}-feature"
name = "The {connection_id} feature"

[[connections.{connection_id}.features.triggers]]
id = "ft_{connection_id}"
ref = "lights.light_on"
fields.light = {{ visibility = "user", value = "bedroom" }}
"""


# What USER enables, as PUT .../user_connection bodies (the wire's user_features).
ENABLE = {
    "liked-video-texts": {"user_features": [{
        "feature_id": "more-like-this",
        "user_feature_actions": [{"feature_action_id": "fa_text_titles",
                                  "user_fields": [{"field_id": "phone", "value": PHONE}]}],
    }]},
    "rain-alert": {"user_features": [{
        "feature_id": "umbrella",
        "user_feature_actions": [{"feature_action_id": "fa_rain_text",
                                  "user_fields": [{"field_id": "phone", "value": PHONE}]}],
    }]},
    "light-log": {"user_features": [{"feature_id": "log"}]},
    "hang-on": {"user_features": [{"feature_id": "hang"}]},
    "bomb": {"user_features": [{"feature_id": "bomb-feature"}]},
    "globals": {"user_features": [{"feature_id": "globals-feature"}], "timezone": "Asia/Tokyo"},
}


def start(services: SampleServices, workdir: Path, *args: str, db: Path | str | None = None,
          enable: bool = True, token: str | None = None) -> RunningHub:
    """A hub (no demo) over the demo catalog pointed at ``services``, plus the hanging connection; USER
    enables the connections of ENABLE (unless the hub's database already has them)."""
    extra = HANG_CONNECTION + script_connection("bomb", "bomb.js") + script_connection("globals", "globals.js")
    catalog = services.demo_catalog(workdir / "catalog", drop_scripts=("porch_welcome.js",), extra=extra)
    for name, script in (("hang.js", HANG_SCRIPT), ("bomb.js", BOMB_SCRIPT), ("globals.js", GLOBALS_SCRIPT)):
        (catalog.parent / "scripts" / name).write_text(script)
    hub = start_hub(workdir, demo=False, service_key=services.service_key, db=db, token=token,
                    extra_args=("--catalog", str(catalog), *args))
    for connection_id, body in ENABLE.items() if enable else ():
        response = httpx.put(f"{hub.url}/v2/connections/{connection_id}/user_connection", params={"user_id": USER},
                             json=body, headers=key(hub))
        assert response.status_code == 200, response.text
    return hub


def key(hub: RunningHub) -> dict[str, str]:
    return {"IFTTT-Service-Key": hub.service_key}


def notify(hub: RunningHub, *items: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{hub.url}/v1/notifications", json={"data": list(items)}, headers=key(hub))


def records(db: Path | str) -> list[Record]:
    log = open_hub_log(db)
    try:
        return log.read_after(0, 1_000_000)
    finally:
        log.close()


def wait_for(db: Path | str, found: Callable[[list[Record]], list[Record]], count: int = 1,
             timeout: float = 30.0) -> list[Record]:
    """Read the hub's log until ``found(records)`` holds at least ``count`` records."""
    deadline = time.monotonic() + timeout
    while True:
        matches = found(records(db))
        if len(matches) >= count:
            return matches
        assert time.monotonic() < deadline, f"only {len(matches)} of {count} records after {timeout} s"
        time.sleep(0.1)


def of(kind: str, **fields: Any) -> Callable[[list[Record]], list[Record]]:
    return lambda rs: [r for r in rs if r["kind"] == kind and all(r.get(k) == v for k, v in fields.items())]


def polls(connection_id: str, status: int = 200) -> Callable[[list[Record]], list[Record]]:
    return of("api_call", direction="outbound", op="trigger", connection_id=connection_id, user_id=USER,
              status_code=status)


def add_item(services: SampleServices, trigger: str, **ingredients: Any) -> list[dict[str, Any]]:
    """A new trigger item for USER's subscriptions; the items made (one per subscription)."""
    service, slug = trigger.split(".")
    added = services.post(service, f"/_events/{slug}", {"user_id": USER, "ingredients": ingredients}).json()["data"]
    assert added, "the service has no subscription of this user yet"
    return added


def failed_rain_alert_run(hub: RunningHub, services: SampleServices) -> Record:
    """The ``script_run`` of a rain-alert trigger event whose script throws: an item for a day no forecast
    covers, announced by a realtime notification after the subscription's first poll."""
    notify(hub, {"user_id": USER})
    wait_for(hub.db, polls("rain-alert"))
    add_item(services, "weather.rain_tomorrow", date="2001-01-01")
    notify(hub, {"user_id": USER})
    [run] = wait_for(hub.db, of("script_run", connection_id="rain-alert"))
    return run

"""Script trials as a developer makes them: the demo's scripts and candidates that fix or break them,
recorded runs to try them on, and a trial's answer read line by line."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
import json

import httpx

from switchroom.hub.settings import DEMO_CATALOG
from tests.support.hubproc import RunningHub
from tests.support.sample_services import SampleServices
from tests.support.triggers import USER, add_item, failed_rain_alert_run, notify, of, polls, records, wait_for

Record = dict[str, Any]
SERVICES = ("lights", "messages", "videos", "weather")
"""The sample services that speak the Service API (the developer's backend has no operations)."""

RAIN_ALERT_FIXED = (DEMO_CATALOG.parent / "scripts" / "rain_alert.js").read_text().replace(
    "const text = `Rain tomorrow in ${rain.location} (${rain.rain_chance}%), high of ${tomorrow.high_c}°C.`;",
    "if (!tomorrow) { console.warn(`no forecast for ${rain.date}`); return; }\n"
    "const text = `Rain tomorrow in ${rain.location} (${rain.rain_chance}%), high of ${tomorrow.high_c}°C.`;")
"""The demo's rain-alert with the TypeError fixed: an event for a day the forecast does not cover is let go."""
assert RAIN_ALERT_FIXED != (DEMO_CATALOG.parent / "scripts" / "rain_alert.js").read_text()

LIKED_VIDEO_TEXTS_BROKEN = """// texts only the first video, then trips over a typo
const liked = Trigger.ingredients;
const found = await performQuery("videos.search_videos", { fields: { q: liked.title }, limit: 3 });
await runAction("messages.send_text", { fields: { body: `${found.responseBody.data[0].title}` } });
console.log(fuond.length);
"""


def rain_alert_runs(hub: RunningHub, services: SampleServices) -> tuple[Record, Record]:
    """A failed rain-alert run (a day no forecast covers) and then a good one (tomorrow)."""
    failed = failed_rain_alert_run(hub, services)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    add_item(services, "weather.rain_tomorrow", date=tomorrow, location="Oslo", rain_chance=80)
    notify(hub, {"user_id": USER})
    runs = wait_for(hub.db, of("script_run", connection_id="rain-alert"), count=2)
    good = runs[-1]
    assert failed["status"] == "error" and good["status"] == "ok", good.get("error")
    return failed, good


def liked_video_run(hub: RunningHub, services: SampleServices, title: str = "Sourdough for beginners") -> Record:
    """An ok liked-video-texts run: one search, three texts."""
    notify(hub, {"user_id": USER})
    wait_for(hub.db, polls("liked-video-texts"))
    before = len(of("script_run", connection_id="liked-video-texts")(_all(hub)))
    add_item(services, "videos.new_liked_video", title=title)  # for every hub's subscription the service knows
    notify(hub, {"user_id": USER})
    runs = wait_for(hub.db, of("script_run", connection_id="liked-video-texts"), count=before + 1)
    assert runs[-1]["status"] == "ok", runs[-1].get("error")
    return runs[-1]


def _all(hub: RunningHub) -> list[Record]:
    return records(hub.db)


def try_script(hub: RunningHub, body: dict[str, Any], token: str | None = None) -> tuple[int, list[Record]]:
    """POST a trial; its status and its lines (JSON lines, or the one error body)."""
    with httpx.stream("POST", f"{hub.url}/v1/ops/script-trials", json=body, timeout=120,
                      headers={"Authorization": f"Bearer {token or hub.token}"}) as response:
        lines = [json.loads(line) for line in response.iter_lines() if line.strip()]
    return response.status_code, lines


def calls_received(services: SampleServices) -> dict[str, dict[str, int]]:
    """What each sample service has been asked so far, by operation."""
    return {name: {op: n for op, n in services.get(name, "/_calls").json()["data"].items()
                   if op.startswith(("action/", "query/"))} for name in SERVICES}


def write_script(directory: Path, text: str) -> Path:
    path = directory / "candidate.js"
    path.write_text(text)
    return path

"""Driving the headless dashboard in tests: the app on a hub, waits that let it run, and reads of what it
shows."""

from collections.abc import Callable
from pathlib import Path

import httpx
from textual.pilot import Pilot

from switchroom.tui.app import SwitchroomApp
from switchroom.tui.config import Config
from switchroom.tui.widgets.log_view import LogView
from tests.support.hub_calls import RUN
from tests.support.hubproc import RunningHub
from tests.support.waiting import Description, eventually


def make_app(hub: RunningHub | str, tmp_path: Path, config: Config | None = None) -> SwitchroomApp:
    """The dashboard on ``hub`` (a running hub, or the URL of a stand-in that takes any token), its cache
    in the test's own ``tmp_path``."""
    url, token = (hub, "token") if isinstance(hub, str) else (hub.url, hub.token)
    return SwitchroomApp(url, token, tmp_path / "cache", config=config)


async def wait_until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 60.0,
                     what: Description = None) -> None:
    """Let the app run until ``condition`` holds (a bound on waiting, not a speed assertion); a wait that
    gives up fails, naming the condition."""
    await eventually(condition, what, timeout=timeout, pause=pilot.pause)


def shows_inbound(view: LogView, request_id: str) -> Callable[[], bool]:
    return lambda: any(
        r.get("request_id") == request_id and r["direction"] == "inbound" for r in view.visible_rows()
    )


def screen_lines(view: LogView) -> list[str]:
    return [view.render_line(y).text for y in range(view.size.height)]


async def run_action(hub: RunningHub, user_id: str, request_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=hub.url) as http:
        return await http.post(RUN, json={"user_id": user_id},
                               headers={"IFTTT-Service-Key": hub.service_key, "X-Request-ID": request_id})

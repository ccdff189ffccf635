"""``R`` in the dashboard, headless against a real hub of its own: the dry-run count, the confirmation,
the bulk, its per-item results, and that what runs is exactly what was confirmed."""

from pathlib import Path
import re
import uuid

import httpx
from textual.widgets import Input

from switchroom.store import EventLog
from tests.support.hubproc import RunningHub, start_hub
from tests.support.dashboard import make_app, run_action, wait_until
from switchroom.tui.screens.bulk_rerun import BulkRerun
from switchroom.tui.screens.confirm import ConfirmScreen

FILTER = "feature:glow status:502 dir:inbound"


async def fail_runs(hub: RunningHub, users: int) -> list[int]:
    """Runs of evening-glow while the lights are out: the seqs of those that failed (users with the
    connection), read from the hub's own log."""
    hub.set_lights_faults(outage=True)
    request_ids = [uuid.uuid4().hex for _ in range(users)]
    for n, request_id in enumerate(request_ids, start=1):
        await run_action(hub, f"user-{n:03d}", request_id)
    hub.set_lights_faults()
    auth = {"Authorization": f"Bearer {hub.token}"}
    plan = httpx.post(f"{hub.url}/v1/ops/reruns", json={"filter": FILTER, "dry_run": True}, headers=auth).json()
    return plan["api_call_ids"]


async def test_r_runs_exactly_the_calls_it_counted_and_confirmed(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub")
    try:
        counted = await fail_runs(hub, 20)
        assert counted
        app = make_app(hub, tmp_path)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await pilot.press("2", "slash", *FILTER, "enter")
            await wait_until(pilot, lambda: app.link.name == "live")
            await pilot.press("R")
            await wait_until(pilot, lambda: isinstance(app.focused, Input) and app.focused.id == "bulk-reason")
            plan = str(app.screen.query_one("#bulk-plan").render())
            assert f"{len(counted)} failed action calls would be rerun" in plan, plan
            await pilot.press(*"lights back", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            question = str(app.screen.query_one("#confirm-question").render())
            assert re.search(rf"Rerun {len(counted)} failed calls\?", question), question
            assert "reason: lights back" in str(app.screen.query_one("#confirm-detail").render())

            later = await fail_runs(hub, 30)  # while the question is open, more calls fail
            assert len(later) > len(counted)
            await pilot.press("y")
            await wait_until(pilot, lambda: isinstance(app.screen, BulkRerun) and app.screen.final is not None,
                             timeout=60, what="the bulk to end")
            bulk = app.screen
            assert isinstance(bulk, BulkRerun) and bulk.final is not None
            assert bulk.final["state"] == "finished" and bulk.final["total"] == len(counted)
            assert sorted(item["original"] for item in bulk.final["items"]) == sorted(counted)
            assert all(item["outcome"] == "ok" for item in bulk.final["items"])
            shown = str(bulk.query_one("#bulk-counts").render())
            assert f"{len(counted)} of {len(counted)} · ok {len(counted)}" in shown
        audit = [r for r in EventLog(hub.db).read_after(0, 100_000) if r["kind"] == "rerun" and r["phase"] == "item"]
        assert len(audit) == len(counted) and {r["reason"] for r in audit} == {"lights back"}
    finally:
        hub.stop()

"""``switchroom rerun``: the real command, run as a subprocess against a real hub, piped (so JSON lines):
one rerun, refusals, bad filters, wrong tokens, a bulk with --yes, and Ctrl-C cancelling a bulk."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
import json
import os
import pty
import signal
import subprocess
import sys

import httpx
import pytest

from tests.support.hubproc import RunningHub, bare_env, start_hub
from tests.support.hub_calls import inbound, records, run_action
from switchroom.tui.rerun_command import parse_field

COMMAND = [str(Path(sys.executable).with_name("switchroom")), "rerun"]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    running = start_hub(tmp_path / "hub")
    yield running
    running.stop()


def env(hub: RunningHub, token: str | None = None) -> dict[str, str]:
    return bare_env(SWITCHROOM_TOKEN=token or hub.token, SWITCHROOM_HUB=hub.url)


def switchroom_rerun(hub: RunningHub, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=120, env=env(hub, token),
                          stdin=subprocess.DEVNULL)


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def failed_calls(hub: RunningHub, users: int) -> list[dict[str, Any]]:
    """Action runs of ``users`` users while the lights are out; those of users with the connection fail."""
    hub.set_lights_faults(outage=True)
    calls = [inbound(hub, run_action(hub, user_id=f"user-{n:03d}")) for n in range(1, users + 1)]
    hub.set_lights_faults()
    return [call for call in calls if call["status_code"] == 502]


def test_one_rerun_then_its_refusal(hub: RunningHub) -> None:
    [failed] = failed_calls(hub, 1)
    done = switchroom_rerun(hub, str(failed["seq"]), "--field", "color=green", "--reason", "lights are back")
    assert done.returncode == 0, done.stderr
    [result] = lines(done.stdout)
    assert result["type"] == "rerun" and result["outcome"] == "ok" and result["status_code"] == 204
    assert result["original"] == failed["seq"] and len(result["idempotency_key"]) == 32
    [call] = records(hub, seq=result["api_call_id"])
    assert call["rerun_of"] == failed["seq"] and call["resolved_fields"]["color"] == "green"
    [audit] = records(hub, kind="rerun", phase="item")
    assert audit["reason"] == "lights are back" and audit["idempotency_key"] == result["idempotency_key"]

    again = switchroom_rerun(hub, str(failed["seq"]), "--idempotency-key", result["idempotency_key"])
    assert again.returncode == 0 and lines(again.stdout)[0]["api_call_id"] == result["api_call_id"]  # not run twice
    refused = switchroom_rerun(hub, str(failed["seq"]))
    assert refused.returncode == 1
    assert "already_rerun" in refused.stderr and "was rerun before" in refused.stderr
    assert lines(refused.stdout)[0]["type"] == "error"
    assert switchroom_rerun(hub, "999999999").returncode == 1
    assert len(records(hub, kind="rerun", phase="item")) == 1


def test_field_values_are_json_when_they_parse_as_json() -> None:
    assert [parse_field(text) for text in ("n=40", "on=true", "ids=[1, 2]", "color=green", 'q="3"', "e=")] == [
        ("n", 40), ("on", True), ("ids", [1, 2]), ("color", "green"), ("q", "3"), ("e", "")]


def test_bad_usage_bad_filters_and_wrong_tokens(hub: RunningHub) -> None:
    bad_filter = switchroom_rerun(hub, "--filter", "status:9xx", "--yes")
    assert bad_filter.returncode == 2 and "invalid_parameters" in bad_filter.stderr and "/filter" in bad_filter.stderr
    for args in ((), ("1", "--filter", "status:5xx"), ("1", "--field", "nothing"), ("1", "--yes")):
        result = switchroom_rerun(hub, *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, args
    wrong = switchroom_rerun(hub, "1", token="not-the-token")
    assert wrong.returncode == 3 and "unauthorized" in wrong.stderr and "not-the-token" not in wrong.stderr
    unreachable = subprocess.run([*COMMAND, "1", "--hub", "http://127.0.0.1:9"], capture_output=True, text=True,
                                 timeout=60, env=env(hub))
    assert unreachable.returncode == 3 and "cannot be reached" in unreachable.stderr
    assert hub.token not in bad_filter.stderr + wrong.stderr + unreachable.stderr


def test_a_bulk_piped_needs_yes_and_prints_one_line_per_item(hub: RunningHub) -> None:
    failed = failed_calls(hub, 30)
    assert len(failed) >= 10
    filter_text = "feature:glow status:5xx dir:inbound"
    dry = switchroom_rerun(hub, "--filter", filter_text, "--dry-run")
    assert dry.returncode == 0
    [plan] = lines(dry.stdout)
    assert plan["type"] == "rerun_plan" and plan["count"] == len(failed)

    blind = switchroom_rerun(hub, "--filter", filter_text)
    assert blind.returncode == 2 and "--yes" in blind.stderr
    assert not records(hub, kind="rerun")

    bulk = switchroom_rerun(hub, "--filter", filter_text, "--yes", "--rate", "5000", "--reason", "recovered")
    assert bulk.returncode == 0, bulk.stderr
    *items, summary = lines(bulk.stdout)
    assert len(items) == plan["count"] and {i["type"] for i in items} == {"rerun_item"}
    assert sorted(i["original"] for i in items) == sorted(call["seq"] for call in failed)
    assert all(i["outcome"] == "ok" and i["status_code"] == 204 for i in items)
    assert summary["type"] == "rerun_summary" and summary["state"] == "finished"
    assert (summary["total"], summary["ok"], summary["failed"]) == (plan["count"], plan["count"], 0)

    status = f"{hub.url}/v1/ops/reruns/{summary['id']}"
    newest = httpx.get(status, params={"after": len(items) - 3}, headers={"Authorization": f"Bearer {hub.token}"})
    assert newest.json()["items_after"] == len(items) - 3
    assert [i["original"] for i in newest.json()["items"]] == [i["original"] for i in items[-3:]]
    bad = httpx.get(status, params={"after": "-1"}, headers={"Authorization": f"Bearer {hub.token}"})
    assert bad.status_code == 422 and bad.json()["details"][0]["parameter"] == "/after"

    nothing_left = switchroom_rerun(hub, "--filter", filter_text, "--yes")
    assert nothing_left.returncode == 0 and lines(nothing_left.stdout)[0]["count"] == 0


def test_ctrl_c_cancels_the_bulk_on_the_hub_and_reports_what_ran(hub: RunningHub) -> None:
    failed = failed_calls(hub, 30)
    command = subprocess.Popen([*COMMAND, "--filter", "feature:glow status:502 dir:inbound", "--yes", "--rate", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(hub),
                               stdin=subprocess.DEVNULL)
    assert command.stdout is not None
    first = json.loads(command.stdout.readline())
    assert first["type"] == "rerun_item"
    command.send_signal(signal.SIGINT)
    rest, stderr = command.communicate(timeout=60)
    *items, summary = [first, *lines(rest)]
    assert command.returncode == 1, stderr
    assert summary["type"] == "rerun_summary" and summary["state"] == "cancelled"
    assert len(items) == summary["done"] < summary["total"] == len(failed)
    assert len(records(hub, kind="rerun", phase="item")) == summary["done"]


def test_a_confirmed_bulk_runs_what_was_counted_not_what_failed_while_asking(hub: RunningHub) -> None:
    """The question waits on a terminal; while it does, more calls fail that the filter shows. The bulk
    runs exactly the calls it counted."""
    counted = failed_calls(hub, 30)
    main, follower = pty.openpty()
    command = subprocess.Popen([*COMMAND, "--filter", "feature:glow status:502 dir:inbound", "--rate", "5000"],
                               stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env(hub))
    os.close(follower)
    try:
        assert command.stderr is not None and command.stdout is not None
        question = ""
        while "[y/N]" not in question:
            char = command.stderr.read(1)
            assert char, f"the command ended without asking: {question!r}"
            question += char
        assert f"Rerun {len(counted):,} failed calls" in question
        assert failed_calls(hub, 40)  # new failures the filter shows: users 1–40 again
        os.write(main, b"y\n")
        out, err = command.communicate(timeout=60)
    finally:
        os.close(main)
        if command.poll() is None:
            command.kill()
    assert command.returncode == 0, err
    *items, summary = lines(out)
    assert sorted(item["original"] for item in items) == sorted(call["seq"] for call in counted)
    assert summary["total"] == len(counted)

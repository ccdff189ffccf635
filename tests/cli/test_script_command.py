"""``switchroom script try`` as a developer's CI runs it, against a real hub with real V8 and recorded runs:
exit 1 when the candidate breaks an event that succeeded, 0 when it breaks none, 2 for a candidate that
cannot be tried; nothing reaches a service."""

from pathlib import Path
import json
import subprocess
import sys

from tests.support.hubproc import RunningHub, bare_env
from tests.support.sample_services import SampleServices
from tests.support.script_trials import (LIKED_VIDEO_TEXTS_BROKEN, RAIN_ALERT_FIXED, calls_received,
                                         liked_video_run, rain_alert_runs, write_script)
from tests.support.triggers import start

SWITCHROOM = str(Path(sys.executable).with_name("switchroom"))


def script_try(hub: RunningHub, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SWITCHROOM, "script", "try", "--hub", hub.url, *args], capture_output=True, text=True,
                          timeout=120, env=bare_env(HOME=str(home), SWITCHROOM_TOKEN=hub.token,
                                                    SWITCHROOM_CONFIG=str(home / "none.toml")))


def test_script_try_gates_a_change_on_real_recorded_events(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path / "hub")
    try:
        failed, _ = rain_alert_runs(hub, services)
        run = liked_video_run(hub, services)
        asked = calls_received(services)

        broken = script_try(hub, "--connection", "liked-video-texts", "--file",
                            str(write_script(tmp_path, LIKED_VIDEO_TEXTS_BROKEN)), home=tmp_path)
        assert broken.returncode == 1, broken.stderr
        assert "liked-video-texts: 1 events tried" in broken.stdout and "1 broken" in broken.stdout
        assert f"#{run['trigger_event_id']} broken" in broken.stdout
        assert "now: error (line 5): ReferenceError: fuond is not defined" in broken.stdout
        assert "calls before:" in broken.stdout and "calls now:" in broken.stdout

        fixed = script_try(hub, "--connection", "rain-alert", "--file", str(write_script(tmp_path, RAIN_ALERT_FIXED)),
                           "--last", "5", "--reason", "guard tomorrow", home=tmp_path)
        assert fixed.returncode == 0, fixed.stderr
        assert "1 fixed" in fixed.stdout and "0 broken" in fixed.stdout
        assert f"#{failed['trigger_event_id']} fixed" in fixed.stdout

        as_json = script_try(hub, "--connection", "rain-alert", "--file", str(tmp_path / "candidate.js"), "--json",
                             home=tmp_path)
        lines = [json.loads(line) for line in as_json.stdout.splitlines()]
        assert [line["type"] for line in lines] == ["trial_started", "trial_item", "trial_item", "trial_summary"]

        assert calls_received(services) == asked

        bad = write_script(tmp_path, "const = ;\n")
        refused = script_try(hub, "--connection", "rain-alert", "--file", str(bad), home=tmp_path)
        assert refused.returncode == 2 and "does not compile: line 1" in refused.stderr
        missing = script_try(hub, "--connection", "rain-alert", "--file", str(tmp_path / "nope.js"), home=tmp_path)
        assert missing.returncode == 2 and "nope.js" in missing.stderr
        unknown = script_try(hub, "--connection", "no-such", "--file", str(bad), home=tmp_path)
        assert unknown.returncode == 2 and "not_found" in unknown.stderr
    finally:
        hub.stop()

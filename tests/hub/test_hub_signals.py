"""A hub stops cleanly on SIGINT (Ctrl-C) and SIGTERM (a service manager): exit status 0, no traceback,
and everything it answered is in its log."""

from pathlib import Path
import signal

import httpx
import pytest

from switchroom.store import EventLog
from switchroom.store.hub_log import open_hub_log
from tests.support.hubproc import start_hub


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_hub_stops_cleanly_on_a_signal(stop: signal.Signals, tmp_path: Path) -> None:
    hub = start_hub(tmp_path, traffic_rate=20)
    try:
        answered = httpx.post(f"{hub.url}/v2/connections/evening-glow/actions/lights.change_color/run",
                              json={"user_id": "user-001"}, headers={"IFTTT-Service-Key": hub.service_key,
                                                                     "X-Request-ID": "before-the-signal"})
        assert answered.status_code == 204
        hub.process.send_signal(stop)
        assert hub.process.wait(timeout=30) == 0
    finally:
        hub.stop()
    output = hub.log_path.read_text()
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output[-2000:]
    log = open_hub_log(hub.db)
    assert not isinstance(log, EventLog) or log.integrity_ok()
    calls = log.execute("SELECT COUNT(*) FROM records WHERE json_extract(body, '$.request_id') = 'before-the-signal'")
    assert calls == [(2,)]  # the inbound call and its outbound half

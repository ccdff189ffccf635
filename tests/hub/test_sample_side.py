"""``switchroom-hub samples``: the demo's sample side apart from any hub, as a demo on several hubs runs it."""

from pathlib import Path
import signal
import subprocess
import time

from tests.support.hub_calls import records
from tests.support.hubproc import bare_env, free_port, hub_command, start_hub


def test_the_sample_side_runs_apart_and_drives_a_hub_serving_its_catalog(tmp_path: Path) -> None:
    port, key = free_port(), "sample-side-key"
    catalog = tmp_path / "catalog" / "samples-catalog.toml"
    samples = subprocess.Popen(
        [*hub_command(), "samples", "--hub", f"http://127.0.0.1:{port}", "--catalog-out", str(catalog),
         "--traffic-rate", "40"],
        stdout=(tmp_path / "samples.log").open("wb"), stderr=subprocess.STDOUT,
        env=bare_env(SWITCHROOM_SERVICE_KEY=key, XDG_DATA_HOME=str(tmp_path / "data"), HOME=str(tmp_path)))
    try:
        deadline = time.monotonic() + 30
        while not catalog.exists():  # written before it waits for the hub
            assert samples.poll() is None and time.monotonic() < deadline, (tmp_path / "samples.log").read_text()
            time.sleep(0.1)
        hub = start_hub(tmp_path / "hub", demo=False, port=port, service_key=key, extra_args=("--catalog", str(catalog)))
        try:
            deadline = time.monotonic() + 30
            while True:  # the users it enabled, its traffic, answered by its services through the hub
                logged = records(hub)
                inbound = [r for r in logged if r["kind"] == "api_call" and r.get("direction") == "inbound"]
                enabled = [r for r in inbound if r.get("method") == "PUT" and r.get("status_code") == 200]
                runs = [r for r in inbound if r.get("op") in ("action", "query")]
                served = [r for r in logged if r.get("direction") == "outbound" and r.get("status_code") == 200]
                if len(enabled) >= 100 and len(runs) >= 20 and served:
                    break
                assert time.monotonic() < deadline, (len(enabled), len(runs), len(served),
                                                     (tmp_path / "samples.log").read_text()[-2000:])
                time.sleep(0.5)
        finally:
            hub.stop()
        samples.send_signal(signal.SIGTERM)
        assert samples.wait(timeout=30) == 0
        assert "Traceback" not in (tmp_path / "samples.log").read_text()
    finally:
        if samples.poll() is None:
            samples.kill()

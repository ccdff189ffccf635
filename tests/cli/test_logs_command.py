"""``switchroom logs``: the real command against a real hub, then against its cache once the hub is gone."""

from pathlib import Path
import csv
import io
import json
import subprocess
import sys

import httpx

from switchroom.store import EventLog
from switchroom.store.filters import RecordFilter, parse_filter
from switchroom.tui.export import export_records
from tests.support.hub_calls import RUN
from tests.support.hubproc import bare_env, start_hub


def logs(*args: str, cache_dir: Path, token: str = "") -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("switchroom")), "logs", "--cache-dir", str(cache_dir), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env=bare_env(SWITCHROOM_TOKEN=token))


def test_logs_catch_up_filter_and_print_then_read_the_cache_offline(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub")
    cache_dir = tmp_path / "cache"
    try:
        hub.set_lights_faults(error_rate=0.5, error_status=503)
        for n in range(40):
            httpx.post(hub.url + RUN, json={"user_id": "user-001"}, headers={"IFTTT-Service-Key": hub.service_key})
        httpx.post(hub.url + RUN, json={"user_id": "user-999"}, headers={"IFTTT-Service-Key": hub.service_key})
        hub_log = EventLog(hub.db)
        [(expected,)] = hub_log.execute(
            "SELECT COUNT(*) FROM records WHERE kind = 'api_call' AND status_code BETWEEN 500 AND 599")
        assert expected >= 10

        online = logs("--hub", hub.url, "--status", "5xx", "--json", cache_dir=cache_dir, token=hub.token)
        assert online.returncode == 0, online.stderr
        records = [json.loads(line) for line in online.stdout.splitlines()]
        assert len(records) == expected
        assert {r["status_code"] for r in records} == {502, 503}  # inbound 502s for the outbound 503s
        assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)

        both = logs("--hub", hub.url, "--status", "422,503", "--csv", "--since", "1h", cache_dir=cache_dir,
                    token=hub.token)
        rows = list(csv.DictReader(io.StringIO(both.stdout)))
        assert {row["status_code"] for row in rows} == {"422", "503"}
        assert sum(row["status_code"] == "422" for row in rows) == 1
    finally:
        hub.stop()

    offline = logs("--hub", hub.url, "--status", "5xx", "--json", cache_dir=cache_dir, token=hub.token)
    assert offline.returncode == 0
    assert "cannot be reached" in offline.stderr and "showing the cache" in offline.stderr
    assert offline.stdout == online.stdout
    # The CSV of `logs` and of an export (E) of the same records are one layout, cell for cell.
    [cache] = (cache_dir / "hubs").glob("*.sqlite")
    cached = EventLog(cache)
    try:
        _, exported = export_records(cached, parse_filter("status:5xx", RecordFilter(kinds=("api_call",))),
                                     tmp_path / "export.csv")
    finally:
        cached.close()
    as_csv = logs("--hub", hub.url, "--offline", "--status", "5xx", "--csv", cache_dir=cache_dir)
    assert as_csv.stdout.splitlines() == exported.read_text().splitlines()
    newest = logs("--hub", hub.url, "--offline", "--limit", "3", "--json", cache_dir=cache_dir)
    assert [json.loads(line)["seq"] for line in newest.stdout.splitlines()] == [r["seq"] for r in
                                                                                 _all(cache_dir)][-3:]


def _all(cache_dir: Path) -> list[dict[str, object]]:
    [path] = (cache_dir / "hubs").glob("*.sqlite")
    return [r for r in EventLog(path).read_after(0, 100_000) if r["kind"] == "api_call"]


def test_bad_options_and_a_missing_cache_say_so(tmp_path: Path) -> None:
    for args, message in ((["--since", "forever"], "is not a duration"), (["--status", "9xx"], "is not a status"),
                          (["--limit", "0"], "at least 1"), (["--hub", "http://127.0.0.1:9"], "needs an operator token")):
        result = logs(*args, cache_dir=tmp_path)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    missing = logs(cache_dir=tmp_path)
    assert missing.returncode == 1 and "no cache of the embedded demo hub" in missing.stderr
    unreachable = logs("--hub", "http://127.0.0.1:9", cache_dir=tmp_path, token="t")
    assert unreachable.returncode == 1 and "cannot be reached" in unreachable.stderr

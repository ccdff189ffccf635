"""``switchroom logs``: the real command against a real hub, then against its cache once the hub is gone."""

from pathlib import Path
import csv
import io
from collections.abc import Callable
import json
import signal
import subprocess
import sys
import threading
import time

import httpx

from switchroom.store import EventLog
from switchroom.store.filters import RecordFilter, parse_filter
from switchroom.tui.export import export_records
from tests.support.hub_calls import RUN, post_run
from tests.support.hubproc import bare_env, start_hub


SWITCHROOM = str(Path(sys.executable).with_name("switchroom"))


def logs(*args: str, cache_dir: Path, token: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    command = [SWITCHROOM, "logs", "--cache-dir", str(cache_dir), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env=bare_env(SWITCHROOM_TOKEN=token, SWITCHROOM_CONFIG=str(cache_dir / "none.toml"), **env))


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

    # A hub that cannot be reached is never answered for silently with what the cache last held.
    gone = logs("--hub", hub.url, "--status", "5xx", "--json", cache_dir=cache_dir, token=hub.token)
    assert gone.returncode == 3 and gone.stdout == ""
    assert "cannot be reached" in gone.stderr and "--offline" in gone.stderr
    offline = logs("--hub", hub.url, "--offline", "--status", "5xx", "--json", cache_dir=cache_dir)
    assert offline.returncode == 0
    assert "as it is" in offline.stderr and "without asking the hub" in offline.stderr
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
    assert unreachable.returncode == 3 and "cannot be reached" in unreachable.stderr


def test_every_kind_the_filter_language_unknown_connections_and_csv_booleans(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub")
    cache_dir = tmp_path / "cache"
    try:
        hub.set_lights_faults(error_rate=1.0, error_status=503)
        for _ in range(3):
            post_run(hub, {"user_id": "user-001"})
        hub.set_lights_faults()
        post_run(hub, {"user_id": "user-001"})
        test_trigger = f"{hub.url}/v2/connections/liked-video-texts/triggers/videos.new_liked_video/test"
        assert httpx.post(test_trigger, json={"user_id": "user-001"},
                          headers={"IFTTT-Service-Key": hub.service_key}).status_code == 204
        hub_log = EventLog(hub.db)
        wait_for(lambda: hub_log.execute("SELECT COUNT(*) FROM records WHERE kind = 'script_run'")[0][0] >= 1)
        by_kind = dict(hub_log.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind"))
        everything = hub_log.execute("SELECT COUNT(*) FROM records")[0][0]
        hub_log.close()

        triggers = logs("--hub", hub.url, "--kind", "trigger_event", "--json", cache_dir=cache_dir, token=hub.token)
        assert triggers.returncode == 0, triggers.stderr
        assert len(triggers.stdout.splitlines()) == by_kind["trigger_event"] >= 1
        assert {json.loads(line)["kind"] for line in triggers.stdout.splitlines()} == {"trigger_event"}
        every = logs("--hub", hub.url, "--kind", "all", "--json", cache_dir=cache_dir, token=hub.token)
        assert {json.loads(line)["kind"] for line in every.stdout.splitlines()} == set(by_kind)
        assert len(every.stdout.splitlines()) >= everything  # and more: the hub kept working meanwhile

        # --filter is the dashboard's language, on top of the options.
        failed = logs("--hub", hub.url, "--filter", "status:503 conn:evening-glow", "--json", cache_dir=cache_dir,
                      token=hub.token)
        assert [json.loads(line)["status_code"] for line in failed.stdout.splitlines()] == [503] * 3
        bad = logs("--hub", hub.url, "--filter", "stauts:5xx", cache_dir=cache_dir, token=hub.token)
        assert bad.returncode == 2 and "column 1" in bad.stderr and "not a filter" in bad.stderr

        unknown = logs("--hub", hub.url, "--connection", "evening-gloww", cache_dir=cache_dir, token=hub.token)
        assert unknown.returncode == 2 and unknown.stdout == ""
        assert "no connection 'evening-gloww'" in unknown.stderr and "evening-glow" in unknown.stderr
        # A connection the hub lists but no record names yet is known: an empty answer is the truth there.
        listed = {c["id"] for c in httpx.get(f"{hub.url}/v1/ops/connections",
                                               headers={"Authorization": f"Bearer {hub.token}"}).json()["data"]}
        hub_log = EventLog(hub.db)
        named = {row[0] for row in hub_log.execute("SELECT DISTINCT connection_id FROM records")}
        hub_log.close()
        quiet_one = sorted(listed - named)[0]
        quiet = logs("--hub", hub.url, "--offline", "--connection", quiet_one, cache_dir=cache_dir)
        assert quiet.returncode == 0 and quiet.stdout == ""

        as_csv = logs("--hub", hub.url, "--offline", "--kind", "api_call", "--csv", cache_dir=cache_dir)
        rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
        assert {row["skipped"] for row in rows} <= {"true", "false", ""} and "false" in {r["skipped"] for r in rows}
    finally:
        hub.stop()


def test_follow_prints_records_as_they_arrive_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub", traffic_rate=40)
    cache_dir = tmp_path / "cache"
    command = [SWITCHROOM, "logs", "--hub", hub.url, "--cache-dir", str(cache_dir), "--follow", "--json",
               "--kind", "all", "--limit", "5"]
    env = bare_env(SWITCHROOM_TOKEN=hub.token, SWITCHROOM_CONFIG=str(tmp_path / "none.toml"))
    # As a terminal starts a job: Ctrl-C's default disposition (a test run in the background inherits it ignored)
    follower = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen: list[dict[str, object]] = []
    try:
        assert follower.stdout is not None
        while len(seen) < 200:  # 5 from before it started, then live traffic as it comes
            line = follower.stdout.readline()
            assert line, follower.stderr.read() if follower.stderr else "no output"
            seen.append(json.loads(line))
        # Ctrl-C while the reader goes on reading, as a terminal does (a pipe nobody reads fills and blocks)
        drained = threading.Thread(target=follower.stdout.read, daemon=True)
        drained.start()
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=60) == 0
    finally:
        follower.kill()
        hub.stop()
    seqs = [int(record["seq"]) for record in seen]
    assert seqs == sorted(set(seqs))  # in order, none twice
    hub_log = EventLog(hub.db)
    try:
        first, last = seqs[5], seqs[-1]
        expected = [row[0] for row in hub_log.execute("SELECT seq FROM records WHERE seq BETWEEN ? AND ? ORDER BY seq",
                                                      [first, last])]
    finally:
        hub_log.close()
    assert seqs[5:] == expected  # every record, of every kind, from the first live one on: nothing skipped


def test_follow_needs_a_hub(tmp_path: Path) -> None:
    result = logs("--follow", cache_dir=tmp_path)
    assert result.returncode == 2 and "--follow needs a hub" in result.stderr


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)

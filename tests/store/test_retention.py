"""Retention of the dashboard's cache: by age and by size, oldest first, the cursor left where it is."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from switchroom.store import EventLog, iso_timestamp
from switchroom.store.analytics.retention import trim, used_bytes
from switchroom.tui.config import Config, ConfigError, load_config


def cache_with_days(path: Path, days: int, per_day: int) -> EventLog:
    """A cache holding ``per_day`` records for each of the last ``days`` days, oldest first."""
    log = EventLog(path)
    now = datetime.now(UTC)
    records = [{"seq": n + 1, "kind": "api_call", "request_id": str(n), "note": "x" * 200,
                "ts": iso_timestamp(now - timedelta(days=days - n // per_day, minutes=1))}
               for n in range(days * per_day)]
    log.replicate(records, len(records))
    return log


def test_records_older_than_the_age_limit_go_and_the_cursor_stays(tmp_path: Path) -> None:
    log = cache_with_days(tmp_path / "cache.sqlite", days=10, per_day=300)
    cutoff = iso_timestamp(datetime.now(UTC) - timedelta(days=4))
    dropped = trim(log, older_than=cutoff, chunk=500)
    assert dropped == 6 * 300 + 300  # days 10..5 ago, and the 4-days-and-a-minute-ago records
    [(oldest,)] = log.execute("SELECT MIN(ts) FROM records")
    assert oldest >= cutoff
    assert log.cursor() == 3000 and log.integrity_ok()
    assert trim(log, older_than=cutoff) == 0


def test_the_oldest_records_go_while_the_cache_is_over_its_size(tmp_path: Path) -> None:
    log = cache_with_days(tmp_path / "cache.sqlite", days=10, per_day=1000)
    before = used_bytes(log)
    limit = before // 3
    dropped = 0
    while went := trim(log, max_bytes=limit, chunk=1000, max_chunks=2):  # a few chunks a call, as ingest goes on
        dropped += went
    assert used_bytes(log) <= limit
    [(count, lowest)] = log.execute("SELECT COUNT(*), MIN(seq) FROM records")
    assert count == 10_000 - dropped and lowest == dropped + 1  # the oldest went, nothing else
    assert log.cursor() == 10_000 and log.integrity_ok()


def test_config_defaults_file_values_and_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHROOM_CONFIG", str(tmp_path / "none.toml"))
    assert load_config() == Config()
    path = tmp_path / "config.toml"
    path.write_text("[cache]\nmax_age_days = 7\nmax_size_mb = 0\n")
    limits = load_config(path).cache
    assert limits.max_age_seconds == 7 * 86_400 and limits.max_bytes is None
    path.write_text("[cache]\nmax_age_days = -1\nmax_sise_mb = 5\n")
    with pytest.raises(ConfigError) as problems:
        load_config(path)
    assert f"{path}: cache.max_age_days:" in str(problems.value)
    assert f"{path}: cache.max_sise_mb: no such setting" in str(problems.value)
    path.write_text("[cache\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)

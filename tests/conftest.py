from collections.abc import Iterator
from pathlib import Path
import os
import secrets

import pytest

from tests.support.hubproc import RunningHub, start_hub
from tests.support.postgres import NoPostgres, PostgresCluster, new_database, shared_cluster
from tests.support.sample_services import SampleServices


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A real hub process with the demo catalog and sample services, and no demo traffic."""
    running = start_hub(tmp_path_factory.mktemp("hub"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def services() -> Iterator[SampleServices]:
    """The sample services, run by the test process itself so that they outlive the hubs a test starts."""
    running = SampleServices(secrets.token_urlsafe(16))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's caches and data out of the real user directories."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def postgres() -> PostgresCluster:
    """A throwaway PostgreSQL cluster, started once for the session. Without a server on the machine the
    tests that need one skip, except in CI (``CI=true``), where that fails the run."""
    try:
        return shared_cluster()
    except NoPostgres as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs a PostgreSQL server: {exc}")
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(postgres: PostgresCluster) -> str:
    """The URL of a new, empty database in the session's cluster."""
    return new_database()

"""A throwaway PostgreSQL cluster for tests and benchmarks: made with ``initdb`` in a temporary folder,
listening on 127.0.0.1 at a free port, trusted without a password, removed when stopped.

PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the ``postgres`` user that the
Debian packages create; anyone else runs it as themselves. ``.ci/run`` installs the packages when the
server is missing.
"""

from dataclasses import dataclass
from pathlib import Path
import atexit
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time

SERVER_USER = "postgres"
BACKEND_ENV = "SWITCHROOM_TEST_BACKEND"
"""``postgresql`` runs the hubs the tests start on PostgreSQL (``.ci/run`` runs the hub's tests so too)."""
_shared: "PostgresCluster | None" = None
_names = itertools.count(1)


class NoPostgres(RuntimeError):
    """No PostgreSQL server on this machine to start."""


def server_bin() -> Path:
    """The folder of the newest installed server's programs (``initdb``, ``pg_ctl``)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise NoPostgres("no PostgreSQL server found (initdb): install the postgresql package")


@dataclass
class PostgresCluster:
    folder: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql://{SERVER_USER if _as_root() else os.environ.get('USER', 'postgres')}@127.0.0.1:{self.port}/postgres"

    def database(self, name: str) -> str:
        """A new, empty database in this cluster; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def restart(self) -> None:
        """Stop the server at once (every connection dropped) and start it again."""
        data = str(self.folder / "data")
        _run([str(self.bin / "pg_ctl"), "restart", "-D", data, "-m", "immediate", "-w", "-t", "60",
              "-l", str(self.folder / "server.log")])
        _wait_ready(self)

    def stop(self) -> None:
        _run([str(self.bin / "pg_ctl"), "stop", "-D", str(self.folder / "data"), "-m", "immediate", "-w"],
             check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def on_postgres() -> bool:
    """Whether this test run puts its hubs on PostgreSQL."""
    return os.environ.get(BACKEND_ENV, "sqlite") == "postgresql"


def shared_cluster() -> PostgresCluster:
    """The one cluster of this test process, started on first use and stopped at exit."""
    global _shared
    if _shared is None:
        _shared = start_cluster({"fsync": "off"})  # a throwaway cluster: durability is the server's, not ours
        atexit.register(_shared.stop)
    return _shared


def new_database() -> str:
    """The URL of a new, empty database in the shared cluster."""
    return shared_cluster().database(f"hub_{os.getpid()}_{next(_names)}")


def start_cluster(settings: dict[str, str] | None = None) -> PostgresCluster:
    """Make and start a cluster; ``settings`` are ``postgresql.conf`` lines (name → value) on top of
    those that keep a test cluster small and quick to stop."""
    bin_dir = server_bin()
    folder = Path(tempfile.mkdtemp(prefix="switchroom-pg-"))
    data = folder / "data"
    if _as_root():
        shutil.chown(folder, SERVER_USER)
    _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", SERVER_USER if _as_root() else
          os.environ.get("USER", "postgres"), "--no-sync", "-E", "UTF8", "--locale", "C"])
    port = _free_port()
    conf = {"listen_addresses": "'127.0.0.1'", "port": str(port), "unix_socket_directories": f"'{folder}'",
            "max_connections": "200", "shared_buffers": "128MB", "logging_collector": "off",
            **(settings or {})}
    with (data / "postgresql.conf").open("a") as file:
        file.writelines(f"{name} = {value}\n" for name, value in conf.items())
    _run([str(bin_dir / "pg_ctl"), "start", "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60"])
    cluster = PostgresCluster(folder, port, bin_dir)
    _wait_ready(cluster)
    return cluster


def _wait_ready(cluster: PostgresCluster) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(cluster.url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(command: list[str], check: bool = True) -> None:
    if _as_root():
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd="/")
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

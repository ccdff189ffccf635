"""The hub's settings, from the command line and the environment, in one place."""

from dataclasses import dataclass, field
from pathlib import Path
import json
import os
import secrets

import platformdirs

from switchroom.store.private_files import make_folders

TOKEN_ENV = "SWITCHROOM_TOKEN"
SERVICE_KEY_ENV = "SWITCHROOM_SERVICE_KEY"


@dataclass(frozen=True)
class Secret:
    """A secret value and where it came from; only the origin is ever printed."""

    value: str = field(repr=False)
    origin: str


@dataclass(frozen=True)
class HubSettings:
    host: str
    port: int
    db: Path | str
    """A SQLite file, or a PostgreSQL URL."""
    catalog: Path
    demo: bool
    traffic_rate: float
    user_rate_limit: float
    token: Secret
    service_key: Secret
    poll_interval: float = 300.0
    script_time_limit: float = 10.0
    request_timeout: float = 30.0
    """Seconds a client has to send a request's line and headers, and again its body."""
    unauthenticated_rate: float = 10.0
    """Calls without a valid key recorded per second, all callers together (bursts of twice that)."""
    demo_traffic_url: str | None = None
    """Where a demo hub sends its traffic (a load balancer in front of several hubs); None: to itself."""
    metrics_port: int | None = None
    """The port on which ``/metrics`` is also served, alone and without a token; None: none."""

    def catalog_env(self) -> dict[str, str]:
        """The environment a catalog's secret references are read from (with the demo's key, in a demo)."""
        return {**os.environ, SERVICE_KEY_ENV: self.service_key.value} if self.demo else dict(os.environ)


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir("switchroom", appauthor=False))


DEMO_CATALOG = Path(__file__).parent / "sample" / "demo_catalog.toml"


def default_db(demo: bool) -> Path:
    return data_dir() / "demo-hub.sqlite" if demo else Path("hub.sqlite")


def load_secrets() -> tuple[Secret, Secret]:
    """The operator token and the demo service key: from the environment when set, else made up
    once and kept in a file only the user can read, so a restarted demo hub keeps them."""
    saved_path = data_dir() / "demo-credentials.json"
    saved: dict[str, str] = {}
    if saved_path.exists():
        try:
            loaded = json.loads(saved_path.read_text())
        except (OSError, ValueError):
            loaded = None
        saved = {k: v for k, v in loaded.items() if isinstance(v, str)} if isinstance(loaded, dict) else {}
    made_up = {name: saved.get(name) or secrets.token_urlsafe(24) for name in ("token", "service_key")}
    if made_up != saved and not (os.environ.get(TOKEN_ENV) and os.environ.get(SERVICE_KEY_ENV)):
        make_folders(saved_path.parent)  # 0700, like the event log kept beside it
        saved_path.touch(mode=0o600, exist_ok=True)
        saved_path.write_text(json.dumps(made_up))
    kept = f"made up, kept in {saved_path}"
    token = Secret(os.environ[TOKEN_ENV], f"${TOKEN_ENV}") if os.environ.get(TOKEN_ENV) else Secret(made_up["token"], kept)
    service_key = (
        Secret(os.environ[SERVICE_KEY_ENV], f"${SERVICE_KEY_ENV}")
        if os.environ.get(SERVICE_KEY_ENV)
        else Secret(made_up["service_key"], kept)
    )
    return token, service_key

"""Which hub a command talks to, and with which token: ``--hub`` (or ``$SWITCHROOM_HUB``) is a URL or the
name of a ``[hubs.NAME]`` table in the settings; no hub at all is the embedded demo hub.

The token is ``--token`` when given, else the named hub's own source (``token_env``, ``token_file``,
``token_command``), else ``$SWITCHROOM_TOKEN``. A token is never printed, not even in an error.
"""

from dataclasses import dataclass
from pathlib import Path
import os
import shlex
import subprocess

from switchroom.tui.config import Config, HubSettings
from switchroom.tui.exit_codes import USAGE, Stop
from switchroom.tui.known_hubs import EMBEDDED, hub_key

HUB_ENV = "SWITCHROOM_HUB"
TOKEN_ENV = "SWITCHROOM_TOKEN"
TOKEN_COMMAND_SECONDS = 20.0
MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True)
class HubTarget:
    url: str | None
    """None: the embedded demo hub, started by the dashboard."""
    token: str | None
    name: str | None = None
    """The ``[hubs.NAME]`` it was chosen by, if any."""

    @property
    def key(self) -> str:
        """What its cache is known by (``tui.known_hubs``)."""
        return hub_key(self.url) if self.url else EMBEDDED

    @property
    def shown(self) -> str:
        if self.url is None:
            return "the embedded demo hub"
        return f"{self.name} ({self.url})" if self.name else self.url


def choose_hub(given: str | None, token: str | None, config: Config) -> HubTarget:
    """The hub ``--hub`` names (``given``; ``$SWITCHROOM_HUB`` when None); an unknown name is a ``Stop``
    with exit code 2 that lists the names there are."""
    given = given if given is not None else os.environ.get(HUB_ENV) or None
    if given is None:
        return HubTarget(None, None)
    if given in config.hubs:
        settings = config.hubs[given]
        return HubTarget(settings.url, token or hub_token(given, settings) or os.environ.get(TOKEN_ENV), given)
    if given.startswith(("http://", "https://")):
        return HubTarget(given, token or os.environ.get(TOKEN_ENV))
    names = ", ".join(sorted(config.hubs)) or "none yet: add [hubs.NAME] with url = ... to the settings file"
    raise Stop(USAGE, f"--hub {given!r} is neither a URL (http://…, https://…) nor a hub named in the "
                      f"settings; the names are: {names}")


def require_token(target: HubTarget) -> str:
    """The target's token; a hub named without one is a ``Stop`` with exit code 2."""
    if not target.token:
        source = f", give [hubs.{target.name}] a token_env, token_file or token_command," if target.name else ""
        raise Stop(USAGE, f"--hub needs an operator token: pass --token{source} or set ${TOKEN_ENV}")
    return target.token


def hub_token(name: str, settings: HubSettings) -> str | None:
    """The token from ``settings``' own source; None when it names none. A source that fails (an unset
    variable, an unreadable file, a command that fails) is a ``Stop`` saying which and why."""
    where = f"[hubs.{name}]"
    if settings.token_env:
        value = os.environ.get(settings.token_env)
        if not value:
            raise Stop(USAGE, f"{where} takes its token from ${settings.token_env}, which is not set")
        return value.strip()
    if settings.token_file:
        return _first_line(Path(settings.token_file).expanduser(), where)
    if settings.token_command:
        return _printed_by(settings.token_command, where)
    return None


def _first_line(path: Path, where: str) -> str:
    try:
        with path.open("rb") as file:
            text = file.read(MAX_TOKEN_CHARS + 1).decode("utf-8", "replace")
    except OSError as exc:
        raise Stop(USAGE, f"{where} token_file {path}: {exc.strerror or exc}") from None
    token = text.splitlines()[0].strip() if text.strip() else ""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise Stop(USAGE, f"{where} token_file {path}: its first line is no token")
    return token


def _printed_by(command: str, where: str) -> str:
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, timeout=TOKEN_COMMAND_SECONDS,
                              stdin=subprocess.DEVNULL)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise Stop(USAGE, f"{where} token_command could not run: {exc}") from None
    token = done.stdout.decode("utf-8", "replace").strip()
    if done.returncode != 0 or not token or len(token) > MAX_TOKEN_CHARS or "\n" in token:
        raise Stop(USAGE, f"{where} token_command exited {done.returncode} without printing a token (one line)")
    return token

"""Which hub a command talks to, and with which token: ``--hub`` (or ``$SWITCHROOM_HUB``) is a URL or the
name of a ``[hubs.NAME]`` table in the settings; no hub at all is the embedded demo hub.

The token is ``--token`` when given, else the named hub's own source (``token_env``, ``token_file``,
``token_command``), else ``$SWITCHROOM_TOKEN``. A token is never printed, not even in an error.
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
import os
import select
import shlex
import stat
import subprocess
import time

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
        return HubTarget(hub_url(settings.url), token or hub_token(given, settings) or os.environ.get(TOKEN_ENV), given)
    if given.lower().startswith(("http://", "https://")):
        return HubTarget(hub_url(given), token or os.environ.get(TOKEN_ENV))
    names = ", ".join(sorted(config.hubs)) or "none yet: add [hubs.NAME] with url = ... to the settings file"
    raise Stop(USAGE, f"--hub {given!r} is neither a URL (http://…, https://…) nor a hub named in the "
                      f"settings; the names are: {names}")


def hub_url(given: str) -> str:
    """``given`` as a hub's URL (its scheme lower case), or a ``Stop`` with exit code 2 saying what is wrong:
    a URL without a host, with a port out of range, with a query, or with spaces in it."""
    try:
        parts = urlsplit(given.strip())
        port = parts.port
    except ValueError as exc:
        raise Stop(USAGE, f"--hub {given!r} is not a URL a hub can have: {exc}") from None
    if not parts.hostname or parts.query or parts.fragment or any(c.isspace() for c in given.strip()):
        raise Stop(USAGE, f"--hub {given!r} is not a URL a hub can have: give http(s)://HOST[:PORT][/PATH]")
    if port == 0:
        raise Stop(USAGE, f"--hub {given!r}: port 0 is no port")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path.rstrip("/"), "", ""))


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
        if value is None:
            raise Stop(USAGE, f"{where} takes its token from ${settings.token_env}, which is not set")
        if not value.strip():
            raise Stop(USAGE, f"{where} takes its token from ${settings.token_env}, which is empty")
        return value.strip()
    if settings.token_file:
        return _first_line(Path(settings.token_file).expanduser(), where)
    if settings.token_command:
        return _printed_by(settings.token_command, where)
    return None


def _first_line(path: Path, where: str) -> str:
    """The file's first line; a file that is not a regular file (a FIFO would wait for a writer) is refused."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(handle, "rb") as file:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                raise Stop(USAGE, f"{where} token_file {path}: not a regular file")
            text = file.read(MAX_TOKEN_CHARS + 1).decode("utf-8", "replace")
    except OSError as exc:
        raise Stop(USAGE, f"{where} token_file {path}: {exc.strerror or exc}") from None
    token = text.splitlines()[0].strip() if text.strip() else ""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise Stop(USAGE, f"{where} token_file {path}: its first line is no token")
    return token


def _printed_by(command: str, where: str) -> str:
    """What ``command`` prints: one line, read only up to ``MAX_TOKEN_CHARS``, within ``TOKEN_COMMAND_SECONDS``
    (a command that prints on and on, or hangs, is stopped and refused)."""
    try:
        process = subprocess.Popen(shlex.split(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
    except (OSError, ValueError) as exc:
        raise Stop(USAGE, f"{where} token_command could not run: {exc}") from None
    assert process.stdout is not None
    output, deadline = b"", time.monotonic() + TOKEN_COMMAND_SECONDS
    try:
        while len(output) <= MAX_TOKEN_CHARS and (left := deadline - time.monotonic()) > 0:
            if not select.select([process.stdout], [], [], left)[0]:
                break
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            output += chunk
        finished = process.poll() is not None or _waited(process, max(0.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
    if not finished or len(output) > MAX_TOKEN_CHARS:
        raise Stop(USAGE, f"{where} token_command did not print a token of at most {MAX_TOKEN_CHARS} characters "
                          f"and end within {TOKEN_COMMAND_SECONDS:.0f} s")
    token = output.decode("utf-8", "replace").strip()
    if process.returncode != 0 or not token:
        raise Stop(USAGE, f"{where} token_command exited {process.returncode} without printing a token")
    if "\n" in token:
        raise Stop(USAGE, f"{where} token_command printed more than one line; a token is one")
    return token


def _waited(process: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True

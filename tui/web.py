"""``switchroom web``: the dashboard in a browser, served on this machine by textual-serve.

Each browser tab that opens the page gets a dashboard process of its own (textual-serve starts one per
websocket), and all of them watch one hub: the one ``--hub`` names, or a single embedded demo hub started
for as long as the server runs, never one per tab. The operator token reaches the sessions through their
environment only: a command line is readable by every user of the machine in the process list.

Nothing asks who is at the other end of the page: whoever reaches the port has the console. So the server
listens on 127.0.0.1 unless told otherwise (docs/dashboard.md, "In a browser").
"""

from pathlib import Path
import argparse
import asyncio
import logging
import os
import shlex
import shutil
import sys

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from switchroom.tui.cache import default_cache_dir
from switchroom.tui.embedded import EmbeddedHub, EmbeddedHubError
from switchroom.tui.hub_target import HubTarget, require_token

def run(args: argparse.Namespace, target: HubTarget) -> int:
    """Serve until Ctrl-C or SIGTERM, then end every session and the embedded hub; the exit status."""
    embedded = None
    try:
        if target.url is not None:
            hub_url, token = target.url, require_token(target)
        else:
            embedded = EmbeddedHub((args.cache_dir or default_cache_dir()) / "demo-hub.log")
            print("Starting the embedded demo hub…", file=sys.stderr, flush=True)
            hub_url, token = embedded.start(), embedded.token
        os.environ["SWITCHROOM_TOKEN"] = token  # textual-serve gives each session this environment
        command = session_command(hub_url, args.cache_dir, read_only=args.read_only)
        return _serve(ConsoleServer(command, args.host, args.port, args.public_url))
    except EmbeddedHubError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C while the hub was starting, before the server took the signal over
        return 130
    finally:
        if embedded is not None:
            embedded.stop()


def _serve(server: "ConsoleServer") -> int:
    try:
        server.serve()
    except OSError as exc:  # the address taken, or not this machine's
        return _fail(f"cannot listen on {server.host}:{server.port}: {exc.strerror or exc}")
    return 0


def session_command(hub_url: str, cache_dir: Path | None, *, read_only: bool = False) -> str:
    """The shell command each browser session runs: the dashboard on ``hub_url``, its token in its
    environment. Quoted, since textual-serve runs it through the shell."""
    command = [sys.executable, "-m", "switchroom.tui", "--hub", hub_url]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    if read_only:  # `switchroom --read-only web`: every tab's console is read-only too
        command.append("--read-only")
    return "exec " + shlex.join([*_owned_by_the_server(), *command])


def _owned_by_the_server() -> list[str]:
    """util-linux's ``setsid`` and ``setpriv``, where the system has them: the dashboard in a session of
    its own, out of reach of a Ctrl-C typed at the server's terminal (which would interrupt its helper
    processes mid-work; the server ends each dashboard in turn as it stops, for Ctrl-C as for SIGTERM),
    and sent SIGTERM by the kernel should the server die any other way."""
    if not (shutil.which("setsid") and shutil.which("setpriv")):
        return []
    return ["setsid", "setpriv", "--pdeathsig", "TERM"]


class ConsoleServer(Server):
    """textual-serve's server, which on shutdown closes the browsers' websockets, so that each session's
    dashboard is told to quit and is waited for (aiohttp would otherwise wait a minute for them)."""

    def __init__(self, command: str, host: str, port: int, public_url: str | None) -> None:
        super().__init__(command, host=host, port=port, title="Switchroom", public_url=public_url)
        self._sockets: set[web.WebSocketResponse] = set()

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
        """textual-serve's loop over one tab's messages: the one place its websocket is handed over."""
        self._sockets.add(websocket)
        try:
            await super()._process_messages(websocket, app_service)
        finally:
            self._sockets.discard(websocket)

    def initialize_logging(self) -> None:
        """One plain line a request on stderr, as it ends (``GET /ws``: a tab's session, when it closes)."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    async def on_startup(self, app: web.Application) -> None:
        print(f"Serving the Switchroom console on {self.public_url} (Ctrl-C stops it)", file=sys.stderr, flush=True)

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(socket.close(code=WSCloseCode.GOING_AWAY, message=b"the server is stopping")
                               for socket in list(self._sockets)))


def _fail(message: str) -> int:
    print(f"switchroom web: {message}", file=sys.stderr)
    return 1

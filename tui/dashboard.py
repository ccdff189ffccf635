"""``switchroom`` with no command: the dashboard, on the hub named or on the embedded demo hub.

Switching hub from inside the console (``H``, or the palette) ends the console on one hub and opens it on
the other, here: each hub keeps its own cache file, so nothing is lost in the move. The embedded demo hub
runs only while it is the hub watched.
"""

import argparse
import sys

from switchroom.tui.cache import default_cache_dir
from switchroom.tui.config import Config
from switchroom.tui.exit_codes import FAILED
from switchroom.tui.hub_target import HubTarget, require_token
from switchroom.tui.pane_summaries import FirstRead, read_first_screen


def run(args: argparse.Namespace, target: HubTarget, config: Config) -> int:
    cache_dir = args.cache_dir or default_cache_dir()
    while True:
        token = require_token(target) if target.url else ""
        # Read at once, on a thread, while the hub starts and the app is imported (see tui.pane_summaries).
        first_read = read_first_screen(cache_dir, target.key)
        embedded = None
        hub_url = target.url
        if hub_url is None:
            from switchroom.tui.embedded import EmbeddedHub, EmbeddedHubError  # a hub you name needs none of it

            embedded = EmbeddedHub(cache_dir / "demo-hub.log")
            print("Starting the embedded demo hub…", file=sys.stderr, flush=True)
            try:
                hub_url = embedded.start()
            except EmbeddedHubError as exc:
                _abandon(first_read)
                print(f"switchroom: {exc}", file=sys.stderr)
                return FAILED
            token = embedded.token

        from switchroom.tui.app import SwitchroomApp  # imported after the hub is up: Textual takes a moment

        app = SwitchroomApp(hub_url, token, cache_dir, target.key, config, first_read, read_only=args.read_only)
        try:
            app.run()
        finally:
            if embedded is not None:
                embedded.stop()
        if app.switch_to is None or app.return_code:
            # Textual ends the app on an unhandled exception (printing it) but returns normally: the exit
            # status is what tells a script or a supervisor that the dashboard crashed.
            return app.return_code or 0
        target = app.switch_to


def _abandon(first_read: FirstRead | None) -> None:
    """Close the cache opened for a first screen that will not be shown."""
    if first_read is not None:
        first_read.cache.close()

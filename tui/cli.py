"""``switchroom``: the dashboard, on the embedded demo hub or on a hub you name."""

from pathlib import Path
import argparse
import os
import sys

from switchroom.tui.cache import default_cache_dir
from switchroom.tui import known_hubs
from switchroom.tui.known_hubs import EMBEDDED
from switchroom.tui.pane_summaries import FirstRead, read_first_screen


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="switchroom",
        description="Watch a Switchroom hub. With no --hub, starts the embedded demo hub and watches it.",
        epilog="`switchroom logs --help`: print cached records for scripts and pipes. `switchroom rerun --help`: "
               "rerun failed action calls, one or every one a filter shows. `switchroom web --help`: the "
               "dashboard in a web browser.",
    )
    add_hub_options(parser)
    return parser.parse_args(argv)


def add_hub_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", metavar="URL", help="the hub to watch, e.g. http://127.0.0.1:8470")
    parser.add_argument("--token", help="operator token (default: $SWITCHROOM_TOKEN)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the local caches live")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["logs"]:
        from switchroom.tui.logs_command import main as logs_main

        sys.exit(logs_main(argv[1:], default_cache_dir()))
    if argv[:1] == ["rerun"]:
        from switchroom.tui.rerun_command import main as rerun_main

        sys.exit(rerun_main(argv[1:]))
    if argv[:1] == ["web"]:
        from switchroom.tui import web

        parser = argparse.ArgumentParser(prog="switchroom web", description=web.DESCRIPTION)
        add_hub_options(parser)
        web.configure(parser)
        sys.exit(web.run(parser.parse_args(argv[1:])))
    args = parse_args(argv)
    cache_dir = args.cache_dir or default_cache_dir()
    token = args.token or os.environ.get("SWITCHROOM_TOKEN")
    if args.hub and not token:
        sys.exit("switchroom: --hub needs an operator token: pass --token or set SWITCHROOM_TOKEN")
    hub_key = known_hubs.hub_key(args.hub) if args.hub else EMBEDDED
    # Read at once, on a thread, while the settings are checked, the hub starts and the app is imported
    # (see tui.pane_summaries).
    first_read = read_first_screen(cache_dir, hub_key)
    from switchroom.tui.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        _abandon(first_read)
        sys.exit(f"switchroom: the settings file has problems:\n{exc}")
    embedded = None
    if args.hub:
        hub_url = args.hub
    else:
        from switchroom.tui.embedded import EmbeddedHub, EmbeddedHubError  # a hub you name needs none of it

        embedded = EmbeddedHub(cache_dir / "demo-hub.log")
        print("Starting the embedded demo hub…", file=sys.stderr, flush=True)
        try:
            hub_url = embedded.start()
        except EmbeddedHubError as exc:
            _abandon(first_read)
            sys.exit(f"switchroom: {exc}")
        token = embedded.token

    from switchroom.tui.app import SwitchroomApp  # imported after the hub is up: Textual takes a moment

    app = SwitchroomApp(hub_url, token or "", cache_dir, hub_key, config, first_read)
    try:
        app.run()
    finally:
        if embedded is not None:
            embedded.stop()
    # Textual ends the app on an unhandled exception (printing it) but returns normally: the exit
    # status is what tells a script or a supervisor that the dashboard crashed.
    sys.exit(app.return_code or 0)


def _abandon(first_read: FirstRead | None) -> None:
    """Close the cache opened for a first screen that will not be shown."""
    if first_read is not None:
        first_read.cache.close()


if __name__ == "__main__":
    main()

"""``switchroom``: the dashboard, on the embedded demo hub or on a hub you name."""

from pathlib import Path
import argparse
import os
import sys

from tui.cache import default_cache_dir
from tui.config import ConfigError, load_config
from tui.known_hubs import EMBEDDED


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="switchroom",
        description="Watch a Switchroom hub. With no --hub, starts the embedded demo hub and watches it.",
        epilog="`switchroom logs --help`: print cached records for scripts and pipes. `switchroom rerun --help`: "
               "rerun failed action calls, one or every one a filter shows.",
    )
    parser.add_argument("--hub", metavar="URL", help="the hub to watch, e.g. http://127.0.0.1:8470")
    parser.add_argument("--token", help="operator token (default: $SWITCHROOM_TOKEN)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the local caches live")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["logs"]:
        from tui.logs_command import main as logs_main

        sys.exit(logs_main(argv[1:], default_cache_dir()))
    if argv[:1] == ["rerun"]:
        from tui.rerun_command import main as rerun_main

        sys.exit(rerun_main(argv[1:]))
    args = parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        sys.exit(f"switchroom: the settings file has problems:\n{exc}")
    cache_dir = args.cache_dir or default_cache_dir()
    embedded = None
    if args.hub:
        hub_url = args.hub
        token = args.token or os.environ.get("SWITCHROOM_TOKEN")
        if not token:
            sys.exit("switchroom: --hub needs an operator token: pass --token or set SWITCHROOM_TOKEN")
    else:
        from tui.embedded import EmbeddedHub, EmbeddedHubError  # a hub you name needs none of it

        embedded = EmbeddedHub(cache_dir / "demo-hub.log")
        print("Starting the embedded demo hub…", file=sys.stderr, flush=True)
        try:
            hub_url = embedded.start()
        except EmbeddedHubError as exc:
            sys.exit(f"switchroom: {exc}")
        token = embedded.token

    from tui.app import SwitchroomApp  # imported after the hub is up: Textual takes a moment

    try:
        SwitchroomApp(hub_url, token, cache_dir, EMBEDDED if embedded else None, config).run()
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()

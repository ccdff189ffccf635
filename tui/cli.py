"""``switchroom``: the dashboard and its commands, declared in one parser.

With no command it runs the dashboard; ``logs``, ``rerun``, ``script try``, ``web`` and ``completion`` are
the others.
The options every command shares (``--hub``, ``--token``, ``--cache-dir``, ``--version``) are accepted
before the command and after it, and every command ends with one table of exit codes
(``tui.exit_codes``). Each command's work lives in its own module, imported only when it runs, so that
the dashboard starts as fast as it can.
"""

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
import argparse
import os
import sys

from switchroom.protocol.kinds import API_CALL, KINDS
from switchroom.store.filters import DIRECTIONS
from switchroom.tui.exit_codes import FAILED, TABLE, USAGE, Stop

COMPLETION_SHELLS = ("bash", "zsh", "fish")
MAX_LIMIT = 100_000_000


def package_version() -> str:
    try:
        return version("switchroom")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _shared_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The options of every command. In a command's own parser they default to ``SUPPRESS``, so that a
    value given before the command name is not reset by the command's parser."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--hub", metavar="URL|NAME", default=default,
                        help="the hub: its URL, or a name from [hubs.NAME] in the settings "
                             "(default: $SWITCHROOM_HUB; none: the embedded demo hub)")
    parser.add_argument("--token", default=default,
                        help="operator token (default: the named hub's token source, then $SWITCHROOM_TOKEN)")
    parser.add_argument("--cache-dir", type=Path, default=default, help="where the local caches live")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")


def _read_only_option(parser: argparse.ArgumentParser, suppress: bool) -> None:
    parser.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="refuse reruns and replays (also read_only = true in the settings)")


def _logs_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--offline", action="store_true",
                   help="read the cache as it is, without asking the hub (otherwise a hub that cannot be "
                        "reached is an error, exit code 3)")
    p.add_argument("--follow", "-f", action="store_true",
                   help="after the matches so far, print new ones as they arrive, until Ctrl-C")
    p.add_argument("--filter", metavar="FILTER",
                   help="the filter language of the dashboard's /, e.g. 'status:5xx feature:glow since:1h'")
    p.add_argument("--since", help="only records this recent: 90s, 15m, 1h, 2d, 1w, or since a time: 13:05, "
                                   "2026-11-26T13:05 (UTC unless it says, e.g. +01:00)")
    p.add_argument("--status", action="append", default=[], metavar="STATUS",
                   help="a status class (5xx), code (503) or 'skipped'; repeat or comma-separate for several")
    p.add_argument("--kind", choices=[*KINDS, "all"],
                   help=f"record kind (default: {API_CALL}, unless --filter names kind:; all: every kind)")
    p.add_argument("--connection", help="only this connection id (one the hub or the cache knows)")
    p.add_argument("--feature", help="only this feature id")
    p.add_argument("--user", help="only this user id")
    p.add_argument("--op", help="only this operation id, e.g. lights.change_color")
    p.add_argument("--direction", choices=DIRECTIONS, help="only calls in this direction")
    p.add_argument("--limit", type=_limit, help="only the newest N matches (with --follow: then every new one)")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON record a line, as the hub keeps it")
    output.add_argument("--csv", action="store_true", help="CSV with a header line")


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"--limit must be at least 1 and at most {MAX_LIMIT:,}")
    return value


def _rerun_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("api_call_id", nargs="?", type=int, metavar="API_CALL_ID", help="the call to rerun")
    p.add_argument("--filter", metavar="FILTER", help="rerun what this shows, e.g. 'status:5xx feature:glow since:1h'")
    p.add_argument("--field", action="append", default=[], metavar="K=V",
                   help="send this field value instead (V as JSON when it parses, else text); repeatable")
    p.add_argument("--reason", default="", help="why, kept in the audit record")
    p.add_argument("--force", action="store_true", help="also rerun calls that succeeded or were rerun before")
    p.add_argument("--dry-run", action="store_true", help="only count what would be rerun")
    p.add_argument("--yes", action="store_true", help="run a bulk without asking")
    p.add_argument("--rate", type=float, help="a bulk's reruns per second, at most (the hub's default: 500)")
    p.add_argument("--idempotency-key", metavar="KEY", help="reuse the key of an earlier try of this command")
    p.add_argument("--json", action="store_true", help="JSON lines even on a terminal")
    p.add_argument("--verbose", action="store_true", help="say the idempotency key on stderr")
    _read_only_option(p, suppress=True)


def _web_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default: 127.0.0.1, this machine only; on any other, "
                        "whoever reaches the port has the console)")
    p.add_argument("--port", type=_port, default=8480, help="the port (default: 8480)")
    p.add_argument("--public-url", metavar="URL", type=_public_url,
                   help="the address browsers reach the server by, when it is not http://HOST:PORT "
                        "(e.g. behind a TLS proxy: https://console.example.org)")
    _read_only_option(p, suppress=True)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {port}")
    return port


def _public_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"not an http:// or https:// URL: {text!r}")
    return text.rstrip("/")  # the page's own addresses are this and a path


def _script_options(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="script_command", title="what to do", metavar="ACTION", required=True)
    trial = actions.add_parser(
        "try", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TABLE,
        help="try a candidate script on recorded trigger events (nothing reaches a service)",
        description="Run a candidate version of a connection's runtime script over its recorded trigger events "
                    "on the hub, nothing reaching a service, and compare each with the run that happened. Prints "
                    "the summary and the events that broke; exits 1 when an event that succeeded before fails "
                    "with the candidate (for CI).")
    trial.add_argument("--connection", required=True, help="the connection whose script to try")
    trial.add_argument("--file", required=True, help="the candidate script (~ expands)")
    which = trial.add_mutually_exclusive_group()
    which.add_argument("--filter", help="which trigger events, e.g. 'since:24h' (default: the last 100)")
    which.add_argument("--last", type=int, metavar="N", help="the last N trigger events")
    trial.add_argument("--live-queries", action="store_true",
                       help="perform the candidate's queries on their services for real (actions never run)")
    trial.add_argument("--reason", default="", help="kept in the trial's record")
    trial.add_argument("--json", action="store_true", help="the hub's JSON lines as they come")
    _shared_options(trial, suppress=True)


def _completion_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell to complete in")


COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "logs": ("print records of a hub's log, for scripts and pipes",
             "Print records from the local cache of a hub's event log, after catching it up with the hub. "
             "Without a hub: the cache of the embedded demo hub, as the dashboard left it.", _logs_options),
    "rerun": ("rerun failed action calls, one or every one a filter shows",
              "Rerun a failed action call (by its api_call id, the record's seq) or every one a filter shows, "
              "as it was resolved, on the hub. JSON output when stdout is not a terminal.", _rerun_options),
    "script": ("work on runtime scripts: try a candidate on recorded events",
               "Work on a connection's runtime script. `switchroom script try --help`: try a candidate version on "
               "recorded trigger events before it goes live.", _script_options),
    "web": ("serve the dashboard to a web browser on this machine",
            "Serve the dashboard to a web browser: each tab that opens http://HOST:PORT gets its own console on "
            "the hub. With no hub named, one embedded demo hub serves every tab.", _web_options),
    "completion": ("print the shell completion script for bash, zsh or fish",
                   "Print a script that makes the shell complete switchroom's commands and options. "
                   "bash: add `eval \"$(switchroom completion bash)\"` to ~/.bashrc; zsh: the same in ~/.zshrc; "
                   "fish: `switchroom completion fish > ~/.config/fish/completions/switchroom.fish`.",
                   _completion_options),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchroom", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TABLE,
        description="Watch a Switchroom hub in the terminal. With no hub named, starts the embedded demo hub "
                    "and watches it. A command instead does one thing and ends.")
    _shared_options(parser, suppress=False)
    _read_only_option(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    for name, (summary, description, add_options) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=description, epilog=TABLE,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
        add_options(command)
        _shared_options(command, suppress=True)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions: answer and exit
        import argcomplete

        argcomplete.autocomplete(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        sys.exit(run(args))
    except Stop as stop:
        if str(stop):
            print(f"{_prog(args)}: {stop}", file=sys.stderr)
        sys.exit(stop.code)


def run(args: argparse.Namespace) -> int:
    if args.command == "completion":
        return print_completion(args.shell)
    from switchroom.tui.config import ConfigError, load_config
    from switchroom.tui.hub_target import choose_hub

    try:
        config = load_config()
    except ConfigError as exc:
        raise Stop(USAGE, f"the settings file has problems:\n{exc}") from None
    target = choose_hub(args.hub, args.token, config)
    if args.command == "logs":
        from switchroom.tui import logs_command

        return logs_command.run(args, target)
    if args.command == "rerun":
        from switchroom.tui import rerun_command

        if args.read_only or config.read_only:
            raise Stop(FAILED, "refused: this machine is read-only (--read-only, or read_only = true in the settings)")
        return rerun_command.run(args, target)
    if args.command == "script":
        from switchroom.tui import script_command

        return script_command.run(args, target)
    if args.command == "web":
        from switchroom.tui import web

        return web.run(args, target)
    from switchroom.tui import dashboard

    return dashboard.run(args, target, config)


def print_completion(shell: str) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["switchroom"], shell=shell))
    return 0


def _prog(args: argparse.Namespace) -> str:
    return f"switchroom {args.command}" if getattr(args, "command", None) else "switchroom"


if __name__ == "__main__":
    main()

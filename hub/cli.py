"""``switchroom-hub``: run the platform."""

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
import argparse
import asyncio
import signal
import socket
import sqlite3
import sys

import uvicorn

from switchroom.hub import __version__
from switchroom.hub.log_output import FORMATS, LEVELS, log_to_stderr
from switchroom.hub.settings import DEMO_CATALOG, HubSettings, default_db, load_secrets
from switchroom.store.hub_log import is_postgres_url, looks_like_connection_string, shown_db, storage_errors

if TYPE_CHECKING:  # imported where it is used, after the argument checks, so that --help stays fast
    from switchroom.hub.catalog_reload import CatalogReload

DEFAULT_PORT = 8470


NUMBERS: tuple[tuple[str, float, str], ...] = (
    ("--traffic-rate", 4.0, "demo requests per second (default: 4; 0 turns demo traffic off)"),
    ("--user-rate-limit", 20.0, "Connect API runs per second allowed per user and connection, bursts of twice "
                                "that (default: 20; 0 turns the limit off)"),
    ("--poll-interval", 300.0, "seconds between polls of each trigger subscription (default: 300; 0 polls "
                               "only on realtime notifications)"),
    ("--script-time-limit", 10.0, "wall-time limit of one runtime-script run, in seconds (default: 10)"),
    ("--request-timeout", 30.0, "seconds a client has to send a request's line and headers, and again its body, "
                                "before the hub answers 408 and closes the connection (default: 30)"),
    ("--unauthenticated-rate", 10.0, "Connect API calls without a valid service key recorded per second, all "
                                     "callers together, bursts of twice that; past it they are answered 429 and "
                                     "not recorded (default: 10; 0 records every one)"),
)
"""The hub's number options: flag, default, what it sets."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="switchroom-hub", description="Run the Switchroom platform.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "samples"],
                        help="what to do: serve (the default); migrate a SQLite log into an empty PostgreSQL "
                             "database (--from FILE --to URL; stop the hub first); or samples: run the demo's "
                             "sample services, users and traffic apart from any hub, for a demo on several hubs "
                             "(--hub URL, --catalog-out FILE)")
    parser.add_argument("--from", dest="source", type=Path, help="migrate: the hub's SQLite log")
    parser.add_argument("--to", dest="target", help="migrate: the PostgreSQL database's URL")
    parser.add_argument("--catalog", type=Path,
                        help="catalog file (TOML), read again on SIGHUP or POST /v1/ops/catalog/reload. Default "
                             "with --demo: the demo catalog, a complete example to start from, installed at "
                             f"{DEMO_CATALOG} (its scripts in scripts/ beside it)")
    parser.add_argument("--demo", action="store_true",
                        help="run the sample services, simulated users and demo traffic (over the demo "
                             "catalog unless --catalog is given)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--db", type=_db,
                        help="event log: a SQLite file (default: demo-hub.sqlite in the user data dir with --demo, "
                             "else ./hub.sqlite), or a PostgreSQL URL, postgresql://user@host/database, shared by "
                             "any number of hubs (pip install 'switchroom[postgres]')")
    parser.add_argument("--hub", dest="hub_url",
                        help="samples: the hub (or the load balancer in front of several) to send the traffic to")
    parser.add_argument("--catalog-out", type=Path, default=Path("samples-catalog.toml"),
                        help="samples: where to write the demo catalog pointed at the sample services, for every "
                             "hub to serve with --catalog (default: ./samples-catalog.toml)")
    parser.add_argument("--demo-traffic-url",
                        help="with --demo: send the demo traffic to this URL (a load balancer in front of several "
                             "hubs) instead of to this hub")
    for flag, default, meaning in NUMBERS:
        parser.add_argument(flag, type=float, default=default, help=meaning)
    parser.add_argument("--log-level", choices=LEVELS, default="info",
                        help="the least severe log lines written to stderr (default: info, which includes the "
                             "access log, one line a request; warning leaves it out)")
    parser.add_argument("--log-format", choices=FORMATS, default="text",
                        help="text lines, or json: one JSON object a line for log shippers (default: text)")
    parser.add_argument("--metrics-port", type=int,
                        help="also serve GET /metrics, alone and without the operator token, on this port "
                             "(0 picks a free one); on the hub's own port it always needs the token")
    parser.add_argument("--metrics-host", default="127.0.0.1",
                        help="address of --metrics-port (default: 127.0.0.1, this machine only)")
    return parser.parse_args(argv)


def _db(text: str) -> Path | str:
    if looks_like_connection_string(text):
        raise argparse.ArgumentTypeError("give PostgreSQL as a URL, postgresql://user@host:port/database (a "
                                         "password from PGPASSWORD or ~/.pgpass), not as key=value words")
    return text if is_postgres_url(text) else Path(text)


def settings_from(args: argparse.Namespace) -> HubSettings:
    if not args.demo and args.catalog is None:
        sys.exit("switchroom-hub: nothing to serve: give --catalog FILE, or --demo for the demo catalog")
    if not 0 < args.script_time_limit <= 600:
        sys.exit("switchroom-hub: --script-time-limit must be more than 0 and at most 600 seconds")
    if not 0 < args.request_timeout <= 3600:
        sys.exit("switchroom-hub: --request-timeout must be more than 0 and at most 3600 seconds")
    if args.demo_traffic_url is not None and not args.demo_traffic_url.startswith(("http://", "https://")):
        sys.exit("switchroom-hub: --demo-traffic-url must be an http:// or https:// URL")
    if args.metrics_port is not None and not (0 <= args.metrics_port <= 65535 and (
            args.metrics_port != args.port or args.port == 0)):
        sys.exit("switchroom-hub: --metrics-port must be a port from 0 to 65535 other than --port")
    token, service_key = load_secrets()
    return HubSettings(
        host=args.host, port=args.port, db=args.db or default_db(args.demo),
        catalog=args.catalog or DEMO_CATALOG, demo=args.demo, traffic_rate=max(0.0, args.traffic_rate),
        user_rate_limit=max(0.0, args.user_rate_limit), token=token, service_key=service_key,
        poll_interval=max(0.0, args.poll_interval), script_time_limit=args.script_time_limit,
        request_timeout=args.request_timeout, unauthenticated_rate=max(0.0, args.unauthenticated_rate),
        demo_traffic_url=args.demo_traffic_url, metrics_port=args.metrics_port,
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "migrate":
        migrate_command(args)
        return
    if args.command == "samples":
        samples_command(args)
        return
    settings = settings_from(args)
    sock = _listen(settings.host, settings.port)
    url = f"http://{settings.host}:{sock.getsockname()[1]}"
    sockets = [sock]
    if settings.metrics_port is not None:
        sockets.append(_listen(args.metrics_host, settings.metrics_port))
        settings = replace(settings, metrics_port=sockets[1].getsockname()[1])

    from switchroom.hub.app import create_app  # after argument checks, so --help stays fast
    from switchroom.hub.catalog_file import CatalogError
    from switchroom.hub.peers import CatalogMismatch
    from switchroom.hub.slow_requests import deadline_protocol

    try:
        app = create_app(settings, url)
    except CatalogError as exc:
        sys.exit(f"switchroom-hub: the catalog has problems:\n{exc}")
    except CatalogMismatch as exc:
        sys.exit(f"switchroom-hub: cannot join the hubs on {shown_db(settings.db)}: {exc}")
    except storage_errors() as exc:
        sys.exit(f"switchroom-hub: cannot use the event log {shown_db(settings.db)}: {str(exc).strip()}")
    log_to_stderr(args.log_level, args.log_format)
    print(f"Switchroom hub on {url}  (hub id {app.state.recorder.hub_id})", flush=True)
    print(f"  catalog:        {settings.catalog}", flush=True)
    print(f"  event log:      {shown_db(settings.db)}", flush=True)
    print(f"  operator token: {settings.token.origin}", flush=True)
    if settings.metrics_port is not None:
        print(f"  metrics:        http://{args.metrics_host}:{settings.metrics_port}/metrics (no token) and "
              f"{url}/metrics", flush=True)
    else:
        print(f"  metrics:        {url}/metrics", flush=True)
    if settings.demo:
        print(f"  service key:    {settings.service_key.origin}", flush=True)
        traffic_to = f" to {settings.demo_traffic_url}" if settings.demo_traffic_url else ""
        print(f"  demo traffic:   {app.state.traffic_rate:g} requests/s{traffic_to}", flush=True)
        print(f"  sample side:    run by {app.state.sample_side}", flush=True)
        for name, sample_url in app.state.sample_urls.items():
            print(f"  sample service {name}: {sample_url}", flush=True)
    # uvicorn logs through the hub's handler (log_config=None) at the levels log_to_stderr set (log_level=None);
    # its access log is off: the hub's own (hub/access_log.py) replaces it
    config = uvicorn.Config(app, log_config=None, log_level=None, access_log=False, ws_max_size=1 << 20,
                            proxy_headers=False, server_header=False, http=deadline_protocol(settings.request_timeout))
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _stopped)
    asyncio.run(_serve(uvicorn.Server(config), sockets, app.state.catalog_reload))


async def _serve(server: uvicorn.Server, sockets: list[socket.socket], catalog_reload: "CatalogReload") -> None:
    """Serve until stopped; meanwhile SIGHUP reloads the catalog file (docs/catalog.md)."""
    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, catalog_reload.reload_soon, "SIGHUP")
    await server.serve(sockets=sockets)


def migrate_command(args: argparse.Namespace) -> None:
    if args.source is None or args.target is None or not is_postgres_url(args.target):
        sys.exit("switchroom-hub migrate: give --from hub.sqlite --to postgresql://user@host/database")
    try:
        import psycopg

        from switchroom.hub.migrate import MigrationError, migrate
    except ImportError:
        sys.exit("switchroom-hub migrate: PostgreSQL needs psycopg: pip install 'switchroom[postgres]'")

    try:
        done = migrate(args.source, args.target)
    except (MigrationError, sqlite3.Error, psycopg.Error) as exc:
        sys.exit(f"switchroom-hub migrate: nothing was copied: {str(exc).strip()}")
    print(f"Copied {args.source} into {shown_db(args.target)}: hub id {done.hub_id}, records 1 to {done.head_seq}, "
          f"{done.users} user connections, {done.seen_marks} trigger seen marks, {done.rerun_keys} idempotency keys. "
          "Start the hubs with --db on that database; dashboards keep their caches.")


def samples_command(args: argparse.Namespace) -> None:
    if not args.hub_url or not args.hub_url.startswith(("http://", "https://")):
        sys.exit("switchroom-hub samples: give --hub URL, the hub (or load balancer) the demo traffic goes to")
    from switchroom.hub.sample.standalone import Samples

    _, service_key = load_secrets()
    samples = Samples(args.hub_url, service_key.value, args.host, max(0.0, args.traffic_rate), args.catalog_out)
    try:
        samples.write_catalog()
    except OSError as exc:
        sys.exit(f"switchroom-hub samples: cannot write {args.catalog_out}: {exc.strerror}")
    log_to_stderr(args.log_level, args.log_format)
    print(f"Switchroom sample side for {args.hub_url}", flush=True)
    print(f"  catalog:        {args.catalog_out}  (serve every hub with --catalog {args.catalog_out})", flush=True)
    print(f"  service key:    {service_key.origin}", flush=True)
    print(f"  demo traffic:   {max(0.0, args.traffic_rate):g} requests/s, once the hub answers", flush=True)
    for name, sample_url in samples.urls.items():
        print(f"  sample service {name}: {sample_url}", flush=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await samples.run(stop)

    import httpx

    try:
        asyncio.run(run())
    except (TimeoutError, httpx.HTTPError) as exc:
        sys.exit(f"switchroom-hub samples: {exc}")


def _listen(host: str, port: int) -> socket.socket:
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sys.exit(f"switchroom-hub: cannot listen on {host}:{port}: {exc.strerror}")
    return sock


def _stopped(signum: int, frame: object) -> None:
    """After a clean shutdown on SIGINT or SIGTERM, uvicorn raises the signal again to end the process the
    way it would have ended: here, that is exit status 0, without a KeyboardInterrupt traceback. (Before
    the server has started, it ends start-up the same way.)"""
    raise SystemExit(0)


if __name__ == "__main__":
    main()

"""``switchroom-hub``: run the platform."""

from pathlib import Path
import argparse
import asyncio
import logging
import socket
import sys

import uvicorn

from hub.settings import HubSettings, default_db, load_secrets

DEFAULT_PORT = 8470


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="switchroom-hub", description="Run the Switchroom platform.")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve"], help="what to do (default: serve)")
    parser.add_argument("--demo", action="store_true",
                        help="add the sample services, the demo catalog and demo traffic")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--db", type=Path, help="event log file (default: demo-hub.sqlite in the user data dir with --demo, else ./hub.sqlite)")
    parser.add_argument("--traffic-rate", type=float, default=4.0,
                        help="demo action runs per second (default: 4; 0 turns demo traffic off)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.demo:
        sys.exit("switchroom-hub: no catalog to serve yet: run with --demo for the sample services and demo catalog")
    token, service_key = load_secrets()
    settings = HubSettings(
        host=args.host, port=args.port, db=args.db or default_db(args.demo), demo=args.demo,
        traffic_rate=max(0.0, args.traffic_rate), token=token, service_key=service_key,
    )
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sys.exit(f"switchroom-hub: cannot listen on {settings.host}:{settings.port}: {exc.strerror}")
    url = f"http://{settings.host}:{sock.getsockname()[1]}"

    from hub.app import create_app  # after argument checks, so --help stays fast

    app = create_app(settings, url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"Switchroom hub on {url}  (hub id {app.state.recorder.hub_id})", flush=True)
    print(f"  event log:      {settings.db}", flush=True)
    print(f"  operator token: {settings.token.origin}", flush=True)
    if settings.demo:
        print(f"  service key:    {settings.service_key.origin}", flush=True)
        print(f"  demo traffic:   {settings.traffic_rate:g} action runs/s", flush=True)
        print(f"  sample service lights: {app.state.demo.lights.url}", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws_max_size=1 << 20)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()

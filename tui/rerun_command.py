"""``switchroom rerun``: rerun failed action calls on a hub, one by id or every one a filter shows.

It talks to the hub's rerun API (``/v1/ops/reruns``, DESIGN §9) over HTTP. Every invocation carries one
Idempotency-Key (made up, or given with ``--idempotency-key`` to retry a command safely): the hub never
runs one key twice. A bulk is counted first (a dry run); on a terminal the operator confirms that count,
and without one ``--yes`` is required, so a script never reruns blind. Its progress is a bar on a
terminal and JSON lines otherwise (one per item result, then a summary); Ctrl-C cancels the bulk on
the hub and reports what ran.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO
import argparse
import json
import os
import signal
import sys
import threading
import uuid

import httpx

from switchroom.tui.http import HubUnreachable
from switchroom.tui.ops_client import (BlockingOpsClient, BulkProgress, OpsAnswer, OpsRequest, cancel_request,
                                       plan_bound, rerun_request)
from switchroom.tui.ops_texts import counts_text, item_text, plan_text, rerun_question
from switchroom.tui.text import printable

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_HUB = 0, 1, 2, 3
POLL_SECONDS = 0.25
TIMEOUT = httpx.Timeout(60.0, connect=5.0)
SHOWN_FAILURES = 20
"""Failed items listed after a bulk on a terminal (all of them are in the JSON lines)."""

EXIT_CODES = """exit codes:
  0  every rerun ran and succeeded (or a dry run, or nothing to rerun)
  1  some reruns failed again or were refused (not_found, not_rerunnable, already_rerun), or the bulk
     was cancelled
  2  bad usage or a bad filter (the hub's message is shown), or a bulk without --yes off a terminal
  3  the hub could not be reached, refused the token, or failed"""


class Stop(Exception):
    """Ends the command with an exit code and, unless empty, a message on stderr."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="switchroom rerun", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_CODES,
        description="Rerun a failed action call (by its api_call id, the record's seq) or every one a filter "
                    "shows, as it was resolved, on the hub. JSON output when stdout is not a terminal.")
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
    p.add_argument("--hub", metavar="URL", default=os.environ.get("SWITCHROOM_HUB"),
                   help="the hub, e.g. http://127.0.0.1:8470 (default: $SWITCHROOM_HUB)")
    p.add_argument("--token", help="operator token (default: $SWITCHROOM_TOKEN)")
    return p


def parse_field(text: str) -> tuple[str, Any]:
    """``k=v``: v as JSON when it parses as JSON (``3``, ``true``, ``[1]``), else the text itself."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise Stop(EXIT_USAGE, f"--field {text!r}: give it as name=value")
    try:
        return name.strip(), json.loads(value)
    except ValueError:
        return name.strip(), value


def ask(client: BlockingOpsClient, request: OpsRequest) -> OpsAnswer:
    """Send ``request``; a hub that cannot be reached, refuses or answers out of shape is ``Stop`` with
    what it said."""
    try:
        answer = client.send(request)
    except HubUnreachable as exc:
        raise Stop(EXIT_HUB, str(exc)) from None
    if not answer.ok:
        raise Stop(_exit_for(answer.status), printable(f"{answer.code}: {answer.message}"))
    return answer


def _exit_for(status: int) -> int:
    if status in (400, 422):
        return EXIT_USAGE
    if status in (404, 409):
        return EXIT_FAILED
    return EXIT_HUB  # 401/403: the token; 429, 5xx: the hub


class Output:
    """Where results go: JSON lines (for pipes and scripts) or text and a progress bar (for people)."""

    def __init__(self, as_json: bool, key: str, out: TextIO = sys.stdout) -> None:
        self.as_json, self.key, self.out = as_json, key, out
        self.failures: list[dict[str, Any]] = []
        """Items that did not succeed, listed after a bulk in text output."""

    def line(self, body: dict[str, Any]) -> None:
        self.out.write(json.dumps(body) + "\n")
        self.out.flush()

    def say(self, text: str) -> None:
        if not self.as_json:
            self.out.write(printable(text) + "\n")

    def plan(self, plan: dict[str, Any]) -> None:
        if self.as_json:
            self.line(plan)
        else:
            self.say(plan_text(plan))


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    output = Output(args.json or not sys.stdout.isatty(), args.idempotency_key or uuid.uuid4().hex)
    client: BlockingOpsClient | None = None
    try:
        body = request_body(args)
        client = BlockingOpsClient(*_hub_and_token(args), timeout=TIMEOUT)
        if args.verbose:
            print(f"switchroom rerun: Idempotency-Key {output.key}", file=sys.stderr)
        if args.filter is None:
            return rerun_one(client, body, args.dry_run, output)
        return rerun_bulk(client, body, args, output)
    except Stop as stop:
        if str(stop):
            print(f"switchroom rerun: {stop}", file=sys.stderr)
        return stop.code
    except KeyboardInterrupt:  # before a bulk was followed (following, Ctrl-C cancels the bulk instead)
        print(f"switchroom rerun: interrupted; to see what it did, run the same command again with "
              f"--idempotency-key {output.key}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if client is not None:
            client.close()


def _hub_and_token(args: argparse.Namespace) -> tuple[str, str]:
    if not args.hub:
        raise Stop(EXIT_USAGE, "name the hub: --hub URL or $SWITCHROOM_HUB")
    token = args.token or os.environ.get("SWITCHROOM_TOKEN")
    if not token:
        raise Stop(EXIT_USAGE, "--hub needs an operator token: pass --token or set SWITCHROOM_TOKEN")
    return args.hub, token


def request_body(args: argparse.Namespace) -> dict[str, Any]:
    """The rerun API's request body from the options; misuse is a ``Stop`` with exit code 2."""
    if (args.api_call_id is None) == (args.filter is None):
        raise Stop(EXIT_USAGE, "name one API_CALL_ID or a --filter")
    if args.filter is None and (args.yes or args.rate is not None):
        raise Stop(EXIT_USAGE, "--yes and --rate are for a bulk rerun (--filter)")
    body: dict[str, Any] = {"api_call_id": args.api_call_id} if args.filter is None else {"filter": args.filter}
    fields = dict(parse_field(text) for text in args.field)
    if fields:
        body["fields"] = fields
    if args.reason:
        body["reason"] = args.reason
    if args.force:
        body["force"] = True
    if args.rate is not None:
        body["rate"] = args.rate
    return body


def rerun_one(client: BlockingOpsClient, body: dict[str, Any], dry_run: bool, output: Output) -> int:
    try:
        if dry_run:
            output.plan(ask(client, rerun_request({**body, "dry_run": True}, None)).body)
            return EXIT_OK
        result = ask(client, rerun_request(body, output.key)).body
    except Stop as stop:
        if output.as_json and stop.code == EXIT_FAILED:  # a refusal: scripts get it on stdout too
            output.line({"type": "error", "message": str(stop), "idempotency_key": output.key})
        raise
    if output.as_json:
        output.line({**result, "idempotency_key": output.key})
    else:
        output.say(item_text(result))
    return EXIT_OK if result.get("outcome") == "ok" else EXIT_FAILED


def rerun_bulk(client: BlockingOpsClient, body: dict[str, Any], args: argparse.Namespace, output: Output) -> int:
    plan = ask(client, rerun_request({**body, "dry_run": True}, None)).body
    if args.dry_run or not plan.get("count"):
        output.plan(plan)
        return EXIT_OK
    if not args.yes:
        _confirm(plan)
    started = ask(client, rerun_request({**body, **plan_bound(plan)}, output.key)).body
    output.say(f"bulk rerun {started.get('id')} started: {plan['count']:,} calls")
    return follow(client, str(started["id"]), started, output)


def _confirm(plan: dict[str, Any]) -> None:
    """Ask on the terminal; with no terminal to ask on, refuse rather than run blind."""
    count = int(plan["count"])
    if not sys.stdin.isatty():
        raise Stop(EXIT_USAGE, f"this reruns {count:,} calls: pass --yes to run a bulk without a terminal")
    sys.stderr.write(f"{plan_text(plan)}\n{rerun_question(count)} [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise Stop(EXIT_FAILED, "not rerun")


def follow(client: BlockingOpsClient, bulk_id: str, started: dict[str, Any], output: Output) -> int:
    """Poll the bulk until it ends, reporting each item once; Ctrl-C cancels it on the hub."""
    progress = BulkProgress(bulk_id)
    with _progress(output, int(started.get("total", 0))) as advance, _ctrl_c() as pressed:
        while True:
            _report(progress.take(ask(client, progress.poll())), output)
            advance(progress.status)
            if not progress.running:
                break
            if pressed.wait(POLL_SECONDS):  # the cancel answers once the bulk has stopped: the next poll sees how
                ask(client, cancel_request(bulk_id))
    status = progress.status
    summary = {"type": "rerun_summary", **{k: status.get(k) for k in (
        "id", "state", "total", "done", "ok", "failed", "refused")},
        "refused_before_start": started.get("refused_before_start", {}), "idempotency_key": output.key}
    if output.as_json:
        output.line(summary)
    else:
        failures = output.failures
        for item in failures[:SHOWN_FAILURES]:
            output.say(item_text(item))
        if len(failures) > SHOWN_FAILURES:
            output.say(f"… and {len(failures) - SHOWN_FAILURES:,} more (--json lists every item)")
        output.say(f"{summary['state']}: {counts_text(status)}")
    clean = status.get("state") == "finished" and not status.get("failed") and not status.get("refused")
    return EXIT_OK if clean else EXIT_FAILED


def _report(items: list[dict[str, Any]], output: Output) -> None:
    """Report a poll's new items: each a JSON line, or kept to be listed if it did not succeed."""
    for item in items:
        if output.as_json:
            output.line({"type": "rerun_item", **item})
        elif item.get("outcome") != "ok":
            output.failures.append(item)


@contextmanager
def _ctrl_c() -> Iterator[threading.Event]:
    """Ctrl-C sets the event, to be acted on between polls, instead of raising wherever the command is
    (which could report an item twice, or not at all)."""
    pressed = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.set())
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _progress(output: Output, total: int) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A rich progress bar on a terminal; nothing for JSON output."""
    if output.as_json:
        yield lambda status: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as progress:
        task = progress.add_task("rerunning", total=total)

        def advance(status: dict[str, Any]) -> None:
            progress.update(task, completed=status.get("done", 0),
                            description=f"{status.get('ok', 0):,} ok · {status.get('failed', 0):,} failed")
        yield advance


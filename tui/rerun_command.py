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
import signal
import sys
import threading
import uuid

import httpx

from switchroom.tui.exit_codes import FAILED, HUB, OK, USAGE, Stop
from switchroom.tui.http import HubUnreachable
from switchroom.tui.hub_target import HubTarget, require_token
from switchroom.tui.ops_client import (BlockingOpsClient, BulkProgress, OpsAnswer, OpsRequest, cancel_request,
                                       plan_bound, rerun_request)
from switchroom.tui.ops_texts import counts_text, item_text, plan_text, rerun_question
from switchroom.tui.text import printable

POLL_SECONDS = 0.25
TIMEOUT = httpx.Timeout(60.0, connect=5.0)
SHOWN_FAILURES = 20
"""Failed items listed after a bulk on a terminal (all of them are in the JSON lines)."""


def parse_field(text: str) -> tuple[str, Any]:
    """``k=v``: v as JSON when it parses as JSON (``3``, ``true``, ``[1]``), else the text itself."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise Stop(USAGE, f"--field {text!r}: give it as name=value")
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
        raise Stop(HUB, str(exc)) from None
    if not answer.ok:
        raise Stop(_exit_for(answer.status), printable(f"{answer.code}: {answer.message}"))
    return answer


def _exit_for(status: int) -> int:
    if status in (400, 422):
        return USAGE
    if status in (404, 409):
        return FAILED
    return HUB  # 401/403: the token; 429, 5xx: the hub


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


def run(args: argparse.Namespace, target: HubTarget) -> int:
    output = Output(args.json or not sys.stdout.isatty(), args.idempotency_key or uuid.uuid4().hex)
    client: BlockingOpsClient | None = None
    try:
        body = request_body(args)
        if target.url is None:
            raise Stop(USAGE, "name the hub: --hub URL|NAME or $SWITCHROOM_HUB")
        client = BlockingOpsClient(target.url, require_token(target), timeout=TIMEOUT)
        if args.verbose:
            print(f"switchroom rerun: Idempotency-Key {output.key}", file=sys.stderr)
        if args.filter is None:
            return rerun_one(client, body, args.dry_run, output)
        return rerun_bulk(client, body, args, output)
    except KeyboardInterrupt:  # before a bulk was followed (following, Ctrl-C cancels the bulk instead)
        print(f"switchroom rerun: interrupted; to see what it did, run the same command again with "
              f"--idempotency-key {output.key}", file=sys.stderr)
        return FAILED
    finally:
        if client is not None:
            client.close()


def request_body(args: argparse.Namespace) -> dict[str, Any]:
    """The rerun API's request body from the options; misuse is a ``Stop`` with exit code 2."""
    if (args.api_call_id is None) == (args.filter is None):
        raise Stop(USAGE, "name one API_CALL_ID or a --filter")
    if args.filter is None and (args.yes or args.rate is not None):
        raise Stop(USAGE, "--yes and --rate are for a bulk rerun (--filter)")
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
            return OK
        result = ask(client, rerun_request(body, output.key)).body
    except Stop as stop:
        if output.as_json and stop.code == FAILED:  # a refusal: scripts get it on stdout too
            output.line({"type": "error", "message": str(stop), "idempotency_key": output.key})
        raise
    if output.as_json:
        output.line({**result, "idempotency_key": output.key})
    else:
        output.say(item_text(result))
    return OK if result.get("outcome") == "ok" else FAILED


def rerun_bulk(client: BlockingOpsClient, body: dict[str, Any], args: argparse.Namespace, output: Output) -> int:
    plan = ask(client, rerun_request({**body, "dry_run": True}, None)).body
    if args.dry_run or not plan.get("count"):
        output.plan(plan)
        return OK
    if not args.yes:
        _confirm(plan)
    started = ask(client, rerun_request({**body, **plan_bound(plan)}, output.key)).body
    output.say(f"bulk rerun {started.get('id')} started: {plan['count']:,} calls")
    return follow(client, str(started["id"]), started, output)


def _confirm(plan: dict[str, Any]) -> None:
    """Ask on the terminal; with no terminal to ask on, refuse rather than run blind."""
    count = int(plan["count"])
    if not sys.stdin.isatty():
        raise Stop(USAGE, f"this reruns {count:,} calls: pass --yes to run a bulk without a terminal")
    sys.stderr.write(f"{plan_text(plan)}\n{rerun_question(count)} [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise Stop(FAILED, "not rerun")


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
    return OK if clean else FAILED


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


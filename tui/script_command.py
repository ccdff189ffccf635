"""``switchroom script try``: a candidate runtime script tried on a connection's recorded trigger events
(the hub's script trials), for a developer's own CI: it prints the summary and the events that broke
(then those it fixed or changed), and exits 1 when an event that succeeded before fails with the
candidate. ``--json`` prints the hub's lines as they come. Nothing reaches a service."""

import argparse
import asyncio
import sys
from pathlib import Path

from switchroom.protocol.ops import MAX_TRIAL_SOURCE_CHARS
from switchroom.protocol.ops_answers import TrialFailed, TrialItem, TrialStarted, TrialSummary
from switchroom.tui.exit_codes import FAILED, HUB, OK, USAGE, Stop
from switchroom.tui.http import HubUnreachable
from switchroom.tui.hub_target import HubTarget, require_token
from switchroom.tui.text import printable
from switchroom.tui.trial_client import TrialRefused, trial_lines
from switchroom.tui.trial_text import VERDICT_ORDER, item_lines, summary_text

SHOWN_PER_VERDICT = 20
"""Events listed for each of broken, fixed and changed in text output (``--json`` has them all)."""


def run(args: argparse.Namespace, target: HubTarget) -> int:
    if target.url is None:
        raise Stop(USAGE, "name the hub: --hub URL|NAME or $SWITCHROOM_HUB")
    token = require_token(target)
    body = request_body(args)
    try:
        return asyncio.run(_try(target.url, token, body, args.json))
    except HubUnreachable as exc:
        raise Stop(HUB, str(exc)) from None
    except TrialRefused as exc:
        raise Stop(USAGE if exc.status in (400, 404, 422) else HUB, printable(str(exc))) from None
    except KeyboardInterrupt:
        return FAILED


def request_body(args: argparse.Namespace) -> dict[str, object]:
    path = Path(args.file).expanduser()
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Stop(USAGE, f"--file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if len(source) > MAX_TRIAL_SOURCE_CHARS:
        raise Stop(USAGE, f"--file {path}: a script is at most {MAX_TRIAL_SOURCE_CHARS // 1024} KiB")
    body: dict[str, object] = {"connection_id": args.connection, "source": source, "live_queries": args.live_queries}
    if args.filter is not None:
        body["filter"] = args.filter
    if args.last is not None:
        body["last"] = args.last
    if args.reason:
        body["reason"] = args.reason
    return body


async def _try(hub_url: str, token: str, body: dict[str, object], as_json: bool) -> int:
    started: TrialStarted | None = None
    items: list[TrialItem] = []
    async for line in trial_lines(hub_url, token, body):
        if as_json:
            sys.stdout.write(line.model_dump_json() + "\n")
            sys.stdout.flush()
        if isinstance(line, TrialStarted):
            started = line
        elif isinstance(line, TrialItem):
            items.append(line)
            _progress(len(items), started)
        elif isinstance(line, TrialFailed):
            raise TrialRefused(200, line.code, line.message)
        elif isinstance(line, TrialSummary):
            _progress(None, started)
            if not as_json and started is not None:
                _report(started, line, items)
            return FAILED if line.broken else OK
    raise TrialRefused(200, "bad_answer", "the hub's answer ended before the trial's summary")


def _report(started: TrialStarted, summary: TrialSummary, items: list[TrialItem]) -> None:
    out = sys.stdout
    out.write(printable(summary_text(started, summary)) + "\n")
    for verdict in VERDICT_ORDER[:3]:
        chosen = [item for item in items if item.verdict == verdict]
        for item in chosen[:SHOWN_PER_VERDICT]:
            out.write("\n" + "\n".join(printable(line) for line in item_lines(item)) + "\n")
        if len(chosen) > SHOWN_PER_VERDICT:
            out.write(f"\n… and {len(chosen) - SHOWN_PER_VERDICT:,} more {verdict} (--json lists them all)\n")
    out.flush()


def _progress(done: int | None, started: TrialStarted | None) -> None:
    """A progress line on stderr while a terminal watches; cleared at the end."""
    if not sys.stderr.isatty() or started is None:
        return
    text = "" if done is None else f"tried {done:,} of {started.events:,} events"
    sys.stderr.write(f"\r{text}\x1b[K")
    sys.stderr.flush()

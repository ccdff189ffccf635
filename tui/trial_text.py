"""A script trial's results in words, for the command line and the console alike."""

from switchroom.protocol.ops_answers import TrialCall, TrialItem, TrialRun, TrialStarted, TrialSummary

VERDICT_ORDER = ("broken", "fixed", "changed", "still_failing", "no_original", "unchanged")
"""How the results are listed: what a developer must look at first, first."""


def summary_text(started: TrialStarted, summary: TrialSummary) -> str:
    """The counts first (a narrow terminal cuts the end of the line: the versions, not the verdicts)."""
    versions = f"candidate {started.script_version} (live {started.live_version or 'none'})"
    capped = f", the newest {started.events:,} of those the filter shows" if started.capped else ""
    counts = ", ".join(f"{getattr(summary, name):,} {name.replace('_', ' ')}" for name in VERDICT_ORDER
                       if getattr(summary, name) or name in ("broken", "fixed"))
    return f"{started.connection_id}: {summary.events:,} events tried: {counts}{capped}; {versions}"


def run_text(run: TrialRun | None) -> str:
    if run is None:
        return "no run"
    if run.error is None:
        return run.status
    where = f" (line {run.error.line})" if run.error.line else ""
    return f"{run.status}{where}: {run.error.message}"


def call_text(call: TrialCall) -> str:
    fields = ", ".join(f"{k}={v!r}" for k, v in (call.fields or {}).items())
    answered = f" ← {call.answered_by}" if call.answered_by else ""
    return f"{call.kind} {call.op_id}({fields}) → {call.status_code if call.status_code is not None else '-'}{answered}"


def item_lines(item: TrialItem) -> list[str]:
    """One event's result: what it was, the original run beside the candidate's, and their calls."""
    lines = [f"#{item.trigger_event_id} {item.verdict} · {item.ts or ''} · {item.user_id or ''}",
             f"  was: {run_text(item.original)}", f"  now: {run_text(item.candidate)}"]
    before = [call_text(c) for c in item.original.calls] if item.original else []
    after = [call_text(c) for c in item.candidate.calls]
    if before != [call_text(c.model_copy(update={"answered_by": None})) for c in item.candidate.calls]:
        lines += ["  calls before:", *(f"    {c}" for c in before or ["none"]),
                  "  calls now:", *(f"    {c}" for c in after or ["none"])]
    return lines

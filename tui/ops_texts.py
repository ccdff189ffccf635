"""What the rerun API's answers say to a person, the same in the dashboard and from ``switchroom rerun``:
a dry run's count, one item's result, a bulk's counts. Each reads an answer of ``tui.ops_client.ANSWER_SHAPE``
(a field may be missing or None)."""

from typing import Any


def refusals_text(plan: dict[str, Any]) -> str:
    """A dry run's refusals per reason, e.g. ``3 not found, 1 already rerun``; '' for none."""
    by_reason = plan.get("refused")  # per reason in a plan
    if not isinstance(by_reason, dict):
        return ""
    return ", ".join(f"{n:,} {reason.replace('_', ' ')}" for reason, n in sorted(by_reason.items()))


def plan_text(plan: dict[str, Any]) -> str:
    refused = refusals_text(plan)
    count = f"{plan.get('count') or 0:,} failed action calls would be rerun"
    return count + (f"; not rerun: {refused}" if refused else "")


def rerun_question(count: int) -> str:
    return f"Rerun {count:,} failed calls?"


def item_text(item: dict[str, Any]) -> str:
    """One rerun's result: the call it repeated, how it went, and the call it made."""
    code = f" {item['status_code']}" if item.get("status_code") is not None else ""
    new = f" as #{item['api_call_id']}" if item.get("api_call_id") else ""
    why = " ".join(str(part) for part in (item.get("error_code"), item.get("message")) if part)
    why = f": {why}" if why and item.get("outcome") != "ok" else ""
    return f"#{item.get('original')} {item.get('outcome')}{code}{new}{why}"


def counts_text(status: dict[str, Any]) -> str:
    """A bulk's progress: how many of its calls have run, and how they went."""
    return (f"{status.get('done') or 0:,} of {status.get('total') or 0:,} · ok {status.get('ok') or 0:,}"
            f" · failed again {status.get('failed') or 0:,} · refused {status.get('refused') or 0:,}")

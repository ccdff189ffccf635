"""The kinds of event-log record (DESIGN §7) and what each stream carries: named once, here."""

from typing import Final, Literal

Kind = Literal["api_call", "script_run", "trigger_event", "rerun"]
API_CALL: Final = "api_call"
SCRIPT_RUN: Final = "script_run"
TRIGGER_EVENT: Final = "trigger_event"
RERUN: Final = "rerun"
KINDS: tuple[Kind, ...] = (API_CALL, SCRIPT_RUN, TRIGGER_EVENT, RERUN)

LOG_STREAM_KINDS: tuple[Kind, ...] = (API_CALL, SCRIPT_RUN, RERUN)
"""What ``/v1/streams/logs`` carries."""
TRIGGER_STREAM_KINDS: tuple[Kind, ...] = (TRIGGER_EVENT,)
"""What ``/v1/streams/triggers`` carries."""

OUTCOME_FIELD: dict[str, str] = {API_CALL: "error_code", SCRIPT_RUN: "status", TRIGGER_EVENT: "delivered_to",
                                 RERUN: "outcome"}
"""The field that says how each kind of record ended: an api_call's error code, a script run's status, a
trigger event's delivery, a rerun's outcome (the filter language's ``code:``, the failure groups)."""

"""The kinds of event-log record (DESIGN §7) and what each stream carries, read off the record structs
(``protocol.records``): a kind is named once, in its struct's ``tag``."""

from typing import Final

from switchroom.protocol.records import ApiCall, Record, Rerun, ScriptRun, TriggerEvent


def kind_of(record_type: type[Record]) -> str:
    """The name a record struct's kind has on the wire (its ``kind`` field)."""
    return str(record_type.__struct_config__.tag)


RECORD_TYPE: dict[str, type[Record]] = {kind_of(t): t for t in Record.__subclasses__()}
"""Kind → its struct, in the order the structs are declared."""
KINDS: tuple[str, ...] = tuple(RECORD_TYPE)
API_CALL: Final = kind_of(ApiCall)
SCRIPT_RUN: Final = kind_of(ScriptRun)
TRIGGER_EVENT: Final = kind_of(TriggerEvent)
RERUN: Final = kind_of(Rerun)

LOG_STREAM_KINDS: tuple[str, ...] = tuple(kind for kind, t in RECORD_TYPE.items() if t.stream == "logs")
"""What ``/v1/streams/logs`` carries."""
TRIGGER_STREAM_KINDS: tuple[str, ...] = tuple(kind for kind, t in RECORD_TYPE.items() if t.stream == "triggers")
"""What ``/v1/streams/triggers`` carries."""

OUTCOME_FIELD: dict[str, str] = {kind: t.outcome_field for kind, t in RECORD_TYPE.items()}
"""The field that says how each kind of record ended: an api_call's error code, a script run's status, a
trigger event's delivery, a rerun's outcome (the filter language's ``code:``, the failure groups)."""

"""What a status code, a status class or a script outcome means on this platform (DESIGN §3, §4, §6).

The dashboard labels its breakdown bars, failure groups and filters with these. A code means
different things by direction: inbound it is the Connect API's answer to a client; outbound it is what a
service answered the hub (the hub maps those onto 502/504 for its own client); webhook, what the
developer's backend answered.
"""

from typing import Any

from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN

NO_ANSWER = "none"
"""The status key of a call that got no answer at all (a refused connection or a timeout)."""
SKIPPED = "skipped"
CLASSES = ("2xx", "3xx", "4xx", "5xx", SKIPPED, NO_ANSWER)

_CLASS_MEANINGS = {
    "2xx": "succeeded",
    "3xx": "redirected (not followed: it could carry the service key elsewhere)",
    "4xx": "refused: the request, the user or the rate",
    "5xx": "failed at the hub or the service behind it",
    SKIPPED: "skipped: the service declined this run on purpose (a SKIP), not an error",
    NO_ANSWER: "no answer: the service could not be reached or did not answer in time",
}

_INBOUND = {
    200: "ok: the answer carries data (connection, query rows, options)",
    204: "action ran (or trigger test accepted)",
    400: "invalid_request: the body is not JSON the API understands",
    401: "unauthorized: the user's authorization is missing or broken",
    403: "forbidden: this key may not do that",
    404: "not_found: no such connection, feature, action or user",
    408: "request_timeout: the client did not send its request in time",
    422: "invalid_parameters: a field is missing, mistyped or not an option, or the user has not enabled it",
    429: "rate_limited: too many calls; the client should back off",
    500: "internal_error: a hub bug (nothing a client sends should cause one)",
    502: "service_error: the service answered with an error",
    504: "service_timeout: the service did not answer in time",
}

_OUTBOUND = {
    200: "ok: the service answered",
    400: "the service refused the request (as a SKIP it counts as skipped)",
    401: "the service refused the user's authorization",
    429: "the service is rate limiting the hub",
    500: "the service failed",
    502: "a gateway in front of the service failed",
    503: "the service is unavailable",
    504: "a gateway in front of the service timed out",
}

_ERROR_CODES = {
    "invalid_request": "the body is not JSON the API understands",
    "unauthorized": "credentials or the user's authorization are missing or wrong",
    "forbidden": "not allowed with these credentials",
    "not_found": "no such object",
    "invalid_parameters": "a field failed validation, or the user has not enabled the connection",
    "rate_limited": "too many calls",
    "request_timeout": "the client did not send its request in time",
    "internal_error": "a hub bug",
    "service_error": "the service answered with an error",
    "service_timeout": "the service did not answer in time",
}

_SCRIPT_OUTCOMES = {
    "ok": "the script ran to its end",
    "error": "the script threw (message, stack and line in the detail)",
    "timeout": "the script was stopped at its time limit",
    "oom": "the script was stopped at its memory cap",
}


def status_key(status_code: int | None, skipped: bool) -> str:
    """How a call's answer is shown and grouped: ``skipped``, ``none`` (no answer) or the code."""
    if skipped:
        return SKIPPED
    return NO_ANSWER if not status_code else str(status_code)


def status_class(key: str) -> str:
    """The class of a status key: ``2xx`` … ``5xx``, ``skipped`` or ``none``."""
    return key if key in (SKIPPED, NO_ANSWER) else f"{key[0]}xx"


def class_meaning(klass: str) -> str:
    return _CLASS_MEANINGS.get(klass, "")


def code_meaning(key: str, direction: str | None = "inbound") -> str:
    """What a status key means for a call in ``direction`` (inbound when unknown: what clients saw)."""
    if key in (SKIPPED, NO_ANSWER):
        return _CLASS_MEANINGS[key]
    table = _INBOUND if direction in (None, "inbound") else _OUTBOUND
    code = int(key)
    return table.get(code) or _CLASS_MEANINGS.get(status_class(key), "")


def outcome_meaning(outcome: str) -> str:
    """What an error code (``service_timeout``) or a script outcome (``timeout``) means."""
    return _ERROR_CODES.get(outcome) or _SCRIPT_OUTCOMES.get(outcome, "")


def is_failure(kind: str, status_code: int | None, skipped: Any, outcome: str | None) -> bool:
    """An api_call that got no answer or an error status (skipped ones are not failures), or a script
    run that did not end ``ok``."""
    if kind == SCRIPT_RUN:
        return outcome not in (None, "", "ok")
    return kind == API_CALL and not skipped and (not status_code or status_code >= 400)

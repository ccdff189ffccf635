"""Connect API errors as exceptions, answered in the error shape of DESIGN §3."""

from datetime import datetime

from switchroom.protocol import ErrorBody, ErrorDetail
from switchroom.protocol.errors import ErrorCode
from switchroom.store.filters import FilterError, RecordFilter, parse_filter


class ConnectApiError(Exception):
    def __init__(self, code: ErrorCode, message: str, details: list[ErrorDetail] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.body = ErrorBody(code=code, message=message, details=details or [])
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return self.body.status


def field_error(pointer: str, message: str) -> ErrorDetail:
    return ErrorDetail(parameter=pointer, message=message)


def query_int(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    """A whole-number query parameter within ``[low, high]``; 422 naming it otherwise."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not low <= int(raw) <= high:
        raise ConnectApiError("invalid_parameters", f"{name} must be a whole number from {low} to {high}",
                              [field_error(f"/{name}", f"must be a whole number from {low} to {high}")])
    return int(raw)


def filter_param(text: str, base: RecordFilter, now: datetime) -> RecordFilter:
    """A request's ``filter`` in the filter language, on top of ``base``; 422 saying where it goes wrong."""
    try:
        return parse_filter(text, base, now=now)
    except FilterError as exc:
        raise ConnectApiError("invalid_parameters", f"filter: {exc}", [field_error("/filter", str(exc))]) from None

"""Connect API errors as exceptions, answered in the error shape of DESIGN §3."""

from switchroom.protocol import ErrorBody, ErrorDetail
from switchroom.protocol.errors import ErrorCode


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

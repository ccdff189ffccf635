"""The Connect API error body (DESIGN §3): ``{type: "error", code, message, details}``."""

from typing import Literal

from pydantic import Field

from switchroom.protocol.base import ProtocolModel

ErrorCode = Literal[
    "invalid_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "invalid_parameters",
    "request_timeout",
    "rate_limited",
    "internal_error",
    "service_error",
    "service_timeout",
    "not_rerunnable",
    "already_rerun",
    "conflict",
]

STATUS_FOR_CODE: dict[str, int] = {
    "invalid_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "invalid_parameters": 422,
    "request_timeout": 408,  # the client did not send its request in time (``--request-timeout``)
    "rate_limited": 429,
    "internal_error": 500,
    "service_error": 502,
    "service_timeout": 504,
    # Reruns (DESIGN §9): the record cannot be rerun, was rerun before, or the idempotency key is in use.
    "not_rerunnable": 409,
    "already_rerun": 409,
    "conflict": 409,
}


class ErrorDetail(ProtocolModel):
    parameter: str
    message: str


class ErrorBody(ProtocolModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)

    @property
    def status(self) -> int:
        return STATUS_FOR_CODE[self.code]

"""Field resolution and validation (DESIGN §2).

Per field of the operation: the request's override → else the user's value (user fields only)
→ else the configured value or default. Then: required present, type right, select value among
the options. Every bad field is reported, each with a JSON pointer to it.
"""

from typing import Any

from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.protocol.catalog import Field, FieldConfig, Operation
from switchroom.protocol import ErrorDetail

_MISSING = object()


def resolve_fields(
    operation: Operation,
    configured: dict[str, FieldConfig],
    user_values: dict[str, Any],
    overrides: dict[str, Any] | None,
) -> dict[str, Any]:
    """The values an operation runs with; raises ``ConnectApiError`` 422 listing every bad field."""
    overrides = overrides or {}
    problems: list[ErrorDetail] = [
        field_error(f"/fields/{name}", f"'{name}' is not a field of {operation.id}")
        for name in overrides
        if operation.field(name) is None
    ]
    resolved: dict[str, Any] = {}
    for field in operation.fields:
        value = _pick(field, configured.get(field.id), user_values, overrides)
        if value is _MISSING or value is None or value == "":
            if field.required:
                problems.append(field_error(f"/fields/{field.id}", f"'{field.id}' is required"))
            continue
        message = value_problem(field, value)
        if message:
            problems.append(field_error(f"/fields/{field.id}", message))
            continue
        resolved[field.id] = value
    if problems:
        raise ConnectApiError("invalid_parameters", "Some fields are invalid", problems)
    return resolved


def _pick(field: Field, config: FieldConfig | None, user_values: dict[str, Any], overrides: dict[str, Any]) -> Any:
    if field.id in overrides:
        return overrides[field.id]
    if config is not None and config.visibility == "user" and field.id in user_values:
        return user_values[field.id]
    if config is not None:
        return config.value
    return _MISSING


def value_problem(field: Field, value: Any) -> str | None:
    """What is wrong with ``value`` for ``field`` (its type, or a choice not offered), or None."""
    allowed = [option.value for option in field.options or []]
    match field.type:
        case "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return None
            return f"'{field.id}' must be a number"
        case "select":
            if not isinstance(value, str):
                return f"'{field.id}' must be a string"
            return None if value in allowed else f"'{field.id}' must be one of: {', '.join(allowed)}"
        case "checkbox_multi":
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                return f"'{field.id}' must be a list of strings"
            wrong = [v for v in value if v not in allowed]
            return f"'{field.id}' may only hold: {', '.join(allowed)}" if wrong else None
        case _:  # text, text_area, datetime, location
            return None if isinstance(value, str) else f"'{field.id}' must be a string"

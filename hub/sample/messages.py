"""The ``messages`` sample service: texts sent to a phone (Service API, DESIGN §4)."""

from collections.abc import Mapping
from typing import Any
import random

from starlette.applications import Starlette

from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.service_api import Action, required_text, service_app

MAX_BODY = 1600  # what a long SMS can carry in concatenated parts


def messages_app(service_key: str, faults: Faults, seed: int = 2) -> Starlette:
    """Action ``send_text``. Nothing is really sent; each text gets a message id drawn from ``seed``."""
    rng = random.Random(seed)

    def send_text(fields: dict[str, Any]) -> str:
        return f"msg-{rng.getrandbits(48):012x}"

    return service_app("Messages", service_key, faults, actions=[Action("send_text", _send_text_fields, send_text)])


def _send_text_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A body over ``MAX_BODY`` is a 400 error, not a SKIP: the request itself is wrong."""
    return {"phone": required_text(fields, "phone", max_length=32),
            "body": required_text(fields, "body", max_length=MAX_BODY)}

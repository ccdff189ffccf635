"""The dashboard's client of the hub's rerun API (``/v1/ops/reruns``, DESIGN §9), over HTTP.

Every answer comes back as ``OpsAnswer`` (status and body), errors included: the caller shows the
hub's own message. Only a hub that cannot be reached raises (``tui.http.HubUnreachable``). A hub is
untrusted input: a success whose fields have other types than the dialogs read (``ANSWER_SHAPE``) comes
back as an error that says so, so no dialog meets a count of "many".
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
import uuid

from switchroom.store.record_shape import Check, bad_fields, is_integer, is_text, objects_of
from switchroom.tui.http import hub_request

TIMEOUT, CONNECT_TIMEOUT = 30.0, 5.0
MALFORMED = 502
"""The status an ``OpsAnswer`` gets when the hub's answer is not of the shape the dialogs read."""
_ITEM = {"original": is_integer, "outcome": is_text, "status_code": is_integer, "error_code": is_text,
         "api_call_id": is_integer, "message": is_text}
ANSWER_SHAPE: dict[str, Check] = {
    **_ITEM, "id": is_text, "state": is_text, "delivered_to": is_text, "as_of": is_text,
    **dict.fromkeys(("count", "total", "done", "ok", "failed", "through_seq"), is_integer),
    "refused": lambda v: is_integer(v) or (isinstance(v, dict) and all(map(is_integer, v.values()))),
    "items": objects_of(_ITEM), "api_call_ids": lambda v: isinstance(v, list) and all(map(is_integer, v)),
    "details": objects_of({"parameter": is_text, "message": is_text}),
}
"""What a rerun plan, a rerun's outcome, a bulk's progress and a replay's outcome may hold (``refused``: a
count, or per reason in a plan); None, like absence, is fine."""


@dataclass(frozen=True)
class OpsAnswer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def message(self) -> str:
        """The hub's error message with the first detail, or '' for a success."""
        if self.ok:
            return ""
        details = self.body.get("details") or []
        detail = f" ({details[0].get('parameter')}: {details[0].get('message')})" if details else ""
        return f"{self.body.get('message', 'the hub refused')}{detail}"


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def plan_bound(plan: dict[str, Any]) -> dict[str, Any]:
    """What binds a bulk to its dry run's count (``through_seq``, ``as_of``): sent with the confirmed
    request, so that the bulk runs what was counted and no failure newer than the count is swept in."""
    return {key: plan[key] for key in ("through_seq", "as_of") if key in plan}


class OpsClient:
    def __init__(self, hub_url: str, token: str) -> None:
        self.hub_url = hub_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    async def rerun(self, body: dict[str, Any], idempotency_key: str | None) -> OpsAnswer:
        """``POST /v1/ops/reruns``; a dry run needs no key."""
        headers = {**self._headers, **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
        return await self._call("POST", "/v1/ops/reruns", json=body, headers=headers)

    async def replay(self, body: dict[str, Any], idempotency_key: str) -> OpsAnswer:
        """``POST /v1/ops/replays``: a trigger event through its delivery again."""
        headers = {**self._headers, "Idempotency-Key": idempotency_key}
        return await self._call("POST", "/v1/ops/replays", json=body, headers=headers)

    async def bulk(self, bulk_id: str) -> OpsAnswer:
        return await self._call("GET", f"/v1/ops/reruns/{quote(bulk_id, safe='')}", headers=self._headers)

    async def cancel(self, bulk_id: str) -> OpsAnswer:
        return await self._call("POST", f"/v1/ops/reruns/{quote(bulk_id, safe='')}/cancel", headers=self._headers)

    async def _call(self, method: str, path: str, **kwargs: Any) -> OpsAnswer:
        response = await hub_request(self.hub_url, method, path, TIMEOUT, CONNECT_TIMEOUT, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        if not isinstance(body, dict):
            body = {"message": str(body)[:200]}
        if bad := bad_fields(body, ANSWER_SHAPE, required=()):
            message = f"the hub's answer has {', '.join(bad)} of the wrong type"
            return OpsAnswer(MALFORMED if response.status_code < 400 else response.status_code, {"message": message})
        return OpsAnswer(response.status_code, body)

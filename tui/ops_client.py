"""Clients of the hub's rerun API (``/v1/ops/reruns``, DESIGN §9) over HTTP: ``OpsClient`` for the dashboard
(async) and ``BlockingOpsClient`` for ``switchroom rerun``, the two built from one set of requests
(``OpsRequest``) and one reading of answers (``answer_of``).

Every answer comes back as ``OpsAnswer`` (status and body), errors included: the caller shows the
hub's own message. Only a hub that cannot be reached raises (``tui.http.HubUnreachable``). A hub is
untrusted input: a success whose fields have other types than the callers read (``ANSWER_SHAPE``) comes
back as an error that says so, so no dialog meets a count of "many".
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
import uuid

from switchroom.store.record_shape import Check, bad_fields, is_integer, is_text, objects_of
from switchroom.tui.http import asking, hub_request

if TYPE_CHECKING:
    import httpx

TIMEOUT, CONNECT_TIMEOUT = 30.0, 5.0
MALFORMED = 502
"""The status an ``OpsAnswer`` gets when a success from the hub is not of the shape the callers read."""
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
        return f"{self.body.get('message') or 'the hub refused'}{detail}"

    @property
    def code(self) -> str:
        """The hub's error code (``invalid_parameters``, ``already_rerun``, …)."""
        return str(self.body.get("code") or "error")


def answer_of(response: "httpx.Response") -> OpsAnswer:
    """The hub's answer, read as untrusted: one that is not a JSON object, or a success with fields of the
    wrong type, becomes an error that says so."""
    try:
        body = response.json()
    except ValueError:
        return _refused(response.status_code, f"the hub answered {response.status_code} without JSON")
    if not isinstance(body, dict):
        return _refused(response.status_code, str(body)[:200])
    if bad := bad_fields(body, ANSWER_SHAPE, required=()):
        return _refused(response.status_code, f"the hub's answer has {', '.join(bad)} of the wrong type")
    return OpsAnswer(response.status_code, body)


def _refused(status: int, message: str) -> OpsAnswer:
    return OpsAnswer(MALFORMED if status < 400 else status, {"message": message})


@dataclass(frozen=True)
class OpsRequest:
    """One request of the rerun API, for either client to send."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None
    """Sent as ``Idempotency-Key``: the hub runs one key once (a dry run needs none)."""
    after: int | None = None
    """For a bulk's progress: only the item results past the first ``after``."""

    def options(self, token: str) -> dict[str, Any]:
        """The request's headers, body and query, as httpx takes them."""
        headers = {"Authorization": f"Bearer {token}"}
        if self.idempotency_key:
            headers["Idempotency-Key"] = self.idempotency_key
        options: dict[str, Any] = {"headers": headers}
        if self.body is not None:
            options["json"] = self.body
        if self.after is not None:
            options["params"] = {"after": self.after}
        return options


def rerun_request(body: dict[str, Any], idempotency_key: str | None) -> OpsRequest:
    return OpsRequest("POST", "/v1/ops/reruns", body, idempotency_key)


def replay_request(body: dict[str, Any], idempotency_key: str) -> OpsRequest:
    """A trigger event through its delivery again."""
    return OpsRequest("POST", "/v1/ops/replays", body, idempotency_key)


def bulk_request(bulk_id: str, after: int) -> OpsRequest:
    return OpsRequest("GET", f"/v1/ops/reruns/{quote(bulk_id, safe='')}", after=after)


def cancel_request(bulk_id: str) -> OpsRequest:
    """Answered once the bulk has stopped: what has not started does not run."""
    return OpsRequest("POST", f"/v1/ops/reruns/{quote(bulk_id, safe='')}/cancel")


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def plan_bound(plan: dict[str, Any]) -> dict[str, Any]:
    """What binds a bulk to its dry run's count (``through_seq``, ``as_of``): sent with the confirmed
    request, so that the bulk runs what was counted and no failure newer than the count is swept in."""
    return {key: plan[key] for key in ("through_seq", "as_of") if key in plan}


@dataclass
class BulkProgress:
    """A running bulk as its follower polls it: each poll asks for the item results not seen yet."""

    bulk_id: str
    status: dict[str, Any] = field(default_factory=dict)
    """The latest answer: the bulk's state and counts."""
    seen: int = 0

    def poll(self) -> OpsRequest:
        return bulk_request(self.bulk_id, self.seen)

    def take(self, answer: OpsAnswer) -> list[dict[str, Any]]:
        """Take a poll's answer; the item results new in it, in the order the hub ran them."""
        self.status = answer.body
        items: list[dict[str, Any]] = answer.body.get("items") or []
        self.seen += len(items)
        return items

    @property
    def running(self) -> bool:
        return self.status.get("state") == "running"


READ_ONLY_REFUSAL = "this console is read-only (--read-only, or read_only = true in the settings)"


def changes_something(request: OpsRequest) -> bool:
    """Whether the hub would act on ``request``: a rerun, replay or cancel, not a dry run or a read."""
    return request.method != "GET" and not (request.body or {}).get("dry_run")


class OpsClient:
    """The dashboard's: each request on its own connection, the event loop never waiting on the network.
    A ``read_only`` client never sends a request that would change something: it answers it as refused
    (the screens say so before asking; this is the lock behind them)."""

    def __init__(self, hub_url: str, token: str, read_only: bool = False) -> None:
        self.hub_url = hub_url.rstrip("/")
        self._token = token
        self.read_only = read_only

    async def send(self, request: OpsRequest) -> OpsAnswer:
        if self.read_only and changes_something(request):
            return OpsAnswer(403, {"code": "read_only", "message": READ_ONLY_REFUSAL})
        response = await hub_request(self.hub_url, request.method, request.path, TIMEOUT, CONNECT_TIMEOUT,
                                     **request.options(self._token))
        return answer_of(response)

    async def rerun(self, body: dict[str, Any], idempotency_key: str | None) -> OpsAnswer:
        return await self.send(rerun_request(body, idempotency_key))

    async def replay(self, body: dict[str, Any], idempotency_key: str) -> OpsAnswer:
        return await self.send(replay_request(body, idempotency_key))


class BlockingOpsClient:
    """The command line's: one connection for all of a command's requests."""

    def __init__(self, hub_url: str, token: str, timeout: "float | httpx.Timeout" = TIMEOUT) -> None:
        import httpx

        self.hub_url = hub_url
        self._token = token
        self._http = httpx.Client(base_url=hub_url.rstrip("/"), timeout=timeout)

    def send(self, request: OpsRequest) -> OpsAnswer:
        with asking(self.hub_url):
            return answer_of(self._http.request(request.method, request.path, **request.options(self._token)))

    def close(self) -> None:
        self._http.close()

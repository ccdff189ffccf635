"""The hub's OpenAPI document against the hub itself: every route the app serves is in the document and
nothing else is; and the answers of a real hub process (every documented answer that has a body, errors
among them, and the frames of both streams) fit the schemas the document gives them."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
import json
import re
import uuid

import httpx
import jsonschema_rs
import websockets
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from switchroom.hub.app import create_app
from switchroom.hub.settings import DEMO_CATALOG, HubSettings, Secret
from switchroom.protocol import dumps, loads
from switchroom.protocol.kinds import KINDS, TRIGGER_EVENT
from tests.support.hub_calls import inbound, post_run, records, wait_bulk
from tests.support.hubproc import RunningHub, start_hub, write_catalog
from tests.support.waiting import eventually_sync

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
WEBSOCKET = "WEBSOCKET"
CONNECTION = "/v2/connections/{connection_id}"


# -- the routes ----------------------------------------------------------------------------------------------


def served_routes(routes: Sequence[BaseRoute], prefix: str = "") -> set[str]:
    """``METHOD /path`` of every route (a mount's routes under its path), ``WEBSOCKET /path`` of a websocket;
    paths as the document writes them (``{id}``, not ``{id:str}``). Starlette answers HEAD wherever it answers
    GET, so HEAD stands apart only where there is no GET. What cannot be listed (a mounted app that is no
    router, a route for every method) is named as such, so that it fails the comparison too."""
    found: set[str] = set()
    for route in routes:
        path = prefix + re.sub(r"\{(\w+):\w+\}", r"{\1}", getattr(route, "path", ""))
        if isinstance(route, Mount):
            found |= served_routes(route.routes, path) if route.routes else {f"MOUNTED-APP {path}/…"}
        elif isinstance(route, WebSocketRoute):
            found.add(f"{WEBSOCKET} {path}")
        elif isinstance(route, Route):
            methods = route.methods or {"ANY-METHOD"}
            found |= {f"{method} {path}" for method in methods if method != "HEAD" or "GET" not in methods}
        else:
            found.add(f"{type(route).__name__} {path or '?'}")
    return found


def documented_routes(document: dict[str, Any]) -> set[str]:
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item if method in HTTP_METHODS}
    return operations | {f"{WEBSOCKET} {path}" for path in document["x-websocket-streams"]}


def test_the_route_walk_finds_mounted_and_websocket_routes() -> None:
    async def endpoint(scope: object) -> None: ...

    inner = [Route("/items/{item_id:int}", endpoint, methods=["GET", "POST"]), WebSocketRoute("/feed", endpoint)]
    routes = [Mount("/extra", routes=inner), Mount("/static", app=endpoint), Route("/any", endpoint)]
    assert served_routes(routes) == {"GET /extra/items/{item_id}", "POST /extra/items/{item_id}",
                                     "WEBSOCKET /extra/feed", "MOUNTED-APP /static/…", "GET /any"}


async def test_every_route_the_app_serves_is_in_its_openapi_document_and_nothing_else(tmp_path: Path) -> None:
    settings = HubSettings(host="127.0.0.1", port=0, db=tmp_path / "hub.sqlite", catalog=DEMO_CATALOG, demo=True,
                           traffic_rate=0.0, user_rate_limit=0.0, token=Secret("token", "test"),
                           service_key=Secret("service key", "test"))
    app = create_app(settings, "http://127.0.0.1:8470")
    async with app.router.lifespan_context(app):  # started and stopped, so that what create_app opened is closed
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://hub") as client:
            document = (await client.get("/openapi.json")).json()
    served, documented = served_routes(app.routes), documented_routes(document)
    missing = sorted(served - documented)
    assert not missing, (
        f"served by the hub but missing from its OpenAPI document: {', '.join(missing)}. Describe each in "
        "hub/openapi.py: an HTTP route in OPERATIONS (its answers' schemas from protocol/ models), a websocket "
        "in hub.streams.STREAMS")
    unserved = sorted(documented - served)
    assert not unserved, f"in the OpenAPI document but served by no route of the hub: {', '.join(unserved)}"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            named = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert named == set(re.findall(r"\{(\w+)\}", path)), f"{method.upper()} {path} documents path {named}"


# -- real answers --------------------------------------------------------------------------------------------


def problems(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """How ``instance`` fails ``schema`` (a schema of the document, its $refs into the document's components)."""
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})
    return [f"at /{'/'.join(map(str, error.instance_path))}: {error.message}"[:600]
            for error in validator.iter_errors(instance)][:5]


@dataclass
class Checked:
    """Calls to a real hub whose answers are checked against the document: the status is one it lists for the
    operation, and the body fits the schema it gives (or is empty where it gives none). A request body that
    the hub answered 2xx must fit the documented request schema too."""

    hub: RunningHub
    document: dict[str, Any]
    answers: set[str] = field(default_factory=set)
    """``METHOD /path STATUS`` of every answer checked."""

    def call(self, method: str, template: str, auth: Literal["key", "token"] | None, *,
             path: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             **request: Any) -> httpx.Response:
        sent = {**({"IFTTT-Service-Key": self.hub.service_key} if auth == "key" else {}),
                **({"Authorization": f"Bearer {self.hub.token}"} if auth == "token" else {}), **(headers or {})}
        response = httpx.request(method, self.hub.url + template.format(**(path or {})), headers=sent,
                                 timeout=60, **request)
        self.check(method, template, response, request.get("json"))
        return response

    def check(self, method: str, template: str, response: httpx.Response, sent: Any = None) -> None:
        operation = self.document["paths"][template][method.lower()]
        status = str(response.status_code)
        where = f"{method} {template} answered {status}"
        assert status in operation["responses"], f"{where}, which the document does not list: {response.text[:500]}"
        content = operation["responses"][status].get("content")
        if content is None:
            assert response.content == b"", f"{where} with a body the document does not give it"
        elif "application/x-ndjson" in content:  # JSON lines (a script trial): each line fits the schema
            assert response.headers["content-type"].split(";")[0] == "application/x-ndjson", where
            lines = [json.loads(line) for line in response.text.splitlines() if line]
            assert lines, f"{where} with no lines"
            for line in lines:
                found = problems(self.document, content["application/x-ndjson"]["schema"], line)
                assert not found, f"{where} with a line that does not fit its schema: {found}\n{line}"
        elif "application/json" not in content:  # text, such as /metrics: its media type, and text it is
            [(media_type, _)] = content.items()
            assert response.headers["content-type"].split(";")[0] == media_type.split(";")[0], where
            assert response.text, f"{where} with an empty body"
        else:
            assert response.headers["content-type"].split(";")[0] == "application/json", where
            found = problems(self.document, content["application/json"]["schema"], response.json())
            assert not found, f"{where} with a body that does not fit its schema: {found}\n{response.text[:600]}"
        if sent is not None and response.is_success:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert not problems(self.document, schema, sent), f"{method} {template}: the request does not fit"
        self.answers.add(f"{method} {template} {status}")


def test_real_answers_fit_the_document_every_documented_one_among_them(hub: RunningHub) -> None:
    document = httpx.get(f"{hub.url}/openapi.json").json()
    checked = Checked(hub, document)
    hub.set_lights_faults()

    checked.call("GET", "/v1/health", None)
    checked.call("GET", "/openapi.json", None)
    checked.call("GET", "/metrics", "token")
    checked.call("GET", "/metrics", None)
    trial = "/v1/ops/script-trials"
    checked.call("POST", trial, "token", json={"connection_id": "rain-alert", "source": "console.log(Trigger.id);"})
    checked.call("POST", trial, "token", json={"connection_id": "rain-alert", "source": "const = ;"})
    checked.call("POST", trial, "token", json={"connection_id": "no-such-connection", "source": "1;"})
    connect_api(checked)
    reruns(checked)
    replays(checked)
    unchanged = checked.call("POST", "/v1/ops/catalog/reload", "token")  # the file it serves, reread
    assert unchanged.json()["changed"] is False
    assert checked.call("POST", "/v1/ops/catalog/reload", None).status_code == 401
    ops_reads(checked)  # last: by now the log holds a record of every kind

    with_bodies = {f"{method.upper()} {path} {status}" for path, item in document["paths"].items()
                   for method, operation in item.items() for status, answer in operation["responses"].items()
                   if status.startswith("2") and "content" in answer}
    unchecked = sorted(with_bodies - checked.answers)
    assert not unchecked, f"documented answers no call of this test checked against a real one: {unchecked}"


def connect_api(checked: Checked) -> None:
    glow, welcome = {"connection_id": "evening-glow"}, {"connection_id": "porch-welcome"}
    run = {"connection_id": "evening-glow", "type_id": "lights.change_color"}
    checked.call("GET", "/v2/me", "key")
    assert checked.call("GET", "/v2/me", None).status_code == 401
    assert "user_connection" in checked.call("GET", CONNECTION, "key", path=glow, params={"user_id": "user-001"}).json()
    assert checked.call("GET", CONNECTION, "key", path=glow).json()["user_status"] is None
    assert checked.call("GET", CONNECTION, "key", path={"connection_id": "no-such"}).status_code == 404
    checked.call("GET", CONNECTION + "/{kind}/{type_id}/field_options", "key",
                 path={**glow, "kind": "actions", "type_id": "lights.change_color"})
    user = f"openapi-{uuid.uuid4().hex[:8]}"
    enabled = checked.call("PUT", CONNECTION + "/user_connection", "key", path=welcome, params={"user_id": user},
                           json={"user_features": [{"feature_id": "welcome", "user_feature_actions": [
                               {"feature_action_id": "fa_porch_text",
                                "user_fields": [{"field_id": "phone", "value": "+15550001"}]}]}]})
    assert enabled.json()["user_status"] == "enabled"
    disabled = checked.call("POST", CONNECTION + "/disable", "key", path=welcome, params={"user_id": user})
    assert disabled.json()["user_connection"]["status"] == "disabled"
    assert checked.call("POST", CONNECTION + "/actions/{type_id}/run", "key", path=run,
                        json={"user_id": "user-001"}).status_code == 204
    assert checked.call("POST", CONNECTION + "/actions/{type_id}/run", "key", path=run, json={}).status_code == 422
    checked.call("POST", CONNECTION + "/queries/{type_id}/perform", "key",
                 path={"connection_id": "video-search", "type_id": "videos.search_videos"},
                 json={"user_id": "user-001", "fields": {"q": "lofi"}, "limit": 2})
    for connection, trigger in (("liked-video-texts", "videos.new_liked_video"), ("light-log", "lights.light_on")):
        assert checked.call("POST", CONNECTION + "/triggers/{type_id}/test", "key",
                            path={"connection_id": connection, "type_id": trigger},
                            json={"user_id": "user-001"}).status_code == 204
    checked.call("POST", "/v1/notifications", "key", json={"data": [{"user_id": "user-001"}]})


def failed_run(hub: RunningHub) -> int:
    """The seq of an action call that the service failed (502)."""
    hub.set_lights_faults(error_rate=1.0, error_status=500)
    try:
        request_id = uuid.uuid4().hex
        assert post_run(hub, {"user_id": "user-002"}, request_id=request_id).status_code == 502
    finally:
        hub.set_lights_faults()
    return int(inbound(hub, request_id)["seq"])


def reruns(checked: Checked) -> None:
    hub, rerun = checked.hub, "/v1/ops/reruns"
    seq = failed_run(hub)
    assert checked.call("POST", rerun, "token", json={"api_call_id": seq, "dry_run": True}).json()["count"] == 1
    plan = checked.call("POST", rerun, "token", json={"filter": "status:5xx", "dry_run": True, "force": True}).json()
    assert plan["count"] >= 1 and "through_seq" in plan
    key = {"Idempotency-Key": uuid.uuid4().hex}
    once = checked.call("POST", rerun, "token", headers=key, json={"api_call_id": seq})
    assert once.json()["type"] == "rerun"
    again = checked.call("POST", rerun, "token", headers=key, json={"api_call_id": seq})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == once.json()
    assert checked.call("POST", rerun, "token", headers={"Idempotency-Key": uuid.uuid4().hex},
                        json={"api_call_id": seq}).json()["code"] == "already_rerun"
    assert checked.call("POST", rerun, "token", json={"api_call_id": seq}).status_code == 400  # no key
    assert checked.call("POST", rerun, "token", json={"api_call_id": 10**12, "dry_run": True}).status_code == 404
    assert checked.call("POST", rerun, None, json={"api_call_id": seq}).status_code == 401

    started = checked.call("POST", rerun, "token", headers={"Idempotency-Key": uuid.uuid4().hex},
                           json={"filter": "status:5xx", "force": True, "through_seq": plan["through_seq"],
                                 "as_of": plan["as_of"]})
    assert started.status_code == 202
    bulk = {"bulk_id": started.json()["id"]}
    wait_bulk(hub, bulk["bulk_id"])
    assert checked.call("GET", rerun + "/{bulk_id}", "token", path=bulk).json()["items"]
    assert checked.call("GET", rerun + "/{bulk_id}", "token", path=bulk, params={"after": "x"}).status_code == 422
    assert checked.call("POST", rerun + "/{bulk_id}/cancel", "token", path=bulk).json()["state"] == "finished"
    assert checked.call("GET", rerun + "/{bulk_id}", "token", path={"bulk_id": "no-such"}).status_code == 404


def replays(checked: Checked) -> None:
    for connection, delivered_to in (("light-log", "webhook"), ("liked-video-texts", "script")):
        eventually_sync(lambda: records(checked.hub, kind=TRIGGER_EVENT, connection_id=connection))
        seq = records(checked.hub, kind=TRIGGER_EVENT, connection_id=connection)[-1]["seq"]
        plan = checked.call("POST", "/v1/ops/replays", "token", json={"trigger_event_id": seq, "dry_run": True,
                                                                       "force": True})
        assert plan.json()["delivered_to"] == delivered_to
        done = checked.call("POST", "/v1/ops/replays", "token", headers={"Idempotency-Key": uuid.uuid4().hex},
                            json={"trigger_event_id": seq, "force": True})
        assert done.json()["type"] == "replay"
    assert checked.call("POST", "/v1/ops/replays", "token", json={"trigger_event_id": "7"}).status_code == 422


def ops_reads(checked: Checked) -> None:
    connections = checked.call("GET", "/v1/ops/connections", "token").json()["data"]
    assert {"evening-glow", "light-log"} <= {c["id"] for c in connections}
    assert checked.call("GET", "/v1/ops/connections", "token", params={"window_minutes": "0"}).status_code == 422
    assert checked.call("GET", "/v1/ops/connections", None).status_code == 401
    deliveries = {checked.call("GET", "/v1/ops/connections/{connection_id}", "token",
                               path={"connection_id": c}).json()["delivery"]
                  for c in ("porch-welcome", "light-log", "video-search")}
    assert deliveries == {"script", "webhook", "none"}
    assert checked.call("GET", "/v1/ops/connections/{connection_id}", "token",
                        path={"connection_id": "no-such"}).status_code == 404
    assert [hub["this"] for hub in checked.call("GET", "/v1/ops/hubs", "token").json()["data"]] == [True]
    for kind in KINDS:  # each kind's records against its own schema
        eventually_sync(lambda: checked.call("GET", "/v1/ops/records", "token",
                                             params={"filter": f"kind:{kind}", "limit": 1000}).json()["data"],
                        f"a {kind} record in the log")
    assert "next" in checked.call("GET", "/v1/ops/records", "token", params={"limit": 1}).json()
    assert checked.call("GET", "/v1/ops/records", "token", params={"filter": "colour:red"}).status_code == 422


def test_catalog_reload_answers_fit_the_document_refused_and_taken(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, DEMO_CATALOG.read_text())
    hub = start_hub(tmp_path, extra_args=("--catalog", str(catalog)))
    try:
        checked = Checked(hub, httpx.get(f"{hub.url}/openapi.json").json())
        script = tmp_path / "scripts" / "rain_alert.js"
        fixed = script.read_text()
        script.write_text("let broken = ;\n")
        refused = checked.call("POST", "/v1/ops/catalog/reload", "token")
        assert refused.status_code == 422
        assert [d["message"].split(": ")[1] for d in refused.json()["details"]] == ["scripts/rain_alert.js:1:14"]
        script.write_text(fixed + "\n// edited\n")
        assert checked.call("POST", "/v1/ops/catalog/reload", "token").json()["connections"]["changed"] == [
            "rain-alert"]
    finally:
        hub.stop()


# -- the streams ---------------------------------------------------------------------------------------------


async def test_stream_frames_fit_the_streams_the_document_names(hub: RunningHub) -> None:
    document = httpx.get(f"{hub.url}/openapi.json").json()
    streams = document["x-websocket-streams"]
    assert set(streams) == {"/v1/streams/logs", "/v1/streams/triggers"}
    post_run(hub, {"user_id": "user-001"})
    httpx.post(f"{hub.url}{CONNECTION}/triggers/lights.light_on/test".format(connection_id="light-log"),
               json={"user_id": "user-001"}, headers={"IFTTT-Service-Key": hub.service_key})
    eventually_sync(lambda: records(hub, kind=TRIGGER_EVENT))

    for path, stream in streams.items():
        subscribe = {"type": "subscribe", "after": 0}
        assert not problems(document, stream["client_frames"]["subscribe"], subscribe)
        types: list[str] = []
        async with websockets.connect(hub.ws_url + path, additional_headers={"Authorization": f"Bearer {hub.token}"},
                                      max_size=None) as ws:
            await ws.send(dumps(subscribe).decode())
            while "heartbeat" not in types:  # the backlog, then a heartbeat once nothing new comes
                frame = loads(await ws.recv())
                assert not problems(document, stream["server_frames"][frame["type"]], frame), (path, frame)
                types.append(frame["type"])
        assert types[0] == "hello" and "batch" in types, (path, types)

        async with websockets.connect(hub.ws_url + path, additional_headers={"Authorization": "Bearer wrong"}) as ws:
            frame = loads(await ws.recv())
            assert not problems(document, stream["server_frames"]["error"], frame), frame
            try:
                await ws.recv()
            except websockets.ConnectionClosed as closed:
                assert str(closed.rcvd.code) in stream["close_codes"]
            else:
                raise AssertionError(f"{path} sent another frame after refusing a wrong token")

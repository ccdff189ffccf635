"""A bounded fuzz run of the Connect API from its own OpenAPI document: no 500, no traceback, and every
answer in the documented shape, with the documented status codes."""

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from tests.support.hubproc import RunningHub

EXAMPLES_PER_OPERATION = 40
# Not schemathesis' "not a server error": 502 and 504 are documented answers (the service failed), and
# the test itself asserts that no 500 ever comes back.
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
# Random ids would only ever meet 404s; half the cases use a connection and operation that exist together.
REAL_OPERATIONS = {
    "actions": [("evening-glow", "lights.change_color"), ("porch-welcome", "messages.send_text"),
                ("rain-alert", "messages.send_text")],
    "queries": [("video-search", "videos.search_videos"), ("rain-alert", "weather.forecast")],
    "triggers": [("porch-welcome", "lights.light_on"), ("rain-alert", "weather.rain_tomorrow")],
}
USERS = ["user-001", "user-002", "user-150"]
# Operations that disable or replace a user's connection: fuzzed last, so that the runs, performs and
# tests before them meet users who still have it enabled (else whether any run gets a 204 is luck).
CHANGES_USERS = ("/user_connection", "/disable")


def with_real_ids(case: schemathesis.Case, pick: int, user: str, use: bool) -> schemathesis.Case:
    if not use:
        return case
    params = case.path_parameters or {}
    kind = params.get("kind") or next((k for k in REAL_OPERATIONS if f"/{k}/" in case.path), "actions")
    connection, type_id = REAL_OPERATIONS.get(kind, REAL_OPERATIONS["actions"])[pick % 2]
    if "connection_id" in params:
        params["connection_id"] = connection
    if "type_id" in params:
        params["type_id"] = type_id
    if isinstance(case.body, dict) and "user_id" in case.body:
        case.body["user_id"] = user
    if case.query and "user_id" in case.query:
        case.query["user_id"] = user
    return case


def test_no_500_and_documented_answers(hub: RunningHub) -> None:
    schema = schemathesis.openapi.from_url(f"{hub.url}/openapi.json")
    headers = {"IFTTT-Service-Key": hub.service_key, "Authorization": f"Bearer {hub.token}"}
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda operation: operation.path.endswith(CHANGES_USERS))
    assert len(operations) >= 9
    statuses: set[int] = set()

    for operation in operations:
        cases = st.builds(with_real_ids, operation.as_strategy(), st.integers(0, 1), st.sampled_from(USERS),
                          st.booleans())

        @given(case=cases)
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None, derandomize=True)
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses.add(response.status_code)
            assert response.status_code != 500
            assert "Traceback" not in response.text

        fuzz()
    assert {200, 204, 404, 422} <= statuses  # the run reached past the look-ups


def test_garbage_bodies_are_400_not_500(hub: RunningHub) -> None:
    headers = {"IFTTT-Service-Key": hub.service_key, "Content-Type": "application/json"}
    url = f"{hub.url}/v2/connections/evening-glow/actions/lights.change_color/run"
    bodies: list[Any] = [b"\xff\xfe", b"{" * 10000, b"nul", b'"just a string"', b"[]", b"1e999999"]
    for body in bodies:
        response = httpx.post(url, content=body, headers=headers)
        assert response.status_code in (400, 422), (body[:20], response.status_code, response.text)
        assert response.json()["type"] == "error"

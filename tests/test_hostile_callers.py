"""Hostile Connect API and ops API callers: what they send never becomes a 500, a secret in the log, or
noise the hub writes without bound."""

from pathlib import Path
import uuid

import httpx
import pytest
from textual import events
from textual.widgets import Input, Static

from store.filters import MAX_FILTER_TERMS, FilterError, parse_filter
from tests.hubproc import RunningHub
from tests.test_dashboard import wait_until
from tui.app import SwitchroomApp
from tui.widgets.log_view import LogView

THOUSAND_WORDS = " ".join(f"w{n}" for n in range(1_000))
LONG_WORD = "x" * 50_000


# -- the filter language is bounded where it is parsed -------------------------------------------------

def test_a_filter_past_the_term_bound_points_at_the_first_term_too_many() -> None:
    fifty = " ".join(f"w{n}" for n in range(MAX_FILTER_TERMS))
    assert len(parse_filter(fifty).text) == MAX_FILTER_TERMS
    with pytest.raises(FilterError) as raised:
        parse_filter(fifty + " over")
    assert raised.value.column == len(fifty) + 2
    codes = ",".join(str(500 + n) for n in range(MAX_FILTER_TERMS))  # comma-separated values count too
    with pytest.raises(FilterError):
        parse_filter(f"code:{codes} x")

@pytest.mark.parametrize("text", [THOUSAND_WORDS, LONG_WORD], ids=["1000-words", "50000-char-word"])
def test_an_oversized_rerun_filter_is_422_and_the_connection_goes_on(hub: RunningHub, text: str) -> None:
    headers = {"Authorization": f"Bearer {hub.token}"}
    with httpx.Client(base_url=hub.url, headers=headers) as client:
        for body in ({"filter": text, "dry_run": True}, {"filter": text}):
            answer = client.post("/v1/ops/reruns", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            assert answer.status_code == 422, answer.text
            error = answer.json()
            assert error["type"] == "error" and error["code"] == "invalid_parameters"
            assert error["details"][0]["parameter"] == "/filter" and "column" in error["message"]
        # the same keep-alive connection answers the next request
        assert client.post("/v1/ops/reruns", json={"filter": "status:5xx", "dry_run": True}).status_code == 200


@pytest.mark.parametrize("text", [THOUSAND_WORDS, LONG_WORD], ids=["1000-words", "50000-char-word"])
async def test_an_oversized_filter_pasted_in_the_dashboard_is_an_inline_message(
        hub: RunningHub, tmp_path: Path, text: str) -> None:
    app = SwitchroomApp(hub.url, hub.token, tmp_path / "cache")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "slash")
        field = app.query_one("#filter-input", Input)
        field.post_message(events.Paste(text))
        await wait_until(pilot, lambda: field.value == text)
        await pilot.press("enter")
        error = app.query_one("#filter-error", Static)
        await wait_until(pilot, lambda: "at most" in str(error.render()),
                         what=lambda: f"the bound in the filter line, not {str(error.render())[:200]!r}")
        assert str(error.render()).startswith("column 1001: a filter is at most 1,000 characters")
        assert app.query_one(LogView).record_filter is None  # not applied
        await pilot.press("escape", "1")  # the app goes on
        assert app.is_running and app.return_code is None

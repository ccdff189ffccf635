"""A script trial asked of the hub (``POST /v1/ops/script-trials``) and its answer read line by line, as
the CLI and the console both read it. The hub is untrusted input: each line is bounded in size and must
be one of the trial's lines (``protocol.ops_answers.TrialLine``), else the trial ends with a
``TrialRefused`` that says what came instead."""

from collections.abc import AsyncIterator
from typing import Any
import json

from switchroom.protocol.ops_answers import TrialFailed, TrialItem, TrialStarted, TrialSummary
from switchroom.tui.http import asking, hub_client

TrialAnswer = TrialStarted | TrialItem | TrialSummary | TrialFailed
MAX_LINE_BYTES = 8 << 20
"""A trial item carries two runs' calls and console lines: a few KiB, at most a few MiB."""
TIMEOUT_SECONDS = 60.0
"""Between two lines: an event's run takes at most the script time limit (10 s by default)."""


class TrialRefused(Exception):
    """The hub refused the trial (its error's status, code and message) or answered out of shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


async def trial_lines(hub_url: str, token: str, body: dict[str, Any]) -> AsyncIterator[TrialAnswer]:
    """The trial's lines as they come; ``HubUnreachable`` when the hub does not answer."""
    import httpx
    from pydantic import TypeAdapter, ValidationError

    from switchroom.protocol.ops_answers import TrialLine

    reader: TypeAdapter[TrialAnswer] = TypeAdapter(TrialLine)
    with asking(hub_url):
        async with hub_client(hub_url, httpx.Timeout(TIMEOUT_SECONDS, connect=5.0)) as http:
            async with http.stream("POST", f"{hub_url.rstrip('/')}/v1/ops/script-trials", json=body,
                                   headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status_code != 200:
                    raise await _refusal(response)
                async for line in _lines(response.aiter_bytes()):
                    try:
                        yield reader.validate_json(line)
                    except ValidationError:
                        raise TrialRefused(response.status_code, "bad_answer",
                                           "the hub sent a line that is no trial line") from None


async def _refusal(response: Any) -> TrialRefused:
    content = await response.aread()
    try:
        body = json.loads(content[:MAX_LINE_BYTES])
        return TrialRefused(response.status_code, str(body["code"]), str(body["message"]))
    except (ValueError, KeyError, TypeError):
        return TrialRefused(response.status_code, "bad_answer", f"the hub answered {response.status_code}")


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Whole lines, each at most ``MAX_LINE_BYTES``; a longer one ends the trial."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for line in whole:
            if line.strip():
                yield line
        if len(pending) > MAX_LINE_BYTES:
            raise TrialRefused(200, "bad_answer", f"the hub sent a line over {MAX_LINE_BYTES >> 20} MiB")
    if pending.strip():
        yield pending

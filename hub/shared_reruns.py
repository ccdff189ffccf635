"""Reruns' memory where hubs share one database (DESIGN §12): idempotency keys and rerun claims as rows.

A request's key is claimed by inserting its row: the hub that inserts it runs the request, and writes the
answer into the row; a request with the same key on any other hub (also while the first still runs)
waits for that answer and gives it again. A rerun claims its original call in ``rerun_claims`` just before
it runs, so "already rerun" holds whichever hub reran it.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast
import asyncio

import orjson

from switchroom.hub.recorder import Recorder

if TYPE_CHECKING:  # psycopg is an optional extra: a SQLite hub never loads it
    from switchroom.store.postgres_log import PostgresLog

ANSWER_POLL_S = 0.05
ANSWER_WAIT_S = 120.0
"""How long a request waits for the answer to its key that another hub is still giving."""
STILL_RUNNING = (409, {"type": "error", "code": "conflict", "details": [], "message":
                       "The request with this Idempotency-Key is still running on another hub, or was interrupted "
                       "there; it is not run again: see its rerun records"})


class SharedReruns:
    def __init__(self, recorder: Recorder, holder: str) -> None:
        """``holder``: this hub process, as the keys it holds name it (``Peers.process_id``)."""
        self._recorder = recorder
        self.holder = holder

    async def claim_or_answer(self, key: str) -> tuple[int, dict[str, Any]] | None:
        """None if this hub now holds ``key``; else the answer another request was given for it (waited for
        while that request runs)."""
        if await self._recorder.read(lambda log: _shared(log).claim_key(key, self.holder)):
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WAIT_S
        while loop.time() < deadline:
            answer = await self._recorder.read(lambda log: _shared(log).key_answer(key))
            if answer is not None:
                return answer[0], orjson.loads(answer[1])
            await asyncio.sleep(ANSWER_POLL_S)
        return STILL_RUNNING

    async def answered(self, key: str, status: int, body: dict[str, Any], remember: bool) -> None:
        """Keep the answer in the key's row; a key that ran nothing (a refusal) is freed for another use."""
        if remember:
            text = orjson.dumps(body).decode()
            await self._recorder.read(lambda log: _shared(log).answer_key(key, self.holder, status, text))
        else:
            await self._recorder.read(lambda log: _shared(log).free_key(key, self.holder))

    async def claim_rerun(self, original: int, force: bool) -> bool:
        return await self._recorder.read(lambda log: _shared(log).claim_rerun(original, force))

    async def times_rerun(self, originals: Sequence[int]) -> dict[int, int]:
        return await self._recorder.read(lambda log: _shared(log).rerun_claims(originals)) if originals else {}


def _shared(log: object) -> "PostgresLog":
    return cast("PostgresLog", log)

"""Reruns' memory where hubs share one database (DESIGN §12): idempotency keys, rerun claims and bulk
reruns as rows.

A request's key is claimed by inserting its row: the hub that inserts it runs the request, and writes the
answer into the row; a request with the same key on any other hub (also while the first still runs)
waits for that answer and gives it again. A rerun claims its original call in ``rerun_claims`` just before
it runs, so "already rerun" holds whichever hub reran it. A bulk is run by the hub that started it, which
writes its state and item results every ``PUBLISH_S``; any other hub answers for it from those rows, and
passes a cancel on through its row.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast
import asyncio

import orjson

from switchroom.hub.peers import LIVE_WITHIN_S
from switchroom.hub.recorder import Recorder
from switchroom.protocol import ErrorBody

if TYPE_CHECKING:  # psycopg is an optional extra: a SQLite hub never loads it
    from switchroom.hub.reruns import Bulk
    from switchroom.store.postgres_log import PostgresLog

ANSWER_POLL_S = 0.05
ANSWER_WAIT_S = 120.0
"""How long a request waits for the answer to its key that another hub is still giving."""
PUBLISH_S = 0.25
CANCEL_WAIT_S = 30.0
"""How long a cancel passed on to another hub waits for that hub to stop the bulk."""
STILL_RUNNING = (409, ErrorBody(code="conflict", message=(
    "The request with this Idempotency-Key is still running on another hub, or was interrupted there; it is not "
    "run again: see its rerun records")).model_dump())


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


    async def follow_bulk(self, bulk: "Bulk", cancel: Callable[[], object]) -> None:
        """Write a bulk's state and new item results while it runs and once it has ended; ``cancel`` it
        when another hub asks."""
        published = 0
        while True:
            ended = bulk.task is None or bulk.task.done()
            state = bulk.state if ended else "running"  # its end is written with its last items, not before
            items = [(n, orjson.dumps(item.as_json()).decode())
                     for n, item in enumerate(bulk.items[published:], start=published)]
            counts = (bulk.total, bulk.counts["ok"], bulk.counts["failed"], bulk.counts["refused"])
            asked = await self._recorder.read(
                lambda log: _shared(log).publish_bulk(bulk.id, self.holder, state, counts, items))
            published += len(items)
            if ended:
                return
            if asked:
                cancel()
            await asyncio.sleep(PUBLISH_S)

    async def bulk(self, bulk_id: str, after: int = 0, with_items: bool = True) -> dict[str, Any] | None:
        """A bulk another hub runs (or ran), as ``Bulk.as_json`` gives it."""
        found = await self._recorder.read(lambda log: _shared(log).bulk(bulk_id, after, LIVE_WITHIN_S))
        if found is None:
            return None
        (state, total, ok, failed, refused), items = found
        body: dict[str, Any] = {"type": "rerun_bulk", "id": bulk_id, "state": state, "total": total,
                                "done": ok + failed + refused, "ok": ok, "failed": failed, "refused": refused}
        if with_items:
            body["items_after"] = after
            body["items"] = [orjson.loads(item) for item in items]
        return body

    async def cancel(self, bulk_id: str) -> dict[str, Any] | None:
        """Ask the hub running a bulk to cancel it; its state once it has stopped (or after
        ``CANCEL_WAIT_S``, still running)."""
        await self._recorder.read(lambda log: _shared(log).cancel_bulk(bulk_id))
        deadline = asyncio.get_running_loop().time() + CANCEL_WAIT_S
        while True:
            body = await self.bulk(bulk_id, with_items=False)
            if body is None or body["state"] != "running" or asyncio.get_running_loop().time() > deadline:
                return body
            await asyncio.sleep(ANSWER_POLL_S)


def _shared(log: object) -> "PostgresLog":
    return cast("PostgresLog", log)

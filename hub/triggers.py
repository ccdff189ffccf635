"""Trigger events: new items from a service's trigger, recorded as ``trigger_event`` records.

For now this covers ``POST .../triggers/{id}/test``: poll the user feature's trigger once and record
its newest item as a test event. Subscriptions, polling, realtime notifications, dedupe and
delivery to runtime scripts and webhooks build on this.
"""

from dataclasses import dataclass
from typing import Any

from hub.record_bodies import capped
from hub.recorder import Recorder
from hub.runner import OperationRunner, ResolvedOperation
from hub.service_client import ServiceResult
from protocol import TriggerEvent

TEST_POLL_LIMIT = 1


@dataclass
class TriggerPipeline:
    runner: OperationRunner
    recorder: Recorder

    async def test(self, run: ResolvedOperation, request_id: str) -> ServiceResult:
        """Poll once and record the newest item (if any) as a test trigger event."""
        result = await self.runner.poll_trigger(run, TEST_POLL_LIMIT, request_id, source="test")
        if result.ok and not result.skipped:
            for item in _items(result.response_body)[:TEST_POLL_LIMIT]:
                self.recorder.record(_event(run, item, request_id).model_dump(exclude_none=True))
        return result


def _items(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _event(run: ResolvedOperation, item: dict[str, Any], request_id: str) -> TriggerEvent:
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    t = run.target
    return TriggerEvent(
        trigger_id=t.entry.ref, connection_id=t.connection.id, feature_id=t.feature.id, user_id=run.user_id,
        user_feature_id=run.user_feature_id, trigger_identity=run.trigger_identity,
        meta_id=str(meta.get("id", ""))[:200], ingredients=_ingredients(item),
        source="test", request_id=request_id,
    )


def _ingredients(item: dict[str, Any]) -> dict[str, Any]:
    """An item's ingredients as a record keeps them: whole when they fit, else a cut text of them."""
    ingredients = {k: v for k, v in item.items() if k != "meta"}
    kept = capped(ingredients)
    return kept if isinstance(kept, dict) else {"_truncated": kept}

"""Trigger events delivered to a developer's backend (DESIGN §5) when the connection has no script.

``POST {webhook_url}/ifttt/v1/webhooks/trigger_subscription/fired`` with the owner service's key, IFTTT's
documented body, and a ``webhook`` api_call record carrying the answer's status code.
"""

from dataclasses import dataclass
import uuid

from switchroom.hub.record_bodies import capped, cut
from switchroom.hub.recorder import Recorder
from switchroom.hub.service_client import WEBHOOK_PATH, ServiceClient
from switchroom.hub.triggers import FiredEvent
from switchroom.protocol import ApiCall
from switchroom.store import utc_now_iso


@dataclass
class Webhooks:
    services: ServiceClient
    recorder: Recorder

    async def deliver(self, event: FiredEvent) -> ApiCall:
        """POST the event to the developer's backend; record the ``webhook`` call and give its body back."""
        sub = event.subscription
        t = sub.target
        owner = t.catalog.services[t.connection.owner_service]  # as the event was resolved, reloads or not
        body = {
            "sent_at": utc_now_iso(),
            "data": {"connection_id": t.connection.id, "user_id": sub.user_id, "trigger_id": t.entry.ref,
                     "feature_id": t.feature.id, "user_feature_id": sub.user_feature_id},
            "event_data": {"ingredients": event.ingredients},
        }
        request_id = uuid.uuid4().hex
        result = await self.services.post_webhook(t.connection.webhook_url or "", owner, body, request_id)
        record = ApiCall(
            direction="webhook", method="POST", path=f"webhook:{WEBHOOK_PATH}", op="webhook", op_id=t.entry.ref,
            connection_id=t.connection.id, feature_id=t.feature.id, user_id=sub.user_id,
            user_feature_id=sub.user_feature_id, status_code=result.status_code, latency_ms=result.latency_ms,
            error_code=result.error_code, error_message=cut(result.error_message),
            request_body=capped(body), response_body=capped(result.response_body),
            source=event.source, trigger_event_id=event.seq, request_id=request_id,
        )
        self.recorder.record(record)
        return record

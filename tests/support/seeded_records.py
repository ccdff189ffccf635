"""Records made from a seed, for the dashboard's analytics to count: every kind of answer, in both
directions, and script runs."""

from datetime import UTC, datetime, timedelta
import random

from switchroom.store import iso_timestamp

START = datetime(2026, 11, 26, 9, 58, 30, tzinfo=UTC)
CODES = (204, 204, 204, 200, 422, 429, 502, 504, None, 400)


def records(count: int, first_seq: int = 1, seed: int = 7, start: datetime = START) -> list[dict[str, object]]:
    """api_calls (inbound and outbound, every kind of answer) and script runs, 1.7 s apart."""
    rng = random.Random(seed)
    made: list[dict[str, object]] = []
    for n in range(count):
        seq = first_seq + n
        ts = iso_timestamp(start + timedelta(seconds=1.7 * (seq - 1)))
        connection = rng.choice(("evening-glow", "porch-welcome"))
        feature = rng.choice(("glow", "dim"))
        if rng.random() < 0.1:
            made.append({"seq": seq, "ts": ts, "kind": "script_run", "connection_id": connection,
                         "feature_id": feature, "op_id": "weather.rain", "user_id": "u1",
                         "status": rng.choice(("ok", "ok", "error", "timeout")), "duration_ms": rng.uniform(1, 50)})
            continue
        status = rng.choice(CODES)
        skipped = status == 400 and rng.random() < 0.5
        made.append({"seq": seq, "ts": ts, "kind": "api_call", "connection_id": connection, "feature_id": feature,
                     "direction": rng.choice(("inbound", "inbound", "outbound")), "op_id": "lights.change_color",
                     "user_id": f"user-{rng.randint(1, 5)}", "status_code": status, "skipped": skipped,
                     "latency_ms": round(rng.lognormvariate(3, 0.8), 2),
                     **({"error_code": "service_error"} if status in (502, None) else {})})
    return made

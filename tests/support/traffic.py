"""Action runs sent to a hub (or a balancer) from threads, each answer kept: what a client saw."""

from dataclasses import dataclass, field
import threading
import time
import uuid

import httpx

from tests.support.hub_calls import RUN


@dataclass
class Answer:
    request_id: str
    status: int | None
    """None: no answer (the connection failed)."""
    by_hub: bool
    """Whether a hub gave the answer (a 204, or the Connect API's JSON), not the balancer (its own 5xx)."""
    at: float
    """time.monotonic() when the answer came."""


@dataclass
class RunTraffic:
    """``rate`` action runs a second for ``user`` (evening-glow), spread over ``threads`` threads."""

    url: str
    service_key: str
    user: str
    rate: float = 100.0
    threads: int = 4
    answers: list[Answer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(self.threads)]

    def start(self) -> "RunTraffic":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def answered(self) -> list[Answer]:
        """The runs a client saw answered by a hub, whatever the status."""
        return [a for a in self.answers if a.by_hub]

    def _send(self) -> None:
        interval = self.threads / self.rate
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                request_id = uuid.uuid4().hex
                try:
                    response = client.post(self.url + RUN, json={"user_id": self.user}, headers={
                        "IFTTT-Service-Key": self.service_key, "X-Request-ID": request_id})
                    status: int | None = response.status_code
                    by_hub = status == 204 or response.headers.get("content-type", "").startswith("application/json")
                except httpx.HTTPError:
                    status, by_hub = None, False
                self.answers.append(Answer(request_id, status, by_hub, time.monotonic()))
                self._stop.wait(max(0.0, started + interval - time.monotonic()))

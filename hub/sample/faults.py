"""Seeded, configurable fault injection for sample services."""

from collections.abc import Mapping
from dataclasses import dataclass, field
import math
import random
import time

_SETTINGS = ("error_rate", "error_status", "skip_rate", "latency_ms", "outage", "outage_every_s", "outage_for_s")
MAX_LATENCY_MS = 60_000  # longer than any hub timeout; more would only pile up waiting requests


@dataclass
class Faults:
    """How a sample service misbehaves. Rates are per request, in 0..1; latency in milliseconds."""

    error_rate: float = 0.0
    error_status: int = 503
    skip_rate: float = 0.0
    latency_ms: float = 0.0
    outage: bool = False  # every request fails while set
    outage_every_s: float = 0.0  # outage windows: the first outage_for_s seconds of every outage_every_s
    outage_for_s: float = 0.0
    seed: int = 7
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def update(self, changes: Mapping[str, object]) -> None:
        """Apply every setting named in ``changes``, or none of them: a bad value raises ``ValueError``."""
        checked = {name: _checked(name, changes[name]) for name in _SETTINGS if name in changes}
        for name, value in checked.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _SETTINGS}

    def in_outage(self, now: float | None = None) -> bool:
        """True while the service is down: switched off, or inside a scheduled outage window."""
        if self.outage:
            return True
        if self.outage_every_s <= 0 or self.outage_for_s <= 0:
            return False
        return (time.time() if now is None else now) % self.outage_every_s < self.outage_for_s

    def roll(self) -> str:
        """What this request gets: ``"error"``, ``"skip"`` or ``"ok"``."""
        if self.in_outage():
            return "error"
        draw = self._random.random()
        if draw < self.error_rate:
            return "error"
        if draw < self.error_rate + self.skip_rate:
            return "skip"
        return "ok"


def _checked(name: str, value: object) -> float | int | bool:
    """``value`` for setting ``name``, strictly: ``"false"`` is not a bool and ``true`` is not a rate."""
    if name == "outage":
        if not isinstance(value, bool):
            raise ValueError("outage must be true or false")
        return value
    if name == "error_status":
        if not isinstance(value, int) or isinstance(value, bool) or not 400 <= value <= 599:
            raise ValueError("error_status must be an HTTP error status, 400..599")
        return value
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number, at least 0")
    if name.endswith("_rate") and value > 1:
        raise ValueError(f"{name} must be between 0 and 1")
    if name == "latency_ms" and value > MAX_LATENCY_MS:
        raise ValueError(f"latency_ms must be at most {MAX_LATENCY_MS}")
    return float(value)

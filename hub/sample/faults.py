"""Seeded, configurable fault injection for sample services."""

from dataclasses import dataclass, field
import random


@dataclass
class Faults:
    """How a sample service misbehaves. Rates are per request, in 0..1; latency in milliseconds."""

    error_rate: float = 0.0
    error_status: int = 503
    skip_rate: float = 0.0
    latency_ms: float = 0.0
    outage: bool = False  # every request fails while set
    seed: int = 7
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def update(self, changes: dict[str, object]) -> None:
        for name in ("error_rate", "error_status", "skip_rate", "latency_ms", "outage"):
            if name in changes:
                kind = type(getattr(self, name))
                setattr(self, name, kind(changes[name]))  # type: ignore[operator]

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in ("error_rate", "error_status", "skip_rate", "latency_ms", "outage")}

    def roll(self) -> str:
        """What this request gets: ``"error"``, ``"skip"`` or ``"ok"``."""
        if self.outage:
            return "error"
        draw = self._random.random()
        if draw < self.error_rate:
            return "error"
        if draw < self.error_rate + self.skip_rate:
            return "skip"
        return "ok"

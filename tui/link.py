"""The state of the dashboard's link to its hub, as the status line shows it (DESIGN §8)."""

from dataclasses import dataclass
from typing import Literal

LinkStateName = Literal["connecting", "live", "reconnecting", "offline"]


@dataclass(frozen=True)
class LinkState:
    name: LinkStateName
    attempt: int = 0
    detail: str = ""
    error: str = ""
    """What keeps the link from working that the operator must see, e.g. a frame the dashboard cannot take;
    shown until the link carries records again."""

    def describe(self) -> str:
        if self.name == "reconnecting":
            return f"reconnecting {self.attempt}{': ' + self.error if self.error else ''}"
        if self.name == "offline":
            return f"offline, browsing the cache{': ' + self.detail if self.detail else ''}"
        return self.name

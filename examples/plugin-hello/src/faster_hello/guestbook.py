"""The plugin's per-app state: who signed up and how many sign-ins, since start-up."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Guestbook"]


@dataclass
class Guestbook:
    """Created by the plugin's lifespan, fed by faster-auth's events, read by the routes."""

    greeting: str
    size: int
    started_at: float = field(default_factory=time.time)
    sign_ins: int = 0
    _guests: deque[str] = field(init=False)

    def __post_init__(self) -> None:
        self._guests = deque(maxlen=self.size)

    def welcome(self, guest: str) -> None:
        self._guests.append(guest)

    def count_sign_in(self) -> None:
        self.sign_ins += 1

    @property
    def guests(self) -> list[str]:
        """The newest `size` guests, oldest first."""
        return list(self._guests)

"""What the console's browser tests share: the served app and a watched browser page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from playwright.sync_api import Page

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class ConsoleServer:
    """The default app (every installed plugin, embedded defaults) served by `faster run`."""

    base_url: str
    workdir: Path
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10.0)


@dataclass
class Watched:
    """A browser page whose console errors and requests are all recorded."""

    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def open(self, name: str) -> None:
        """Open the console on page `name` and wait until it has rendered."""
        self.page.goto(f"{self.base_url}/-/console#{name}")
        self.wait_ready(name)

    def wait_ready(self, name: str) -> None:
        self.page.wait_for_selector(f'body[data-page="{name}"][data-ready="true"]')

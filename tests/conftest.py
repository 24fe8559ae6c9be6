"""Suite-wide test configuration: async tests (marked `anyio`) run on asyncio."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

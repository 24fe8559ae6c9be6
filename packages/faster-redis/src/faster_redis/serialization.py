"""How cached values are stored: JSON by default, never pickle.

Pickle would let anyone who can write to Redis run code in every app that reads the cache, so
it is not offered. JSON stores what JSON can say: dicts, lists, strings, numbers, booleans and
`None`; pydantic models, dataclasses, dates and UUIDs are stored as their JSON form (through
FastAPI's `jsonable_encoder`) and come back as plain JSON values.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from fastapi.encoders import jsonable_encoder

__all__ = ["JsonSerializer", "Serializer"]


class Serializer(Protocol):
    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class JsonSerializer:
    """Compact UTF-8 JSON."""

    def dumps(self, value: Any) -> bytes:
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, default=jsonable_encoder
        ).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data)

"""Redaction: one set of rules for log lines and Sentry events.

- values of keys whose name contains password, token, secret, key, authorization, cookie,
  session, credential or dsn (plus `FASTER_OBSERVABILITY_REDACT_KEYS`) are replaced whole;
- inside any text: JWT-shaped strings (also malformed ones starting `eyJ`), the credentials of
  `Bearer`/`Basic`/`Token` authorization values, everything after `Cookie:`/`Set-Cookie:`, and
  the values of `name=value` / `"name": "value"` pairs whose name is sensitive (query strings,
  form bodies, JSON quoted in messages);
- control characters and line breaks are escaped (`\\n`, `\\x1b`), so a value cannot forge a
  log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

__all__ = ["REDACTED", "SENSITIVE_KEY_PARTS", "Redactor"]

REDACTED = "[REDACTED]"
SENSITIVE_KEY_PARTS = (
    "password",
    "passwd",
    "pwd",
    "token",
    "secret",
    "key",
    "authorization",
    "cookie",
    "session",
    "credential",
    "dsn",
)
_MAX_DEPTH = 16

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_NEEDS_WORK = re.compile(r"[:=.\s\x00-\x1f\x7f\u2028\u2029]")
"""Every text rule needs one of these (a separator, whitespace) or `eyJ`, and so does escaping
(a control character): text with none of them, like most paths, is returned as it is. (A
character class and a substring test are each faster than the alternation of both.)"""
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def _text_pattern(key_parts: Iterable[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(part) for part in key_parts)
    return re.compile(
        # Everything after a cookie header name, to the end of the line.
        r"(?P<cookie>(?i:set-cookie|cookie)\s*[:=]\s*)[^\r\n]+"
        # The credentials of an authorization scheme.
        r"|(?P<scheme>\b(?i:bearer|basic|token|digest)\s+)[^\s,;\"'&]+"
        # JWT-shaped: base64url JSON headers (`eyJ`), also truncated or malformed ones.
        r"|eyJ[A-Za-z0-9_\-=]*(?:\.+[A-Za-z0-9_\-=]+)*\.*"
        # Three long base64url segments: a JWT whatever its header says.
        r"|\b[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
        # name=value, name: value, "name": "value" with a sensitive name.
        rf"|(?P<pair>[\w.\-]*(?i:{names})[\w.\-]*[\"']?\s*[:=]\s*)"
        r"(?:(?i:bearer|basic|token|digest)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s&;,\"'}]+)"
    )


class Redactor:
    """Applies the redaction rules to text, to nested values and to structlog event dicts."""

    def __init__(self, extra_key_parts: Iterable[str] = ()) -> None:
        parts = tuple(SENSITIVE_KEY_PARTS) + tuple(p.lower() for p in extra_key_parts if p)
        self._parts = parts
        self._pattern = _text_pattern(parts)
        self._key_cache: dict[str, bool] = {}

    def sensitive_key(self, name: str) -> bool:
        """Whether values under the key `name` are secret (substring match, any case)."""
        known = self._key_cache.get(name)
        if known is None:
            lowered = name.lower()
            known = any(part in lowered for part in self._parts)
            if len(self._key_cache) < 4096:
                self._key_cache[name] = known
        return known

    def text(self, value: str) -> str:
        """`value` with secrets replaced and control characters escaped."""
        if _NEEDS_WORK.search(value) is None and "eyJ" not in value:
            return value
        value = self._pattern.sub(self._replace, value)
        return _CONTROL.sub(_escape_char, value)

    def value(self, value: Any, depth: int = 0) -> Any:
        """A copy of `value` with every secret removed (mappings, sequences and text)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int | float | bool) or value is None:
            return value
        if isinstance(value, bytes | bytearray):
            return self.text(value.decode("utf-8", "replace"))
        if isinstance(value, Mapping | list | tuple | set | frozenset):
            return self._container(value, depth)
        return self.text(str(value))

    def _container(self, value: Any, depth: int) -> Any:
        if depth >= _MAX_DEPTH:
            return REDACTED
        if isinstance(value, Mapping):
            return {
                key: (
                    REDACTED
                    if isinstance(key, str) and self.sensitive_key(key) and value[key] is not None
                    else self.value(value[key], depth + 1)
                )
                for key in value
            }
        return [self.value(item, depth + 1) for item in value]

    def mapping_in_place(self, event: MutableMapping[str, Any], skip: frozenset[str]) -> None:
        """Redact `event`'s values in place, leaving the keys in `skip` untouched."""
        for key, item in event.items():
            if key in skip:
                continue
            if self.sensitive_key(key):
                if item is not None:
                    event[key] = REDACTED
            elif isinstance(item, str):
                event[key] = self.text(item)
            elif not isinstance(item, int | float | bool) and item is not None:
                event[key] = self.value(item, 1)

    def _replace(self, match: re.Match[str]) -> str:
        prefix = match.group("cookie") or match.group("scheme") or match.group("pair")
        return (prefix or "") + REDACTED

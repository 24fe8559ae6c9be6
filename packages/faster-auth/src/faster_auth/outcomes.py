"""Auth outcomes as Prometheus counters, through faster-observability's metrics hook.

faster-auth's plugin is a module, so nothing per app can live on it: each app's `AuthOutcomes`
lives on that app's `AuthSettings` (built once per app by the plugin host), which both the
`faster_observability_metrics` hook and the lifespan see. The hook binds real
`prometheus_client` counters on the app's registry (so multi-process mode aggregates them like
any other); until then, and for ever without the observability plugin, counting does nothing.
The order of the two plugins' lifespans does not matter.

Labels are bounded: event types and outcomes are faster-auth's own constants, reasons are
mapped onto a fixed set, routes are faster-auth's endpoint names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TOKEN_REJECTION_REASONS", "AuthOutcomes", "rejection_reason"]

TOKEN_REJECTION_REASONS = frozenset({"missing", "expired", "revoked", "inactive", "invalid"})
"""The `reason` label of `faster_auth_token_rejections_total`."""

_REASONS = {
    "no credentials": "missing",
    "not a bearer credential": "missing",
    "expired": "expired",
    "ExpiredSignatureError": "expired",
    "token revoked": "revoked",
    "user not active": "inactive",
}


def rejection_reason(reason: str) -> str:
    """`InvalidTokenError.reason` mapped onto `TOKEN_REJECTION_REASONS` (a bounded label)."""
    return _REASONS.get(reason, "invalid")


@dataclass(frozen=True, slots=True)
class _Counters:
    events: Any
    token_rejections: Any
    refreshes: Any
    revocations: Any
    throttled: Any


class AuthOutcomes:
    """One app's auth outcome counters (no-ops until `bind`)."""

    def __init__(self) -> None:
        self._counters: _Counters | None = None

    def bind(self, registry: Any) -> None:
        """Create the counters on `registry` (prometheus_client imported lazily: it is the
        observability plugin's dependency, not ours)."""
        from prometheus_client import Counter  # noqa: PLC0415

        self._counters = _Counters(
            events=Counter(
                "faster_auth_events",
                "Account and admin events by type, outcome and reason (the audit trail's types)",
                ["event", "outcome", "reason"],
                registry=registry,
            ),
            token_rejections=Counter(
                "faster_auth_token_rejections",
                "Requests refused for their access token, by reason",
                ["reason"],
                registry=registry,
            ),
            refreshes=Counter(
                "faster_auth_refreshes",
                "Refresh-token exchanges by outcome (success, refused, reused)",
                ["outcome"],
                registry=registry,
            ),
            revocations=Counter(
                "faster_auth_revocations",
                "Access-token revocations made by this process: one token or every token of a user",
                ["kind"],
                registry=registry,
            ),
            throttled=Counter(
                "faster_auth_throttled",
                "Attempts refused with a 429 by the credential limits, by route",
                ["route"],
                registry=registry,
            ),
        )

    def event(self, type: str, outcome: str, reason: str | None = None) -> None:
        if self._counters is not None:
            self._counters.events.labels(type, outcome, reason or "").inc()

    def token_rejected(self, reason: str) -> None:
        if self._counters is not None:
            self._counters.token_rejections.labels(rejection_reason(reason)).inc()

    def refreshed(self, outcome: str) -> None:
        if self._counters is not None:
            self._counters.refreshes.labels(outcome).inc()

    def revoked(self, kind: str) -> None:
        if self._counters is not None:
            self._counters.revocations.labels(kind).inc()

    def throttled(self, route: str) -> None:
        if self._counters is not None:
            self._counters.throttled.labels(route).inc()

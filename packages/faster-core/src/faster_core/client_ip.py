"""The client's address (rate limits, sign-in limits, audit trails): `X-Forwarded-For` is
believed only from trusted proxies, so a client cannot pick the address it is counted under."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import Scope

from faster_core.exceptions import ConfigurationError

__all__ = ["TrustedProxies", "client_ip"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """A set of proxy networks (CIDR or single addresses), parsed once from a plugin's
    settings (`FASTER_REDIS_TRUSTED_PROXIES`, `FASTER_AUTH_TRUSTED_PROXIES`)."""

    def __init__(self, proxies: Iterable[str], *, setting: str = "trusted proxies") -> None:
        try:
            self.networks: tuple[Network, ...] = tuple(
                ipaddress.ip_network(p, strict=False) for p in proxies
            )
        except ValueError as exc:
            raise ConfigurationError(f"{setting} must list IP addresses or networks") from exc

    def __contains__(self, address: object) -> bool:
        if not self.networks or not isinstance(address, str):
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def client_ip(scope: Scope, trusted: TrustedProxies) -> str:
    """The peer address, or, when the peer is a trusted proxy, the right-most untrusted hop of
    `X-Forwarded-For` (hops added by a client itself sit to the left and are ignored)."""
    client: Sequence[object] | None = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if peer not in trusted:
        return peer
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops.extend(h.strip() for h in value.decode("latin-1").split(",") if h.strip())
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else peer

"""The client's address for rate limits: `X-Forwarded-For` is believed only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import Scope

__all__ = ["TrustedProxies", "client_ip"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """A set of proxy networks, parsed once from `FASTER_REDIS_TRUSTED_PROXIES`."""

    def __init__(self, proxies: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(p, strict=False) for p in proxies
        )

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

"""Which addresses a fetch by URL may reach: public unicast only. Loopback, private, link-local,
shared (CGNAT), multicast, reserved, unspecified and cloud metadata addresses are refused, in IPv4
and IPv6, including IPv4 addresses carried inside IPv6 (mapped, 6to4, NAT64)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata endpoints. Most are link-local or private already; Azure's wire server is a
# public address, so the list is checked on its own and no allowance overrides it.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure IMDS, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "168.63.129.16",  # Azure wire server
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refusal(address: IPAddress) -> str | None:
    """Why `address` is not public, or None."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_multicast:
        return "multicast"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not globally routable"
    return None


class AddressPolicy:
    """Refuses non-public addresses; `allowed_networks` (setting MEDIA_FETCH_ALLOWED_NETWORKS)
    lets an operator open specific ones, e.g. an internal CDN. Metadata addresses stay refused."""

    def __init__(self, allowed_networks: Iterable[str] = ()) -> None:
        self.allowed: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in allowed_networks
        )

    def refusal(self, address: IPAddress) -> str | None:
        """Why the address may not be fetched from, or None when it may."""
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                candidates.insert(0, embedded)  # the IPv4 address is where it really goes
        for candidate in candidates:
            if candidate in METADATA_ADDRESSES:
                return "cloud metadata"
        if any(address in network for network in self.allowed):
            return None
        for candidate in candidates:
            reason = _refusal(candidate)
            if reason is not None:
                return reason
        return None

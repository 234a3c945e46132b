"""The client's address as OpsTeam records it: REMOTE_ADDR, or X-Forwarded-For when a trusted proxy sent it."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks_parse(name: str, values: list[str]) -> tuple[Network, ...]:
    """Addresses or CIDR ranges from a setting; a malformed one stops start-up (STYLE §10)."""
    result = []
    for value in values:
        try:
            result.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an IP address or range, e.g. 10.0.0.5 or 10.0.0.0/24.") from None
    return tuple(result)


@lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> tuple[Network, ...]:
    return networks_parse("OPSTEAM_TRUSTED_PROXIES", list(values))


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """Who sent the request. X-Forwarded-For is believed only hop by hop from the right, and only while the
    hop that added it is one of OPSTEAM_TRUSTED_PROXIES: anyone can write the header, only our proxies append to it.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = _trusted(tuple(getattr(settings, "OPSTEAM_TRUSTED_PROXIES", ())))
    if remote is None or not trusted:
        return remote
    hop = _address(remote)
    if hop is None or not any(hop in net for net in trusted):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    client = hop
    for part in reversed([p for p in forwarded.split(",") if p.strip()]):
        address = _address(part)
        if address is None:
            break  # garbage from the client side of the chain: keep the last address a proxy vouched for
        client = address
        if not any(address in net for net in trusted):
            break
    return str(client)

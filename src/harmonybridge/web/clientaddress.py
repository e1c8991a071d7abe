"""The client's network address: one rule for the lockout, the rate limits and the audit log.

Behind the documented reverse proxy every request arrives from the proxy's address
(``REMOTE_ADDR=127.0.0.1``). Keyed on that, allauth's per-address sign-in limit would
refuse the whole practice after one stranger's ten failures, and the audit log would
record the proxy for everyone. So the address comes from ``X-Forwarded-For``, but only
when the request arrives from a peer listed in ``HB_TRUSTED_PROXIES``; from any other
peer the header is ignored (it is whatever the sender typed). django-axes
(``AXES_CLIENT_IP_CALLABLE``), allauth (``AccountAdapter.get_client_ip``) and
``audit.recording`` all call :func:`client_address`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(
    values: Iterable[str], name: str = "HB_TRUSTED_PROXIES"
) -> list[Network]:
    """``["127.0.0.1", "10.0.0.0/8"]`` -> networks; a clear error for anything else."""
    out: list[Network] = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks (e.g. 127.0.0.1 or "
                f"10.0.0.0/8), separated by commas; {value!r} is neither"
            ) from None
    return out


def _trusted(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Any) -> str | None:
    """The address the request came from, as seen by the trusted proxy when there is one.

    ``X-Forwarded-For`` is read right to left (each proxy appends the address it saw)
    and the first hop that is not itself a trusted proxy is the client; entries to its
    left were written by the client and are never believed.
    """
    meta = getattr(request, "META", {}) or {}
    remote = meta.get("REMOTE_ADDR") or None
    networks = parse_networks(getattr(settings, "HB_TRUSTED_PROXIES", []))
    if remote is None or not networks or not _trusted(remote, networks):
        return remote
    hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        try:
            ip = str(ipaddress.ip_address(hop))
        except ValueError:
            return remote  # the proxy wrote something we cannot read: keep its address
        if not _trusted(ip, networks):
            return ip
    return remote

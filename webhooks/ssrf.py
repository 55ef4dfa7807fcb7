"""Server-side request forgery guard: a webhook URL must resolve to public addresses only (unless allowed)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeTarget(ValueError):
    """The URL is malformed or reaches an address webhooks may not reach."""


METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "a cloud metadata address"
    for name in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{name}"):
            return f"a {name.replace('_', '-')} address"
    if not ip.is_global:
        return "a non-public address"
    return None


def target_check(url: str, *, allow_private: bool = False) -> tuple[str, int, list[str]]:
    """(host, port, addresses) for an http(s) URL whose every address is public; raises UnsafeTarget otherwise."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("Enter an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise UnsafeTarget("Credentials in the URL are not allowed; the signature authenticates us.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget("The port is not valid.") from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"The host {parts.hostname!r} does not resolve.") from exc
    addresses = sorted({info[4][0] for info in infos})
    if not allow_private:
        for address in addresses:
            reason = _refused(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason:
                raise UnsafeTarget(
                    f"{parts.hostname} resolves to {address}, {reason}; an admin must allow private addresses."
                )
    return parts.hostname, port, addresses

"""Mirrors and the addresses a URL may reach (loopback, private and link-local are refused)."""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from paperbundle.fetch.http import Fail, Retry

# --------------------------------------------------------------------------- URLs and addresses


def apply_mirror(url: str, mirrors: tuple[tuple[str, str], ...]) -> tuple[str, str | None]:
    """(URL to fetch, trusted host:port of the mirror or None). The longest FROM prefix wins."""
    best: tuple[str, str] | None = None
    for frm, to in mirrors:
        if url.startswith(frm) and (best is None or len(frm) > len(best[0])):
            best = (frm, to)
    if best is None:
        return url, None
    target = best[1] + url[len(best[0]) :]
    return target, hostport_of(target)


def hostport_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    return f"{host}:{port}"


def split_target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; Fail("bad-redirect") for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Fail("bad-redirect", f"invalid URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Fail("bad-redirect", f"{url!r}: only http and https are followed")
    host = (parts.hostname or "").lower()
    if not host:
        raise Fail("bad-redirect", f"{url!r} has no host")
    return host, port if port is not None else (443 if scheme == "https" else 80)


def proxied(url: str, host: str) -> bool:
    """Whether httpx would send ``url`` through a proxy from the environment."""
    proxies = urllib.request.getproxies_environment()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in proxies and "all" not in proxies:
        return False
    bypass = getattr(urllib.request, "proxy_bypass_environment", None)
    return not (bypass is not None and bypass(host, proxies))


def address_kind(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """None for a public address, else what it is."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_private:
        return "private"
    if addr.is_multicast or addr.is_unspecified or addr.is_reserved or not addr.is_global:
        return "non-public"
    return None


def check_address(url: str, host: str, port: int) -> str | None:
    """Refuse hosts that resolve to loopback, private, link-local or other non-public addresses.

    Returns the checked address to connect to for a name (None for an IP literal, or a name
    left to a proxy), so that no second lookup can answer differently (DNS rebinding).
    With a proxy from the environment the check still applies to the target host; a target the
    local resolver cannot see is then left to the proxy.
    """
    literal = host[1:-1] if host.startswith("[") else host
    try:
        addrs = [ipaddress.ip_address(literal.split("%")[0])]
        name = False
    except ValueError:
        name = True
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            if proxied(url, host):
                return None
            msg = getattr(exc, "strerror", None) or str(exc)
            if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN:
                raise Retry("dns", f"cannot resolve {host}: {msg}", connection=True) from None
            raise Fail("network", f"cannot resolve host {host}: {msg}", connection=True) from None
        addrs = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for a in addrs:
        kind = address_kind(a)
        if kind is not None:
            raise Fail(
                "refused-address",
                f"{host} resolves to {a}, a {kind} address; only a --mirror may point there",
            )
    return str(addrs[0]) if name and addrs else None

"""Which hosts a server-side URL capture may reach: no server-side request forgery.

Over HTTP, "capture this URL" lets any investigator make the server fetch a URL of their
choosing: the cloud metadata service (169.254.169.254), the database on localhost, an
admin page on the office network. The guard resolves the host once, refuses the request
when any answer is loopback, private, link-local, multicast, reserved or otherwise not
globally routable (IPv4 and IPv6, IPv4 inside IPv6 included), and hands back the address
it checked, so the connection goes to exactly that address (with the original ``Host``
and TLS server name). A DNS answer that changes between the check and the connection
(DNS rebinding) therefore changes nothing. Every redirect hop is checked the same way.

Hosts an operator lists (``TIDETRACE_CAPTURE_ALLOW_HOSTS``: names, or IP addresses the
name may resolve to) pass, e.g. a newsroom archive on the local network or a test server.
"""

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tidetrace.exc import TidetraceError

__all__ = ["AddressGuard", "Pinned", "RefusedAddress", "forbidden_reason", "system_resolver"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class RefusedAddress(TidetraceError):
    """The URL's host is, or resolves to, an address a capture may not reach."""

    STATUS = 422


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, as a connection would)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"{host}: does not resolve ({exc})") from None
    out: list[str] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in out:
            out.append(address)
    return out


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.IPv6Network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: Address) -> str | None:
    """Why a capture may not connect to ``address``, or None when it is globally routable."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        reason = forbidden_reason(inner)
        return f"{reason} (inside {address})" if reason else None
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        # Shared address space (100.64/10), documentation, benchmarking …: not global.
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{name} address {address}"
    return None


@dataclass(frozen=True)
class Pinned:
    """A URL's host, resolved and checked: connect to ``address``, say ``host``."""

    host: str
    address: str


@dataclass(frozen=True)
class AddressGuard:
    """Checks each hop of a capture before any packet is sent to it.

    Attributes:
        allow_hosts: host names (lower case) or IP addresses that pass even when they are
            not public.
        resolver: ``(host, port) -> addresses``; the system resolver unless a test swaps it.
    """

    allow_hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_hosts(cls, hosts: Iterable[str], resolver: Resolver | None = None) -> "AddressGuard":
        """A guard allowing ``hosts`` (names or IP addresses; case and brackets ignored)."""
        allowed = frozenset(h.strip().strip("[]").lower() for h in hosts if h.strip())
        return cls(allowed, resolver or system_resolver)

    def pin(self, url: str) -> Pinned:
        """Resolve ``url``'s host once and check every answer.

        Returns:
            The host and the one checked address the connection must use.

        Raises:
            RefusedAddress: the host does not resolve, or an answer is not public.
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            raise RefusedAddress(f"{url!r}: no host")
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise RefusedAddress(f"{url!r}: bad port") from None
        answers = self.resolver(host, port)
        if not answers:
            raise RefusedAddress(f"{host}: does not resolve")
        checked: list[str] = []
        for answer in answers:
            try:
                address = ipaddress.ip_address(answer)
            except ValueError:
                raise RefusedAddress(f"{host}: resolved to {answer!r}, not an address") from None
            if host in self.allow_hosts or str(address) in self.allow_hosts:
                checked.append(str(address))
                continue
            reason = forbidden_reason(address)
            if reason is not None:
                # One bad answer refuses the host: a name that answers both public and
                # private addresses is how rebinding attacks start.
                raise RefusedAddress(
                    f"{host}: {reason}; captures over the web reach public addresses only "
                    "(an administrator can list a host in TIDETRACE_CAPTURE_ALLOW_HOSTS)"
                )
            checked.append(str(address))
        return Pinned(host, checked[0])

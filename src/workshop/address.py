"""What an address is, shown without touching the network (stage 05).

The lecture's server is "exposed to the world": it gets an IP address and a name such as
www.mojadomena.zmodelami.pl. A notebook cannot show that for real (there is no such domain,
and the workshop never talks to the internet), so these helpers show each part on this
machine instead: what a URL is made of, what kind of address an IP is, how a name becomes
an IP (only local names: a name the internet would have to resolve is refused), and the
hosts-file line that would point the lecture's domain at a server on this laptop.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

LECTURE_DOMAIN = "www.mojadomena.zmodelami.pl"
# Where a computer looks up names before it asks DNS. On Windows the file is
# %SystemRoot%\System32\drivers\etc\hosts; this is the path on Linux and macOS.
HOSTS_FILE = "/etc/hosts"
DEFAULT_PORTS = {"http": 80, "https": 443}
# Ranges reserved for examples in books and documentation (RFC 5737, RFC 3849): they stand
# in for public addresses and are never routed anywhere.
_DOCUMENTATION = tuple(
    ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def url_parts(url: str) -> dict[str, object]:
    """A URL split into what a client needs: the scheme, the host, the port, the path.

    A URL without a port uses its scheme's default (80 for http, 443 for https): that is
    why the lecture's www.mojadomena.zmodelami.pl needs no port and our servers do.
    """
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    return {"scheme": parts.scheme, "host": parts.hostname, "port": port, "path": parts.path or "/"}


def kind(ip: str) -> str:
    """What sort of address `ip` is, in one line: who can reach a server listening on it."""
    address = ipaddress.ip_address(ip)
    if address.is_unspecified:
        return "every interface: as a listening address, reachable on any network this machine is on"
    if address.is_loopback:
        return "loopback: this machine only, nothing from outside can reach it"
    if any(address in net for net in _DOCUMENTATION):
        return "documentation example: stands for a public address, reachable from the internet"
    if address.is_private:
        return "private: a local network (home, office, server room), not the internet"
    return "public: reachable from the internet"


def resolve(name: str, port: int) -> list[str]:
    """The IP addresses `name` stands for on this machine, as a client would look them up.

    Only local names (localhost, *.localhost) and IP literals: looking up any other name
    could ask a DNS server on the internet, and the workshop stays offline.
    """
    if not _is_local(name):
        raise ValueError(f"{name!r} is not a local name: looking it up could ask a DNS server on the internet")
    found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


def _is_local(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name == "localhost" or name.endswith(".localhost")
    return True


def hosts_line(domain: str = LECTURE_DOMAIN, ip: str = "127.0.0.1") -> str:
    """The line of the hosts file that makes `domain` mean `ip` on this machine.

    The notebook shows it and never writes it: editing the hosts file needs root and
    changes the whole machine.
    """
    ipaddress.ip_address(ip)  # refuse anything that is not an address
    return f"{ip}\t{domain}"

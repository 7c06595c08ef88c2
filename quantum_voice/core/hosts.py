"""Whether a host on the internet may be called from the server: the guard against server-side request forgery
that web sources (services/knowledge/webpages.py) and webhooks (services/developer/webhook_targets.py) share."""

from __future__ import annotations

import ipaddress
import socket
from typing import Literal

HostProblem = Literal["unknown", "private"]


def host_problem(hostname: str) -> HostProblem | None:
    """``"unknown"``: the name does not resolve; ``"private"``: it resolves to a loopback, private, link-local,
    reserved or multicast address (a user must not make the server call its own network); None: public."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(hostname, None)}
    except (socket.gaierror, UnicodeError):
        return "unknown"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return "private"
    return None

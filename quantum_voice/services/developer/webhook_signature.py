"""How a webhook delivery is signed, and the check a receiver runs (docs/developers.md, "Verify a delivery").

The ``QV-Signature`` header is ``t=<unix seconds>,v1=<hex>``: the HMAC-SHA256, under the endpoint's ``whsec_…``
secret, of ``"<t>.<raw request body>"`` (Stripe's scheme). ``verify`` is standard-library only, so a receiver can
copy this file as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "QV-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureInvalid(ValueError):
    """The delivery did not come from Quantum Voice with this secret, was altered, or is too old (a replay)."""


def signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<payload>"`` under ``secret``."""
    message = str(int(timestamp)).encode() + b"." + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``QV-Signature`` header value for ``payload`` sent at ``timestamp`` (unix seconds)."""
    return f"t={int(timestamp)},{SCHEME}={signature(payload, secret, timestamp)}"


def verify(payload: bytes, header: str, secret: str, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
           now: float | None = None) -> int:
    """Check a delivery: ``payload`` is the raw request body (bytes, before any JSON parsing), ``header`` the
    ``QV-Signature`` header, ``secret`` the endpoint's ``whsec_…`` secret. Returns the signed timestamp; raises
    ``SignatureInvalid`` when no ``v1`` signature matches or the timestamp is more than ``tolerance_seconds`` away
    from ``now`` (default: the current time)."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureInvalid("The QV-Signature header has no timestamp or no v1 signature.")
    expected = signature(payload, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureInvalid("No signature matches the body under this secret.")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureInvalid(f"The signature is {abs(current - timestamp):.0f} s old, over the "
                               f"{tolerance_seconds} s tolerance: a replay, or the clocks disagree.")
    return timestamp

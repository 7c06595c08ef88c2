"""The signed tokens of the public call path: sealed claims of one kind each (the gate token, the call ticket, the
call token), the owner's test-call token, and the single use of a ticket's nonce. A token is
``<base64url JSON claims>.<HMAC of "<kind>:<body>">``; the app's secret key signs them all."""

from __future__ import annotations

import base64
import json
from typing import Any

from quantum_voice.core.cache import get_cache
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.core.security import sign, tokens_equal

TEST_LINK_HOURS = 24
TICKET_RELEASES = 3  # a ticket handed back this often (offers its sidecar refused) is used up


def expires_in(seconds: int) -> int:
    """An ``exp`` claim: whole seconds since the epoch, ``seconds`` from now."""
    return int(utcnow().timestamp()) + seconds


def seal(kind: str, claims: dict[str, Any]) -> str:
    """``claims`` as a token of ``kind``; only ``unseal`` of the same kind opens it."""
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{body}.{_sign(f'{kind}:{body}')}"


def unseal(kind: str, token: str, expired_message: str) -> dict[str, Any]:
    """The claims of a genuine, unexpired token of ``kind``; ``ValidationFailed`` (field ``kind``) otherwise."""
    body, _, signature = (token or "").partition(".")
    if not body or not tokens_equal(signature, _sign(f"{kind}:{body}")):
        raise ValidationFailed(f"That {kind} is not valid. Go back to the call page and start again.", field=kind)
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if int(claims.get("exp", 0)) < utcnow().timestamp():
        raise ValidationFailed(expired_message, field=kind)
    return claims


def issue_test_token(campaign_id: int) -> str:
    """The test-call link's token: ``<expires>.<signature>``, valid for ``TEST_LINK_HOURS``."""
    expires = expires_in(TEST_LINK_HOURS * 3600)
    return f"{expires}.{_sign(f'test-call:{campaign_id}:{expires}')}"


def is_valid_test_token(campaign_id: int, token: str) -> bool:
    expires, _, signature = (token or "").partition(".")
    if not expires.isdigit() or int(expires) < utcnow().timestamp():
        return False
    return tokens_equal(signature, _sign(f"test-call:{campaign_id}:{expires}"))


def first_use(nonce: str) -> bool:
    """True only the first time ``nonce`` is used while its ticket lives (the shared cache: every app process)."""
    count, _ = get_cache().incr(f"call-ticket:{nonce}", get_settings().call_ticket_ttl_seconds + 60)
    return count == 1


def keep_unused(nonce: str) -> None:
    """The ticket's call was refused before anything was tried (a busy line): as if it had not been used."""
    get_cache().delete(f"call-ticket:{nonce}")


def release(nonce: str) -> bool:
    """The ticket's call was never opened: it may be used once more, up to ``TICKET_RELEASES`` times (the page's
    WebRTC offer, then the WebSocket fallback, needs one). False when the ticket stays used up."""
    cache = get_cache()
    released, _ = cache.incr(f"call-ticket-released:{nonce}", get_settings().call_ticket_ttl_seconds + 60)
    if released > TICKET_RELEASES:
        return False
    cache.delete(f"call-ticket:{nonce}")
    return True


def _sign(message: str) -> str:
    return sign(get_settings().effective_secret_key, message.encode())

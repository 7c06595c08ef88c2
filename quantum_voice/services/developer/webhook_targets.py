"""Where a webhook may point: a public https address. Plain http and private or loopback hosts are refused unless
the operator allows them (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_PRIVATE_TARGETS), the same guard as web sources
(server-side request forgery: users must not make the server call its own network). Checked when an endpoint is
saved and again before every delivery, since a host name can be pointed elsewhere later."""

from __future__ import annotations

from urllib.parse import urlsplit

from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.core.hosts import host_problem

MAX_URL_LENGTH = 2000


def check_url(url: str, settings: Settings | None = None) -> str:
    """``url`` trimmed, or ``ValidationFailed`` (field ``url``) saying why it cannot receive webhooks."""
    settings = settings or get_settings()
    url = (url or "").strip()
    if not url:
        raise ValidationFailed("Give the address that receives the events, e.g. https://example.com/hooks/qv.",
                               field="url")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(f"An endpoint address is at most {MAX_URL_LENGTH} characters.", field="url")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValidationFailed(f"{url} is not a valid web address.", field="url") from None
    allowed = ("https", "http") if settings.webhook_allow_http else ("https",)
    if parts.scheme not in allowed or not hostname:
        raise ValidationFailed(f"{url} is not an https address. Webhooks are sent over https only"
                               + ("." if settings.webhook_allow_http else
                                  " (the operator can allow http with WEBHOOK_ALLOW_HTTP)."), field="url")
    if parts.username or parts.password:
        raise ValidationFailed("Leave credentials out of the address: check the QV-Signature header instead.",
                               field="url")
    if parts.fragment:
        raise ValidationFailed("An endpoint address has no #fragment.", field="url")
    problem = refusal(url, settings)
    if problem:
        raise ValidationFailed(problem, field="url")
    return url


def refusal(url: str, settings: Settings | None = None) -> str | None:
    """Why ``url``'s host may not be called now (private address, unknown host), or None."""
    settings = settings or get_settings()
    if settings.webhook_allow_private_targets:
        return None
    hostname = urlsplit(url).hostname or ""
    problem = host_problem(hostname)
    if problem == "unknown":
        return f"The host {hostname} does not exist. Check the address."
    if problem == "private":
        return (f"{url} points to a private or loopback network address, which webhooks may not call (the operator "
                "can allow it with WEBHOOK_ALLOW_PRIVATE_TARGETS).")
    return None

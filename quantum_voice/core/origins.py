"""Which web origins may act with a signed-in person's cookie: the app's own, and the configured list.

Cross-origin reads are blocked by the browser unless CORS allows them, so CORS names only these origins (never
"*" with credentials). Writes are not blocked by CORS: a page on another port of the same host is "same-site",
so the browser sends the ``SameSite=Lax`` cookie with its form posts. Every cookie-authenticated write and the UI's
websocket therefore check the ``Origin`` header (``Referer`` when a browser left it out) against this policy.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from quantum_voice.core.config import Settings, get_settings


def origin_of(url: str | None) -> str | None:
    """"https://App.example:8443/path?q" → "https://app.example:8443"; ``None`` when it is no http(s) URL."""
    if not url or url.strip().lower() == "null":
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def trusted_origins(settings: Settings | None = None) -> list[str]:
    """The app's public origin (``APP_URL``) and ``CORS_ALLOWED_ORIGINS``: what CORS allows."""
    settings = settings or get_settings()
    return [o for o in dict.fromkeys([origin_of(settings.app_url), *settings.extra_origins]) if o]


def is_trusted_origin(origin: str | None, *, host: str | None, scheme: str, forwarded_proto: str | None = None,
                      settings: Settings | None = None) -> bool:
    """May a page from ``origin`` act with the cookie on a request that came to ``host`` over ``scheme``? Yes for
    the trusted origins, and for the request's own origin (the app opened by another of its host names; behind a
    TLS proxy the scheme is the proxy's, ``X-Forwarded-Proto``). No for a missing or "null" origin."""
    origin = origin_of(origin)
    if origin is None:
        return False
    if origin in trusted_origins(settings):
        return True
    if not host:
        return False
    schemes = {scheme.lower(), *(p.strip().lower() for p in (forwarded_proto or "").split(",") if p.strip())}
    return origin in {f"{s}://{host.strip().lower()}" for s in schemes}

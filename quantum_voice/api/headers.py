"""Security headers on every response the app serves (pages, scripts, the API).

* ``Content-Security-Policy``: scripts, styles, fonts and connections from the app itself only (plus the LiveKit
  server when configured); no plugins, no ``<base>`` or form posts elsewhere. Reflex's pages need inline scripts,
  inline styles and ``eval`` (``rx.call_script``), so those stay allowed. Images may come from https (campaign logos).
* Framing: no other site may frame the app (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``), except the
  call page, which the website widget embeds on purpose (``/call/...``: ``frame-ancestors *``).
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: strict-origin-when-cross-origin``, and on https (direct
  or behind a proxy that says ``X-Forwarded-Proto: https``) ``Strict-Transport-Security``.
* Redirects stay on the address the browser used: a redirect to the request's own host (Reflex's static files send
  ``/login`` → ``http://<Host>/login/``, always ``http://`` even behind a TLS proxy) is made relative (``/login/``).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from quantum_voice.core.config import get_settings
from quantum_voice.core.origins import origin_of

log = logging.getLogger("quantum_voice.app")
_hosts_seen: set[str] = set()

EMBEDDABLE_PREFIXES = ("/call/",)  # the widget frames the call page on customers' sites


def content_security_policy(path: str) -> str:
    livekit = origin_of((get_settings().livekit_url or "").replace("wss://", "https://").replace("ws://", "http://"))
    connect = ["'self'"]
    if livekit:
        connect += [livekit, livekit.replace("https://", "wss://").replace("http://", "ws://")]
    framing = "*" if path.startswith(EMBEDDABLE_PREFIXES) else "'none'"
    return "; ".join([
        "default-src 'self'", "script-src 'self' 'unsafe-inline' 'unsafe-eval'", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:", "font-src 'self' data:", "media-src 'self' blob: mediastream:",
        f"connect-src {' '.join(connect)}", "worker-src 'self' blob:", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", f"frame-ancestors {framing}",
    ])


def is_https(scope) -> bool:
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[0].strip().lower()
    return scope.get("scheme") == "https" or forwarded == "https"


def security_headers(scope) -> list[tuple[bytes, bytes]]:
    path = scope.get("path", "")
    headers = [(b"content-security-policy", content_security_policy(path).encode()),
               (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"strict-origin-when-cross-origin")]
    if not path.startswith(EMBEDDABLE_PREFIXES):
        headers.append((b"x-frame-options", b"DENY"))
    if is_https(scope):
        headers.append((b"strict-transport-security", b"max-age=15552000"))
    return headers


REDIRECTS = frozenset({301, 302, 303, 307, 308})


def relative_location(scope, location: bytes) -> bytes:
    """``location`` without its scheme and host when it points at the request's own host (any scheme: behind a TLS
    proxy the app sees http), so the browser stays on the scheme and address it used; anything else unchanged."""
    try:
        url = urlsplit(location.decode("latin-1"))
    except ValueError:
        return location
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
    if url.scheme not in ("http", "https") or not host or url.netloc.lower() != host:
        return location
    relative = (url.path or "/") + (f"?{url.query}" if url.query else "") + (f"#{url.fragment}" if url.fragment else "")
    if relative.startswith("//"):  # would read as another host
        return location
    return relative.encode("latin-1")


def note_host(scope) -> None:
    """Warn once per host name when the app is opened by a host APP_URL does not name: pages work (redirects are
    relative), but emailed links, QR codes and widget snippets are built from APP_URL and would point elsewhere."""
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
    if not host or host in _hosts_seen or len(_hosts_seen) > 100:
        return
    _hosts_seen.add(host)
    app_origin = origin_of(get_settings().app_url) or ""
    if app_origin.split("://", 1)[-1] != host:
        log.warning("the app was opened as %s, but APP_URL is %s: emailed links, QR codes and widget snippets "
                    "point at APP_URL. Set APP_URL to the address people use.", host, get_settings().app_url)


class SecurityHeaders:
    """ASGI middleware adding ``security_headers`` to every HTTP response (the app's own values win), and making a
    redirect to the request's own host relative (``relative_location``)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        note_host(scope)
        extra = security_headers(scope)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                own = list(message.get("headers", []))
                if message.get("status") in REDIRECTS:
                    own = [(name, relative_location(scope, value) if name.lower() == b"location" else value)
                           for name, value in own]
                present = {name.lower() for name, _ in own}
                message = {**message, "headers": [*own, *(h for h in extra if h[0] not in present)]}
            await send(message)

        await self.app(scope, receive, with_headers)

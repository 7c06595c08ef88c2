"""Which origins may act with the sign-in cookie: the app's own (by APP_URL or by the host a request came to) and
the configured list; never a missing or "null" origin, nor another port of the same host."""

import pytest

from quantum_voice.core.config import Settings
from quantum_voice.core.origins import is_trusted_origin, origin_of, trusted_origins

SETTINGS = Settings(app_url="https://voice.example.com/app", cors_allowed_origins="https://admin.example.com/, "
                                                                                  "http://LOCALHOST:5173")


@pytest.mark.parametrize("url, origin", [
    ("https://Voice.Example.com:8443/path?q=1", "https://voice.example.com:8443"),
    ("http://localhost:3000", "http://localhost:3000"),
    ("null", None), ("", None), (None, None), ("javascript:alert(1)", None), ("file:///etc/passwd", None),
])
def test_the_origin_of_a_url(url, origin):
    assert origin_of(url) == origin


def test_cors_names_the_apps_origin_and_the_configured_ones_never_a_wildcard():
    assert trusted_origins(SETTINGS) == ["https://voice.example.com", "https://admin.example.com",
                                         "http://localhost:5173"]


@pytest.mark.parametrize("origin, host, scheme, proto, trusted", [
    ("https://voice.example.com", "10.0.0.5:8000", "http", None, True),  # APP_URL, behind a proxy
    ("https://admin.example.com", "voice.example.com", "https", None, True),  # configured
    ("http://127.0.0.1:3000", "127.0.0.1:3000", "http", None, True),  # the app opened by another host name
    ("https://voice.internal", "voice.internal", "http", "https", True),  # TLS ends at the proxy
    ("http://127.0.0.1:4000", "127.0.0.1:3000", "http", None, False),  # another port of the same host
    ("https://evil.example", "voice.example.com", "https", None, False),
    ("null", "voice.example.com", "https", None, False),
    (None, "voice.example.com", "https", None, False),
])
def test_who_may_act_with_the_cookie(origin, host, scheme, proto, trusted):
    assert is_trusted_origin(origin, host=host, scheme=scheme, forwarded_proto=proto, settings=SETTINGS) is trusted

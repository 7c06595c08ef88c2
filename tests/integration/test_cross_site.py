"""A page on another site (or another port of this host) cannot act with a signed-in person's cookie: CORS names
only the app's origin, cookie-carried writes must come from the app's own pages, and sign-out is a POST."""

import functools

import pytest
from fastapi.testclient import TestClient

from quantum_voice.api import create_api
from quantum_voice.core.db import session_scope
from quantum_voice.services import accounts
from tests.factories import PASSWORD, api_login, verified_owner

EVIL = "https://evil.example"
NEW_CAMPAIGN = {"name": "Spring open house"}


@pytest.fixture
def client(engine):
    return TestClient(create_api())


@pytest.fixture
def cookie_client(client):
    """``client`` holding owner@example.com's sign-in cookie, as a browser does after signing in."""
    assert client.get(f"/api/auth/session?ticket={_web_ticket()}", follow_redirects=False).status_code == 303
    return client


@pytest.mark.parametrize("headers", [{"Origin": EVIL}, {"Origin": "null"}, {"Origin": "http://testserver:4000"},
                                     {"Referer": f"{EVIL}/page"}, {}])
def test_a_cookie_carried_write_from_elsewhere_is_refused(cookie_client, headers):
    response = cookie_client.post("/api/campaigns", json=NEW_CAMPAIGN, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "cross_site_request"
    assert cookie_client.get("/api/campaigns").json() == []  # nothing was written; reads still work


@pytest.mark.parametrize("headers", [{"Origin": "http://localhost:3000"},  # APP_URL
                                     {"Origin": "http://testserver"},  # the host the request came to
                                     {"Referer": "http://testserver/campaigns"}])
def test_a_cookie_carried_write_from_the_apps_own_pages_goes_through(cookie_client, headers):
    assert cookie_client.post("/api/campaigns", json=NEW_CAMPAIGN, headers=headers).status_code == 201


def test_an_api_client_with_a_bearer_token_is_not_asked_for_an_origin(client):
    with session_scope() as session:
        verified_owner(session)
    auth = api_login(client, "owner@example.com")
    assert client.post("/api/campaigns", json=NEW_CAMPAIGN, headers={**auth, "Origin": EVIL}).status_code == 201


def test_sign_out_is_a_post_from_the_apps_own_pages(cookie_client):
    assert cookie_client.get("/api/auth/signout").status_code == 405
    assert cookie_client.post("/api/auth/signout", headers={"Origin": EVIL}).status_code == 403
    assert cookie_client.get("/api/me").status_code == 200  # still signed in
    response = cookie_client.post("/api/auth/signout", headers={"Origin": "http://testserver"},
                                  follow_redirects=False)
    assert response.status_code == 303
    cookie_client.cookies.clear()
    assert cookie_client.get("/api/me").status_code == 401


@functools.cache
def _whole_app():
    """The ASGI app the server runs (Reflex adds the CORS middleware around the API); it can be built only once."""
    from quantum_voice.quantum_voice import app

    return app()


def test_cors_never_echoes_another_origin_with_credentials(engine):
    browser = TestClient(_whole_app())
    for origin in (EVIL, "null", "http://localhost:4000"):
        response = browser.get("/api/health", headers={"Origin": origin})
        assert "access-control-allow-origin" not in response.headers, origin
        preflight = browser.options("/api/campaigns", headers={"Origin": origin,
                                                                "Access-Control-Request-Method": "POST"})
        assert preflight.headers.get("access-control-allow-origin") != origin
    own = browser.get("/api/health", headers={"Origin": "http://localhost:3000"})
    assert own.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_the_ui_websocket_accepts_only_the_apps_own_pages():
    from quantum_voice.quantum_voice import _websocket_origin_allowed

    environ = {"HTTP_HOST": "127.0.0.1:3000", "wsgi.url_scheme": "http"}
    assert _websocket_origin_allowed("http://127.0.0.1:3000", environ)
    assert _websocket_origin_allowed("http://localhost:3000", environ)  # APP_URL
    assert not _websocket_origin_allowed("http://127.0.0.1:4000", environ)
    assert not _websocket_origin_allowed(EVIL, environ)
    assert not _websocket_origin_allowed(None, environ)


def test_every_response_carries_the_security_headers_and_only_the_call_page_may_be_framed(engine):
    browser = TestClient(_whole_app())
    for path in ("/api/health", "/api/openapi.json"):
        headers = browser.get(path).headers
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy and "default-src 'self'" in policy
        assert "strict-transport-security" not in headers  # plain http
    from quantum_voice.api.headers import security_headers

    call = dict(security_headers({"path": "/call/harbor-view", "headers": []}))
    assert b"frame-ancestors *" in call[b"content-security-policy"] and b"x-frame-options" not in call
    behind_tls = dict(security_headers({"path": "/login", "headers": [(b"x-forwarded-proto", b"https")]}))
    assert behind_tls[b"strict-transport-security"].startswith(b"max-age=")


def _web_ticket() -> str:
    with session_scope() as session:
        user, _ = verified_owner(session)
        return accounts.create_web_ticket(session, user)


def test_the_session_cookie_is_secure_when_the_request_came_over_https(client):
    ticket = _web_ticket()
    response = client.get(f"/api/auth/session?ticket={ticket}", follow_redirects=False,
                          headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["set-cookie"]


def test_sign_in_redirects_stay_on_the_host_the_browser_used(client):
    ticket = _web_ticket()
    response = client.get(f"/api/auth/session?ticket={ticket}&next=/team", follow_redirects=False,
                          headers={"Host": "voice.internal:3000"})
    assert response.headers["location"] == "/team"  # relative: not APP_URL's localhost
    assert client.get(f"/api/auth/session?ticket={ticket}", follow_redirects=False).headers["location"] == \
        "/login?expired=1"


def test_opening_the_app_by_a_host_app_url_does_not_name_is_warned_about_once(engine, caplog):
    import logging

    from quantum_voice.api import headers

    headers._hosts_seen.clear()
    browser = TestClient(_whole_app())
    with caplog.at_level(logging.WARNING, logger="quantum_voice.app"):
        for _ in range(3):
            browser.get("/api/health", headers={"Host": "voice.lan:3000"})
        browser.get("/api/health", headers={"Host": "localhost:3000"})  # APP_URL's own host
    warnings = [r.getMessage() for r in caplog.records if "APP_URL" in r.getMessage()]
    assert len(warnings) == 1 and "voice.lan:3000" in warnings[0]


def test_a_trailing_slash_redirect_stays_on_the_scheme_and_host_the_browser_used(tmp_path):
    """Reflex serves the built pages as static files, which redirect ``/login`` to ``http://<Host>/login/``: always
    http, even behind a TLS proxy. The security-headers middleware (around everything served) makes it relative."""
    from reflex.utils.precompressed_staticfiles import PrecompressedStaticFiles
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    from quantum_voice.api.headers import SecurityHeaders

    (tmp_path / "login").mkdir()
    (tmp_path / "login" / "index.html").write_text("<html>sign in</html>")
    from starlette.applications import Starlette

    served = SecurityHeaders(Starlette(routes=[
        Route("/away", lambda request: RedirectResponse(EVIL + "/x", status_code=307)),
        Mount("/", app=PrecompressedStaticFiles(directory=tmp_path, html=True))]))
    browser = TestClient(served, base_url="http://voice.example.com")
    for headers in ({"X-Forwarded-Proto": "https"}, {}):
        response = browser.get("/login?next=%2Fteam", headers=headers, follow_redirects=False)
        assert response.status_code == 307 and response.headers["location"] == "/login/?next=%2Fteam", headers
        assert response.headers["x-frame-options"] == "DENY"
    assert browser.get("/login", follow_redirects=True).text == "<html>sign in</html>"
    assert browser.get("/away", follow_redirects=False).headers["location"] == EVIL + "/x"  # another host: as sent


def test_the_upload_pages_files_go_through_up_to_the_knowledge_upload_limit(engine, monkeypatch):
    """The upload page posts its files to Reflex's ``/_upload``, which had the 2 MB limit of JSON requests: a
    3.4 MB text file was refused (413) there, while POST /api/knowledge/upload took 25 MB."""
    from quantum_voice.api.limits import JSON_BODY_LIMIT, body_limit
    from quantum_voice.core.config import get_settings, reset_settings
    from quantum_voice.services.knowledge.intake import MAX_FILES_PER_UPLOAD

    browser = TestClient(_whole_app())
    document = b"Harbor View has a rooftop pool. " * 110_000  # 3.5 MB
    response = browser.post("/_upload", files={"files": ("brochure.txt", document, "text/plain")})
    assert response.status_code != 413, response.text  # it reached Reflex's handler (which wants its headers)
    assert response.status_code == 400 and "reflex-client-token" in response.text
    each = get_settings().knowledge_max_upload_mb * 1024 * 1024
    assert body_limit("/_upload") > each * MAX_FILES_PER_UPLOAD and body_limit("/api/flows/1") == JSON_BODY_LIMIT
    monkeypatch.setenv("KNOWLEDGE_MAX_UPLOAD_MB", "1")
    reset_settings()
    too_big = browser.post("/_upload", files={"files": ("big.txt", b"x" * (MAX_FILES_PER_UPLOAD + 1) * 1024 * 1024)})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"

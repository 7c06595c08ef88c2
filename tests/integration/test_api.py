import pytest
from fastapi.testclient import TestClient

from quantum_voice.api import create_api
from quantum_voice.core.db import session_scope
from tests.factories import PASSWORD, last_link


@pytest.fixture
def client(engine):
    return TestClient(create_api())


def _signup_and_verify(client, email="ana@example.com", org="Sunny Solar") -> None:
    response = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "organization": org})
    assert response.status_code == 201, response.text
    again = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "organization": "Other"})
    assert (again.status_code, again.json()) == (201, response.json())  # no way to tell who has an account
    with session_scope() as s:
        token = last_link(s, email, "/verify")
    assert client.post("/api/auth/verify", json={"token": token}).status_code == 200


def _login(client, email="ana@example.com") -> dict[str, str]:
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_at"]
    return {"Authorization": f"Bearer {body['token']}"}


def test_signup_verify_login_me(client):
    _signup_and_verify(client)
    me = client.get("/api/me", headers=_login(client)).json()
    assert me["email"] == "ana@example.com" and me["role"] == "owner"
    assert me["organization"]["name"] == "Sunny Solar"
    assert me["organization"]["onboarding_completed"] is False
    assert "manage_team" in me["permissions"]


def test_login_before_verification_says_what_to_do(client):
    client.post("/api/auth/signup", json={"email": "ana@example.com", "password": PASSWORD, "organization": "S"})
    response = client.post("/api/auth/login", json={"email": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_not_verified"
    assert "link we sent" in response.json()["error"]["message"]


def test_wrong_password_is_401_and_throttling_is_429_with_retry_after(client, settings):
    _signup_and_verify(client)
    for _ in range(settings.login_max_attempts_per_account):
        r = client.post("/api/auth/login", json={"email": "ana@example.com", "password": "nope-nope-nope"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = client.post("/api/auth/login", json={"email": "ana@example.com", "password": PASSWORD})  # same address
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["retry-after"]) > 0


def test_validation_errors_name_the_field(client):
    r = client.post("/api/auth/signup", json={"email": "ana@example.com", "organization": "S"})
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "validation_error", "message": "password: this field is required",
                                 "field": "password"}
    r = client.post("/api/auth/signup", json={"email": "nope", "password": PASSWORD, "organization": "S"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "email"
    r = client.post("/api/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_json"
    r = client.post("/api/auth/login", content=b'{"email": "\xc3\x28"}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == {  # not UTF-8: was a bare 400 "error parsing the body"
        "code": "invalid_json", "message": "The request body is not valid JSON (nor UTF-8 text).", "field": "body"}


def test_protected_endpoints_need_a_token(client):
    for path in ("/api/me", "/api/team/members", "/api/admin/audit-logs"):
        r = client.get(path)
        assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
    r = client.get("/api/me", headers={"Authorization": "Bearer not-a-real-token"})
    assert r.status_code == 401


def test_logout_revokes_the_token(client):
    _signup_and_verify(client)
    auth = _login(client)
    assert client.post("/api/auth/logout", headers=auth).status_code == 200
    assert client.get("/api/me", headers=auth).status_code == 401


def test_unknown_endpoint_is_a_json_404(client):
    r = client.get("/api/no-such-thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_onboarding_then_team_invite_through_the_api(client):
    _signup_and_verify(client)
    auth = _login(client)
    r = client.post("/api/onboarding", json={"organization_name": "X", "industry": "mining",
                                             "first_campaign_name": "Y"}, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["field"] == "industry"
    r = client.post("/api/onboarding", json={"organization_name": "Sunny Solar Ltd", "industry": "solar",
                                             "first_campaign_name": "Roof check"}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["campaign_slug"].startswith("sunny-solar")
    assert client.get("/api/me", headers=auth).json()["organization"]["onboarding_completed"] is True
    r = client.post("/api/onboarding", json={"organization_name": "X", "industry": "solar",
                                             "first_campaign_name": "Y"}, headers=auth)
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_onboarded"  # once only
    assert client.get("/api/me", headers=auth).json()["organization"]["name"] == "Sunny Solar Ltd"
    assert [c["name"] for c in client.get("/api/campaigns", headers=auth).json()] == ["Roof check"]

    r = client.post("/api/team/invitations", json={"email": "kim@example.com", "role": "agent"}, headers=auth)
    assert r.status_code == 201 and r.json()["role"] == "agent"
    assert [i["email"] for i in client.get("/api/team/invitations", headers=auth).json()] == ["kim@example.com"]
    outbox = client.get("/api/admin/outbox", headers=auth).json()
    assert [mail["kind"] for mail in outbox] == ["invitation"]  # the owner's own verification mail is not the org's
    assert "/accept-invite?token=[hidden]" in outbox[0]["body_text"]
    entries = client.get("/api/admin/audit-logs", headers=auth).json()
    assert {"auth.sign_up", "auth.sign_in", "organization.onboarded", "team.invite"} <= {a["action"] for a in entries}
    invite_entry = next(a for a in entries if a["action"] == "team.invite")
    assert invite_entry["actor_email"] == "ana@example.com" and invite_entry["details"]["role"] == "agent"


def test_last_owner_removal_is_a_409(client):
    _signup_and_verify(client)
    auth = _login(client)
    me = client.get("/api/team/members", headers=auth).json()[0]
    r = client.delete(f"/api/team/members/{me['id']}", headers=auth)
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_owner"


def test_password_reset_through_the_api(client):
    _signup_and_verify(client)
    assert client.post("/api/auth/password-reset/request", json={"email": "ana@example.com"}).status_code == 200
    with session_scope() as s:
        token = last_link(s, "ana@example.com", "/reset-password")
    r = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": "another-long-password"})
    assert r.status_code == 200
    assert client.post("/api/auth/login", json={"email": "ana@example.com",
                                                "password": "another-long-password"}).status_code == 200


def test_web_sign_in_ticket_sets_an_http_only_cookie(client):
    from quantum_voice.services import accounts

    _signup_and_verify(client)
    with session_scope() as s:
        user = accounts.authenticate(s, email="ana@example.com", password=PASSWORD, ip="127.0.0.1")
        ticket = accounts.create_web_ticket(s, user)
    r = client.get(f"/api/auth/session?ticket={ticket}&next=/team", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/team")
    cookie = r.headers["set-cookie"]
    assert "qv_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/me").json()["email"] == "ana@example.com"  # the cookie authenticates too
    r = client.get(f"/api/auth/session?ticket={ticket}", follow_redirects=False)
    assert r.headers["location"].endswith("/login?expired=1")
    assert client.get("/api/auth/signout").status_code == 405  # a link elsewhere cannot sign anyone out
    r = client.post("/api/auth/signout", follow_redirects=False, headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 303 and r.headers["location"].endswith("/login")
    client.cookies.clear()
    assert client.get("/api/me").status_code == 401


def test_sign_in_redirect_only_goes_to_local_paths(client):
    from quantum_voice.services import accounts

    _signup_and_verify(client)
    with session_scope() as s:
        user = accounts.authenticate(s, email="ana@example.com", password=PASSWORD, ip=None)
        ticket = accounts.create_web_ticket(s, user)
    r = client.get(f"/api/auth/session?ticket={ticket}&next=https://evil.example.com/", follow_redirects=False)
    assert r.headers["location"].endswith("/dashboard")


def test_openapi_and_docs_are_served(client):
    spec = client.get("/api/openapi.json").json()
    assert "/api/auth/login" in spec["paths"] and "/api/health" in spec["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
    # Swagger UI from this machine (assets/vendor, installed by make setup), never from a CDN
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()

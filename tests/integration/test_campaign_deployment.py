"""Campaign management and deployment through the REST API, on SQLite and PostgreSQL: editing, going live, soft
delete, QR codes (images, public scan counter) and the web widget snippet."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
import qrcode
from fastapi.testclient import TestClient
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core.config import reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import NotFound
from quantum_voice.models.accounts import User
from quantum_voice.models.campaigns import Campaign, QRCode, QRScanEvent
from quantum_voice.models.system import AuditLog
from quantum_voice.services import campaigns, deployment
from quantum_voice.services.public_calls import call_page
from tests.factories import api_login, api_member, api_owner, repo_for, verified_owner

APP_URL = "https://voice.example.com"


@pytest.fixture
def client(engine, monkeypatch) -> TestClient:
    monkeypatch.setenv("APP_URL", APP_URL)
    reset_settings()
    return TestClient(create_api(), follow_redirects=False)


login, member = api_login, api_member


@pytest.fixture
def owner(client) -> dict[str, str]:
    return api_owner(client)


def new_campaign(client, auth, name: str = "Spring Open House") -> dict:
    response = client.post("/api/campaigns", json={"name": name}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def put(client, auth, campaign_id: int, **changes):
    return client.put(f"/api/campaigns/{campaign_id}", json=changes, headers=auth)


def new_qr(client, auth, campaign_id: int, label: str = "yard sign") -> dict:
    response = client.post(f"/api/campaigns/{campaign_id}/qr", json={"label": label}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def audit_actions() -> list[str]:
    with session_scope() as session:
        return [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]


# ---------------------------------------------------------------- editing

def test_update_changes_only_the_fields_sent_and_is_audited(client, owner):
    campaign = new_campaign(client, owner)
    assert campaign["call_url"] == f"{APP_URL}/call/{campaign['slug']}"
    assert campaign["brand_color"] == "#6E56CF" and campaign["max_call_seconds"] == 900
    r = put(client, owner, campaign["id"], name="  Summer   Open House ", brand_color="#12ab9f",
            logo_url="https://cdn.example.com/logo.png", max_call_seconds=600, target_audience="Families")
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["name"] == "Summer Open House" and updated["brand_color"] == "#12AB9F"
    assert updated["logo_url"] == "https://cdn.example.com/logo.png" and updated["max_call_seconds"] == 600
    assert updated["target_audience"] == "Families"
    assert updated["slug"] == campaign["slug"]  # the printed link never changes
    assert updated["greeting"] == campaign["greeting"] and updated["privacy_wording"] == campaign["privacy_wording"]
    assert client.get(f"/api/campaigns/{campaign['id']}", headers=owner).json() == updated
    assert put(client, owner, campaign["id"], logo_url="/assets/logo.png").json()["logo_url"] == "/assets/logo.png"
    assert put(client, owner, campaign["id"], logo_url=None).json()["logo_url"] is None
    assert campaign["handoff_wait_seconds"] == 45  # kept in the campaign's settings
    assert put(client, owner, campaign["id"], handoff_wait_seconds=90).json()["handoff_wait_seconds"] == 90
    with session_scope() as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "campaign.updated")
                             .order_by(AuditLog.id)).first()
        assert entry.target_id == str(campaign["id"]) and entry.actor_user_id is not None
        assert entry.details["fields"] == ["brand_color", "logo_url", "max_call_seconds", "name", "target_audience"]
    before = audit_actions().count("campaign.updated")
    assert put(client, owner, campaign["id"], name="Summer Open House").status_code == 200
    assert audit_actions().count("campaign.updated") == before  # nothing changed, nothing to audit


def test_knowledge_base_can_be_switched_to_one_of_the_organisations(client, owner):
    first, second = new_campaign(client, owner), new_campaign(client, owner, "Second")
    r = put(client, owner, first["id"], knowledge_base_id=second["knowledge_base_id"])
    assert r.status_code == 200 and r.json()["knowledge_base_id"] == second["knowledge_base_id"]


BAD_CHANGES = [
    ({"brand_color": "red"}, "brand_color", "#6E56CF"),
    ({"brand_color": "#12345"}, "brand_color", "hex colour"),
    ({"logo_url": "javascript:alert(1)"}, "logo_url", "http(s)"),
    ({"logo_url": "//evil.example.com/x.png"}, "logo_url", "http(s)"),
    ({"logo_url": 'https://example.com/a".png'}, "logo_url", "quotes"),
    ({"logo_url": "https://example.com/" + "a" * 500}, "logo_url", "too long"),
    ({"max_call_seconds": 10}, "max_call_seconds", "30 to 3600"),
    ({"max_call_seconds": 4000}, "max_call_seconds", "30 to 3600"),
    ({"status": "archived"}, "status", "draft, live, paused"),
    ({"name": "   "}, "name", "Enter the campaign name"),
    ({"name": None}, "name", "Enter the campaign name"),
    ({"description": None}, "description", "leave it out"),
    ({"greeting": "x" * 2001}, "greeting", "too long"),
    ({"knowledge_base_id": 999999}, "knowledge_base_id", "does not exist in your organisation"),
    ({"privacy_policy_version": ""}, "privacy_policy_version", "1 to 40"),
    ({"brandColor": "#000000"}, "brandColor", "Extra inputs"),
    ({"max_call_seconds": "long"}, "max_call_seconds", "integer"),
    ({"handoff_wait_seconds": 2}, "handoff_wait_seconds", "5 to 3600"),
    ({"handoff_wait_seconds": 3601}, "handoff_wait_seconds", "5 to 3600"),
]


def test_invalid_changes_are_422s_that_name_the_field(client, owner):
    campaign = new_campaign(client, owner)
    for changes, field, hint in BAD_CHANGES:
        r = put(client, owner, campaign["id"], **changes)
        assert r.status_code == 422, (changes, r.text)
        error = r.json()["error"]
        assert error["field"] == field and hint in error["message"], (changes, error)
    assert client.get(f"/api/campaigns/{campaign['id']}", headers=owner).json()["brand_color"] == "#6E56CF"


def test_going_live_needs_a_published_flow_and_privacy_wording(client, owner):
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == "owner@example.com")).one()
        draft_only = campaigns.create_campaign(repo_for(session, user), name="Not yet", publish=False).id
    r = put(client, owner, draft_only, status="live")
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "flow_not_published" and error["field"] == "status"
    assert "publish" in error["message"] and f"/api/flows/{draft_only}/publish" in error["message"]
    assert put(client, owner, draft_only, status="paused").status_code == 200  # only going live needs it
    assert client.post(f"/api/flows/{draft_only}/publish", headers=owner).status_code == 201
    r = put(client, owner, draft_only, status="live", privacy_wording="   ")
    assert r.status_code == 422 and r.json()["error"]["field"] == "privacy_wording"
    r = put(client, owner, draft_only, status="live")
    assert r.status_code == 200 and r.json()["status"] == "live"
    r = put(client, owner, draft_only, privacy_wording="")
    assert r.status_code == 422 and r.json()["error"]["field"] == "privacy_wording"
    with session_scope() as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "campaign.updated")
                             .order_by(AuditLog.id.desc())).first()
        assert entry.details["status_from"] == "paused" and entry.details["status_to"] == "live"


def test_the_call_page_takes_calls_only_while_the_campaign_is_live(client, owner):
    campaign = new_campaign(client, owner)
    slug = campaign["slug"]
    for status, accepting in (("draft", False), ("live", True), ("paused", False)):
        assert put(client, owner, campaign["id"], status=status).status_code == 200
        with session_scope() as session:
            assert call_page.campaign_page(session, slug).accepting_calls is accepting, status


def test_a_deleted_campaign_disappears_with_its_public_link_and_qr_codes(client, owner):
    campaign, other = new_campaign(client, owner), new_campaign(client, owner, "Other")
    cid = campaign["id"]
    assert put(client, owner, cid, status="live").status_code == 200
    qr = new_qr(client, owner, cid)
    assert client.get(f"/api/q/{qr['code']}").status_code == 302
    assert client.delete(f"/api/campaigns/{cid}", headers=owner).status_code == 204
    assert [c["id"] for c in client.get("/api/campaigns", headers=owner).json()] == [other["id"]]
    for method, path, body in [("get", f"/api/campaigns/{cid}", None), ("put", f"/api/campaigns/{cid}", {"name": "X"}),
                               ("delete", f"/api/campaigns/{cid}", None), ("get", f"/api/campaigns/{cid}/qr", None),
                               ("post", f"/api/campaigns/{cid}/qr", {"label": "flyer"}),
                               ("get", f"/api/campaigns/{cid}/qr/{qr['id']}.png", None),
                               ("get", f"/api/campaigns/{cid}/widget", None), ("get", f"/api/flows/{cid}", None),
                               ("post", f"/api/flows/{cid}/test", {"messages": ["hello"]}),
                               ("post", f"/api/flows/{cid}/publish", None),
                               ("post", "/api/knowledge/search", {"campaign_id": cid, "query": "parking"})]:
        r = client.request(method, path, json=body, headers=owner)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (method, path, r.text)
    scan = client.get(f"/api/q/{qr['code']}")
    assert scan.status_code == 404 and "text/html" in scan.headers["content-type"]
    with session_scope() as session:
        with pytest.raises(NotFound):
            call_page.campaign_page(session, campaign["slug"])
        assert session.get(QRCode, qr["id"]).scan_count == 1  # the scan after deletion did not count
        assert session.get(Campaign, cid).deleted_at is not None  # soft: calls and leads keep their campaign
    assert "campaign.deleted" in audit_actions()


# ---------------------------------------------------------------- isolation and roles

def test_another_organisation_gets_404_from_every_endpoint(client, owner):
    campaign = new_campaign(client, owner)
    cid = campaign["id"]
    qr = new_qr(client, owner, cid)
    with session_scope() as session:
        verified_owner(session, email="rival@example.com", org="Rival Homes")
    rival = login(client, "rival@example.com")
    rival_campaign = new_campaign(client, rival, "Rival")["id"]
    calls = [
        ("get", f"/api/campaigns/{cid}", None),
        ("put", f"/api/campaigns/{cid}", {"name": "Hijacked"}),
        ("delete", f"/api/campaigns/{cid}", None),
        ("post", f"/api/campaigns/{cid}/qr", {"label": "flyer"}),
        ("get", f"/api/campaigns/{cid}/qr", None),
        ("get", f"/api/campaigns/{cid}/qr/{qr['id']}.png", None),
        ("get", f"/api/campaigns/{cid}/qr/{qr['id']}.svg", None),
        ("delete", f"/api/campaigns/{cid}/qr/{qr['id']}", None),
        ("get", f"/api/campaigns/{cid}/widget", None),
        ("get", f"/api/campaigns/{rival_campaign}/qr/{qr['id']}.png", None),  # their campaign, our code
        ("delete", f"/api/campaigns/{rival_campaign}/qr/{qr['id']}", None),
        ("put", f"/api/campaigns/{rival_campaign}", {"knowledge_base_id": campaign["knowledge_base_id"]}),
    ]
    for method, path, body in calls:
        r = client.request(method, path, json=body, headers=rival)
        expected = 422 if body and "knowledge_base_id" in body else 404  # our knowledge base is not theirs
        assert r.status_code == expected, (method, path, r.text)
    r = client.get(f"/api/campaigns/{cid}", headers=owner).json()
    assert r["name"] == "Spring Open House"
    assert [q["id"] for q in client.get(f"/api/campaigns/{cid}/qr", headers=owner).json()] == [qr["id"]]


def test_a_viewer_can_read_but_not_change(client, owner):
    campaign = new_campaign(client, owner)
    cid = campaign["id"]
    qr = new_qr(client, owner, cid)
    viewer = member(client, "viewer", "viewer@example.com")
    for method, path, body in [("put", f"/api/campaigns/{cid}", {"name": "Renamed"}),
                               ("delete", f"/api/campaigns/{cid}", None),
                               ("post", f"/api/campaigns/{cid}/qr", {"label": "flyer"}),
                               ("delete", f"/api/campaigns/{cid}/qr/{qr['id']}", None)]:
        r = client.request(method, path, json=body, headers=viewer)
        assert r.status_code == 403 and "role" in r.json()["error"]["message"], (method, path, r.text)
    for path in (f"/api/campaigns/{cid}/qr", f"/api/campaigns/{cid}/qr/{qr['id']}.svg", f"/api/campaigns/{cid}/widget"):
        assert client.get(path, headers=viewer).status_code == 200, path
    manager = member(client, "manager", "manager@example.com")
    assert put(client, manager, cid, name="Renamed").json()["name"] == "Renamed"


# ---------------------------------------------------------------- QR codes

def png_modules(png: bytes, module_count: int) -> list[list[bool]]:
    """The dark/light modules of a QR code image (quiet zone excluded), sampled at each module's centre."""
    image = Image.open(io.BytesIO(png)).convert("L")
    box = image.width / (module_count + 8)  # a 4-module quiet zone on each side
    return [[image.getpixel((int((4 + x + 0.5) * box), int((4 + y + 0.5) * box))) < 128
             for x in range(module_count)] for y in range(module_count)]


def qr_matrix(data: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def test_qr_codes_are_created_listed_and_downloaded(client, owner):
    cid = new_campaign(client, owner)["id"]
    assert client.get(f"/api/campaigns/{cid}/qr", headers=owner).json() == []
    with session_scope() as session:
        assert session.exec(select(QRCode)).all() == []  # listing created nothing
    sign, flyer = new_qr(client, owner, cid, "  yard   sign "), new_qr(client, owner, cid, "flyer")
    assert sign["label"] == "yard sign" and sign["scan_count"] == 0 and sign["last_scanned_at"] is None
    assert sign["code"] != flyer["code"] and re.fullmatch(r"[A-Za-z0-9_-]{12,}", sign["code"])
    assert sign["scan_url"] == f"{APP_URL}/api/q/{sign['code']}"
    assert sign["png_url"] == f"/api/campaigns/{cid}/qr/{sign['id']}.png"
    listed = client.get(f"/api/campaigns/{cid}/qr", headers=owner).json()
    assert [(q["label"], q["scan_count"]) for q in listed] == [("yard sign", 0), ("flyer", 0)]

    png = client.get(sign["png_url"], headers=owner)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    expected = qr_matrix(sign["scan_url"])
    assert png_modules(png.content, len(expected)) == expected  # the image is the scan URL's QR code
    assert png_modules(png.content, len(expected)) != qr_matrix(flyer["scan_url"])

    svg = client.get(sign["svg_url"], headers=owner)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content and b"<path" in svg.content
    assert deployment.qr_svg(sign["scan_url"]) == svg.content

    r = client.post(f"/api/campaigns/{cid}/qr", json={"label": "  "}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["field"] == "label"
    other = new_campaign(client, owner, "Other")["id"]
    assert client.get(f"/api/campaigns/{other}/qr/{sign['id']}.png", headers=owner).status_code == 404

    assert client.delete(f"/api/campaigns/{cid}/qr/{flyer['id']}", headers=owner).status_code == 204
    assert [q["id"] for q in client.get(f"/api/campaigns/{cid}/qr", headers=owner).json()] == [sign["id"]]
    assert client.get(f"/api/q/{flyer['code']}").status_code == 404
    assert {"qr_code.created", "qr_code.deleted"} <= set(audit_actions())


def test_a_scan_is_counted_and_redirects_to_the_call_page(client, owner):
    campaign = new_campaign(client, owner)
    assert put(client, owner, campaign["id"], status="live").status_code == 200
    qr = new_qr(client, owner, campaign["id"])
    r = client.get(f"/api/q/{qr['code']}", headers={"User-Agent": "Mozilla/5.0 " + "x" * 600,
                                                  "Referer": "https://flyer.example.com/"})
    assert r.status_code == 302, r.text
    assert r.headers["location"] == f"{APP_URL}/call/{campaign['slug']}?qr={qr['code']}"
    assert r.headers["cache-control"] == "no-store"
    with session_scope() as session:
        event = session.exec(select(QRScanEvent)).one()
        assert event.qr_code_id == qr["id"] and event.campaign_id == campaign["id"]
        assert event.user_agent.startswith("Mozilla/5.0") and len(event.user_agent) == 400
        assert event.referrer == "https://flyer.example.com/"
        assert re.fullmatch(r"[0-9a-f]{64}", event.ip_hash) and event.ip_hash == deployment.hash_client_ip("testclient")
    listed = client.get(f"/api/campaigns/{campaign['id']}/qr", headers=owner).json()
    assert listed[0]["scan_count"] == 1 and listed[0]["last_scanned_at"] is not None


def test_scans_from_one_ip_count_only_up_to_the_limit(client, owner):
    cid = new_campaign(client, owner)["id"]
    sign, flyer = new_qr(client, owner, cid), new_qr(client, owner, cid, "flyer")
    limit = deployment.SCAN_COUNT_LIMIT.max_hits
    for _ in range(limit + 3):
        assert client.get(f"/api/q/{sign['code']}").status_code == 302  # always sent on
    assert client.get(f"/api/q/{flyer['code']}").status_code == 302
    with session_scope() as session:
        outcome = deployment.record_scan(session, sign["code"], ip="203.0.113.7", user_agent=None, referrer=None)
        assert outcome.counted
    with session_scope() as session:
        assert session.get(QRCode, sign["id"]).scan_count == limit + 1  # limit from one IP, one from another
        assert session.get(QRCode, flyer["id"]).scan_count == 1  # the limit is per code
        assert len(session.exec(select(QRScanEvent).where(QRScanEvent.qr_code_id == sign["id"])).all()) == limit + 1


def test_an_unknown_code_is_a_friendly_404_page(client):
    r = client.get("/api/q/not-a-real-code")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert "no longer active" in r.text


# ---------------------------------------------------------------- web widget

class ScriptTag(HTMLParser):
    def handle_starttag(self, tag, attrs):
        self.tag, self.attrs = tag, dict(attrs)


def parse_tag(snippet: str) -> dict[str, str | None]:
    parser = ScriptTag()
    parser.feed(snippet)
    assert parser.tag == "script"
    return parser.attrs


def test_the_widget_snippet_uses_the_campaign_colour_and_greeting(client, owner):
    campaign = new_campaign(client, owner)
    assert put(client, owner, campaign["id"], brand_color="#0055ff").status_code == 200
    body = client.get(f"/api/campaigns/{campaign['id']}/widget", headers=owner).json()
    assert body["call_url"] == campaign["call_url"]
    assert body["preview"] == {"color": "#0055FF", "label": "Talk to us", "greeting": campaign["greeting"]}
    attrs = parse_tag(body["snippet"])
    assert attrs == {"src": f"{APP_URL}/widget.js", "data-campaign": campaign["slug"], "data-color": "#0055FF",
                     "data-label": "Talk to us", "async": None}
    assert body["snippet"].endswith("></script>")


def test_widget_overrides_are_validated_and_escaped(client, owner):
    cid = new_campaign(client, owner)["id"]
    label = '"><script>alert(1)</script> & <b>'
    body = client.get(f"/api/campaigns/{cid}/widget", params={"color": "#abcdef", "label": label},
                      headers=owner).json()
    assert "<script>alert" not in body["snippet"] and "&quot;&gt;&lt;script&gt;" in body["snippet"]
    assert body["snippet"].count("<script") == 1
    attrs = parse_tag(body["snippet"])
    assert attrs["data-label"] == label and attrs["data-color"] == "#ABCDEF"
    assert body["preview"]["label"] == label
    r = client.get(f"/api/campaigns/{cid}/widget", params={"color": "blue"}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["field"] == "color"
    r = client.get(f"/api/campaigns/{cid}/widget", params={"label": "x" * 61}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["field"] == "label"

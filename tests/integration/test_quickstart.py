"""The quick-start code (services/developer/quickstart.py) works against the real API, on SQLite and PostgreSQL:
its Python runs against the app with an API key, its curl commands name real routes and send bodies the routes
take, and docs/developers.md carries every snippet as it is, so neither the page nor the docs can drift."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import Organization
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.knowledge import Document
from quantum_voice.models.leads import Lead
from quantum_voice.services.developer import quickstart, webhook_signature
from quantum_voice.services.developer.quickstart import SNIPPETS
from tests.factories import api_owner

DOCS = Path(__file__).resolve().parents[2] / "docs" / "developers.md"
SCOPES = ["knowledge:write", "campaigns:write", "leads:read"]


@pytest.fixture
def app(engine):
    return create_api()


@pytest.fixture
def client(app):
    return TestClient(app)


@pytest.fixture
def key(client) -> str:
    owner = api_owner(client)
    response = client.post("/api/developer/keys", json={"name": "Quick start", "scopes": SCOPES}, headers=owner)
    assert response.status_code == 201, response.text
    return response.json()["secret"]


@pytest.fixture
def run_python(app, key, monkeypatch, tmp_path):
    """Runs SETUP and then a snippet as a user would, with httpx talking to the app in this process."""
    monkeypatch.setenv("QV_URL", "http://testserver")
    monkeypatch.setenv("QV_KEY", key)
    monkeypatch.setattr(httpx, "Client", lambda base_url, headers: TestClient(app, base_url=base_url,
                                                                              headers=headers))
    monkeypatch.chdir(tmp_path)

    def run(snippet: quickstart.Snippet) -> dict:
        namespace: dict = {}
        exec(compile(quickstart.SETUP + "\n" + snippet.python, snippet.slug, "exec"), namespace)
        return namespace
    return run


def test_the_upload_snippet_queues_a_document(run_python, tmp_path):
    (tmp_path / "faq.txt").write_text("The open house is on Saturday at ten.")
    result = run_python(quickstart.UPLOAD_DOCUMENT)
    assert result["document"]["status"] in ("queued", "processing", "ready")
    with session_scope() as session:
        assert [d.name for d in session.exec(select(Document)).all()] == ["faq.txt"]


def test_the_campaign_snippet_creates_a_campaign(run_python):
    result = run_python(quickstart.CREATE_CAMPAIGN)
    assert result["campaign"]["call_url"].endswith("/call/" + result["campaign"]["slug"])
    with session_scope() as session:
        assert [c.name for c in session.exec(select(Campaign)).all()] == ["Spring open house"]


def test_the_leads_snippet_lists_every_lead_since_the_date_page_by_page(run_python, monkeypatch):
    with session_scope() as session:
        org = session.exec(select(Organization)).one()
        for day in (1, 2, 3, 4, 5):
            session.add(Lead(organization_id=org.id, name=f"Lead {day}",
                             created_at=datetime(2026, 12, day, 9, tzinfo=timezone.utc)))
        session.add(Lead(organization_id=org.id, name="Before", created_at=datetime(2026, 11, 30, tzinfo=timezone.utc)))
    paged = quickstart.LIST_LEADS.__class__(**{**quickstart.LIST_LEADS.__dict__,
                                               "python": quickstart.LIST_LEADS.python.replace('"limit": 100',
                                                                                              '"limit": 2')})
    assert paged.python != quickstart.LIST_LEADS.python  # three pages of two: the cursor loop is exercised
    result = run_python(paged)
    assert [lead["name"] for lead in result["leads"]] == [f"Lead {day}" for day in (1, 2, 3, 4, 5)]
    assert [lead["name"] for lead in run_python(quickstart.LIST_LEADS)["leads"]][0] == "Lead 1"


def test_the_python_verification_accepts_a_signed_delivery_and_refuses_a_tampered_one(monkeypatch):
    monkeypatch.setitem(sys.modules, "webhook_signature", webhook_signature)
    monkeypatch.setenv("QV_WEBHOOK_SECRET", "whsec_test")
    namespace: dict = {}
    exec(quickstart.VERIFY_WEBHOOK.python, namespace)
    body = json.dumps({"id": "evt_1", "type": "ping"}).encode()
    header = webhook_signature.sign(body, "whsec_test", int(time.time()))
    assert namespace["read_delivery"](body, {"QV-Signature": header})["id"] == "evt_1"
    assert namespace["read_delivery"](body.replace(b"ping", b"pong"), {"QV-Signature": header}) is None
    stale = webhook_signature.sign(body, "whsec_test", int(time.time()) - 600)
    assert namespace["read_delivery"](body, {"QV-Signature": stale}) is None
    assert namespace["read_delivery"](body, {}) is None


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl")
def test_the_shell_verification_agrees_with_the_signature(tmp_path):
    body = b'{"id": "evt_1", "type": "ping"}'
    (tmp_path / "body.json").write_bytes(body)

    def shell(header: str) -> str:
        return subprocess.run(["bash", "-c", quickstart.VERIFY_WEBHOOK.curl], cwd=tmp_path, capture_output=True,
                              text=True, timeout=30, check=True,
                              env={"PATH": "/usr/bin:/bin", "QV_SIGNATURE": header,
                                   "QV_WEBHOOK_SECRET": "whsec_test"}).stdout.strip()

    assert shell(webhook_signature.sign(body, "whsec_test", int(time.time()))) == "valid"
    assert shell(webhook_signature.sign(body, "whsec_other", int(time.time()))) == "invalid"
    assert shell(webhook_signature.sign(body, "whsec_test", int(time.time()) - 600)) == "invalid"


_CURL = re.compile(r"curl -s (?:-X (?P<method>POST) |(?P<get>-G) )\"\$QV_URL(?P<path>/api/[^\"?]+)\"")
_JSON_BODY = re.compile(r"-d '(\{.*?\})'", re.S)


@pytest.mark.parametrize("snippet", [s for s in SNIPPETS if "$QV_URL" in s.curl], ids=lambda s: s.slug)
def test_every_curl_names_a_real_route_and_sends_a_body_it_takes(app, client, key, snippet):
    routes = app.openapi()["paths"]
    commands = list(_CURL.finditer(snippet.curl))
    assert commands, snippet.curl
    for command in commands:
        method = "post" if command["method"] else "get"
        assert method in routes.get(command["path"], {}), f"{method.upper()} {command['path']} is not a route"
    for body in _JSON_BODY.findall(snippet.curl):
        path = next(c["path"] for c in commands if c["method"])
        response = client.post(path, json=json.loads(body), headers={"Authorization": f"Bearer {key}"})
        assert response.status_code in (200, 201, 202), response.text


def test_the_leads_curl_uses_the_list_s_real_query_parameters(app):
    parameters = {p["name"] for p in app.openapi()["paths"]["/api/leads"]["get"]["parameters"]}
    sent = set(re.findall(r"-d (\w+)=", quickstart.LIST_LEADS.curl)) | {"cursor"}
    assert sent <= parameters


def test_the_docs_carry_every_snippet_as_it_is():
    docs = DOCS.read_text()
    for text in (quickstart.SETUP, quickstart.SETUP_CURL, *(s.curl for s in SNIPPETS),
                 *(s.python for s in SNIPPETS)):
        assert text in docs, f"docs/developers.md lacks:\n{text}"

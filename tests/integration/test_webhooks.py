"""Outgoing webhooks end to end, on SQLite and PostgreSQL, to a real HTTP receiver on 127.0.0.1 (private targets
allowed by WEBHOOK_ALLOW_PRIVATE_TARGETS, as an on-prem receiver would need): signatures that verify, retries with
backoff and Retry-After, the 24-hour give-up that disables the endpoint and emails the owners, tenancy, roles and
API key scopes, replay and test events, and the outbox writing nothing for a change that rolled back
(docs/developers.md)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core.clock import set_clock
from quantum_voice.core.config import reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.resilience import reset_breakers
from quantum_voice.models.accounts import User
from quantum_voice.models.developer import Webhook, WebhookAttempt, WebhookDelivery
from quantum_voice.models.knowledge import Document, KnowledgeBase
from quantum_voice.models.leads import Lead
from quantum_voice.models.system import EmailMessage
from quantum_voice.services.developer import webhook_delivery, webhook_events
from quantum_voice.services.developer.webhook_signature import SignatureInvalid, verify
from quantum_voice.services.knowledge import processing
from quantum_voice.worker import build_worker
from tests.factories import api_login, api_member, api_owner, repo_for
from tests.local_server import LocalHTTPServer

HOOKS = "/api/webhooks"


# ---------------------------------------------------------------- a receiver that keeps what it gets

@dataclass
class Got:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, headers, body), then 200; keeps every request."""

    got: list[Got] = field(default_factory=list)
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: LocalHTTPServer | None = None

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    receiver.got.append(Got(dict(self.headers), body))
                    status, headers, answer = receiver.script.pop(0) if receiver.script else (200, {}, b'{"ok":1}')
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args):
                pass

        self.server = LocalHTTPServer(Handler).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url + "/hooks/qv"

    def answer(self, *responses: tuple[int, dict[str, str], bytes]) -> None:
        self.script.extend(responses)

    def ids(self) -> list[str]:
        return [g.event["id"] for g in self.got]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    reset_breakers()
    fake = Clock()
    set_clock(fake)
    yield fake
    set_clock(None)
    reset_breakers()


@pytest.fixture
def private_allowed(monkeypatch):
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "3")
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def receiver():
    got = Receiver().start()
    yield got
    got.server.stop()


@pytest.fixture
def client(engine, clock, private_allowed):
    return TestClient(create_api())


@pytest.fixture
def owner(client) -> dict[str, str]:
    return api_owner(client)


def make_hook(client, auth, url: str, events=("lead.updated",), **extra) -> dict:
    response = client.post(HOOKS, json={"url": url, "events": list(events), **extra}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def error(response) -> dict:
    return response.json()["error"]


def org_of(email: str) -> int:
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        return repo_for(session, user).scope.organization_id


def new_lead(email: str = "owner@example.com", name: str = "Priya Raman", is_test: bool = False) -> int:
    with session_scope() as session:
        lead = Lead(organization_id=org_of(email), name=name, email="priya@example.com", score=40, band="warm",
                    is_test=is_test)
        session.add(lead)
        session.flush()
        return lead.id


def won(client, auth, lead_id: int) -> None:
    response = client.patch(f"/api/leads/{lead_id}", json={"status": "won"}, headers=auth)
    assert response.status_code == 200, response.text


def deliver() -> int:
    return webhook_delivery.deliver_all_due()


def log_of(client, auth, hook_id: int) -> list[dict]:
    response = client.get(f"{HOOKS}/{hook_id}/deliveries", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def detail(client, auth, hook_id: int, delivery_id: int) -> dict:
    response = client.get(f"{HOOKS}/{hook_id}/deliveries/{delivery_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- delivery

def test_a_subscribed_event_arrives_signed_and_the_published_helper_verifies_it(client, owner, receiver, clock):
    hook = make_hook(client, owner, receiver.url, events=["lead.updated", "lead.created"])
    assert hook["secret"].startswith("whsec_") and hook["secret_hint"] == hook["secret"][:10]
    lead_id = new_lead()
    won(client, owner, lead_id)
    assert build_worker().run_pending() >= 1  # the job queued after the commit delivers

    (got,) = receiver.got
    event = got.event
    assert event["type"] == "lead.updated" and event["id"].startswith("evt_") and event["livemode"] is True
    assert event["organization_id"] == org_of("owner@example.com")
    assert event["data"]["lead"]["id"] == lead_id and event["data"]["lead"]["status"] == "won"
    assert event["data"]["changes"] == {"status": {"from": "new", "to": "won"}}
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == "QuantumVoice-Webhooks/1"
    assert (got.headers["QV-Event-Id"], got.headers["QV-Event-Type"]) == (event["id"], "lead.updated")
    signed_at = verify(got.body, got.headers["QV-Signature"], hook["secret"], now=clock.now.timestamp())
    assert signed_at == int(clock.now.timestamp())
    with pytest.raises(SignatureInvalid):  # tampered
        verify(got.body.replace(b"won", b"new"), got.headers["QV-Signature"], hook["secret"],
               now=clock.now.timestamp())
    with pytest.raises(SignatureInvalid):  # replayed ten minutes later
        verify(got.body, got.headers["QV-Signature"], hook["secret"], now=clock.now.timestamp() + 600)

    (row,) = log_of(client, owner, hook["id"])
    assert (row["status"], row["attempts"], row["last_status_code"], row["event_id"]) == (
        "succeeded", 1, 200, event["id"])
    (attempt,) = detail(client, owner, hook["id"], row["id"])["attempts"]
    assert attempt["status_code"] == 200 and attempt["response_excerpt"] == '{"ok":1}'
    assert attempt["duration_ms"] is not None and not attempt["manual"]
    listed = client.get(HOOKS, headers=owner).json()[0]
    assert listed["last_delivery"]["status"] == "succeeded" and "secret" not in listed
    assert hook["secret"] not in client.get(HOOKS, headers=owner).text


def test_test_data_events_say_livemode_false_and_reach_only_endpoints_that_take_them(client, owner, receiver):
    sandbox = Receiver().start()
    try:
        live_only = make_hook(client, owner, receiver.url)
        both = make_hook(client, owner, sandbox.url, test_events=True)
        assert (live_only["test_events"], both["test_events"]) == (False, True)
        test_key = _key(client, owner, ["leads:write"], role="manager", mode="test")
        won(client, test_key, new_lead(is_test=True))  # a test-mode key's work on a test lead
        won(client, owner, new_lead())  # a person's on a live one
        deliver()
        assert [g.event["livemode"] for g in receiver.got] == [True]
        assert sorted(g.event["livemode"] for g in sandbox.got) == [False, True]
        test_delivery = next(d for d in log_of(client, owner, both["id"]) if not d["livemode"])
        assert test_delivery["event_type"] == "lead.updated" and test_delivery["test"] is False
        changed = client.patch(f"{HOOKS}/{live_only['id']}", json={"test_events": True}, headers=owner).json()
        assert changed["test_events"] is True
        won(client, test_key, new_lead(is_test=True))
        deliver()
        assert [g.event["livemode"] for g in receiver.got] == [True, False]
    finally:
        sandbox.server.stop()


def test_a_500_is_retried_after_the_backoff_and_the_log_keeps_both_attempts(client, owner, receiver, clock):
    hook = make_hook(client, owner, receiver.url)
    receiver.answer((500, {}, b"database is down " * 200))
    won(client, owner, new_lead())
    assert deliver() == 1
    (row,) = log_of(client, owner, hook["id"])
    assert row["status"] == "retrying" and row["last_status_code"] == 500
    assert row["next_attempt_at"].startswith((clock.now + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S"))
    assert deliver() == 0  # not due yet
    clock.advance(seconds=31)
    assert deliver() == 1

    assert len(receiver.got) == 2 and receiver.ids()[0] == receiver.ids()[1]  # the same event id on the retry
    full = detail(client, owner, hook["id"], row["id"])
    assert full["delivery"]["status"] == "succeeded" and full["delivery"]["attempts"] == 2
    first, second = full["attempts"]
    assert (first["number"], first["status_code"], second["number"], second["status_code"]) == (1, 500, 2, 200)
    assert len(first["response_excerpt"].encode()) == 1024 and "HTTP 500" in first["error"]
    endpoint = client.get(f"{HOOKS}/{hook['id']}", headers=owner).json()
    assert endpoint["consecutive_failures"] == 0 and endpoint["failing_since"] is None


def test_a_429_with_retry_after_is_waited_for(client, owner, receiver, clock):
    hook = make_hook(client, owner, receiver.url)
    receiver.answer((429, {"Retry-After": "600"}, b"slow down"))
    won(client, owner, new_lead())
    deliver()
    (row,) = log_of(client, owner, hook["id"])
    assert row["status"] == "retrying"
    clock.advance(seconds=300)  # past the 30 s backoff, not past what the receiver asked
    assert deliver() == 0 and len(receiver.got) == 1
    clock.advance(seconds=301)
    assert deliver() == 1 and len(receiver.got) == 2
    assert log_of(client, owner, hook["id"])[0]["status"] == "succeeded"


def test_after_a_day_of_failures_the_delivery_fails_the_endpoint_is_disabled_and_the_owners_are_emailed(
        client, owner, receiver, clock):
    hook = make_hook(client, owner, receiver.url, events=["lead.updated"])
    receiver.answer(*[(503, {}, b"maintenance")] * 50)
    lead_id = new_lead()
    won(client, owner, lead_id)
    deliver()
    for _ in range(40):  # follow the backoff: 30 s doubling, at most an hour apart, until the day is over
        clock.advance(hours=1, seconds=1)
        deliver()
    (row,) = log_of(client, owner, hook["id"])
    assert row["status"] == "failed" and row["next_attempt_at"] is None
    attempts = detail(client, owner, hook["id"], row["id"])["attempts"]
    times = [datetime.fromisoformat(a["attempted_at"]) for a in attempts]
    assert times[-1] - times[0] >= timedelta(hours=24) and all(a["status_code"] == 503 for a in attempts)

    endpoint = client.get(f"{HOOKS}/{hook['id']}", headers=owner).json()
    assert endpoint["enabled"] is False and "every delivery failed for 24 hours" in endpoint["disabled_reason"]
    with session_scope() as session:
        mails = session.exec(select(EmailMessage).where(EmailMessage.kind == "webhook_disabled")).all()
        assert [m.to_address for m in mails] == ["owner@example.com"] and receiver.url in mails[0].body_text

    sent = len(receiver.got)  # a disabled endpoint gets nothing new
    client.patch(f"/api/leads/{lead_id}", json={"status": "lost"}, headers=owner)
    deliver()
    assert len(receiver.got) == sent
    enabled = client.patch(f"{HOOKS}/{hook['id']}", json={"enabled": True}, headers=owner).json()
    assert enabled["enabled"] and enabled["disabled_reason"] is None and enabled["consecutive_failures"] == 0


def test_a_receiver_down_for_a_while_gets_every_event_once_by_id(client, owner, clock):
    down = Receiver().start()
    url = down.url
    down.server.stop()  # nothing listens: connection refused
    hook = make_hook(client, owner, url, events=["lead.updated"])
    lead_ids = [new_lead(name=f"Caller {n}") for n in range(3)]
    for lead_id in lead_ids:
        won(client, owner, lead_id)
    deliver()
    assert {r["status"] for r in log_of(client, owner, hook["id"])} == {"retrying"}
    assert "Could not reach" in log_of(client, owner, hook["id"])[0]["last_error"]

    back = Receiver()
    back.start()
    try:  # the receiver comes back on a new port; the endpoint is pointed at it
        client.patch(f"{HOOKS}/{hook['id']}", json={"url": back.url}, headers=owner)
        clock.advance(minutes=5)
        deliver()
        clock.advance(minutes=5)
        deliver()
        assert sorted(g.event["data"]["lead"]["id"] for g in back.got) == lead_ids
        assert len(set(back.ids())) == 3
        for got in back.got:
            verify(got.body, got.headers["QV-Signature"], hook["secret"], now=clock.now.timestamp())
    finally:
        back.server.stop()


def test_replay_and_a_test_event_are_one_attempt_each_now(client, owner, receiver, clock):
    hook = make_hook(client, owner, receiver.url)
    won(client, owner, new_lead())
    deliver()
    (row,) = log_of(client, owner, hook["id"])

    replayed = client.post(f"{HOOKS}/{hook['id']}/deliveries/{row['id']}/replay", headers=owner)
    assert replayed.status_code == 200, replayed.text
    assert [a["manual"] for a in replayed.json()["attempts"]] == [False, True]
    assert receiver.ids()[0] == receiver.ids()[1]  # the same event, signed again
    verify(receiver.got[1].body, receiver.got[1].headers["QV-Signature"], hook["secret"], now=clock.now.timestamp())

    receiver.answer((404, {}, b"no such route"))
    test = client.post(f"{HOOKS}/{hook['id']}/test", headers=owner)
    assert test.status_code == 200, test.text
    body = test.json()
    assert body["delivery"]["event_type"] == "ping" and body["delivery"]["test"] is True
    assert body["delivery"]["status"] == "failed" and body["attempts"][0]["status_code"] == 404
    assert receiver.got[-1].event["test"] is True and receiver.got[-1].event["data"]["webhook_id"] == hook["id"]
    clock.advance(hours=2)
    assert deliver() == 0  # a failed test event is not retried

    ok = client.post(f"{HOOKS}/{hook['id']}/test", headers=owner).json()
    assert ok["delivery"]["status"] == "succeeded"


def test_rolling_the_secret_signs_the_next_delivery_with_the_new_one(client, owner, receiver, clock):
    hook = make_hook(client, owner, receiver.url)
    rolled = client.post(f"{HOOKS}/{hook['id']}/roll-secret", headers=owner).json()
    assert rolled["secret"] != hook["secret"] and rolled["secret_hint"] == rolled["secret"][:10]
    client.post(f"{HOOKS}/{hook['id']}/test", headers=owner)
    got = receiver.got[-1]
    verify(got.body, got.headers["QV-Signature"], rolled["secret"], now=clock.now.timestamp())
    with pytest.raises(SignatureInvalid):
        verify(got.body, got.headers["QV-Signature"], hook["secret"], now=clock.now.timestamp())
    with session_scope() as session:  # stored encrypted, never in clear
        stored = session.get(Webhook, hook["id"]).signing_secret
        assert rolled["secret"] not in stored and "whsec_" not in stored


def test_an_event_in_a_transaction_that_rolled_back_is_never_sent(client, owner, receiver, clock):
    make_hook(client, owner, receiver.url, events=["lead.created"])
    org = org_of("owner@example.com")
    with pytest.raises(RuntimeError):
        with session_scope() as session:
            lead = Lead(organization_id=org, name="Gone", email="gone@example.com")
            session.add(lead)
            session.flush()
            assert webhook_events.emit(session, org, "lead.created", webhook_events.lead_data(lead))
            raise RuntimeError("the change failed")
    build_worker().run_pending()
    deliver()
    assert receiver.got == []
    with session_scope() as session:
        assert session.exec(select(WebhookDelivery)).all() == []


def test_one_organisations_events_never_reach_another_organisations_endpoint(client, owner, receiver, clock):
    other = Receiver().start()
    try:
        make_hook(client, owner, receiver.url, events=["lead.updated"])
        with session_scope() as session:
            from tests.factories import verified_owner
            verified_owner(session, email="rival@example.com", org="Rival Realty")
        rival = api_login(client, "rival@example.com")
        rival_hook = make_hook(client, rival, other.url, events=["lead.updated"])
        won(client, owner, new_lead())
        deliver()
        assert len(receiver.got) == 1 and other.got == []
        assert client.get(f"{HOOKS}/{rival_hook['id']}", headers=owner).status_code == 404
        assert client.get(f"{HOOKS}/{rival_hook['id']}/deliveries", headers=owner).status_code == 404
        assert [h["id"] for h in client.get(HOOKS, headers=rival).json()] == [rival_hook["id"]]
    finally:
        other.server.stop()


def test_a_failed_document_and_a_whole_call_send_their_events(client, owner, receiver, clock):
    make_hook(client, owner, receiver.url, events=list(webhook_events.EVENT_TYPES))
    org = org_of("owner@example.com")
    with session_scope() as session:
        kb = KnowledgeBase(organization_id=org, name="Listings")
        session.add(kb)
        session.flush()
        document = Document(organization_id=org, knowledge_base_id=kb.id, name="prices.pdf", sha256="0" * 64,
                            status="parsing")
        session.add(document)
        session.flush()
        document_id = document.id
    processing._fail(document_id, "No text could be read from this document.")

    from tests.integration.notifications.test_missed_handoff import caller_no_one_could_take
    with session_scope() as session:
        user_id = session.exec(select(User).where(User.email == "owner@example.com")).one().id
    from tests.integration.notifications.conftest import new_campaign
    caller_no_one_could_take(user_id, new_campaign(user_id))
    deliver()

    types = [g.event["type"] for g in receiver.got]
    assert types[0] == "document.failed" and receiver.got[0].event["data"]["document"]["id"] == document_id
    assert {"call.started", "lead.created", "handoff.requested", "lead.scored", "call.ended"} <= set(types)
    assert types.index("call.started") < types.index("call.ended")
    scored = next(g.event for g in receiver.got if g.event["type"] == "lead.scored")
    assert scored["data"]["lead"]["name"] == "Ana Lopez" and scored["data"]["lead"]["email"] == "ana@example.com"
    ended = next(g.event for g in receiver.got if g.event["type"] == "call.ended")
    assert ended["data"]["call"]["status"] == "ended" and ended["data"]["call"]["lead_id"] == scored["data"]["lead"]["id"]


# ---------------------------------------------------------------- who may do what

def test_owners_and_admins_manage_managers_only_look_agents_see_nothing(client, owner, receiver):
    hook = make_hook(client, owner, receiver.url)
    admin = api_member(client, "admin", "admin@example.com")
    manager = api_member(client, "manager", "manager@example.com")
    agent = api_member(client, "agent", "agent@example.com")
    assert client.post(f"{HOOKS}/{hook['id']}/test", headers=admin).status_code == 200
    assert client.get(HOOKS, headers=manager).status_code == 200
    assert client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=manager).status_code == 200
    for response in (client.post(HOOKS, json={"url": receiver.url, "events": ["call.ended"]}, headers=manager),
                     client.patch(f"{HOOKS}/{hook['id']}", json={"enabled": False}, headers=manager),
                     client.delete(f"{HOOKS}/{hook['id']}", headers=manager),
                     client.post(f"{HOOKS}/{hook['id']}/roll-secret", headers=manager),
                     client.get(HOOKS, headers=agent)):
        assert response.status_code == 403, response.text
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=admin).status_code == 204
    assert client.get(HOOKS, headers=owner).json() == []


def _key(client, owner, scopes, role="admin", mode="live") -> dict[str, str]:
    response = client.post("/api/developer/keys", json={"name": "hooks", "scopes": scopes, "role": role,
                                                        "mode": mode}, headers=owner)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['secret']}"}


def test_api_keys_need_the_webhooks_scopes(client, owner, receiver):
    hook = make_hook(client, owner, receiver.url)
    reader = _key(client, owner, ["webhooks:read"])
    assert client.get(HOOKS, headers=reader).status_code == 200
    assert client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=reader).status_code == 200
    refused = client.post(HOOKS, json={"url": receiver.url, "events": ["call.ended"]}, headers=reader)
    assert refused.status_code == 403 and error(refused)["code"] == "missing_scope"
    assert "webhooks:write" in error(refused)["message"]
    writer = _key(client, owner, ["webhooks:write"])
    assert client.post(HOOKS, json={"url": receiver.url, "events": ["call.ended"]}, headers=writer).status_code == 201
    leads_key = _key(client, owner, ["leads:write"])
    assert error(client.get(HOOKS, headers=leads_key))["code"] == "missing_scope"
    manager_key = _key(client, owner, ["webhooks:write"], role="manager")  # the role still applies
    assert client.post(HOOKS, json={"url": receiver.url, "events": ["call.ended"]},
                       headers=manager_key).status_code == 403


# ---------------------------------------------------------------- what an endpoint may be

def test_private_loopback_and_http_targets_are_refused_without_the_operator_settings(client, owner, monkeypatch):
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_TARGETS", "false")
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "false")
    reset_settings()
    for url, words in (("https://127.0.0.1:8443/hook", "private"), ("https://localhost/hook", "private"),
                       ("https://10.1.2.3/hook", "private"), ("https://[::1]/hook", "private"),
                       ("http://93.184.215.14/hook", "https"), ("ftp://example.com/x", "https"),
                       ("https://user:pw@example.com/x", "credentials"), ("not a url", "https")):
        response = client.post(HOOKS, json={"url": url, "events": ["call.ended"]}, headers=owner)
        assert response.status_code == 422, (url, response.text)
        assert error(response)["field"] == "url" and words in error(response)["message"], url
    response = client.post(HOOKS, json={"url": "https://93.184.215.14/hook", "events": ["nope"]}, headers=owner)
    assert response.status_code == 422 and error(response)["field"] == "events"


def test_an_endpoint_made_while_private_targets_were_allowed_is_refused_at_delivery_after(
        client, owner, receiver, monkeypatch):
    hook = make_hook(client, owner, receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_TARGETS", "false")
    reset_settings()
    won(client, owner, new_lead())
    deliver()
    assert receiver.got == []
    (row,) = log_of(client, owner, hook["id"])
    assert row["status"] == "retrying" and "private" in row["last_error"]


def test_an_organisation_has_at_most_twenty_endpoints(client, owner, receiver):
    for n in range(20):
        make_hook(client, owner, f"{receiver.url}/{n}")
    response = client.post(HOOKS, json={"url": receiver.url, "events": ["call.ended"]}, headers=owner)
    assert response.status_code == 409 and error(response)["code"] == "too_many_webhooks"


def test_old_finished_deliveries_and_their_attempts_are_pruned(client, owner, receiver, clock):
    hook = make_hook(client, owner, receiver.url)
    won(client, owner, new_lead())
    deliver()
    assert log_of(client, owner, hook["id"])[0]["status"] == "succeeded"
    clock.advance(days=29)
    assert webhook_delivery.prune_old_deliveries() == 0
    clock.advance(days=2)
    assert webhook_delivery.prune_old_deliveries() == 1
    with session_scope() as session:
        assert session.exec(select(WebhookDelivery)).all() == []
        assert session.exec(select(WebhookAttempt)).all() == []


def test_after_five_failures_in_a_minute_the_endpoints_other_deliveries_wait_without_an_attempt(client, owner, clock):
    down = Receiver().start()
    down.server.stop()
    hook = make_hook(client, owner, down.url)
    for n in range(7):
        won(client, owner, new_lead(name=f"Caller {n}"))
    deliver()
    rows = log_of(client, owner, hook["id"])
    assert sorted(r["attempts"] for r in rows) == [0, 0, 1, 1, 1, 1, 1]  # the breaker opened after five
    assert {r["status"] for r in rows if r["attempts"] == 0} == {"pending"}
    with session_scope() as session:
        waiting = session.exec(select(WebhookDelivery).where(WebhookDelivery.attempt_count == 0)).all()
        assert all(row.first_attempt_at is None for row in waiting)  # their 24 hours have not started

"""The caller's side of a campaign without a voice sidecar: the call page's data, the email gate and its consent
ticket, abuse limits, the test-call link, the Lead Gate taking the typed email and consent, caller metrics, the
resumes a dropped call is refused — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core.config import get_settings, reset_settings
from quantum_voice.core.clock import set_clock, utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import Conflict, DomainError, NotFound, PermissionDenied, RateLimited, \
    ServiceUnavailable, ValidationFailed
from quantum_voice.models.accounts import User
from quantum_voice.models.billing import Budget, UsageRecord
from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import Lead
from quantum_voice.models.system import SystemMetric
from agent.heartbeat import report_heartbeat
from quantum_voice.services import campaigns, conversations, voice_calls
from quantum_voice.services.conversations import CallSetup
from quantum_voice.services.public_calls import call_limits, call_page, call_tickets, email_gate, placement
from quantum_voice.services.voice_calls import system_repo
from tests.factories import add_member, repo_for, verified_owner

UA = "Mozilla/5.0 (iPhone) test"


def live_campaign(status: str = "live") -> tuple[int, str]:
    with session_scope() as session:
        user, _ = verified_owner(session, org="Harbor View Residences")
        campaign = campaigns.create_campaign(repo_for(session, session.get(User, user.id)), name="Open House")
        campaign.status = status
        return campaign.id, campaign.slug


def gate(slug: str, email: str = "Ana.Lopez@Example.com", **options) -> email_gate.CallTicket:
    with session_scope() as session:
        options.setdefault("page_opened_at", utcnow().timestamp() - 5)  # the page was read for a few seconds
        return email_gate.open_gate(session, slug, email=email, consent=options.pop("consent", True),
                                    ip=options.pop("ip", "203.0.113.7"), user_agent=UA, **options)


def consent_record(public_id: str) -> ConsentRecord:
    with session_scope() as session:
        return session.exec(select(ConsentRecord).where(ConsentRecord.public_id == public_id)).one()


def test_the_call_page_shows_the_campaigns_branding_and_privacy_wording(engine):
    _, slug = live_campaign()
    with session_scope() as session:
        page = call_page.campaign_page(session, slug)
    assert page.accepting_calls and page.organization == "Harbor View Residences" and page.name == "Open House"
    assert "Harbor View Residences" in page.privacy_wording and page.policy_version == "1"
    assert page.brand_color.startswith("#") and not page.is_test


def test_a_draft_campaign_takes_no_calls_but_its_test_link_does(engine):
    campaign_id, slug = live_campaign(status="draft")
    with session_scope() as session:
        page = call_page.campaign_page(session, slug)
        assert not page.accepting_calls and "isn't taking calls" in page.unavailable_reason
        owner = session.exec(select(User)).one()
        link = call_page.test_call_link(repo_for(session, owner), campaign_id)
    with pytest.raises(ServiceUnavailable):
        gate(slug)
    token = link.split("test=", 1)[1]
    with session_scope() as session:
        assert call_page.campaign_page(session, slug, test_token=token).is_test
        with pytest.raises(PermissionDenied, match="Test call button"):
            call_page.campaign_page(session, slug, test_token=token[:-2] + "00")
    assert gate(slug, test_token=token).is_test


def test_only_people_who_manage_campaigns_get_a_test_call_link(engine):
    campaign_id, _ = live_campaign()
    with session_scope() as session:
        owner = session.exec(select(User)).one()
        viewer = add_member(session, owner, "viewer@example.com", "viewer")
        with pytest.raises(PermissionDenied):
            call_page.test_call_link(repo_for(session, viewer), campaign_id)


def test_an_unknown_link_says_so(engine):
    with session_scope() as session, pytest.raises(NotFound, match="couldn't find this call link"):
        call_page.campaign_page(session, "no-such-campaign")


def test_the_email_gate_writes_an_immutable_consent_ticket(engine):
    campaign_id, slug = live_campaign()
    ticket = gate(slug)
    record = consent_record(ticket.consent_id)
    assert record.granted and record.email == "ana.lopez@example.com" and record.campaign_id == campaign_id
    assert "Harbor View Residences" in record.wording and record.policy_version == "1"
    assert record.ip == "203.0.113.7" and record.user_agent == UA and record.conversation_id is None
    assert ticket.token and not ticket.is_test


@pytest.mark.parametrize("email, consent, field", [("not-an-email", True, "email"), ("", True, "email"),
                                                   ("ana@example.com", False, "consent")])
def test_the_email_gate_needs_an_email_and_consent(engine, email, consent, field):
    _, slug = live_campaign()
    with pytest.raises(ValidationFailed) as error:
        gate(slug, email=email, consent=consent)
    assert error.value.field == field
    with session_scope() as session:
        assert session.exec(select(ConsentRecord)).all() == [], "nothing is written for a refused gate"


def test_calls_are_limited_per_caller_ip(engine, monkeypatch):
    _, slug = live_campaign()
    monkeypatch.setenv("CALLS_PER_IP_PER_HOUR", "2")
    reset_settings()
    gate(slug), gate(slug)
    with pytest.raises(RateLimited) as limited:
        gate(slug)
    assert limited.value.retry_after > 0
    gate(slug, ip="198.51.100.9")  # another caller is not affected


def test_the_gate_is_limited_per_address_range(engine, monkeypatch):
    _, slug = live_campaign()
    monkeypatch.setenv("CALLS_PER_RANGE_PER_HOUR", "3")
    reset_settings()
    for n in range(3):
        gate(slug, ip=f"203.0.113.{n + 10}")
    with pytest.raises(RateLimited):
        gate(slug, ip="203.0.113.99")  # another address of the same /24
    gate(slug, ip="198.51.100.9")  # another network is not affected


def test_gate_posts_never_shut_the_campaigns_line_only_placed_calls_count(engine, monkeypatch):
    _, slug = live_campaign()
    monkeypatch.setenv("CALLS_PER_CAMPAIGN_PER_HOUR", "2")
    reset_settings()
    tickets = [gate(slug, ip=f"198.51.{n}.1") for n in range(5)]  # more gate posts than the line takes calls

    def place(ticket):
        with session_scope() as session:
            claims = call_tickets.unseal("ticket", ticket.token, "expired")
            return placement.ticketed_call(session, claims, ip=None, user_agent=None)

    place(tickets[0]), place(tickets[1])
    with pytest.raises(RateLimited, match="very busy"):
        place(tickets[2])
    with session_scope() as session:  # the refused call left its consent record unused, to try again later
        assert session.exec(select(ConsentRecord).where(ConsentRecord.public_id == tickets[2].consent_id)
                            ).one().conversation_id is None


def test_the_gate_takes_a_post_only_a_moment_after_the_page_opened_and_each_token_once(client):
    _, slug = live_campaign()
    token = client.get(f"/api/public/campaigns/{slug}").json()["gate_token"]
    body = {"email": "ana@example.com", "consent": True, "gate_token": token}
    at_once = client.post(f"/api/public/campaigns/{slug}/gate", json=body)
    assert at_once.status_code == 429 and int(at_once.headers["retry-after"]) >= 1
    assert client.post(f"/api/public/campaigns/{slug}/gate", json={k: v for k, v in body.items()
                                                                    if k != "gate_token"}).status_code == 422
    a_moment_later()
    assert client.post(f"/api/public/campaigns/{slug}/gate", json=body).status_code == 201
    again = client.post(f"/api/public/campaigns/{slug}/gate", json=body)
    assert again.status_code == 422 and "already used" in again.json()["error"]["message"]
    forged = client.post(f"/api/public/campaigns/{slug}/gate", json={**body, "gate_token": token[:-3] + "abc"})
    assert forged.status_code == 422
    with session_scope() as session:
        assert len(session.exec(select(ConsentRecord)).all()) == 1  # only the accepted post wrote a record


def test_a_spent_hard_budget_stops_new_calls(engine):
    campaign_id, slug = live_campaign()
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        session.add(Budget(organization_id=campaign.organization_id, campaign_id=campaign_id,
                           hard_limit_usd=Decimal("5.00")))
        session.add(UsageRecord(organization_id=campaign.organization_id, campaign_id=campaign_id, provider="deepgram",
                                service="stt", quantity=600, unit="seconds", cost_usd=Decimal("5.10")))
    with session_scope() as session:
        assert not call_page.campaign_page(session, slug).accepting_calls
    with pytest.raises(ServiceUnavailable):
        gate(slug)


def test_the_lead_gate_takes_the_typed_email_and_the_consent_ticket(engine):
    campaign_id, slug = live_campaign()
    ticket = gate(slug)
    record = consent_record(ticket.consent_id)
    with session_scope() as session:
        repo = system_repo(session, record.organization_id)
        setup = CallSetup(channel="web", caller_email=record.email, consent_record_id=record.id)
        opened = conversations.start_conversation(repo, campaign_id, setup)
        conversation_id = opened.conversation.id
        reply = conversations.take_turn(repo, conversation_id, "My name is Ana Lopez").agent
    assert "email" not in reply.lower() and "agree" not in reply.lower(), "no read-back, no second consent"
    with session_scope() as session:
        lead = session.exec(select(Lead).where(Lead.conversation_id == conversation_id)).one()
        assert lead.email == "ana.lopez@example.com" and lead.consent_record_id == record.id
        assert lead.name and "ana" in lead.name.lower()
        bound = session.get(ConsentRecord, record.id)
        assert bound.conversation_id == conversation_id and bound.wording == record.wording
        texts = [t.text for t in session.exec(select(TranscriptTurn).where(
            TranscriptTurn.conversation_id == conversation_id)).all()]
        assert not any("Is that right" in t for t in texts)
        other = Conversation(organization_id=record.organization_id, campaign_id=campaign_id)
        session.add(other)
        session.flush()
    with session_scope() as session, pytest.raises(Conflict, match="already used"):
        conversations.start_conversation(system_repo(session, record.organization_id), campaign_id,
                                         CallSetup(caller_email=record.email, consent_record_id=record.id))


def test_a_ticket_and_a_call_token_must_be_genuine(engine):
    _, slug = live_campaign()
    ticket = gate(slug)
    with session_scope() as session:
        with pytest.raises(ValidationFailed, match="not valid"):
            placement.place_call(session, ticket.token + "x", sdp="v=0\r\nm=audio 9", ip=None, user_agent=None)
        with pytest.raises(ValidationFailed, match="no audio"):
            placement.place_call(session, ticket.token, sdp="v=0", ip=None, user_agent=None)
        with pytest.raises(ValidationFailed):
            placement.report_metrics(session, "forged.token", {"rtt_ms": 10})


def test_tickets_and_test_links_expire_on_the_apps_clock(engine):
    campaign_id, slug = live_campaign()
    with session_scope() as session:
        link = call_page.test_call_link(repo_for(session, session.exec(select(User)).one()), campaign_id)
    ticket = gate(slug)
    set_clock(lambda: datetime.now(timezone.utc) + timedelta(seconds=get_settings().call_ticket_ttl_seconds + 1))
    with session_scope() as session, pytest.raises(ValidationFailed, match="expired"):
        placement.place_call(session, ticket.token, sdp="v=0\r\nm=audio 9", ip=None, user_agent=None)
    set_clock(lambda: datetime.now(timezone.utc) + timedelta(hours=call_tickets.TEST_LINK_HOURS, seconds=1))
    with session_scope() as session, pytest.raises(PermissionDenied, match="expired"):
        call_page.campaign_page(session, slug, test_token=link.split("?test=")[1])


def test_caller_metrics_are_kept_for_the_dashboard(engine):
    campaign_id, _ = live_campaign()
    with session_scope() as session:
        organization_id = session.get(Campaign, campaign_id).organization_id
    token = call_tickets.seal("call", {"call": "c1", "worker": "w1", "conversation": 42, "org": organization_id,
                                       "exp": 2 ** 40})
    with session_scope() as session:
        kept = placement.report_metrics(session, token, {"connect_ms": 412, "rtt_ms": 3, "audio_drops": 0,
                                                         "bogus": 1, "jitter_ms": "x", "packets_lost": True})
    assert kept == 3
    with session_scope() as session:
        rows = {m.name: m for m in session.exec(select(SystemMetric).where(SystemMetric.source == "call-page"))}
    assert rows["caller_connect_ms"].value == 412 and rows["caller_rtt_ms"].labels == {"conversation_id": 42, "test": False}
    assert rows["caller_connect_ms"].organization_id == organization_id


@pytest.fixture
def client(engine) -> TestClient:
    return TestClient(create_api())


def a_moment_later(seconds: float = 3) -> None:
    """The caller read the page for a few seconds before posting the gate."""
    set_clock(lambda: datetime.now(timezone.utc) + timedelta(seconds=seconds))


def test_the_public_api_serves_the_page_and_the_gate(client):
    _, slug = live_campaign()
    page = client.get(f"/api/public/campaigns/{slug}")
    assert page.status_code == 200 and page.json()["accepting_calls"] and page.json()["name"] == "Open House"
    assert client.get("/api/public/campaigns/nope").status_code == 404
    token, other = page.json()["gate_token"], client.get(f"/api/public/campaigns/{slug}").json()["gate_token"]
    a_moment_later()
    refused = client.post(f"/api/public/campaigns/{slug}/gate", json={"email": "x", "consent": True,
                                                                       "gate_token": other})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "email"
    opened = client.post(f"/api/public/campaigns/{slug}/gate", json={"email": "ana@example.com", "consent": True,
                                                                      "gate_token": token},
                         headers={"user-agent": UA})
    assert opened.status_code == 201, opened.text
    assert consent_record(opened.json()["consent_id"]).user_agent == UA
    bad_offer = client.post("/api/public/calls", json={"ticket": opened.json()["ticket"], "sdp": "v=0"})
    assert bad_offer.status_code == 422 and "microphone" in bad_offer.json()["error"]["message"]


# ---------------------------------------------------------------- resuming a call whose sidecar died

OFFER = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n"
GONE = "gone-host:1"


def placed_call(campaign_id: int, slug: str) -> tuple[int, str]:
    """A call from the gate's ticket as a sidecar (``GONE``) opened it, and the page's call token."""
    record = consent_record(gate(slug).consent_id)
    with session_scope() as session:
        repo = system_repo(session, record.organization_id)
        opened = conversations.start_conversation(repo, campaign_id, CallSetup(caller_email=record.email,
                                                                               consent_record_id=record.id))
        voice_calls.assign_worker(repo, opened.conversation.id, GONE)
        conversation_id = opened.conversation.id
    return conversation_id, placement.call_token_for(organization_id=record.organization_id, worker_id=GONE,
                                                     call_id="c1", conversation_id=conversation_id,
                                                     campaign_id=campaign_id)


def resume(token: str, ip: str | None = "203.0.113.7"):
    with session_scope() as session:
        return placement.resume_call(session, token, sdp=OFFER, ip=ip)


def test_a_dropped_call_resumes_only_with_its_own_genuine_token(engine):
    campaign_id, slug = live_campaign()
    conversation_id, token = placed_call(campaign_id, slug)
    with session_scope() as session:
        own_org = session.get(Campaign, campaign_id).organization_id
        other_org = verified_owner(session, email="someone@example.com", org="Other Homes")[1].id
    with pytest.raises(ValidationFailed, match="not valid"):
        resume(token[:-2] + "xx")
    for other in (dict(organization_id=other_org, conversation_id=conversation_id),  # another organisation's
                  dict(organization_id=own_org, conversation_id=conversation_id, campaign_id=campaign_id + 1),
                  dict(organization_id=own_org, conversation_id=0, campaign_id=campaign_id)):  # a LiveKit call's
        with pytest.raises(NotFound, match="couldn't find this call"):
            resume(placement.call_token_for(worker_id=GONE, call_id="c1", **other))
    with session_scope() as session, pytest.raises(ValidationFailed, match="no audio"):
        placement.resume_call(session, token, sdp="v=0", ip=None)


def end_call(conversation_id: int) -> None:
    with session_scope() as session:
        organization_id = session.get(Conversation, conversation_id).organization_id
        conversations.end_conversation(system_repo(session, organization_id), conversation_id, "caller_hung_up")


def test_a_dropped_call_with_no_sidecar_to_take_it_says_so_clearly(engine, caplog):
    campaign_id, slug = live_campaign()
    _, token = placed_call(campaign_id, slug)
    with pytest.raises(ServiceUnavailable, match="We couldn't reconnect your call. Press Call to start again."):
        resume(token)
    assert "python -m agent" in caplog.text, "the operator's log says what to start"
    # its sidecar's heartbeat is still fresh (it died seconds ago) but nothing answers there: no other sidecar
    report_heartbeat(GONE, media_url="http://127.0.0.1:9")
    with pytest.raises(ServiceUnavailable, match="couldn't reconnect") as refused:
        resume(token)
    assert refused.value.code == "resume_unavailable"


def test_an_ended_call_cannot_be_resumed_and_resumes_are_limited(engine):
    campaign_id, slug = live_campaign()
    _, token = placed_call(campaign_id, slug)
    for _ in range(call_limits.RESUMES_PER_CALL_PER_HOUR):
        with pytest.raises(ServiceUnavailable):
            resume(token, ip=None)
    with pytest.raises(RateLimited, match="reconnected many times"):
        resume(token, ip=None)

    conversation_id, token = placed_call(campaign_id, slug)
    end_call(conversation_id)
    with pytest.raises(Conflict, match="already ended, so it can't be reconnected") as refused:
        resume(token)
    assert refused.value.code == "call_ended"


def test_the_public_api_refuses_to_resume_an_ended_call_on_both_paths(client):
    campaign_id, slug = live_campaign()
    conversation_id, token = placed_call(campaign_id, slug)
    end_call(conversation_id)
    resumed = client.post("/api/public/calls/resume", json={"call_token": token, "sdp": OFFER})
    assert resumed.status_code == 409 and resumed.json()["error"]["code"] == "call_ended"
    with client.websocket_connect(f"/api/public/calls/socket?resume={token}") as ws:
        refused, closed = ws.receive_json(), ws.receive()
    assert refused == {"type": "error", "status": 409, "code": "call_ended", "message": conversations.CALL_ENDED}
    assert closed["code"] == 1008


# ---------------------------------------------------------------- LiveKit mode

LIVEKIT_KEY, LIVEKIT_SECRET = "APIqv-test-key", "qv-test-secret-0123456789-0123456789-abcdef"


@pytest.fixture
def livekit_env(monkeypatch):
    monkeypatch.setenv("LIVEKIT_URL", "wss://voice.example.test")
    monkeypatch.setenv("LIVEKIT_API_KEY", LIVEKIT_KEY)
    monkeypatch.setenv("LIVEKIT_API_SECRET", LIVEKIT_SECRET)
    reset_settings()


def test_with_livekit_the_page_joins_a_room_whose_dispatch_carries_the_email_and_consent(engine, livekit_env):
    from livekit import api

    from agent.livekit_worker import call_setup
    from quantum_voice.services.livekit_rooms import AGENT_NAME, CallDispatch

    campaign_id, slug = live_campaign()
    with session_scope() as session:
        assert call_page.campaign_page(session, slug).media == "livekit"
    ticket = gate(slug, qr_code=None)
    record = consent_record(ticket.consent_id)
    with session_scope() as session:
        joined = placement.join_livekit_call(session, ticket.token, ip="203.0.113.7", user_agent=UA)
    claims = api.TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET).verify(joined.token)
    assert joined.url == "wss://voice.example.test" and claims.video.room == joined.room
    assert claims.identity == joined.identity and claims.video.can_publish and not claims.video.room_admin
    (agent,) = claims.room_config.agents
    dispatch = CallDispatch.from_metadata(agent.metadata)
    assert agent.agent_name == AGENT_NAME and dispatch.campaign_id == campaign_id
    setup = call_setup(dispatch)  # what the voice worker opens the call with
    assert setup.caller_email == "ana.lopez@example.com" and setup.consent_record_id == record.id
    assert setup.caller_ip_hash and setup.user_agent == UA and not setup.is_test
    with session_scope() as session, pytest.raises(ValidationFailed, match="already placed"):
        placement.join_livekit_call(session, ticket.token, ip=None, user_agent=None)


def test_without_livekit_the_join_is_refused_and_the_ticket_is_kept(engine):
    _, slug = live_campaign()
    with session_scope() as session:
        assert call_page.campaign_page(session, slug).media == "embedded"
    ticket = gate(slug)
    with session_scope() as session, pytest.raises(ServiceUnavailable, match="LIVEKIT_URL"):
        placement.join_livekit_call(session, ticket.token, ip=None, user_agent=None)
    with session_scope() as session:  # still unused: the page can place the call on a sidecar
        assert call_tickets.first_use(call_tickets.unseal("ticket", ticket.token, "")["nonce"])


def test_the_public_api_joins_a_livekit_room(client, livekit_env):
    _, slug = live_campaign()
    page = client.get(f"/api/public/campaigns/{slug}").json()
    assert page["media"] == "livekit"
    a_moment_later()
    opened = client.post(f"/api/public/campaigns/{slug}/gate", json={"email": "ana@example.com", "consent": True,
                                                                      "gate_token": page["gate_token"]})
    joined = client.post("/api/public/calls/livekit", json={"ticket": opened.json()["ticket"]})
    assert joined.status_code == 201, joined.text
    assert set(joined.json()) == {"url", "room", "identity", "token", "call_token"}


# ---------------------------------------------------------------- only placed calls use up the line (issue 13)

BOGUS_OFFER = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"  # has audio, but no sidecar can use it


@pytest.fixture
def sidecar(engine):
    """A voice sidecar's media server on a real port (the app posts offers to it over HTTP), as a heartbeat
    announces it: it refuses every offer as a bad one (``refuse = True``) or answers it."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"refuse": True, "offers": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length") or 0))
            state["offers"] += 1
            if state["refuse"]:
                status, body = 400, {"error": {"code": "bad_offer", "field": "sdp",
                                               "message": "The offer could not be used."}}
            else:
                status, body = 200, {"sdp": "v=0 answer", "type": "answer", "call_id": f"c{state['offers']}",
                                     "conversation_id": state["offers"]}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    report_heartbeat("fake-sidecar:1", capacity=1000, media_url=f"http://127.0.0.1:{server.server_port}")
    yield state
    server.shutdown()
    server.server_close()


def place(ticket: email_gate.CallTicket, sdp: str = BOGUS_OFFER, ip: str | None = None) -> placement.PlacedCall:
    with session_scope() as session:
        return placement.place_call(session, ticket.token, sdp=sdp, ip=ip, user_agent=UA)


def test_a_ticket_replayed_with_a_refused_offer_never_shuts_the_line(engine, sidecar, monkeypatch):
    """The probe: one ticket replayed ~300 times with an offer the sidecar refuses (400 ``webrtc_unavailable``,
    the ticket handed back) counted a call each time, and the line answered 429 "very busy" for an hour."""
    _, slug = live_campaign()
    monkeypatch.setenv("CALLS_PER_CAMPAIGN_PER_HOUR", "2")
    reset_settings()
    replayed = gate(slug)
    for _ in range(call_tickets.TICKET_RELEASES):
        with pytest.raises(DomainError) as refused:
            place(replayed)
        assert refused.value.code == "webrtc_unavailable"
    with pytest.raises(ValidationFailed, match="several tries"):  # handed back a few times, then used up
        place(replayed)
    assert sidecar["offers"] == call_tickets.TICKET_RELEASES + 1
    with pytest.raises(ValidationFailed, match="already placed"):
        place(replayed)
    sidecar["refuse"] = False  # genuine callers: the line still takes its two calls, and only two
    first, second = gate(slug, ip="198.51.100.1"), gate(slug, ip="198.51.100.2")
    assert place(first).call_token and place(second).call_token
    with pytest.raises(RateLimited, match="very busy"):
        place(gate(slug, ip="198.51.100.3"))
    with pytest.raises(ValidationFailed, match="already placed"):  # a placed ticket's replay counts nothing
        place(first)


def test_a_call_no_sidecar_takes_gives_its_count_back(engine, monkeypatch):
    _, slug = live_campaign()
    monkeypatch.setenv("CALLS_PER_CAMPAIGN_PER_HOUR", "1")
    reset_settings()
    for n in range(3):  # no voice sidecar is running: 503, and the line keeps its room
        with pytest.raises(ServiceUnavailable):
            place(gate(slug, ip=f"198.51.{n}.1"))
    with session_scope() as session:  # the socket fallback's checks, the same
        claims = call_tickets.unseal("ticket", gate(slug, ip="198.51.9.1").token, "expired")
        with pytest.raises(ServiceUnavailable):
            placement.open_socket_call(session, ticket=gate(slug, ip="198.51.9.2").token, ip=None, user_agent=None)
        campaign, setup = placement.ticketed_call(session, claims, ip=None, user_agent=None)  # the line's one call
    assert campaign.slug == slug and not setup.is_test


def test_placing_calls_is_limited_per_caller_address_and_range(engine, sidecar, monkeypatch):
    _, slug = live_campaign()
    monkeypatch.setenv("CALLS_PER_IP_PER_HOUR", "1")
    monkeypatch.setenv("CALLS_PER_RANGE_PER_HOUR", "2")
    reset_settings()
    ticket = gate(slug, ip="198.51.100.1")
    tries = call_limits.PLACEMENT_TRIES_PER_CALL
    for _ in range(tries):  # WebRTC refused, then the socket fallback, then a retry: all within the limit
        with pytest.raises((DomainError, ValidationFailed)) as refused:
            place(ticket, ip="203.0.113.7")
        assert not isinstance(refused.value, RateLimited)
    with pytest.raises(RateLimited, match="a lot of calls"):
        place(ticket, ip="203.0.113.7")
    with session_scope() as session, pytest.raises(RateLimited):  # the socket, whatever it carries
        placement.open_socket_call(session, ticket=ticket.token, ip="203.0.113.7", user_agent=None)
    for n in range(tries):  # the rest of the /24's allowance (range: 2 × tries)
        with pytest.raises(ValidationFailed):
            place(ticket, ip=f"203.0.113.{n + 20}")
    with pytest.raises(RateLimited):
        place(ticket, ip="203.0.113.99")
    sidecar["refuse"] = False
    assert place(gate(slug, ip="198.51.100.2"), ip="198.51.100.2").call_token  # another network is not affected


def test_the_public_api_limits_call_placements_per_address(client, monkeypatch):
    monkeypatch.setenv("CALLS_PER_IP_PER_HOUR", "1")
    reset_settings()
    body = {"ticket": "forged.ticket", "sdp": BOGUS_OFFER}
    statuses = [client.post("/api/public/calls", json=body).status_code
                for _ in range(call_limits.PLACEMENT_TRIES_PER_CALL)]
    assert statuses == [422] * call_limits.PLACEMENT_TRIES_PER_CALL
    limited = client.post("/api/public/calls", json=body)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    with client.websocket_connect("/api/public/calls/socket?ticket=forged.ticket") as ws:
        assert ws.receive_json()["status"] == 429

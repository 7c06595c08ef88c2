"""The dashboard's numbers leave test calls out; the callers' connection figures come from what call pages reported
— on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation
from quantum_voice.models.leads import Lead
from quantum_voice.services import campaigns, dashboard
from quantum_voice.services.public_calls import placement
from tests.factories import repo_for, verified_owner


def call(session, organization_id: int, campaign_id: int, *, test: bool, band: str = "warm") -> int:
    conversation = Conversation(organization_id=organization_id, campaign_id=campaign_id, is_test=test)
    session.add(conversation)
    session.flush()
    session.add(Lead(organization_id=organization_id, campaign_id=campaign_id, conversation_id=conversation.id,
                     band=band, is_test=test))
    return conversation.id


def report(organization_id: int, conversation_id: int, **metrics) -> None:
    token = placement.call_token_for(organization_id=organization_id, worker_id="w1", call_id="c1",
                                     conversation_id=conversation_id)
    with session_scope() as session:
        placement.report_metrics(session, token, metrics)


def test_test_calls_and_their_leads_stay_out_of_the_dashboard(engine):
    with session_scope() as session:
        user, org = verified_owner(session)
        repo = repo_for(session, session.get(User, user.id))
        campaign = campaigns.create_campaign(repo, name="Open House")
        real = call(session, org.id, campaign.id, test=False, band="hot")
        other = call(session, org.id, campaign.id, test=False)
        trial = call(session, org.id, campaign.id, test=True, band="hot")
        organization_id = org.id
    report(organization_id, real, connect_ms=400, rtt_ms=20, audio_drops=0)
    report(organization_id, other, connect_ms=800, rtt_ms=40, audio_drops=3)
    report(organization_id, trial, connect_ms=9000, rtt_ms=900, audio_drops=50)
    with session_scope() as session:
        repo = repo_for(session, session.exec(select(User)).one())
        summary = dashboard.summary(repo)
        connection = dashboard.caller_connection(repo)
    assert (summary.calls, summary.leads, summary.hot_leads) == (2, 2, 1)
    assert connection.calls == 2 and connection.connect_ms_median == 600 and connection.rtt_ms_median == 30
    assert connection.calls_with_audio_drops == 1


def test_another_organisations_call_metrics_are_not_counted(engine):
    with session_scope() as session:
        user_a, org_a = verified_owner(session, email="a@example.com", org="A Homes")
        _, org_b = verified_owner(session, email="b@example.com", org="B Homes")
        campaign_b = campaigns.create_campaign(repo_for(session, session.exec(
            select(User).where(User.email == "b@example.com")).one()), name="B campaign")
        b_call = call(session, org_b.id, campaign_b.id, test=False)
        ids = user_a.id, org_b.id
    report(ids[1], b_call, connect_ms=500)
    with session_scope() as session:
        assert dashboard.caller_connection(repo_for(session, session.get(User, ids[0]))).calls == 0

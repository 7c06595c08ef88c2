"""The leads workspace on a real database (SQLite and PostgreSQL): one lead per person across calls, the list's
filters, search and cursor, the pipeline's history, notes and bulk changes, live announcements, roles and
organisations."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import PermissionDenied, ValidationFailed
from quantum_voice.core.pubsub import InProcessPubSub, set_pubsub
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import ConsentRecord, Conversation
from quantum_voice.models.leads import Lead, LeadActivity
from quantum_voice.services.conversations import CallSetup
from quantum_voice.services.leads import live, pipeline, records
from quantum_voice.services.leads.records import UNASSIGNED, LeadFilter
from tests.factories import add_member, verified_owner
from tests.integration.flows.test_conversations import acting, call, new_campaign, rows


@pytest.fixture
def owner_id(engine) -> int:
    with session_scope() as session:
        user, _ = verified_owner(session)
        return user.id


def ticket(user_id: int, campaign_id: int, email: str) -> CallSetup:
    """What the call page's email gate leaves: a granted consent ticket with the typed email."""
    with acting(user_id) as repo:
        record = repo.add(ConsentRecord(organization_id=repo.scope.organization_id, public_id=str(uuid.uuid4()),
                                        campaign_id=campaign_id, email=email, granted=True,
                                        wording="I agree to be contacted.", policy_version="3"))
        return CallSetup(caller_email=email, consent_record_id=record.id)


def listed(user_id: int, **filters) -> list[Lead]:
    with acting(user_id) as repo:
        return [row.lead for row in records.list_page(repo, LeadFilter(**filters), per_page=200)[0]]


def test_a_returning_caller_is_one_lead_with_both_calls_and_the_higher_score(owner_id):
    campaign_id = new_campaign(owner_id)
    first = call(owner_id, campaign_id, "we'd love a tour, we want to move next month, how much is it?", "bye",
                 setup=ticket(owner_id, campaign_id, "ana@example.com"))
    second = call(owner_id, campaign_id, "bye", setup=ticket(owner_id, campaign_id, "Ana@Example.com"))
    [lead] = rows(Lead)
    assert {c.lead_id for c in rows(Conversation)} == {lead.id}
    assert lead.conversation_id == second and lead.score >= 40  # the quick second call did not cool it down
    with acting(owner_id) as repo:
        detail = records.lead_detail(repo, lead.id)
    assert [c.conversation.id for c in detail.calls] == [second, first]
    assert all(c.consent and c.consent.policy_version == "3" for c in detail.calls)
    assert [a.details.get("returning", False) for a, _ in detail.activities if a.kind == "created"] == [False, True]


def test_an_email_given_on_the_call_merges_into_the_person_at_the_end(owner_id):
    campaign_id = new_campaign(owner_id)
    call(owner_id, campaign_id, "bye", setup=ticket(owner_id, campaign_id, "john.smith@example.com"))
    second = call(owner_id, campaign_id, "Hi, I'm John Smith", "j o h n dot smith at example dot com",
                  "yes, that's right, and I agree", "bye")
    [lead] = rows(Lead)
    assert lead.name == "John Smith" and lead.conversation_id == second
    assert {c.lead_id for c in rows(Conversation)} == {lead.id}
    assert "merged" in [a.kind for a in rows(LeadActivity, LeadActivity.lead_id == lead.id)]


def test_test_calls_keep_their_own_leads(owner_id):
    campaign_id = new_campaign(owner_id)
    call(owner_id, campaign_id, "bye", setup=ticket(owner_id, campaign_id, "ana@example.com"))
    setup = ticket(owner_id, campaign_id, "ana@example.com")
    setup.is_test = True
    call(owner_id, campaign_id, "bye", setup=setup)
    assert sorted(lead.is_test for lead in rows(Lead)) == [False, True]
    assert [lead.is_test for lead in listed(owner_id)] == [False]
    assert len(listed(owner_id, include_tests=True)) == 2


def _seed_leads(owner_id: int) -> dict[str, int]:
    with acting(owner_id) as repo:
        other = new_campaign(owner_id)
        campaign_id = new_campaign(owner_id)
        now = utcnow()
        made = {}
        for i, (name, email, phone, band, score, days) in enumerate([
                ("Ana Lopez", "ana@example.com", "+1 555 010 2000", "hot", 80, 0),
                ("Bo Chen", "bo@example.org", "555-010-3000", "warm", 50, 3),
                ("Cy Diaz", "cy@example.net", None, "cold", 10, 10)]):
            lead = repo.add(Lead(organization_id=0, campaign_id=other if i == 2 else campaign_id, name=name,
                                 email=email, phone=phone and phone.replace(" ", "").replace("-", ""), band=band,
                                 score=score, created_at=now - timedelta(days=days)))
            made[name.split()[0]] = lead.id
        made["campaign"], made["other"] = campaign_id, other
        return made


def test_the_list_filters_searches_and_sorts(owner_id):
    ids = _seed_leads(owner_id)
    names = lambda **f: [lead.name for lead in listed(owner_id, **f)]  # noqa: E731
    assert names() == ["Ana Lopez", "Bo Chen", "Cy Diaz"]  # newest first
    assert names(band="warm") == ["Bo Chen"] and names(campaign_id=ids["other"]) == ["Cy Diaz"]
    assert names(query="ANA@example") == ["Ana Lopez"] and names(query="chen") == ["Bo Chen"]
    assert names(query="555 010 3000") == ["Bo Chen"]  # digits match however the phone is written
    assert names(query="100%_") == []  # LIKE wildcards are literal
    assert names(query="na@exa") == ["Ana Lopez"]  # any part, through the contact index
    assert names(query="bo") == ["Bo Chen"]  # shorter than the index's trigrams: read directly
    with acting(owner_id) as repo:
        repo.get(Lead, ids["Cy"]).company = "Diaz & Daughters Roofing"
    assert names(query="daughters") == ["Cy Diaz"]  # the index follows changes
    today = utcnow().date()
    assert names(created_from=today - timedelta(days=4), created_to=today) == ["Ana Lopez", "Bo Chen"]
    assert names(status="new") == names() and names(status="won") == []
    with acting(owner_id) as repo:
        assert [r.lead.name for r in records.list_page(repo, LeadFilter(), sort="score_low")[0]] == \
            ["Cy Diaz", "Bo Chen", "Ana Lopez"]
        for bad in (LeadFilter(band="tepid"), LeadFilter(status="done"),
                    LeadFilter(created_from=today, created_to=today - timedelta(days=1))):
            with pytest.raises(ValidationFailed):
                records.list_page(repo, bad)


def test_search_finds_words_said_in_a_call(owner_id):
    campaign_id = new_campaign(owner_id)
    call(owner_id, campaign_id, "do you allow refinancing of the garage?", "bye",
         setup=ticket(owner_id, campaign_id, "ana@example.com"))
    call(owner_id, campaign_id, "is there parking?", "bye", setup=ticket(owner_id, campaign_id, "bo@example.com"))
    assert [lead.email for lead in listed(owner_id, query="refinanc garage")] == ["ana@example.com"]
    assert [lead.email for lead in listed(owner_id, query="parking")] == ["bo@example.com"]
    assert listed(owner_id, query="helicopter") == []
    assert len(listed(owner_id, query="\"*)( OR NEAR")) == 0  # full-text syntax is words, never an error


def test_the_cursor_walks_the_whole_list_once_even_while_leads_arrive(owner_id):
    with acting(owner_id) as repo:
        for i in range(7):
            repo.add(Lead(organization_id=0, name=f"Lead {i}", score=i % 3))
    seen, cursor = [], None
    for batch in range(10):
        with acting(owner_id) as repo:
            rows_, cursor = records.list_after(repo, LeadFilter(), sort="score", cursor=cursor, limit=3)
            if batch == 0:
                repo.add(Lead(organization_id=0, name="Late", score=0))
        seen += [row.lead.name for row in rows_]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and {f"Lead {i}" for i in range(7)} <= set(seen)
    with acting(owner_id) as repo:
        with pytest.raises(ValidationFailed):
            records.list_after(repo, LeadFilter(), cursor="bm90LWEtY3Vyc29y")


def test_status_assignee_and_notes_leave_a_history(owner_id):
    ids = _seed_leads(owner_id)
    with session_scope() as session:
        max_id = add_member(session, session.get(User, owner_id), "max@example.com", "manager").id
    with acting(owner_id) as repo:
        pipeline.update_lead(repo, ids["Ana"], status="contacted", assignee_user_id=max_id)
        pipeline.update_lead(repo, ids["Ana"], status="contacted")  # unchanged: no history
        pipeline.add_note(repo, ids["Ana"], "  Wants a Saturday viewing. ")
        with pytest.raises(ValidationFailed):
            pipeline.update_lead(repo, ids["Ana"], status="archived")
        with pytest.raises(ValidationFailed):
            pipeline.add_note(repo, ids["Ana"], "   ")
    with acting(owner_id) as repo:
        detail = records.lead_detail(repo, ids["Ana"])
    assert detail.lead.status == "contacted" and detail.assignee_name == "max"  # by full name
    assert [(a.kind, a.details, a.text) for a, _ in detail.activities] == [
        ("status", {"from": "new", "to": "contacted"}, None), ("assigned", {"from": None, "to": max_id}, None),
        ("note", {}, "Wants a Saturday viewing.")]
    assert {name for _, name in detail.activities} == {"owner@example.com"}
    assert [lead.name for lead in listed(owner_id, assignee_user_id=max_id)] == ["Ana Lopez"]
    assert [lead.name for lead in listed(owner_id, assignee_user_id=UNASSIGNED)] == ["Bo Chen", "Cy Diaz"]


def test_bulk_changes_are_all_or_nothing_and_stay_in_the_organisation(owner_id):
    ids = _seed_leads(owner_id)
    with session_scope() as session:
        eve, _ = verified_owner(session, "eve@example.com", "Elsewhere")
        eve_id = eve.id
    with acting(owner_id) as repo:
        assert pipeline.bulk_update(repo, [ids["Ana"], ids["Bo"], ids["Ana"]], status="qualified") == 2
    with acting(eve_id) as repo:
        with pytest.raises(ValidationFailed):
            pipeline.bulk_update(repo, [ids["Cy"]], status="lost")
        with pytest.raises(ValidationFailed):  # someone else's member
            repo_lead = repo.add(Lead(organization_id=0, name="Eve's"))
            pipeline.update_lead(repo, repo_lead.id, assignee_user_id=owner_id)
    assert sorted(lead.status for lead in listed(owner_id)) == ["new", "qualified", "qualified"]


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_readers_cannot_change_leads(owner_id, role):
    ids = _seed_leads(owner_id)
    with session_scope() as session:
        reader_id = add_member(session, session.get(User, owner_id), f"{role}@example.com", role).id
    with acting(reader_id) as repo:
        assert records.lead_detail(repo, ids["Ana"]).lead.name == "Ana Lopez"
        for change in (lambda: pipeline.update_lead(repo, ids["Ana"], status="won"),
                       lambda: pipeline.add_note(repo, ids["Ana"], "hi"),
                       lambda: pipeline.bulk_update(repo, [ids["Ana"]], status="won")):
            with pytest.raises(PermissionDenied):
                change()


def test_changes_are_announced_after_commit_only(owner_id):
    ids = _seed_leads(owner_id)
    broker = InProcessPubSub()
    set_pubsub(broker)
    try:
        with acting(owner_id) as repo:
            subscription = broker.subscribe(live.channel(repo.scope.organization_id))
            pipeline.update_lead(repo, ids["Bo"], status="won")
            assert subscription.get(timeout=0.05) is None  # not yet committed
        assert subscription.get(timeout=1) == {"lead_id": ids["Bo"], "change": "updated"}
        with pytest.raises(RuntimeError):
            with acting(owner_id) as repo:
                pipeline.update_lead(repo, ids["Cy"], status="won")
                raise RuntimeError("rolled back")
        assert subscription.get(timeout=0.1) is None
    finally:
        set_pubsub(None)

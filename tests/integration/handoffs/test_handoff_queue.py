"""The hand-off queue on a real database (SQLite and PostgreSQL): the queue's order and context, presence and its
heartbeat, routing by skill then longest idle within capacity, one winner per accept race, handing back to the AI,
dispositions onto the lead, expiry after the campaign's wait, roles, organisations and live announcements."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from quantum_voice.core.pubsub import InProcessPubSub, set_pubsub
from quantum_voice.models.calls import Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.handoff import AgentPresence, Handoff
from quantum_voice.models.leads import Lead, LeadActivity
from quantum_voice.models.system import AuditLog
from quantum_voice.services.handoffs import disposition, expiry, live, presence, queue, routing, takeover
from tests.integration.flows.test_conversations import acting, new_campaign, rows
from tests.integration.handoffs.support import Clock, ask_for_person, change, member, owner


@pytest.fixture
def team(engine) -> dict[str, int]:
    owner_id = owner()
    return {"owner": owner_id, "campaign": new_campaign(owner_id),
            "ana": member(owner_id, "ana@team.example"), "bo": member(owner_id, "bo@team.example"),
            "cy": member(owner_id, "cy@team.example"), "viewer": member(owner_id, "vi@team.example", "viewer"),
            "manager": member(owner_id, "mo@team.example", "manager")}


def online(user_id: int, status: str = "available", **kw) -> AgentPresence:
    with acting(user_id) as repo:
        return presence.set_presence(repo, status, **kw)


def candidates(org_user: int, skill: str | None = None) -> list[int]:
    with acting(org_user) as repo:
        return [a.user_id for a in routing.available_agents(repo.session, repo.scope.organization_id, skill)]


def org_of(user_id: int) -> int:
    with acting(user_id) as repo:
        return repo.scope.organization_id


def test_the_queue_is_most_urgent_then_longest_waiting_with_each_callers_context(team):
    clock = Clock()
    first = ask_for_person(team["owner"], team["campaign"], "ana@example.com", "I'm Ana Lopez",
                           "we'd love a tour next month")
    clock.advance(10)
    second = ask_for_person(team["owner"], team["campaign"], "bo@example.com", "I'm Bo Chen")
    clock.advance(10)
    urgent = ask_for_person(team["owner"], team["campaign"], "cy@example.com", "I'm Cy Diaz")
    change(urgent.id, priority=4)
    clock.advance(5)
    with acting(team["ana"]) as repo:
        listed = queue.waiting(repo)
    assert [v.handoff.id for v in listed] == [urgent.id, first.id, second.id]
    ana = listed[1]
    assert ana.lead["name"] == "Ana Lopez" and ana.lead["email"] == "ana@example.com" and ana.lead["score"] > 0
    assert ana.handoff.reason == "request" and ana.campaign_name == "Spring Open House"
    assert ana.waited_seconds == 25.0 and listed[0].waited_seconds == 5.0
    assert ana.transcript[-1]["speaker"] == "agent" and "real person" in ana.transcript[-2]["text"]
    assert len(ana.transcript) <= queue.TRANSCRIPT_TURNS


def test_the_transcript_in_the_queue_is_the_latest_turns_only(team):
    many = [f"is there parking near house {i}?" for i in range(15)]
    handoff = ask_for_person(team["owner"], team["campaign"], "ana@example.com", "I'm Ana Lopez", *many)
    with acting(team["ana"]) as repo:
        [view] = queue.waiting(repo)
    assert handoff.id == view.handoff.id and len(view.transcript) == queue.TRANSCRIPT_TURNS
    assert "real person" in view.transcript[-2]["text"]


def test_routing_prefers_the_skill_then_the_longest_idle_within_capacity(team):
    clock = Clock()
    online(team["cy"])
    clock.advance(20)
    online(team["bo"])
    clock.advance(20)
    online(team["ana"], skills=["Spanish", "billing", "spanish"])
    online(team["manager"], "away")
    assert candidates(team["owner"]) == [team["cy"], team["bo"], team["ana"]]  # longest idle first
    assert candidates(team["owner"], "spanish") == [team["ana"], team["cy"], team["bo"]]  # the skill first
    with acting(team["ana"]) as repo:
        assert repo.session.get(AgentPresence, presence.presence_of(
            repo.session, repo.scope.organization_id, team["ana"]).id).skills == ["spanish", "billing"]

    handoff = ask_for_person(team["owner"], team["campaign"])
    with acting(team["cy"]) as repo:
        takeover.accept(repo, handoff.id)
    assert candidates(team["owner"]) == [team["bo"], team["ana"]]  # cy is at capacity (1) and busy
    clock.advance(5)
    with acting(team["cy"]) as repo:
        disposition.complete(repo, handoff.id, "no_answer")
    assert candidates(team["owner"]) == [team["bo"], team["ana"], team["cy"]]  # cy just finished: idle the least

    online(team["bo"], max_concurrent=2)
    second = ask_for_person(team["owner"], team["campaign"], "bo@example.com")
    with acting(team["bo"]) as repo:
        takeover.accept(repo, second.id)
    assert team["bo"] in candidates(team["owner"])  # one call of two: still routable
    online(team["cy"])  # a heartbeat does not reset the idle spell
    assert candidates(team["owner"])[-1] == team["cy"]


def test_an_agent_whose_heartbeat_stopped_counts_as_offline(team):
    clock = Clock()
    online(team["ana"])
    org = org_of(team["owner"])
    with session_scope() as session:
        assert routing.anyone_available(session, org, "billing")  # no one has it, but someone can answer
    clock.advance(presence.STALE_AFTER.total_seconds() + 1)
    with session_scope() as session:
        assert not routing.anyone_available(session, org)
    with acting(team["manager"]) as repo:
        board = {row.user_id: row for row in presence.agent_board(repo)}
    assert board[team["ana"]].status == "offline" and board[team["bo"]].status == "offline"
    assert team["viewer"] not in board and team["owner"] in board
    online(team["ana"])  # the next heartbeat brings them back
    with session_scope() as session:
        assert routing.anyone_available(session, org)


def _accept_in_thread(user_id: int, handoff_id: int, barrier: threading.Barrier, outcomes: list) -> None:
    try:
        with acting(user_id) as repo:
            barrier.wait(timeout=10)
            takeover.accept(repo, handoff_id)
        outcomes.append(("won", user_id))
    except Conflict as error:
        outcomes.append(("lost", error.message))


def test_two_agents_accepting_at_once_exactly_one_wins(team, engine):
    handoff = ask_for_person(team["owner"], team["campaign"])
    outcomes: list = []
    if engine.dialect.name == "postgresql":
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=_accept_in_thread, args=(u, handoff.id, barrier, outcomes))
                   for u in (team["ana"], team["bo"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:  # SQLite takes one writer at a time: the race is the same compare-and-set, one after the other
        for user_id in (team["ana"], team["bo"]):
            _accept_in_thread(user_id, handoff.id, threading.Barrier(1), outcomes)
    assert sorted(kind for kind, _ in outcomes) == ["lost", "won"]
    winner = next(who for kind, who in outcomes if kind == "won")
    loser_message = next(message for kind, message in outcomes if kind == "lost")
    assert loser_message.startswith("This caller was already taken by ")
    [row] = rows(Handoff, Handoff.id == handoff.id)
    assert row.status == "accepted" and row.assigned_user_id == winner and row.accepted_at is not None
    assert rows(Conversation, Conversation.id == row.conversation_id)[0].status == "handed_off"
    assert len(rows(AuditLog, AuditLog.action == "handoff.accepted")) == 1


def test_handing_back_to_the_ai_reactivates_the_call(team):
    handoff = ask_for_person(team["owner"], team["campaign"])
    online(team["ana"])
    with acting(team["ana"]) as repo:
        takeover.accept(repo, handoff.id)
    with acting(team["bo"]) as repo:
        with pytest.raises(PermissionDenied):
            takeover.release(repo, handoff.id)
    with acting(team["ana"]) as repo:
        takeover.release(repo, handoff.id)
    [row] = rows(Handoff, Handoff.id == handoff.id)
    assert (row.status, row.disposition) == ("completed", takeover.RETURNED_TO_AI) and row.ended_at is not None
    assert rows(Conversation, Conversation.id == row.conversation_id)[0].status == "active"
    with acting(team["ana"]) as repo:
        with pytest.raises(Conflict):
            takeover.release(repo, handoff.id)  # already handed back
    assert [a.action for a in rows(AuditLog) if a.action.startswith("handoff.")].count("handoff.released") == 1


def test_a_manager_may_hand_back_someone_elses_call(team):
    handoff = ask_for_person(team["owner"], team["campaign"])
    with acting(team["ana"]) as repo:
        takeover.accept(repo, handoff.id)
    with acting(team["manager"]) as repo:
        takeover.release(repo, handoff.id)
    assert rows(Handoff, Handoff.id == handoff.id)[0].status == "completed"


@pytest.mark.parametrize("outcome, status", [("qualified", "qualified"), ("not_interested", "lost"),
                                             ("callback", "contacted"), ("no_answer", "contacted")])
def test_each_disposition_moves_the_lead(team, outcome, status):
    clock = Clock()
    handoff = ask_for_person(team["owner"], team["campaign"])
    before = rows(Lead, Lead.id == handoff.lead_id)[0]
    assert before.status == "new" and before.score < 70
    with acting(team["ana"]) as repo:
        takeover.accept(repo, handoff.id)
    callback_at = clock.now + timedelta(days=1) if outcome == "callback" else None
    with acting(team["ana"]) as repo:
        disposition.complete(repo, handoff.id, outcome, callback_at=callback_at, notes="Spoke about the 3-bed.")
    lead = rows(Lead, Lead.id == handoff.lead_id)[0]
    [row] = rows(Handoff, Handoff.id == handoff.id)
    assert (row.status, row.disposition, row.notes) == ("completed", outcome, "Spoke about the 3-bed.")
    assert lead.status == status
    [line] = rows(LeadActivity, LeadActivity.lead_id == lead.id, LeadActivity.kind == "handoff")
    assert line.details["disposition"] == outcome and line.details["to"] == status
    assert line.actor_user_id == team["ana"] and line.text == "Spoke about the 3-bed."
    if outcome == "qualified":
        assert (lead.score, lead.band) == (70, "hot") and lead.score_breakdown[-1]["rule"] == "qualified_by_agent"
    else:
        assert (lead.score, lead.band) == (before.score, before.band)
    if outcome == "callback":
        assert line.details["callback_at"] == callback_at.isoformat()
    assert rows(Conversation, Conversation.id == row.conversation_id)[0].status == "handed_off"  # the call side ends it


def test_a_disposition_is_checked_before_anything_changes(team):
    clock = Clock()
    handoff = ask_for_person(team["owner"], team["campaign"])
    with acting(team["ana"]) as repo:
        takeover.accept(repo, handoff.id)
    for bad in [dict(disposition="maybe"), dict(disposition="callback"),
                dict(disposition="callback", callback_at=clock.now - timedelta(minutes=1)),
                dict(disposition="no_answer", callback_at=clock.now + timedelta(days=1)),
                dict(disposition="qualified", notes="x" * 2_001)]:
        with acting(team["ana"]) as repo:
            with pytest.raises(ValidationFailed):
                disposition.complete(repo, handoff.id, bad.pop("disposition"), **bad)
    assert rows(Handoff, Handoff.id == handoff.id)[0].status == "accepted"
    with acting(team["ana"]) as repo:
        with pytest.raises(Conflict):
            disposition.complete(repo, ask_for_person(team["owner"], team["campaign"], "bo@example.com").id,
                                 "qualified")  # not taken yet


def test_a_won_lead_stays_won_and_a_hot_score_is_not_lowered(team):
    handoff = ask_for_person(team["owner"], team["campaign"])
    with session_scope() as session:
        lead = session.get(Lead, handoff.lead_id)
        lead.status, lead.score = "won", 90
    with acting(team["ana"]) as repo:
        takeover.accept(repo, handoff.id)
        disposition.complete(repo, handoff.id, "qualified")
    lead = rows(Lead, Lead.id == handoff.lead_id)[0]
    assert (lead.status, lead.score) == ("won", 90)


def test_unanswered_requests_expire_after_the_campaigns_wait(team):
    clock = Clock()
    quick = new_campaign(team["owner"])
    with session_scope() as session:
        session.get(Campaign, quick).settings = {"handoff_wait_seconds": 20}
    short = ask_for_person(team["owner"], quick)
    default = ask_for_person(team["owner"], team["campaign"], "bo@example.com")
    with session_scope() as session:
        assert expiry.expire_unanswered(session, clock.advance(19)) == []
    with session_scope() as session:
        assert [h.id for h in expiry.expire_unanswered(session, clock.advance(2))] == [short.id]
    [row] = rows(Handoff, Handoff.id == short.id)
    assert (row.status, row.disposition, row.notes) == ("abandoned", "unanswered",
                                                        "No one answered within 20 seconds.")
    with acting(team["ana"]) as repo:
        with pytest.raises(Conflict, match="no longer waiting"):
            takeover.accept(repo, short.id)
        takeover.accept(repo, default.id)
    with session_scope() as session:
        assert expiry.expire_unanswered(session, clock.advance(60)) == []  # taken in time: never expired


def test_a_caller_who_hung_up_cannot_be_taken(team):
    handoff = ask_for_person(team["owner"], team["campaign"])
    with session_scope() as session:
        session.get(Conversation, handoff.conversation_id).status = "ended"
    with acting(team["ana"]) as repo:
        with pytest.raises(Conflict, match="hung up"):
            takeover.accept(repo, handoff.id)


def test_viewers_cannot_work_calls_and_agents_can(team):
    handoff = ask_for_person(team["owner"], team["campaign"])
    for action in (lambda repo: queue.waiting(repo), lambda repo: takeover.accept(repo, handoff.id),
                   lambda repo: presence.set_presence(repo, "available")):
        with acting(team["viewer"]) as repo:
            with pytest.raises(PermissionDenied):
                action(repo)
    with acting(team["ana"]) as repo:
        with pytest.raises(PermissionDenied):
            presence.agent_board(repo)  # the board is for managers
        assert [v.handoff.id for v in queue.waiting(repo)] == [handoff.id]


def test_another_organisations_handoffs_are_not_found(team):
    handoff = ask_for_person(team["owner"], team["campaign"])
    stranger = owner("owner@elsewhere.example", "Elsewhere")
    with acting(stranger) as repo:
        assert queue.waiting(repo) == []
        for action in (takeover.accept, takeover.release):
            with pytest.raises(NotFound):
                action(repo, handoff.id)
        with pytest.raises(NotFound):
            disposition.complete(repo, handoff.id, "no_answer")
    assert candidates(stranger) == []


def test_queue_changes_are_announced_after_commit_only(team):
    handoff = ask_for_person(team["owner"], team["campaign"])
    broker = InProcessPubSub()
    set_pubsub(broker)
    try:
        subscription = broker.subscribe(live.channel(org_of(team["owner"])))
        with pytest.raises(RuntimeError):
            with acting(team["ana"]) as repo:
                takeover.accept(repo, handoff.id)
                raise RuntimeError("rolled back")
        assert subscription.get(timeout=0.1) is None
        with acting(team["ana"]) as repo:
            takeover.accept(repo, handoff.id)
            assert subscription.get(timeout=0.05) is None  # not yet committed
        assert subscription.get(timeout=1) == {"handoff_id": handoff.id, "change": "accepted"}
    finally:
        set_pubsub(None)

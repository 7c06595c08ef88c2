"""The call's side of a hand-off on a real database (SQLite and PostgreSQL): a caller holds only when an agent is
available, hears the hold line, is put through when an agent accepts (the AI then silent), gets the AI back when
the agent hands back, the goodbye when the agent ends the call, and a callback offer when no one answers in time;
hanging up while waiting takes the request out of the queue."""

from __future__ import annotations

import pytest

from quantum_voice.core.errors import Conflict, ValidationFailed
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation, Speaker, TranscriptTurn
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.leads import Lead, LeadActivity
from quantum_voice.services import conversations
from quantum_voice.services.conversations import CallServices
from quantum_voice.services.handoffs import disposition, lead_on_call, metrics, presence, takeover
from tests.integration.flows.test_conversations import SERVICES, acting, call, new_campaign, rows
from tests.integration.handoffs.support import Clock, member, owner
from tests.integration.leads.test_people_and_pipeline import ticket

ASK = "can I talk to a real person?"


@pytest.fixture
def team(engine) -> dict[str, int]:
    owner_id = owner()
    agent = member(owner_id, "alex@team.example")
    with acting(owner_id) as repo:
        user = repo.session.get(User, agent)
        user.full_name = "Alex Rivera"
        repo.session.add(user)
    return {"owner": owner_id, "campaign": new_campaign(owner_id), "agent": agent}


def online(user_id: int) -> None:
    with acting(user_id) as repo:
        presence.set_presence(repo, "available")


def holding_call(team, *lines: str) -> int:
    return call(team["owner"], team["campaign"], "I'm Ana Lopez", *lines, ASK,
                setup=ticket(team["owner"], team["campaign"], "ana@example.com"))


def say(team, conversation_id: int, line: str) -> str:
    with acting(team["owner"]) as repo:
        return conversations.take_turn(repo, conversation_id, line, SERVICES).agent


def tick(team, conversation_id: int) -> str | None:
    with acting(team["owner"]) as repo:
        outcome = conversations.tick(repo, conversation_id, SERVICES)
        return outcome.agent if outcome is not None else None


def handoff_of(conversation_id: int) -> Handoff:
    return rows(Handoff, Handoff.conversation_id == conversation_id)[0]


def status_of(conversation_id: int) -> str:
    return rows(Conversation, Conversation.id == conversation_id)[0].status


def last_agent_line(conversation_id: int) -> str:
    turns = rows(TranscriptTurn, TranscriptTurn.conversation_id == conversation_id,
                 TranscriptTurn.speaker == Speaker.AGENT.value)
    return max(turns, key=lambda t: t.seq).text


def test_with_an_agent_available_the_caller_holds_in_the_queue_and_is_put_through(team):
    clock = Clock()
    online(team["agent"])
    conversation_id = holding_call(team)
    assert last_agent_line(conversation_id) == "Let me find someone from the team for you. Please stay on the line."
    handoff = handoff_of(conversation_id)
    assert handoff.status == "waiting" and status_of(conversation_id) == "handed_off"
    assert say(team, conversation_id, "hello?") == "Thanks for holding. Someone should be with you within about a " \
                                                   "minute."
    clock.advance(8)
    assert tick(team, conversation_id) is None  # the hold line was just said
    with acting(team["agent"]) as repo:
        takeover.accept(repo, handoff.id)
    assert tick(team, conversation_id) == "I'm putting you through to Alex now."
    assert tick(team, conversation_id) is None  # said once
    assert say(team, conversation_id, "Hi Alex, how much is the deposit?") == ""  # the AI is silent
    caller_turns = rows(TranscriptTurn, TranscriptTurn.conversation_id == conversation_id,
                        TranscriptTurn.speaker == Speaker.CALLER.value)
    assert caller_turns[-1].text == "Hi Alex, how much is the deposit?"  # the caller's side is still written
    clock.advance(120)
    assert tick(team, conversation_id) is None  # no hold lines over the person


def test_the_agent_hands_back_and_the_ai_picks_up_where_the_call_was(team):
    online(team["agent"])
    conversation_id = holding_call(team)
    handoff = handoff_of(conversation_id)
    with acting(team["agent"]) as repo:
        takeover.accept(repo, handoff.id)
    tick(team, conversation_id)
    with acting(team["agent"]) as repo:
        takeover.release(repo, handoff.id)
    assert tick(team, conversation_id) == "Is there anything else I can help you with?"
    assert status_of(conversation_id) == "active"
    assert say(team, conversation_id, "no, that's all, thanks").startswith("Thanks for calling")
    assert status_of(conversation_id) == "ended"


def test_the_agent_ends_the_call_with_a_disposition_and_the_ai_says_goodbye(team):
    online(team["agent"])
    conversation_id = holding_call(team)
    handoff = handoff_of(conversation_id)
    with acting(team["agent"]) as repo:
        takeover.accept(repo, handoff.id)
    assert say(team, conversation_id, "great, thanks") == "I'm putting you through to Alex now."  # news first
    with acting(team["agent"]) as repo:
        disposition.complete(repo, handoff.id, "qualified")
    assert tick(team, conversation_id).startswith("Thanks for calling")
    conversation = rows(Conversation, Conversation.id == conversation_id)[0]
    assert conversation.status == "ended" and conversation.end_reason == "handoff_completed"
    lead = rows(Lead, Lead.conversation_id == conversation_id)[0]
    assert lead.status == "qualified"


def test_no_one_answering_in_time_offers_a_callback_kept_on_the_hand_off_and_the_lead(team):
    clock = Clock()
    online(team["agent"])
    conversation_id = holding_call(team)
    clock.advance(25)
    assert tick(team, conversation_id).startswith("Thanks for holding.")  # about every 20 seconds
    clock.advance(21)  # past the campaign's 45 seconds
    assert tick(team, conversation_id) == ("I'm sorry, no one from the team is free to take your call right now. "
                                           "When would be a good time for someone to get back to you?")
    handoff = handoff_of(conversation_id)
    assert handoff.status == "abandoned" and handoff.disposition == "unanswered"
    assert status_of(conversation_id) == "active"
    with acting(team["agent"]) as repo, pytest.raises(Conflict):
        takeover.accept(repo, handoff.id)  # too late
    assert say(team, conversation_id, "tomorrow morning around ten") == \
        "Thanks, I've passed that on to the team. Is there anything else I can help you with?"
    assert "The caller would like to hear back: tomorrow morning around ten" in handoff_of(conversation_id).notes
    say(team, conversation_id, "no, that's all, bye")
    lead = rows(Lead, Lead.conversation_id == conversation_id)[0]
    assert "call back: tomorrow morning around ten" in lead.summary


def test_with_no_agent_available_the_caller_is_told_at_once_and_offered_a_callback(team):
    conversation_id = holding_call(team)
    handoff = handoff_of(conversation_id)
    assert handoff.status == "abandoned" and status_of(conversation_id) == "active"
    assert last_agent_line(conversation_id).endswith("When would be a good time for someone to get back to you?")


def test_hanging_up_while_waiting_takes_the_caller_out_of_the_queue(team):
    online(team["agent"])
    conversation_id = holding_call(team)
    with acting(team["owner"]) as repo:
        conversations.end_conversation(repo, conversation_id, "caller_hung_up")
    handoff = handoff_of(conversation_id)
    assert handoff.status == "abandoned" and handoff.disposition == "caller_left"
    assert handoff.notes == "The caller hung up while waiting."


def test_a_test_call_never_waits_for_a_person(team):
    online(team["agent"])
    with acting(team["owner"]) as repo:
        simulation = conversations.simulate(repo, team["campaign"], ["I'm Ana", ASK], use_draft=False)
    assert "stay on the line" not in simulation.turns[-1].agent
    assert rows(Conversation, Conversation.id == simulation.conversation_id)[0].status == "ended"


def test_the_agent_on_the_call_corrects_the_lead_and_the_flow_keeps_the_correction(team):
    online(team["agent"])
    conversation_id = holding_call(team)
    handoff = handoff_of(conversation_id)
    with acting(team["agent"]) as repo, pytest.raises(Conflict):
        lead_on_call.edit_lead(repo, handoff.id, {"name": "Ana López"})  # not theirs yet
    with acting(team["agent"]) as repo:
        takeover.accept(repo, handoff.id)
    with acting(team["agent"]) as repo, pytest.raises(ValidationFailed):
        lead_on_call.edit_lead(repo, handoff.id, {"email": "ana at nowhere"})
    with acting(team["agent"]) as repo, pytest.raises(ValidationFailed):
        lead_on_call.edit_lead(repo, handoff.id, {"score": "99"})
    with acting(team["agent"]) as repo:
        lead_on_call.edit_lead(repo, handoff.id, {"name": "Ana López", "budget": "about $400k", "email": ""})
    say(team, conversation_id, "thanks Alex")  # the flow's next step must not undo the correction
    lead = rows(Lead, Lead.conversation_id == conversation_id)[0]
    assert (lead.name, lead.budget, lead.email) == ("Ana López", "about $400k", None)
    history = rows(LeadActivity, LeadActivity.lead_id == lead.id, LeadActivity.kind == "edited")
    assert history[0].details["fields"] == ["budget", "email", "name"]


def test_the_dashboard_counts_hand_offs_their_wait_talk_time_and_outcomes(team):
    clock = Clock()
    online(team["agent"])
    taken = holding_call(team)
    clock.advance(12)
    with acting(team["agent"]) as repo:
        takeover.accept(repo, handoff_of(taken).id)
    clock.advance(90)
    with acting(team["agent"]) as repo:
        disposition.complete(repo, handoff_of(taken).id, "qualified")
    with acting(team["agent"]) as repo:
        presence.set_presence(repo, "offline")
    holding_call(team)  # no one available: missed
    with acting(team["owner"]) as repo:
        m = metrics.handoff_metrics(repo)
    assert (m.requested, m.taken, m.missed) == (2, 1, 1)
    assert (m.wait_seconds_median, m.talk_seconds_median, m.dispositions) == (12.0, 90.0, {"qualified": 1})


def test_a_call_no_one_can_join_never_holds_even_with_agents_online(team):
    online(team["agent"])  # a LiveKit-mode call: the workspace cannot join its room yet
    services = CallServices(knowledge=SERVICES.knowledge, person_can_join=False)
    setup = ticket(team["owner"], team["campaign"], "ana@example.com")
    with acting(team["owner"]) as repo:
        conversation_id = conversations.start_conversation(repo, team["campaign"], setup, services).conversation.id
    for line in ("I'm Ana Lopez", ASK):
        with acting(team["owner"]) as repo:
            conversations.take_turn(repo, conversation_id, line, services)
    assert handoff_of(conversation_id).status == "abandoned" and status_of(conversation_id) == "active"

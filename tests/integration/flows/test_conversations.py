"""The conversation runner on a real database (SQLite and PostgreSQL): transcript, consent, progressive lead,
hand-off rows, privacy when consent is refused, restarts between turns, organisation scoping."""

from __future__ import annotations

import pytest
from sqlmodel import select

from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import Conflict, NotFound
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.flows import Flow, FlowVersion
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.knowledge import KnowledgeBase
from quantum_voice.models.leads import Lead
from quantum_voice.services import campaigns, conversations
from quantum_voice.services.call_records import REDACTED
from quantum_voice.services.conversations import CallServices, CallSetup
from quantum_voice.services.flows import editing, publishing
from quantum_voice.services.leads import records
from tests.factories import repo_for, verified_owner
from tests.unit.flows.support import FixedPassages

SERVICES = CallServices(knowledge=FixedPassages())


@pytest.fixture
def owner_id(engine) -> int:
    with session_scope() as session:
        user, _ = verified_owner(session)
        return user.id


def acting(user_id: int):
    """A fresh session per use, as each API request or sidecar turn has."""
    class _Acting:
        def __enter__(self):
            self._scope = session_scope()
            session = self._scope.__enter__()
            return repo_for(session, session.get(User, user_id))

        def __exit__(self, *exc):
            return self._scope.__exit__(*exc)
    return _Acting()


def new_campaign(user_id: int, template: str = "lead_capture_qa") -> int:
    with acting(user_id) as repo:
        return campaigns.create_campaign(repo, name="Spring Open House", template=template).id


def call(user_id: int, campaign_id: int, *lines: str, setup: CallSetup | None = None) -> int:
    """Start a call and say ``lines``, each turn in its own session (a restart could happen between any two)."""
    with acting(user_id) as repo:
        conversation_id = conversations.start_conversation(repo, campaign_id, setup, SERVICES).conversation.id
    for line in lines:
        with acting(user_id) as repo:
            conversations.take_turn(repo, conversation_id, line, SERVICES)
    return conversation_id


def rows(model, *where):
    with session_scope() as session:
        return list(session.exec(select(model).where(*where)).all())


def test_a_new_campaign_runs_a_published_lead_capture_flow_with_its_own_knowledge_base(owner_id):
    campaign_id = new_campaign(owner_id)
    campaign = rows(Campaign, Campaign.id == campaign_id)[0]
    flow = rows(Flow, Flow.id == campaign.flow_id)[0]
    version = rows(FlowVersion, FlowVersion.flow_id == flow.id)[0]
    assert flow.template_key == "lead_capture_qa" and flow.published_version_id == version.id
    assert version.version == 1 and version.definition == flow.draft
    assert rows(KnowledgeBase, KnowledgeBase.id == campaign.knowledge_base_id)[0].name == \
        "Spring Open House knowledge"


def test_a_call_writes_the_lead_as_it_goes_and_finalises_it(owner_id):
    campaign_id = new_campaign(owner_id)
    conversation_id = call(owner_id, campaign_id, "Hi, I'm John Smith", "how much is the HOA fee?")
    assert rows(Lead) == []  # no consent yet: nothing personal is stored
    with acting(owner_id) as repo:
        conversations.take_turn(repo, conversation_id, "j o h n dot smith at example dot com", SERVICES)
        conversations.take_turn(repo, conversation_id, "yes, that's right, and I agree", SERVICES)
    lead = rows(Lead)[0]
    assert (lead.name, lead.email, lead.campaign_id) == ("John Smith", "john.smith@example.com", campaign_id)
    assert lead.score == 15 and lead.band == "cold"  # asked about pricing
    consent = rows(ConsentRecord)[0]
    assert consent.granted and consent.email == "john.smith@example.com" and consent.conversation_id == conversation_id
    assert consent.wording.startswith("I agree that Acme Homes may record this call") and consent.policy_version == "1"
    assert lead.consent_record_id == consent.id and len(consent.public_id) == 36

    with acting(owner_id) as repo:
        conversations.take_turn(repo, conversation_id, "we'd love a tour, we want to move next month", SERVICES)
    assert rows(Lead)[0].score == 65 and rows(Lead)[0].band == "warm"
    with acting(owner_id) as repo:
        conversations.take_turn(repo, conversation_id, "our budget is $500k, that's all, bye", SERVICES)

    lead, conversation = rows(Lead)[0], rows(Conversation)[0]
    assert (lead.timeline, lead.budget, lead.score, lead.band) == ("next month", "$500k", 80, "hot")
    assert [item["rule"] for item in lead.score_breakdown] == ["asked_pricing", "requested_tour",
                                                               "mentioned_timeline", "stated_budget"]
    assert lead.summary == ("Timeline: next month. Budget: $500k. Asked about pricing; requested a visit, quote or booking. "
                            "Score 80 (hot).")
    assert conversation.status == "ended" and conversation.end_reason == "completed"
    assert conversation.ended_at is not None and conversation.duration_seconds >= 0
    assert conversation.flow_state["engine"]["status"] == "ended" and not conversation.is_test
    assert len(rows(ConsentRecord)) == 1  # written once, never rewritten


def test_the_transcript_has_both_sides_in_order_with_nodes(owner_id):
    campaign_id = new_campaign(owner_id)
    conversation_id = call(owner_id, campaign_id, "I'm Ana, ana@example.com", "yes", "is there parking?")
    turns = sorted(rows(TranscriptTurn, TranscriptTurn.conversation_id == conversation_id), key=lambda t: t.seq)
    assert [t.seq for t in turns] == list(range(7))
    assert [t.speaker for t in turns] == ["agent", "caller", "agent", "caller", "agent", "caller", "agent"]
    assert turns[0].text.startswith("Hi, thanks for calling Acme Homes!") and turns[0].node_id == "lead_gate"
    assert turns[5].node_id == "answer" and turns[6].text.startswith("Every home has two parking spaces")
    assert turns[6].meta["answers"] == [{"confidence": 0.85, "citations": ["brochure.pdf, page 2"]}]


def test_refused_consent_keeps_no_personal_data_anywhere(owner_id):
    campaign_id = new_campaign(owner_id)
    conversation_id = call(owner_id, campaign_id, "Hi, I'm John Smith", "j o h n at example dot com",
                           "that's my email, but I don't agree", "call me on 555 123 4567", "is there parking?",
                           "bye")
    assert rows(Lead) == []
    consent = rows(ConsentRecord)[0]
    assert consent.granted is False and consent.email is None and consent.wording
    conversation = rows(Conversation)[0]
    assert conversation.flow_state["engine"]["variables"] == {} and conversation.status == "ended"
    texts = " ".join(t.text for t in rows(TranscriptTurn, TranscriptTurn.conversation_id == conversation_id))
    for personal in ("John", "j-o-h-n", "john@example.com", "555"):
        assert personal not in texts
    assert texts.count(REDACTED) == 5  # name, the agent's thanks by name, email, its read-back, the phone number
    assert "Every home has two parking spaces" in texts


def test_hanging_up_before_consent_blanks_what_was_said(owner_id):
    campaign_id = new_campaign(owner_id)
    conversation_id = call(owner_id, campaign_id, "I'm Ana Lopez", "ana@example.com")
    with acting(owner_id) as repo:
        conversations.end_conversation(repo, conversation_id)
    conversation = rows(Conversation)[0]
    assert conversation.status == "ended" and conversation.end_reason == "caller_hung_up"
    assert conversation.flow_state["engine"]["variables"] == {}
    assert "Ana" not in " ".join(t.text for t in rows(TranscriptTurn))
    assert rows(Lead) == [] and rows(ConsentRecord) == []


def test_hand_off_keeps_a_request_for_real_calls_but_not_for_tests(owner_id):
    campaign_id = new_campaign(owner_id)
    real = call(owner_id, campaign_id, "I'm Ana, ana@example.com", "yes", "can I talk to a real person?")
    test = call(owner_id, campaign_id, "representative", setup=CallSetup(channel="simulator", is_test=True))
    handoffs = rows(Handoff)
    assert len(handoffs) == 1
    handoff = handoffs[0]
    # no one can take calls live yet: the request is kept for the team to follow up, and the call goes on
    assert handoff.conversation_id == real and handoff.reason == "request" and handoff.status == "abandoned"
    assert handoff.notes.startswith("No one could take the call live")
    assert handoff.priority == 3 and handoff.required_skill == "sales"
    assert handoff.lead_id == rows(Lead)[0].id
    assert {c.id: c.status for c in rows(Conversation)} == {real: "active", test: "active"}


def test_calls_keep_the_version_they_started_with(owner_id):
    campaign_id = new_campaign(owner_id)
    conversation_id = call(owner_id, campaign_id)
    with acting(owner_id) as repo:
        _, flow = editing.campaign_and_flow(repo, campaign_id)
        draft = dict(flow.draft)
        draft["nodes"] = [dict(n) for n in draft["nodes"]]
        gate = next(n for n in draft["nodes"] if n["id"] == "lead_gate")
        gate["config"] = {**gate["config"], "name_prompt": "Who am I speaking with?"}
        editing.save_draft(repo, campaign_id, draft)
        assert publishing.publish(repo, campaign_id).version == 2
    with acting(owner_id) as repo:
        assert conversations.take_turn(repo, conversation_id, "um", SERVICES).agent == \
            "Sorry, I didn't catch that. Can I get your name, please?"
        fresh = conversations.start_conversation(repo, campaign_id, None, SERVICES)
        assert fresh.agent.endswith("Who am I speaking with?")


def test_the_simulator_runs_the_draft_and_marks_its_calls_as_tests(owner_id):
    campaign_id = new_campaign(owner_id)
    with acting(owner_id) as repo:
        _, flow = editing.campaign_and_flow(repo, campaign_id)
        draft = {**flow.draft, "nodes": [dict(n) for n in flow.draft["nodes"]]}
        draft["nodes"][0] = {**draft["nodes"][0], "config": {**draft["nodes"][0]["config"], "greeting": "Draft hi!"}}
        editing.save_draft(repo, campaign_id, draft)
        result = conversations.simulate(repo, campaign_id, ["I'm Ana, ana@example.com", "yes", "bye"],
                                        services=SERVICES)
    assert result.turns[0].agent.startswith("Draft hi!") and result.ended and result.consent is True
    conversation = rows(Conversation, Conversation.id == result.conversation_id)[0]
    assert conversation.is_test and conversation.channel == "simulator" and conversation.flow_version_id is None
    with acting(owner_id) as repo:
        assert records.list_page(repo, records.LeadFilter())[0] == []
        tests, _ = records.list_page(repo, records.LeadFilter(include_tests=True))
        assert [row.lead.id for row in tests if row.lead.is_test] == [result.lead.id]


def test_the_simulator_closes_an_unfinished_call(owner_id):
    campaign_id = new_campaign(owner_id)
    with acting(owner_id) as repo:
        result = conversations.simulate(repo, campaign_id, ["I'm Ana"], services=SERVICES)
    assert result.ended is False and result.lead is None and result.variables == {}
    conversation = rows(Conversation)[0]
    assert conversation.status == "ended" and conversation.end_reason == "simulation_finished"


def test_another_organisation_cannot_touch_the_call(owner_id):
    campaign_id = new_campaign(owner_id)
    conversation_id = call(owner_id, campaign_id)
    with session_scope() as session:
        stranger, _ = verified_owner(session, email="eve@example.com", org="Other Org")
        stranger_id = stranger.id
    with acting(stranger_id) as repo:
        with pytest.raises(NotFound):
            conversations.take_turn(repo, conversation_id, "hello", SERVICES)
        with pytest.raises(NotFound):
            conversations.start_conversation(repo, campaign_id, None, SERVICES)


def test_a_campaign_without_a_published_flow_cannot_take_calls(owner_id):
    with acting(owner_id) as repo:
        campaign_id = campaigns.create_campaign(repo, name="Unpublished", publish=False).id
    with acting(owner_id) as repo:
        with pytest.raises(Conflict, match="Publish the flow first"):
            conversations.start_conversation(repo, campaign_id, None, SERVICES)
        assert conversations.simulate(repo, campaign_id, ["bye"], services=SERVICES).ended


def test_the_step_simulator_keeps_one_test_call_for_the_whole_conversation(owner_id):
    campaign_id = new_campaign(owner_id)
    with acting(owner_id) as repo:
        opened = conversations.simulate_step(repo, campaign_id, None, None, services=SERVICES)
    assert opened.turns[0].caller is None and opened.turns[0].agent
    call_id = opened.conversation_id
    for line in ("I'm Ana, ana@example.com", "yes, I agree"):
        with acting(owner_id) as repo:
            step = conversations.simulate_step(repo, campaign_id, call_id, line, services=SERVICES)
        assert step.conversation_id == call_id and [t.caller for t in step.turns] == [line]
    assert step.consent is True and step.variables["email"] == "ana@example.com"
    assert len(rows(Conversation)) == 1
    with acting(owner_id) as repo:
        conversations.end_simulation(repo, campaign_id, call_id)
    assert rows(Conversation)[0].status == "ended"


def test_the_step_simulator_cannot_drive_a_real_call(owner_id):
    campaign_id = new_campaign(owner_id)
    real_call = call(owner_id, campaign_id)
    with acting(owner_id) as repo, pytest.raises(NotFound):
        conversations.simulate_step(repo, campaign_id, real_call, "hello", services=SERVICES)

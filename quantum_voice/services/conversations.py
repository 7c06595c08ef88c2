"""Running a call through its flow: the one code path for the simulator, the API and the voice sidecar.

``start_conversation`` opens a Conversation on the campaign's live flow (the simulator: its draft) and greets;
``take_turn`` feeds one caller utterance through the engine; ``end_conversation`` closes a call that ended
outside the flow (hang-up); ``resume_conversation`` carries on a call whose voice connection was lost (its voice
sidecar restarted). After each step the engine's state is saved in ``Conversation.flow_state`` (so a
restarted process carries on), both sides of the turn go into the transcript, and the lead is written
progressively by ``call_records``: consent record, lead fields, score, hand-off, finalisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import Conflict, NotFound, ValidationFailed
from quantum_voice.models.calls import ConsentRecord, Conversation, ConversationStatus
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.flows import FlowVersion
from quantum_voice.models.leads import Lead
from quantum_voice.services.leads.live import announce_after_commit
from quantum_voice.services.leads.people import lead_for_call
from quantum_voice.services import call_records
from quantum_voice.services.developer import webhook_events
from quantum_voice.services.call_records import apply_step, lead_of_call
from quantum_voice.services.flows import engine
from quantum_voice.services.flows.knowledge import KnowledgeSearch
from quantum_voice.services.flows.privacy import personal_keys
from quantum_voice.services.flows.editing import live_campaign
from quantum_voice.services.flows.publishing import runnable_flow
from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.flows.state import FlowState, StepResult
from quantum_voice.services.flows.step import CallContext
from quantum_voice.services.flows.understanding import Understander, configured_understander
from quantum_voice.services.handoffs import expiry, on_the_call
from quantum_voice.services.leads.scoring import score_lead
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

MAX_UTTERANCE_CHARS = 2000
OPEN_STATUSES = (ConversationStatus.RINGING.value, ConversationStatus.ACTIVE.value)  # a call that can be resumed
CALL_ENDED = "This call has already ended, so it can't be reconnected. Press Call to start a new one."


@dataclass
class TurnOutcome:
    conversation: Conversation
    step: StepResult
    caller: str | None
    agent: str

    @property
    def ended(self) -> bool:
        return self.step.state.status == "ended"


@dataclass
class CallSetup:
    """How a call is opened: channel, test or real, which flow, where it came from."""

    channel: str = "web"
    is_test: bool = False
    use_draft: bool = False
    qr_code_id: int | None = None
    caller_ip_hash: str | None = None
    user_agent: str | None = None
    # from the call page's email gate: the email the caller typed (the Lead Gate takes it as given) and the consent
    # ticket they agreed to there (so the flow does not ask for consent again)
    caller_email: str | None = None
    consent_record_id: int | None = None


@dataclass
class CallServices:
    """The call's collaborators: knowledge search (default: the knowledge service) and an optional LLM
    understanding of each turn."""

    knowledge: KnowledgeSearch | None = None
    # the optional LLM that reads each caller turn (off unless UNDERSTANDING_PROVIDER is set)
    understander: Understander | None = field(default_factory=configured_understander)
    # whether a person can take this call over (the embedded transport bridges an agent's browser; a LiveKit-mode
    # call cannot be joined from the workspace yet): when not, a hand-off never holds the caller
    person_can_join: bool = True


def start_conversation(repo: OrgRepository, campaign_id: int, setup: CallSetup | None = None,
                       services: CallServices | None = None) -> TurnOutcome:
    setup, services = setup or CallSetup(), services or CallServices()
    campaign = live_campaign(repo, campaign_id)
    flow, version_id = runnable_flow(repo, campaign, use_draft=setup.use_draft)
    now = utcnow()
    conversation = repo.add(Conversation(
        organization_id=repo.scope.organization_id, campaign_id=campaign.id, flow_version_id=version_id,
        qr_code_id=setup.qr_code_id, channel=setup.channel, is_test=setup.is_test,
        status=ConversationStatus.ACTIVE.value, caller_ip_hash=setup.caller_ip_hash, user_agent=setup.user_agent,
        started_at=now, answered_at=now,
        flow_state={"definition": flow.to_json()} if version_id is None else {}))
    consent = _bind_consent_ticket(repo, conversation, setup.consent_record_id)
    webhook_events.call_event(repo, conversation, "call.started")
    step = engine.start(flow, _context(repo, conversation, campaign, services, now=now),
                        given={"email": setup.caller_email} if setup.caller_email and consent else None,
                        consent=True if consent else None)
    return _save(repo, conversation, flow, step, None, services)


def _bind_consent_ticket(repo: OrgRepository, conversation: Conversation,
                         consent_record_id: int | None) -> ConsentRecord | None:
    """The call page's consent ticket belongs to this call from now on, and the lead starts from it. The ticket's
    content is never changed: it only learns, once, which call it was given for."""
    if consent_record_id is None:
        return None
    record = repo.get(ConsentRecord, consent_record_id)
    if not record.granted or record.campaign_id != conversation.campaign_id:
        raise ValidationFailed("That consent ticket is not for this campaign. Go back to the call page and agree "
                               "to the privacy terms again.", field="consent_record_id")
    if record.conversation_id is not None and record.conversation_id != conversation.id:
        raise Conflict("That consent ticket was already used for another call. Go back to the call page to start "
                       "a new one.")
    record.conversation_id = conversation.id
    repo.session.add(record)
    lead = lead_for_call(repo, conversation, consent_record_id=record.id, email=record.email)
    announce_after_commit(repo.session, lead.organization_id, lead.id, "created")
    return record


def take_turn(repo: OrgRepository, conversation_id: int, utterance: str, services: CallServices | None = None,
              *, stt_confidence: float | None = None) -> TurnOutcome:
    services = services or CallServices()
    conversation = _locked_conversation(repo, conversation_id)
    flow = flow_of(repo, conversation)
    campaign = repo.get(Campaign, conversation.campaign_id) if conversation.campaign_id else None
    state = FlowState.from_json(conversation.flow_state["engine"])
    text = " ".join((utterance or "").split())[:MAX_UTTERANCE_CHARS]
    ctx = _context(repo, conversation, campaign, services, stt_confidence=stt_confidence)
    # the queue moved on since the last step (a person took the call, no one did): that is the answer to this turn
    step = on_the_call.news(repo, conversation, campaign, flow, state, ctx) or engine.respond(flow, state, text, ctx)
    return _save(repo, conversation, flow, step, text, services, caller_node=state.node_id,
                 stt_confidence=stt_confidence)


def tick(repo: OrgRepository, conversation_id: int, services: CallServices | None = None) -> TurnOutcome | None:
    """Let time-based rules act on a live call (the Dispatch duration trigger, the hold line) and tell a held
    caller what the agents' queue did (``handoffs.on_the_call``). ``None`` when nothing happened."""
    services = services or CallServices()
    conversation = _locked_conversation(repo, conversation_id)
    if conversation.status not in (ConversationStatus.ACTIVE.value, ConversationStatus.HANDED_OFF.value):
        return None
    flow = flow_of(repo, conversation)
    campaign = repo.get(Campaign, conversation.campaign_id) if conversation.campaign_id else None
    state = FlowState.from_json(conversation.flow_state["engine"])
    ctx = _context(repo, conversation, campaign, services)
    step = on_the_call.news(repo, conversation, campaign, flow, state, ctx)
    if step is None or not step.actions:
        step = engine.tick(flow, state, ctx)
    if not step.actions:
        return None
    return _save(repo, conversation, flow, step, None, services)


def add_person_turn(repo: OrgRepository, conversation_id: int, text: str, name: str) -> bool:
    """The words of the team member on the call, as a ``human_agent`` turn, numbered after the call's turns under
    its row lock (one writer at a time with the flow's steps). False once the call has ended."""
    conversation = _locked_conversation(repo, conversation_id)
    text = " ".join((text or "").split())[:MAX_UTTERANCE_CHARS]
    if conversation.status == ConversationStatus.ENDED.value or not text:
        return False
    state = FlowState.from_json(conversation.flow_state["engine"])
    call_records.add_person_turn(repo, conversation, text, name=name, consent_refused=state.consent is False)
    return True


def end_conversation(repo: OrgRepository, conversation_id: int, reason: str = "caller_hung_up") -> Conversation:
    conversation = _locked_conversation(repo, conversation_id)
    if conversation.status == ConversationStatus.ENDED.value:
        return conversation
    flow = flow_of(repo, conversation)
    state = FlowState.from_json(conversation.flow_state["engine"])
    ctx = CallContext(organization_id=conversation.organization_id, now=utcnow())
    _save(repo, conversation, flow, engine.hang_up(flow, state, ctx, reason), None, CallServices())
    return conversation


def resume_conversation(repo: OrgRepository, conversation_id: int,
                        services: CallServices | None = None) -> TurnOutcome:
    """Carry on a call whose voice connection was lost: the same conversation, flow state, lead and transcript;
    the agent says they got cut off and asks again what the flow was waiting for (one agent turn, no greeting).
    Only an open call (ringing or active) can be resumed."""
    services = services or CallServices()
    conversation = _locked_conversation(repo, conversation_id)
    if conversation.status not in OPEN_STATUSES:
        raise Conflict(CALL_ENDED, code="call_ended")
    flow = flow_of(repo, conversation)
    campaign = repo.get(Campaign, conversation.campaign_id) if conversation.campaign_id else None
    state = FlowState.from_json(conversation.flow_state["engine"])
    step = engine.resume(flow, state, _context(repo, conversation, campaign, services))
    conversation.status = ConversationStatus.ACTIVE.value
    return _save(repo, conversation, flow, step, None, services)


def resume_after_handoff(repo: OrgRepository, conversation_id: int,
                         services: CallServices | None = None) -> TurnOutcome:
    """A person gives the call back to the AI (Dispatch node's ``returned`` edge)."""
    services = services or CallServices()
    conversation = _locked_conversation(repo, conversation_id)
    flow = flow_of(repo, conversation)
    campaign = repo.get(Campaign, conversation.campaign_id) if conversation.campaign_id else None
    state = FlowState.from_json(conversation.flow_state["engine"])
    step = engine.resume_after_handoff(flow, state, _context(repo, conversation, campaign, services))
    if step.state.status == "active":
        conversation.status = ConversationStatus.ACTIVE.value
    return _save(repo, conversation, flow, step, None, services)


def flow_of(repo: OrgRepository, conversation: Conversation) -> FlowDefinition:
    """The flow a conversation runs: its published version, or the draft snapshot taken when it started."""
    if conversation.flow_version_id is not None:
        return FlowDefinition.model_validate(repo.get(FlowVersion, conversation.flow_version_id).definition)
    return FlowDefinition.model_validate(conversation.flow_state["definition"])


def _locked_conversation(repo: OrgRepository, conversation_id: int) -> Conversation:
    """One turn at a time per call: the row is locked (PostgreSQL) until the turn is saved."""
    stmt = (repo.select(Conversation).where(Conversation.id == conversation_id).with_for_update()
            .execution_options(populate_existing=True))  # as saved now, even if this session read it before
    conversation = repo.session.exec(stmt).first()
    if conversation is None or "engine" not in (conversation.flow_state or {}):
        raise NotFound(f"No conversation with id {conversation_id} in your organisation.")
    return conversation


def _context(repo: OrgRepository, conversation: Conversation, campaign: Campaign | None, services: CallServices,
             *, now=None, stt_confidence: float | None = None) -> CallContext:
    return CallContext(
        organization_id=repo.scope.organization_id, now=now or utcnow(),
        knowledge=services.knowledge or _default_knowledge(repo, conversation),
        consent_wording=campaign.privacy_wording if campaign else "",
        policy_version=campaign.privacy_policy_version if campaign else "1", stt_confidence=stt_confidence,
        understander=services.understander, someone_free=on_the_call.someone_free(repo, conversation) if services.person_can_join else None,
        handoff_wait_seconds=expiry.wait_seconds(campaign))


def _default_knowledge(repo: OrgRepository, conversation: Conversation) -> KnowledgeSearch | None:
    from quantum_voice.services.flows.knowledge_adapter import service_knowledge_search

    return service_knowledge_search(repo.session, conversation_id=conversation.id)


def _save(repo: OrgRepository, conversation: Conversation, flow: FlowDefinition, step: StepResult,
          caller: str | None, services: CallServices, *, caller_node: str | None = None,
          stt_confidence: float | None = None) -> TurnOutcome:
    agent = step.reply or ""
    apply_step(repo, conversation, flow, step, caller=caller, agent=agent, caller_node=caller_node,
               stt_confidence=stt_confidence)
    state_json: dict[str, Any] = {"engine": step.state.to_json()}
    if conversation.flow_version_id is None:
        state_json["definition"] = conversation.flow_state.get("definition") or flow.to_json()
    if "lead_before" in conversation.flow_state:  # a returning caller's score from earlier calls (leads/people.py)
        state_json["lead_before"] = conversation.flow_state["lead_before"]
    conversation.flow_state = state_json
    repo.session.flush()
    return TurnOutcome(conversation, step, caller, agent)


# ---------------------------------------------------------------- the simulator

@dataclass
class SimulatedTurn:
    caller: str | None
    agent: str
    node_id: str | None
    node_type: str | None


@dataclass
class Simulation:
    conversation_id: int
    turns: list[SimulatedTurn]
    lead: Lead | None
    consent: bool | None
    handoff: dict[str, Any] | None
    ended: bool
    variables: dict[str, str]
    score: int
    band: str


def simulate(repo: OrgRepository, campaign_id: int, messages: list[str], *, use_draft: bool = True,
             services: CallServices | None = None) -> Simulation:
    """Type as the caller: run ``messages`` through the campaign's draft (or live) flow as a test call.
    The call is stored (marked as a test) and closed afterwards; ``ended`` says whether the flow finished it."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    setup = CallSetup(channel="simulator", is_test=True, use_draft=use_draft)
    outcome = start_conversation(repo, campaign_id, setup, services)
    turns = [SimulatedTurn(None, outcome.agent, outcome.step.node_id, outcome.step.node_type)]
    for message in messages:
        if outcome.ended:
            break
        outcome = take_turn(repo, outcome.conversation.id, message, services)
        turns.append(SimulatedTurn(outcome.caller, outcome.agent, outcome.step.node_id, outcome.step.node_type))
    if not outcome.ended:
        end_conversation(repo, outcome.conversation.id, reason="simulation_finished")
    return _simulation_of(repo, outcome, turns)


def simulate_step(repo: OrgRepository, campaign_id: int, conversation_id: int | None, message: str | None, *,
                  use_draft: bool = True, services: CallServices | None = None) -> Simulation:
    """The simulator one message at a time, on one stored test call: without ``conversation_id`` it opens the
    call (the greeting); with it, it adds ``message`` as the caller's next turn. ``turns`` holds only the new
    turn. The designer keeps the call open between messages and closes it with ``end_simulation``."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    if conversation_id is None:
        outcome = start_conversation(repo, campaign_id, CallSetup(channel="simulator", is_test=True,
                                                                 use_draft=use_draft), services)
        return _simulation_of(repo, outcome, [SimulatedTurn(None, outcome.agent, outcome.step.node_id,
                                                            outcome.step.node_type)])
    _simulated_call(repo, campaign_id, conversation_id)
    outcome = take_turn(repo, conversation_id, message or "", services)
    return _simulation_of(repo, outcome, [SimulatedTurn(outcome.caller, outcome.agent, outcome.step.node_id,
                                                        outcome.step.node_type)])


def end_simulation(repo: OrgRepository, campaign_id: int, conversation_id: int) -> None:
    """Close a simulator call that the flow has not ended (restart, leaving the designer)."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    conversation = _simulated_call(repo, campaign_id, conversation_id)
    if conversation.status != ConversationStatus.ENDED.value:
        end_conversation(repo, conversation_id, reason="simulation_finished")


def _simulated_call(repo: OrgRepository, campaign_id: int, conversation_id: int) -> Conversation:
    """Only the simulator's own test calls of this campaign can be driven from the designer."""
    conversation = repo.get(Conversation, conversation_id)
    if not conversation.is_test or conversation.channel != "simulator" or conversation.campaign_id != campaign_id:
        raise NotFound(f"No simulator call {conversation_id} for this campaign. Start the simulator again.")
    return conversation


def _simulation_of(repo: OrgRepository, outcome: TurnOutcome, turns: list[SimulatedTurn]) -> Simulation:
    state, conversation = outcome.step.state, outcome.conversation
    flow = flow_of(repo, conversation)
    score = score_lead(state.variables, state.said, flow.scoring, questions_asked=state.questions_asked)
    handoff = ({"reason": state.handoff.reason, "detail": state.handoff.detail, "priority": state.handoff.priority,
                "skill": state.handoff.skill} if state.handoff else None)
    return Simulation(conversation.id, turns, lead_of_call(repo, conversation), state.consent, handoff,
                      state.status == "ended", _shareable(flow, state), score.score, score.band)


def _shareable(flow: FlowDefinition, state: FlowState) -> dict[str, str]:
    """Variables to show: all of them with consent, otherwise none of the personal ones."""
    if state.consent:
        return dict(state.variables)
    personal = personal_keys(flow)
    return {k: v for k, v in state.variables.items() if k not in personal}

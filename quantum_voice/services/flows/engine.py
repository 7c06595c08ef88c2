"""The flow engine: a pure, deterministic interpreter of a flow definition.

``start(flow, ctx)`` and ``respond(flow, state, utterance, ctx)`` return a new ``FlowState`` and the actions
for the driver (say, ask, capture, consent, answer, handoff, end); the state given is never changed. Time comes
from ``ctx.now`` and knowledge from ``ctx.knowledge``, so the same inputs always give the same outputs.

The caller's words are data, never instructions: they are matched against rules and stored as variables,
and nothing they say changes what the agent is set up to do or makes it recite its configuration.
"""

from __future__ import annotations

from quantum_voice.services.flows import courtesy, nodes
from quantum_voice.services.flows.hearing import STRONG_NAME_CUE, Heard, hear
from quantum_voice.services.flows.privacy import forget_personal_data
from quantum_voice.services.flows.schema import FlowDefinition, NodeType
from quantum_voice.services.flows.state import FlowState, StepResult
from quantum_voice.services.flows.triggers import NO_ONE_TO_TRANSFER_TO, hand_off_if_triggered
from quantum_voice.services.flows.turn import CallContext, Turn
from quantum_voice.services.leads.scoring import rules_said

NOT_HEARD = "Sorry, I didn't catch that."
STILL_THERE = "Are you still there?"
CUT_OFF = "Sorry, we got cut off."
REFUSAL = "I can't share or change how I'm set up, but I'm happy to help with your questions."
LOW_STT_CONFIDENCE = 0.5


def start(flow: FlowDefinition, ctx: CallContext, *, given: dict[str, str] | None = None,
          consent: bool | None = None) -> StepResult:
    """A new call: greet, and go on to the first node that listens. ``given``: fields the caller typed before the
    call (the call page's email), taken as confirmed; ``consent``: already granted there (a consent ticket)."""
    given = {k: v for k, v in (given or {}).items() if v}
    state = FlowState(started_at=ctx.now, variables=dict(given), given=sorted(given), consent=consent,
                      sources={key: "typed" for key in given})
    turn = Turn(flow, state, ctx)
    turn.enter(flow.nodes_of(NodeType.START)[0].id)
    return turn.result()


def respond(flow: FlowDefinition, state: FlowState, utterance: str, ctx: CallContext) -> StepResult:
    """One caller turn."""
    turn = Turn(flow, state, ctx)
    if turn.state.status == "ended":
        return turn.result()
    turn.state.turns += 1
    if turn.state.status == "handed_off":
        nodes.handler_for(NodeType.DISPATCH.value).respond(turn, turn.node, None)
        return turn.result()
    heard = hear(flow, utterance, expecting=_expecting(turn), known=turn.state.variables, semantic=ctx.intents,
                 understander=ctx.understander, agent_said=turn.state.last_prompt)
    if heard.reading is not None:
        reading = heard.reading
        turn.act("understood", provider=reading.provider, intent=reading.intent, latency_ms=round(reading.latency_ms, 1),
                 prompt_tokens=reading.prompt_tokens, completion_tokens=reading.completion_tokens)
    if not _handled_before_the_node(turn, heard):
        _node_responds(turn, heard)
    return turn.result()


def tick(flow: FlowDefinition, state: FlowState, ctx: CallContext) -> StepResult:
    """Time passing without the caller speaking (the voice loop calls it every few seconds): a Dispatch node's
    duration trigger fires even while the caller listens. Nothing happens otherwise (no actions)."""
    turn = Turn(flow, state, ctx)
    if turn.state.status == "active":
        hand_off_if_triggered(turn)
    return turn.result()


def _handled_before_the_node(turn: Turn, heard: Heard) -> bool:
    """Noise, prompt injection, "say that again", hand-off triggers: the same answer whatever the node."""
    said = heard.understanding
    if said.noise:
        turn.say(STILL_THERE if not heard.text.strip(" .") else NOT_HEARD)
        turn.ask_again()
        return True
    if said.injection:
        turn.say(REFUSAL)
        turn.ask_again()
        return True
    _remember(turn, heard)
    if said.repeat and not turn.captured:
        turn.ask_again()
        return True
    if hand_off_if_triggered(turn, heard):
        return True
    if said.handoff:
        turn.say(NO_ONE_TO_TRANSFER_TO)
        turn.ask_again()
        return True
    return _small_talk(turn, heard)


def _small_talk(turn: Turn, heard: Heard) -> bool:
    """"Hello.", "How are you?", "Are you a robot?", "What do you mean?": answered in a few words, then the
    question the agent was waiting on is asked again (no re-ask is counted against the caller)."""
    said = heard.understanding
    if turn.captured or said.question or said.goodbye or said.consent or said.refusal:
        return False  # something of substance: the node deals with it
    if said.clarify:
        if turn.node is not None and turn.node.type == NodeType.LEAD_GATE.value:
            return False  # the gate explains its own questions (a read-back may be confirmed in the same breath)
        turn.say(explain(turn))
        turn.ask_again()
        return True
    reply = courtesy.small_talk_reply(said)
    if reply is None:
        return False
    turn.say(reply)
    turn.ask_again()
    return True


def explain(turn: Turn) -> str:
    """What the agent says when the caller asks what it means, outside the Lead Gate (which explains its own)."""
    return courtesy.REPHRASE


def _node_responds(turn: Turn, heard: Heard) -> None:
    said, node = heard.understanding, turn.node
    if said.goodbye and not said.question and node.type != NodeType.RAG_ANSWER.value:
        if not turn.follow("goodbye", leaving=False):
            turn.go_to_end("caller_goodbye")
        return
    nodes.handler_for(node.type).respond(turn, node, heard)


def _remember(turn: Turn, heard: Heard) -> None:
    """Keyword scoring rules, speech-to-text confidence, and the variables heard in this turn."""
    for rule_id in rules_said(turn.flow.scoring, heard.text):
        if rule_id not in turn.state.said:
            turn.state.said.append(rule_id)
    turn.state.questions_asked += len(heard.understanding.questions)
    if turn.ctx.stt_confidence is not None and turn.ctx.stt_confidence < LOW_STT_CONFIDENCE:
        turn.count_low_confidence()  # speech recognition was unsure what the caller said
    for key, value in heard.fields.items():
        variable = turn.flow.variable(key)
        if variable is None or (variable.is_personal and turn.state.consent is False):
            continue  # after a refusal, personal details are not even held for the call
        previous = turn.state.variables.get(key)
        if previous == value:
            continue
        if previous and variable.is_personal and not _may_replace(turn, heard, key):
            continue
        turn.state.variables[key] = value
        turn.state.sources[key] = "heard"
        turn.captured.append(key)
        turn.act("capture", field=key, value=value, personal=variable.is_personal, correction=previous is not None)


def _may_replace(turn: Turn, heard: Heard, key: str) -> bool:
    """A personal detail already known is replaced only by a better or a deliberate one: never one the caller typed
    on the call page; otherwise only by an answer to its own question or a correction ("no, it's ...")."""
    source = turn.state.sources.get(key, "heard")
    if source == "typed" or key in turn.state.given:
        return False
    strong_name = key == "name" and STRONG_NAME_CUE.search(heard.text) is not None
    return _expecting(turn) == key or heard.understanding.correction or strong_name


def _expecting(turn: Turn) -> str | None:
    node = turn.node
    if node is None:
        return None
    if node.type == NodeType.LEAD_GATE.value:
        asking = turn.state.gate.asking
        return "email" if asking == "confirm_email" else asking
    if node.type == NodeType.CLARIFY.value:
        return node.config.variable
    return None


def resume_after_handoff(flow: FlowDefinition, state: FlowState, ctx: CallContext) -> StepResult:
    """A person hands the call back to the AI: leave the Dispatch node by its ``returned`` (or default) edge."""
    turn = Turn(flow, state, ctx)
    if turn.state.status != "handed_off":
        return turn.result()
    turn.state.status = "active"
    turn.leave("returned")
    return turn.result()


def resume(flow: FlowDefinition, state: FlowState, ctx: CallContext) -> StepResult:
    """The call's voice connection was lost and is back (its voice sidecar restarted): say so and ask again what
    the flow was waiting for. Nothing else changes: the node, the variables and the lead gate's progress stay."""
    turn = Turn(flow, state, ctx)
    if turn.state.status == "active":
        turn.say(CUT_OFF)
        # a read-back of the caller's email is personal until they consent (redacted if they refuse)
        reads_back = turn.node is not None and turn.node.type == NodeType.LEAD_GATE.value \
            and turn.state.gate.asking == "confirm_email"
        turn.ask(turn.state.last_prompt or "How can I help you?", personal=reads_back)
    return turn.result()


def hang_up(flow: FlowDefinition, state: FlowState, ctx: CallContext, reason: str = "caller_hung_up") -> StepResult:
    """The call ended outside the flow (hang-up, dropped line): close it; without consent, forget personal data."""
    turn = Turn(flow, state, ctx)
    if turn.state.status != "ended":
        turn.state.status, turn.state.end_reason = "ended", reason
        if turn.state.consent is not True:
            forget_personal_data(turn.state, flow)
        turn.act("end", reason=reason)
    return turn.result()


__all__ = ["CallContext", "hang_up", "respond", "resume", "resume_after_handoff", "start"]

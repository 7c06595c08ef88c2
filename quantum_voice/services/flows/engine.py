"""The flow engine: a pure, deterministic interpreter of a flow definition.

``start(flow, ctx)`` and ``respond(flow, state, utterance, ctx)`` return a new ``FlowState`` and the actions
for the driver (say, ask, capture, consent, answer, handoff, end); the state given is never changed. Time comes
from ``ctx.now`` and knowledge from ``ctx.knowledge``, so the same inputs always give the same outputs.

The caller's words are data, never instructions: they are matched against rules and stored as variables,
and nothing they say changes what the agent is set up to do or makes it recite its configuration.
"""

from __future__ import annotations

from quantum_voice.services.flows import courtesy, nodes
from quantum_voice.services.flows.nodes import dispatch
from quantum_voice.services.flows.hearing import STRONG_NAME_CUE, Heard, hear
from quantum_voice.services.flows.privacy import forget_personal_data
from quantum_voice.services.flows.schema import FlowDefinition, NodeType
from quantum_voice.services.flows.state import FlowState, StepResult
from quantum_voice.services.flows.triggers import NO_ONE_TO_TRANSFER_TO, hand_off_if_triggered
from quantum_voice.services.flows.step import CallContext, Step
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
    step = Step(flow, state, ctx)
    step.enter(flow.nodes_of(NodeType.START)[0].id)
    return step.result()


def respond(flow: FlowDefinition, state: FlowState, utterance: str, ctx: CallContext) -> StepResult:
    """One caller turn."""
    step = Step(flow, state, ctx)
    if step.state.status == "ended":
        return step.result()
    step.state.turns += 1
    if step.state.status == "handed_off":
        _while_handed_off(step, utterance)
        return step.result()
    heard = hear(flow, utterance, expecting=_expecting(step), known=step.state.variables, semantic=ctx.intents,
                 understander=ctx.understander, agent_said=step.state.last_prompt)
    if heard.reading is not None:
        reading = heard.reading
        step.act("understood", provider=reading.provider, intent=reading.intent, latency_ms=round(reading.latency_ms, 1),
                 prompt_tokens=reading.prompt_tokens, completion_tokens=reading.completion_tokens)
    if not _handled_before_the_node(step, heard):
        _node_responds(step, heard)
    return step.result()


def tick(flow: FlowDefinition, state: FlowState, ctx: CallContext) -> StepResult:
    """Time passing without the caller speaking (the voice loop calls it every few seconds): a Dispatch node's
    duration trigger fires even while the caller listens, and a caller holding for a person hears the hold line
    again. Nothing happens otherwise (no actions)."""
    step = Step(flow, state, ctx)
    if step.state.status == "active":
        hand_off_if_triggered(step)
    elif dispatch.hold_due(step) and step.node is not None:
        dispatch.hold(step, step.node)
    return step.result()


def _while_handed_off(step: Step, utterance: str) -> None:
    """A caller turn while the call is with the agents' queue or a person: a goodbye while holding ends the call;
    anything else gets the hold line (or silence, once a person has the call)."""
    request = step.state.handoff
    if request is not None and request.phase == "waiting":
        said = hear(step.flow, utterance, expecting=None, known=step.state.variables, semantic=None).understanding
        if said.goodbye and not said.question:
            step.state.status, request.phase = "active", "done"
            step.go_to_end("caller_goodbye")
            return
    dispatch.respond(step, step.node, None)


# ---------------------------------------------------------------- a person and the call (told from outside)

def handoff_connected(flow: FlowDefinition, state: FlowState, ctx: CallContext, agent: str) -> StepResult:
    """A person accepted the waiting caller: "I'm putting you through to Alex now."; then the AI is silent."""
    return _handoff_event(flow, state, ctx, lambda step: dispatch.connected(step, step.node, agent), "waiting")


def handoff_unanswered(flow: FlowDefinition, state: FlowState, ctx: CallContext) -> StepResult:
    """No one took the caller within the campaign's wait: say so, offer a callback, carry on."""
    return _handoff_event(flow, state, ctx, lambda step: dispatch.unanswered(step, step.node), "waiting")


def handoff_completed(flow: FlowDefinition, state: FlowState, ctx: CallContext) -> StepResult:
    """The person ended the call with a disposition: the AI says goodbye and the call ends."""
    return _handoff_event(flow, state, ctx, dispatch.completed, "waiting", "connected")


def _handoff_event(flow: FlowDefinition, state: FlowState, ctx: CallContext, act, *phases: str) -> StepResult:
    step = Step(flow, state, ctx)
    request = step.state.handoff
    node = step.node
    if step.state.status == "handed_off" and request is not None and request.phase in phases \
            and node is not None and node.type == NodeType.DISPATCH.value:
        act(step)
    return step.result()


def _handled_before_the_node(step: Step, heard: Heard) -> bool:
    """Noise, prompt injection, "say that again", hand-off triggers: the same answer whatever the node."""
    said = heard.understanding
    if said.noise:
        step.say(STILL_THERE if not heard.text.strip(" .") else NOT_HEARD)
        step.ask_again()
        return True
    if said.injection:
        step.say(REFUSAL)
        step.ask_again()
        return True
    _remember(step, heard)
    if said.repeat and not step.captured:
        step.ask_again()
        return True
    if hand_off_if_triggered(step, heard):
        return True
    if said.handoff:
        step.say(NO_ONE_TO_TRANSFER_TO)
        step.ask_again()
        return True
    return _small_talk(step, heard)


def _small_talk(step: Step, heard: Heard) -> bool:
    """"Hello.", "How are you?", "Are you a robot?", "What do you mean?": answered in a few words, then the
    question the agent was waiting on is asked again (no re-ask is counted against the caller)."""
    said = heard.understanding
    if step.captured or said.question or said.goodbye or said.consent or said.refusal:
        return False  # something of substance: the node deals with it
    if said.clarify:
        if step.node is not None and step.node.type == NodeType.LEAD_GATE.value:
            return False  # the gate explains its own questions (a read-back may be confirmed in the same breath)
        step.say(explain(step))
        step.ask_again()
        return True
    reply = courtesy.small_talk_reply(said)
    if reply is None:
        return False
    step.say(reply)
    step.ask_again()
    return True


def explain(step: Step) -> str:
    """What the agent says when the caller asks what it means, outside the Lead Gate (which explains its own)."""
    return courtesy.REPHRASE


def _node_responds(step: Step, heard: Heard) -> None:
    said, node = heard.understanding, step.node
    if said.goodbye and not said.question and node.type != NodeType.RAG_ANSWER.value:
        if not step.follow("goodbye", leaving=False):
            step.go_to_end("caller_goodbye")
        return
    nodes.handler_for(node.type).respond(step, node, heard)


def _remember(step: Step, heard: Heard) -> None:
    """Keyword scoring rules, speech-to-text confidence, and the variables heard in this turn."""
    for rule_id in rules_said(step.flow.scoring, heard.text):
        if rule_id not in step.state.said:
            step.state.said.append(rule_id)
    step.state.questions_asked += len(heard.understanding.questions)
    if step.ctx.stt_confidence is not None and step.ctx.stt_confidence < LOW_STT_CONFIDENCE:
        step.count_low_confidence()  # speech recognition was unsure what the caller said
    for key, value in heard.fields.items():
        variable = step.flow.variable(key)
        if variable is None or (variable.is_personal and step.state.consent is False):
            continue  # after a refusal, personal details are not even held for the call
        previous = step.state.variables.get(key)
        if previous == value:
            continue
        if previous and variable.is_personal and not _may_replace(step, heard, key):
            continue
        step.state.variables[key] = value
        step.state.sources[key] = "heard"
        step.captured.append(key)
        step.act("capture", field=key, value=value, personal=variable.is_personal, correction=previous is not None)


def _may_replace(step: Step, heard: Heard, key: str) -> bool:
    """A personal detail already known is replaced only by a better or a deliberate one: never one the caller typed
    on the call page; otherwise only by an answer to its own question or a correction ("no, it's ...")."""
    source = step.state.sources.get(key, "heard")
    if source == "typed" or key in step.state.given:
        return False
    strong_name = key == "name" and STRONG_NAME_CUE.search(heard.text) is not None
    return _expecting(step) == key or heard.understanding.correction or strong_name


def _expecting(step: Step) -> str | None:
    node = step.node
    if node is None:
        return None
    if node.type == NodeType.LEAD_GATE.value:
        asking = step.state.gate.asking
        return "email" if asking == "confirm_email" else asking
    if node.type == NodeType.CLARIFY.value:
        return node.config.variable
    return None


def resume_after_handoff(flow: FlowDefinition, state: FlowState, ctx: CallContext, *, line: str = "") -> StepResult:
    """A person hands the call back to the AI (or their connection is gone: ``line`` says so first): leave the
    Dispatch node by its ``returned`` edge, else go back where the call was, else by its default edge."""
    return _handoff_event(flow, state, ctx, lambda step: dispatch.resumed(step, step.node, line), "waiting",
                          "connected")


def resume(flow: FlowDefinition, state: FlowState, ctx: CallContext) -> StepResult:
    """The call's voice connection was lost and is back (its voice sidecar restarted): say so and ask again what
    the flow was waiting for. Nothing else changes: the node, the variables and the lead gate's progress stay."""
    step = Step(flow, state, ctx)
    if step.state.status == "active":
        step.say(CUT_OFF)
        # a read-back of the caller's email is personal until they consent (redacted if they refuse)
        reads_back = step.node is not None and step.node.type == NodeType.LEAD_GATE.value \
            and step.state.gate.asking == "confirm_email"
        step.ask(step.state.last_prompt or "How can I help you?", personal=reads_back)
    return step.result()


def hang_up(flow: FlowDefinition, state: FlowState, ctx: CallContext, reason: str = "caller_hung_up") -> StepResult:
    """The call ended outside the flow (hang-up, dropped line): close it; without consent, forget personal data."""
    step = Step(flow, state, ctx)
    if step.state.status != "ended":
        step.state.status, step.state.end_reason = "ended", reason
        if step.state.consent is not True:
            forget_personal_data(step.state, flow)
        step.act("end", reason=reason)
    return step.result()


__all__ = ["CallContext", "hang_up", "handoff_completed", "handoff_connected", "handoff_unanswered", "respond",
           "resume", "resume_after_handoff", "start", "tick"]

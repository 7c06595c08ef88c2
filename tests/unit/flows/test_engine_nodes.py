"""Every node type, driven through the engine."""

import json

import pytest

from quantum_voice.services.flows import engine
from quantum_voice.services.flows.schema import FlowDefinition
from tests.unit.flows.support import KB_ID, ORG_ID, BrokenKnowledge, Call, FixedPassages, edge, node, template


def flow_of(nodes, edges, **extra) -> FlowDefinition:
    return FlowDefinition.model_validate({"nodes": nodes, "edges": edges, **extra})


def qa_flow(**rag_config) -> FlowDefinition:
    """Start → RAG Answer → End, nothing else."""
    return flow_of([node("s", "start", greeting="Hello!", voice="alloy", ring_sequence=False),
                    node("qa", "rag_answer", knowledge_base_id=KB_ID, **rag_config),
                    node("e", "end", closing_text="Bye now.", next_steps="Check your inbox.")],
                   [edge("s", "qa"), edge("qa", "e", "done")])


# ---------------------------------------------------------------- Start

def test_start_greets_with_voice_and_ring_setting_then_moves_on():
    call = Call(qa_flow())
    result = call.start()
    say = result.actions[0]
    assert say.kind == "say" and say.text == "Hello!" and say.data == {"voice": "alloy", "ring_sequence": False}
    assert result.node_id == "qa" and result.node_type == "rag_answer"
    assert result.reply == "Hello! What would you like to know?"


def test_start_straight_to_end():
    result = Call(flow_of([node("s", "start"), node("e", "end")], [edge("s", "e")])).start()
    assert result.state.status == "ended" and [a.kind for a in result.actions] == ["say", "say", "end"]


# ---------------------------------------------------------------- RAG Answer

def test_rag_answers_from_the_knowledge_base_and_loops():
    knowledge = FixedPassages()
    call = Call(qa_flow(), knowledge=knowledge)
    call.start()
    call.say("Is there parking?")
    answer = call.actions("answer")[0]
    assert answer["text"] == "Every home has two parking spaces in the garage."
    assert answer["confidence"] == 0.85 and answer["citations"] == ["brochure.pdf, page 2"]
    assert knowledge.asked[0] == {"organization_id": ORG_ID, "knowledge_base_id": KB_ID,
                                  "question": "Is there parking?", "threshold": 0.5}
    assert call.reply.endswith("Is there anything else I can help you with?")
    call.say("And pets?")
    assert call.actions("answer")[0]["text"].startswith("Pets are welcome")
    call.say("no, that's it")
    assert call.state.status == "ended" and call.reply == "Bye now."  # no email: "Check your inbox" is not said


def test_rag_trims_long_answers_to_the_configured_length():
    call = Call(qa_flow(max_answer_words=8))
    call.start()
    call.say("what are the prices")
    assert call.actions("answer")[0]["text"] == "The 3-bedroom homes start at $450,000."


def test_rag_below_threshold_without_an_edge_says_so_and_stays():
    call = Call(qa_flow(confidence_threshold=0.9, tentative_threshold=0.0))
    call.start()
    call.say("is there parking?")  # 0.85 < 0.9
    assert not call.actions("answer")
    assert call.reply.startswith("I'm sorry, I don't have that information.") and call.state.node_id == "qa"
    assert call.state.low_confidence_streak == 0 and call.state.unanswered == ["is there parking?"]


def test_rag_low_confidence_edge_goes_to_clarify_and_the_clarified_question_comes_back():
    call = Call(template())
    call.start()
    call.say("I'm Ana, ana@example.com")
    call.say("yes")
    call.say("what about that?")
    assert call.state.node_id == "clarify" and call.state.open_question == "what about that?"
    call.knowledge.passages = {"elementary": ("Harbor Elementary is a five-minute walk.", 0.9)}
    call.say("the elementary school for my kids")
    assert call.actions("answer")[0]["text"] == "Harbor Elementary is a five-minute walk."
    assert call.state.node_id == "answer" and call.state.low_confidence_streak == 0


def test_rag_follows_an_answered_edge_when_there_is_one():
    flow = flow_of([node("s", "start"), node("qa", "rag_answer", knowledge_base_id=KB_ID), node("e", "end")],
                   [edge("s", "qa"), edge("qa", "e", "answered")])
    call = Call(flow)
    call.start()
    call.say("how much is the HOA?")
    assert call.state.status == "ended" and call.actions("answer")


def test_a_broken_knowledge_service_is_a_miss_not_a_crash():
    call = Call(qa_flow(), knowledge=BrokenKnowledge())
    call.start()
    call.say("is there parking?")
    assert call.reply.startswith("I'm sorry, I don't have that information.")


def test_no_knowledge_search_at_all_is_a_miss():
    call = Call(qa_flow(), knowledge=None)
    call.start()
    call.say("is there parking?")
    assert call.reply.startswith("I'm sorry, I don't have that information.")


def test_rag_acknowledges_details_that_are_not_questions():
    call = Call(qa_flow())
    call.start()
    call.say("we'd like to move in the spring")
    assert call.reply == "Got it, thanks. Is there anything else I can help you with?"
    assert call.state.variables == {"timeline": "in the spring"}
    call.say("yes")
    assert call.reply == "Sure, what would you like to know?"


# ---------------------------------------------------------------- Clarify

def appointment_call() -> Call:
    call = Call(template("appointment_booking"))
    call.start()
    call.say("I'm Ana Lopez, ana@example.com, 555 123 4567")
    call.say("yes")
    return call


def test_clarify_fills_its_variable_and_resolves():
    call = appointment_call()
    assert call.state.node_id == "pick_time" and call.reply.endswith("For example, next Tuesday at 3pm.")
    call.say("hmm, let me think, maybe later")
    assert call.reply == "Which day works best for you, and morning or afternoon?"
    call.say("next Tuesday at 3pm works")
    assert call.state.variables["appointment_time"] == "next Tuesday at 3pm"
    assert call.state.node_id == "answer"


def test_clarify_gives_up_after_max_attempts_by_its_unresolved_edge():
    call = appointment_call()
    for answer in ("not sure", "I don't know", "whenever"):
        call.say(answer)
    assert call.actions("handoff")[0]["reason"] == "low_confidence"
    # no one can take the call live: said plainly, and a caller who left an email is asked when to hear back
    assert call.reply.startswith("I'm sorry, I can't put you through")
    assert call.reply.endswith("When would be a good time for someone to get back to you?")
    call.say("tomorrow afternoon is best")
    assert call.actions("callback")[0]["when"] == "tomorrow afternoon is best"
    assert "call back: tomorrow afternoon is best" in call.state.requests
    # then the flow goes on by Dispatch's exit (the End)
    assert call.state.status == "ended" and call.reply.startswith("Thanks, I've passed that on to the team.")


def test_clarify_is_skipped_when_the_caller_already_said():
    call = Call(template("appointment_booking"))
    call.start()
    call.say("I'm Ana Lopez, could we do tomorrow morning? ana@example.com, 555 123 4567")
    call.say("yes")
    assert call.state.variables["appointment_time"] == "tomorrow morning"
    assert call.state.node_id == "answer"


def test_clarify_text_variable_takes_the_answer():
    call = Call(template("support_triage"))
    call.start()
    call.say("Sam, sam@example.com")
    call.say("yes I agree")
    assert call.state.node_id == "describe"
    call.say("My solar inverter shows a red light")
    assert call.state.variables["issue"] == "My solar inverter shows a red light"


# ---------------------------------------------------------------- Dispatch

def test_dispatch_hands_off_with_priority_and_skill_then_holds():
    call = Call(template(), agents_available=True)
    call.start()
    call.say("can I speak to someone?")
    handoff = call.actions("handoff")[0]
    assert handoff == {"text": "", "held": True, "reason": "request", "detail": "can I speak to someone?",
                       "priority": "high", "skill": "sales"}
    assert call.reply == "Let me find someone from the team for you. Please stay on the line."
    assert call.state.status == "handed_off" and call.state.handoff.node_id == "dispatch"
    call.say("hello? anyone?")
    assert call.reply == "Thanks for holding. Someone should be with you within about a minute."


def test_a_person_hands_the_call_back_by_the_returned_edge():
    flow = template().to_json()
    flow["edges"] = [e for e in flow["edges"] if e["source"] != "dispatch"] + [edge("dispatch", "answer", "returned"),
                                                                            edge("dispatch", "end")]
    flow = FlowDefinition.model_validate(flow)
    call = Call(flow, agents_available=True)
    state = call.start().state
    state = engine.respond(flow, state, "representative", call.ctx()).state
    back = engine.resume_after_handoff(flow, state, call.ctx())
    assert back.state.status == "active" and back.node_id == "answer"
    assert back.reply == "What would you like to know?"


# ---------------------------------------------------------------- End

def test_end_closes_and_ignores_anything_after():
    call = Call(qa_flow())
    call.start()
    call.say("bye")
    assert call.actions("end") == [{"text": "", "reason": "completed"}]
    assert call.state.status == "ended"
    after = call.say("hello?")
    assert after.actions == [] and after.reply == ""


def _with_contact(call: Call, **known) -> None:
    """As if the Lead Gate had kept these details with the caller's consent."""
    state = call.state
    state.consent = True
    state.variables.update(known)
    call.stored = json.dumps(state.to_json())


@pytest.mark.parametrize("known, heard", [
    ({"email": "ana@example.com"}, "Bye now. Check your inbox."),
    ({"phone": "5550134"}, "Bye now. Check your inbox."),
    ({}, "Bye now. Call us again any time."),
])
def test_end_promises_next_steps_only_to_a_caller_the_team_can_reach(known, heard):
    flow = flow_of([node("s", "start"), node("qa", "rag_answer", knowledge_base_id=KB_ID),
                    node("e", "end", closing_text="Bye now.", next_steps="Check your inbox.",
                         next_steps_without_contact="Call us again any time.")],
                   [edge("s", "qa"), edge("qa", "e", "done")])
    call = Call(flow)
    call.start()
    _with_contact(call, **known) if known else None
    call.say("no, that's all, bye")
    assert call.state.status == "ended" and call.reply == heard


def test_end_without_consent_forgets_personal_details():
    call = Call(flow_of([node("s", "start"), node("c", "clarify", questions=["Who are you?"], variable="name"),
                         node("e", "end")], [edge("s", "c"), edge("c", "e")]))
    call.start()
    call.say("my name is Ana and we'd like to move next month")
    assert call.state.status == "ended" and call.state.variables == {"timeline": "next month"}


def test_hang_up_closes_the_call_and_forgets_personal_details_without_consent():
    call = Call(template())
    state = call.start().state
    state = engine.respond(call.flow, state, "I'm Ana", call.ctx()).state
    closed = engine.hang_up(call.flow, state, call.ctx())
    assert closed.state.status == "ended" and closed.state.end_reason == "caller_hung_up"
    assert closed.state.variables == {} and closed.actions[0].kind == "end"


# ---------------------------------------------------------------- edge conditions while running

def test_a_hot_lead_is_routed_by_a_score_condition():
    flow = template().to_json()
    flow["edges"].append(edge("answer", "dispatch", "score >= 50"))
    flow["edges"] = [e for e in flow["edges"] if e["condition"] != "done"] + [edge("answer", "end")]
    flow = FlowDefinition.model_validate(flow)
    call = Call(flow)
    call.start()
    call.say("I'm Ana, ana@example.com")
    call.say("yes")
    call.say("we want to book a tour, and move next month, our budget is $500k")
    call.say("no, that's all")
    assert call.actions("handoff")[0]["reason"] == "flow"
    assert call.reply.endswith("When would be a good time for someone to get back to you?")  # no one to take it
    call.say("tomorrow morning")
    assert call.state.status == "ended"  # routed here by the flow: on by the exit, politely


@pytest.mark.parametrize("utterance", ["um", "uh...", "[inaudible]"])
def test_noise_repeats_the_pending_question(utterance):
    call = Call(template())
    call.start()
    call.say(utterance)
    assert call.reply == "Sorry, I didn't catch that. Can I get your name, please?"


def test_silence_asks_whether_the_caller_is_still_there():
    call = Call(template())
    call.start()
    call.say("")
    assert call.reply == "Are you still there? Can I get your name, please?"
    assert call.state.gate.attempts == {}


def test_say_that_again():
    call = Call(template())
    call.start()
    call.say("sorry, what did you say?")
    assert call.reply == "Can I get your name, please?"

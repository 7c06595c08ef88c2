"""Hand-off triggers: explicit request, keyword, call duration, low-confidence answers in a row."""

import json

from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.flows.triggers import NO_ONE_TO_TRANSFER_TO
from tests.unit.flows.support import KB_ID, Call, edge, node, template


def flow_with_dispatch(**triggers) -> FlowDefinition:
    return FlowDefinition.model_validate({
        "nodes": [node("s", "start"), node("qa", "rag_answer", knowledge_base_id=KB_ID),
                  node("human", "dispatch", triggers=triggers, priority="urgent", skill="legal"), node("e", "end")],
        "edges": [edge("s", "qa"), edge("qa", "e", "done"), edge("human", "e")]})


def in_conversation(flow: FlowDefinition, *, agents_available: bool = False, consent: bool = False) -> Call:
    """A call under way; with ``consent``, an email kept with the caller's consent (the team can reach them)."""
    call = Call(flow, agents_available=agents_available)
    call.start()
    if consent:
        state = call.state
        state.consent, state.variables["email"] = True, "ana@example.com"
        call.stored = json.dumps(state.to_json())
    return call


def test_explicit_request_holds_when_someone_can_take_the_call():
    call = in_conversation(flow_with_dispatch(), agents_available=True)
    call.say("I'd like to talk to a human please")
    assert call.actions("handoff")[0]["reason"] == "request" and call.actions("handoff")[0]["held"] is True
    assert call.state.status == "handed_off"


def test_with_no_one_to_take_it_the_request_is_noted_and_the_ai_carries_on():
    call = in_conversation(flow_with_dispatch())
    call.say("I'd like to talk to a human please")
    assert call.actions("handoff")[0]["held"] is False and call.state.handoff.reason == "request"
    assert call.state.status == "active" and call.state.node_id == "qa"
    assert call.reply.startswith("I'm sorry, I can't put you through to a person")
    assert call.reply.endswith("Is there anything else I can help you with?")
    call.say("is there parking?")  # still answered
    assert call.reply.startswith("Every home has two parking spaces")
    call.say("can I speak to someone please?")  # asked again: no second hand-off, and no promise to a caller the
    assert not call.actions("handoff")           # team cannot reach (no email or phone kept with consent)
    assert call.reply.startswith("I'm sorry, I can't put you through to a person on this call.")
    assert "noted" not in call.reply and "follow up" not in call.reply
    call.say("no, that's all")
    assert call.state.status == "ended"


def test_request_is_ignored_when_the_dispatch_node_does_not_take_requests():
    call = in_conversation(flow_with_dispatch(on_request=False, keywords=["lawyer"]))
    call.say("can I speak to someone?")
    assert not call.actions("handoff")
    assert call.reply == f"{NO_ONE_TO_TRANSFER_TO} What would you like to know?"


def test_keyword_with_priority_and_skill():
    call = in_conversation(flow_with_dispatch(on_request=False, keywords=["contract", "lawyer"]))
    call.say("is there parking?")
    assert not call.actions("handoff")
    call.say("my lawyer has questions about the contracts")
    handoff = call.actions("handoff")[0]
    assert handoff["reason"] == "keyword" and handoff["detail"] == "contract"
    assert handoff["priority"] == "urgent" and handoff["skill"] == "legal"


def test_keyword_matches_whole_words_only():
    call = in_conversation(flow_with_dispatch(on_request=False, keywords=["down"]))
    call.say("is there a downtown shuttle?")
    assert not call.actions("handoff")


def test_call_longer_than_n_minutes():
    call = in_conversation(flow_with_dispatch(on_request=False, max_call_minutes=5))
    call.say("is there parking?", minutes_later=4)
    assert not call.actions("handoff")
    call.say("and pets?", minutes_later=1.5)
    handoff = call.actions("handoff")[0]
    assert handoff["reason"] == "duration" and handoff["detail"] == "call longer than 5 minutes"


def test_k_unclear_turns_in_a_row_hand_off():
    call = in_conversation(flow_with_dispatch(on_request=False, low_confidence_streak=2))
    call.say("what about that?")
    assert not call.actions("handoff") and call.state.low_confidence_streak == 1
    call.say("is there parking?")  # a confident answer resets the streak
    assert call.state.low_confidence_streak == 0
    call.say("what about that?")
    call.say("tell me more")
    handoff = call.actions("handoff")[0]
    assert handoff["reason"] == "low_confidence" and call.state.handoff is not None
    assert call.reply.startswith("I'm sorry, I can't put you through to a person")
    assert call.state.low_confidence_streak == 0  # back to answering, with a fresh count
    call.say("what about that?")
    call.say("tell me more")
    assert not call.actions("handoff")  # requested once a call


def test_clear_questions_the_documents_do_not_answer_never_hand_off():
    call = in_conversation(flow_with_dispatch(on_request=False, low_confidence_streak=2))
    for question in ("what about schools?", "and the flood zone?", "is there a marina?", "do you allow boats?"):
        call.say(question)
        assert call.reply.startswith("I'm sorry, I don't have that information.")
    assert not call.actions("handoff") and call.state.low_confidence_streak == 0


def test_speech_recognition_unsure_counts_toward_the_streak():
    call = in_conversation(flow_with_dispatch(on_request=False, low_confidence_streak=2))
    call.say("is there parking?", stt_confidence=0.3)
    call.say("mumble parking?", stt_confidence=0.2)
    assert call.actions("handoff")[0]["reason"] == "low_confidence"


def test_the_lead_capture_template_answers_misses_honestly_and_keeps_them_for_the_team():
    call = Call(template())
    call.start()
    call.say("I'm Ana, ana@example.com")
    call.say("yes")
    for question in ("what about the flood zone?", "is there flood insurance?", "how much does flood cover cost?"):
        call.say(question)
        assert call.reply == ("I don't have that information, but someone from the team can follow up with you "
                              "by email. Is there anything else I can help you with?")
    assert not call.actions("handoff") and call.state.node_id == "answer"
    assert call.state.unanswered == ["what about the flood zone?", "is there flood insurance?",
                                     "how much does flood cover cost?"]


def test_hand_off_request_in_the_middle_of_the_lead_gate_keeps_what_was_said():
    call = Call(template())
    call.start()
    call.say("I'm Ana and I want to speak to a person")
    assert call.state.variables == {"name": "Ana"} and call.state.handoff.reason == "request"
    assert call.state.node_id == "lead_gate" and "email" in call.state.last_prompt.lower()  # on to what it needs


def test_a_plausible_passage_is_offered_as_the_closest_and_a_no_gets_the_honest_fallback():
    call = in_conversation(flow_with_dispatch(on_request=False, low_confidence_streak=2))
    call.say("do the homes have a garden?")
    assert call.reply == "Here's the closest I have: Every home has a small patio. Does that answer your question?"
    assert call.actions("answer")[0]["tentative"] is True and call.state.checking == "do the homes have a garden?"
    call.say("No, not really.")
    assert call.reply.startswith("I'm sorry, I don't have that information.")
    assert call.state.unanswered == ["do the homes have a garden?"] and call.state.checking is None
    assert not call.actions("handoff") and call.state.low_confidence_streak == 0


def test_after_a_no_the_next_closest_passage_is_offered_once_then_the_honest_fallback():
    call = in_conversation(flow_with_dispatch(on_request=False))
    call.say("is there a lawn?")
    call.say("No, not really.")
    assert call.reply == "Maybe this is closer: A shared lawn lies behind the homes. Does that answer your question?"
    assert call.actions("answer")[0]["tentative"] is True and call.state.checking == "is there a lawn?"
    call.say("No.")
    assert call.reply.startswith("I'm sorry, I don't have that information.")
    assert call.state.unanswered == ["is there a lawn?"] and call.state.alternative is None


def test_a_yes_to_the_next_closest_passage_goes_on_and_an_empty_text_turns_it_off():
    call = in_conversation(flow_with_dispatch(on_request=False))
    call.say("is there a lawn?")
    call.say("No, not really.")
    call.say("Yes, that's it.")
    assert call.reply == "Good. Is there anything else I can help you with?" and not call.state.unanswered
    flow = flow_with_dispatch(on_request=False)
    flow.nodes[1].config.alternative_text = ""
    call = in_conversation(flow)
    call.say("is there a lawn?")
    call.say("No, not really.")
    assert call.reply.startswith("I'm sorry, I don't have that information.")


def test_a_yes_or_a_new_question_after_the_closest_passage_goes_on():
    call = in_conversation(flow_with_dispatch(on_request=False))
    call.say("do the homes have a garden?")
    call.say("Yes, thanks.")
    assert call.reply == "Good. Is there anything else I can help you with?" and not call.state.unanswered
    call.say("what about a garden?")
    call.say("Great, and is there parking?")
    assert call.reply.startswith("Every home has two parking spaces") and call.state.checking is None


def test_the_closest_passage_is_never_offered_when_the_flow_turns_it_off():
    flow = flow_with_dispatch(on_request=False)
    flow.nodes[1].config.tentative_threshold = 0.0
    call = in_conversation(flow)
    call.say("do the homes have a garden?")
    assert call.reply.startswith("I'm sorry, I don't have that information.") and not call.actions("answer")

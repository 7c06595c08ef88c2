"""Lead Gate: fields in any order, spoken emails read back, consent with its wording, corrections, re-asks."""

from quantum_voice.services.flows.nodes.lead_gate import CONSENT_LEAD_IN
from tests.unit.flows.support import WORDING, Call, template


def started(**gate_config) -> Call:
    call = Call(template(**gate_config))
    call.start()
    return call


def test_the_happy_path_asks_name_email_then_consent():
    call = started()
    assert call.reply.endswith("Can I get your name, please?")
    call.say("Hi, I'm John Smith")
    assert call.actions("capture") == [{"text": "", "field": "name", "value": "John Smith", "personal": True,
                                        "correction": False}]
    assert call.reply == "Thanks, John. What's the best email address to reach you?"
    call.say("john@example.com")
    assert call.reply == f"{CONSENT_LEAD_IN} {WORDING} Do you agree?"
    call.say("yes")
    consent = call.actions("consent")[0]
    assert consent["granted"] is True and consent["wording"] == WORDING and consent["policy_version"] == "2025-01"
    assert consent["email"] == "john@example.com"
    assert call.reply == "Thanks, John! That's everything I need. What would you like to know?"
    assert call.state.node_id == "answer" and call.state.consent is True


def test_spelled_email_is_read_back_together_with_the_consent_question():
    call = started()
    call.say("Ana")
    call.say("a n a dot lopez at example dot com")
    assert call.reply.startswith("I have a-n-a dot lopez at example dot com. Is that right?")
    assert WORDING in call.reply
    assert call.last.touches_personal_data
    call.say("yes, that's right, and I agree")
    assert call.state.consent is True and call.state.variables["email"] == "ana.lopez@example.com"
    assert call.state.node_id == "answer"


def test_whisper_email_without_at_is_repaired_and_confirmed():
    call = started(ask_name=False)
    call.say("it's john.smithatexample.com")
    assert call.reply.startswith("I have j-o-h-n dot smith at example dot com. Is that right?")
    call.say("yes")  # one yes answers the combined question
    assert call.state.variables["email"] == "john.smith@example.com" and call.state.consent is True


def test_confirmed_email_but_refused_consent_forgets_everything_and_takes_the_declined_edge():
    flow = template().to_json()
    flow["nodes"].append({"id": "bye", "type": "end", "config": {"closing_text": "Goodbye then."}})
    flow["edges"] = [e for e in flow["edges"] if e["condition"] != "declined"] + [
        {"source": "lead_gate", "target": "bye", "condition": "declined"}]
    from quantum_voice.services.flows.schema import FlowDefinition
    call = Call(FlowDefinition.model_validate(flow))
    call.start()
    call.say("I'm John Smith")
    call.say("j o h n at example dot com")
    call.say("that's my email, but I don't agree")
    consent = call.actions("consent")[0]
    assert consent["granted"] is False and consent["email"] is None and consent["wording"] == WORDING
    assert call.state.consent is False and call.state.variables == {}
    assert call.state.node_id == "bye" and call.state.status == "ended"
    assert "won't keep any of your details" in call.reply and "Goodbye then." in call.reply


def test_after_refusal_personal_details_are_not_even_held():
    call = started()
    call.say("Ana")
    call.say("ana@example.com")
    call.say("no")  # asked only for consent: a plain no refuses
    assert call.state.consent is False and call.state.node_id == "answer"
    call.say("my number is 555 123 4567 and we want to move next month")
    assert call.state.variables == {"timeline": "next month"}


def test_volunteered_fields_skip_their_questions():
    call = started()
    call.say("Hi, I'm Ana, ana@example.com")
    assert call.state.variables == {"name": "Ana", "email": "ana@example.com"}
    assert call.reply == f"Thanks, Ana. {CONSENT_LEAD_IN} {WORDING} Do you agree?"


def test_several_answers_and_a_field_before_its_question():
    call = started(ask_phone=True)
    call.say("I'm Priya Patel, my number is 555 987 6543 and my email is priya@example.com")
    assert call.state.variables == {"name": "Priya Patel", "email": "priya@example.com", "phone": "5559876543"}
    assert call.reply.endswith("Do you agree?")


def test_a_question_in_the_middle_is_answered_then_the_gate_returns_to_what_is_pending():
    call = started()
    call.say("Ana")
    call.say("How much is the HOA fee?")
    assert call.actions("answer")[0]["text"].startswith("The HOA fee is $350 a month")
    assert call.reply.endswith("What's the best email address to reach you?")
    assert call.state.gate.attempts == {}  # a question is not a failed answer


def test_an_unanswerable_question_mid_gate_gets_an_honest_answer_at_once():
    call = started()
    call.say("Ana")
    call.say("what are the schools like?")  # the knowledge base is unsure
    assert call.reply == "I'm sorry, I don't have that information. What's the best email address to reach you?"
    assert call.state.open_question is None and call.state.unanswered == ["what are the schools like?"]
    call.say("ana@example.com")
    call.say("I agree")  # nothing was promised for later: the RAG Answer node just invites questions
    assert call.state.node_id == "answer" and call.reply.endswith("What would you like to know?")


def test_why_do_you_need_my_email_gets_the_privacy_answer():
    call = started(ask_name=False)
    call.say("why do you need my email?")
    assert call.reply.startswith("We only use your details to follow up on your enquiry")


def test_correction_of_the_email_reads_the_new_one_back():
    call = started(ask_name=False)
    call.say("j o h n at example dot com")
    call.say("no, it's j o n at example dot com")
    assert call.state.variables["email"] == "jon@example.com"
    assert call.reply.startswith("I have j-o-n at example dot com. Is that right?")
    call.say("actually my email is jon.doe@example.com")
    assert call.state.variables["email"] == "jon.doe@example.com"
    assert call.actions("capture")[0]["correction"] is True


def test_rejected_read_back_asks_again():
    call = started(ask_name=False)
    call.say("j o h n at example dot com")
    call.say("no")
    assert "email" not in call.state.variables
    assert call.reply == "Sorry about that, let's try again. What's the best email address to reach you?"


def test_an_incomplete_email_gets_a_specific_re_ask():
    call = started(ask_name=False)
    call.say("it's john at example")
    assert call.reply.startswith("That doesn't sound like a complete email address")


def test_re_asks_stop_after_max_attempts_and_the_incomplete_edge_is_taken():
    call = started(ask_name=False, max_attempts=2)
    call.say("purple")
    assert call.reply.startswith("Sorry, I didn't catch that.")
    call.say("banana")
    assert "carry on without it" in call.reply
    assert call.state.node_id == "answer" and call.state.consent is None and call.state.variables == {}


def test_a_name_that_will_not_come_is_skipped():
    call = started(max_attempts=1)
    call.say("I'd rather not say that")
    assert call.state.gate.skipped == ["name"]
    assert call.reply.endswith("What's the best email address to reach you?")


def test_consent_said_before_the_wording_was_read_does_not_count():
    call = started(ask_name=False)
    call.say("I agree, my email is ana@example.com")
    assert call.state.consent is None
    assert call.reply.endswith("Do you agree?")


def test_confirm_email_always_reads_back_even_a_typed_address():
    call = started(ask_name=False, confirm_email="always")
    call.say("ana@example.com")
    assert call.reply.startswith("I have a-n-a at example dot com.")


def test_never_confirm_skips_the_read_back():
    call = started(ask_name=False, confirm_email="never")
    call.say("a n a at example dot com")
    assert call.reply.startswith(CONSENT_LEAD_IN)


def test_gate_wording_overrides_the_campaign_wording():
    call = started(ask_name=False, consent_wording="You may email me.", policy_version="v9",
                   consent_question="Is that okay?")
    call.say("ana@example.com")
    assert call.reply == f"{CONSENT_LEAD_IN} You may email me. Is that okay?"
    call.say("yes")
    consent = call.actions("consent")[0]
    assert consent["wording"] == "You may email me." and consent["policy_version"] == "v9"


def test_unclear_consent_answers_are_re_asked_then_count_as_refusal():
    call = started(ask_name=False, max_attempts=2)
    call.say("ana@example.com")
    call.say("the weather is nice")
    assert call.state.consent is None and call.reply.startswith("Sorry, I didn't catch that.")
    call.say("purple elephants")
    assert call.state.consent is False and call.state.variables == {}


def test_goodbye_in_the_gate_ends_the_call_and_keeps_nothing():
    call = started()
    call.say("I'm Ana")
    call.say("actually, I have to go, bye")
    assert call.state.status == "ended" and call.state.end_reason == "caller_goodbye"
    assert call.state.variables == {}


def test_what_does_that_mean_at_the_consent_question_explains_and_asks_again():
    call = started(ask_name=False)
    call.say("ana@example.com")
    call.say("what does that mean?")
    assert call.reply.startswith("We only use your details to follow up on your enquiry")
    assert call.reply.endswith("Do you agree?") and call.state.consent is None

"""Callers as they really talk: greetings and small talk, "what do you mean?", refusals, hedged consent, volunteered
and corrected details, questions the documents cannot answer, and questions that sound like goodbyes."""

import pytest

from quantum_voice.services.flows import courtesy, engine
from quantum_voice.services.flows.intents import understand
from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.flows.semantic import local_matcher
from tests.unit.flows.support import WORDING, Call, edge, node, template

NAME_PROMPT = "Can I get your name, please?"
EMAIL_PROMPT = "What's the best email address to reach you?"
NOT_FOUND = "I'm sorry, I don't have that information."


def started(flow: FlowDefinition | None = None, **gate_config) -> Call:
    call = Call(flow or template(**gate_config))
    call.start()
    return call


def consented(flow: FlowDefinition | None = None) -> Call:
    """A call past the Lead Gate: name, email and consent given, now at the RAG Answer node."""
    call = started(flow)
    call.say("I'm Ana, ana@example.com")
    call.say("yes")
    assert call.state.node_id == "answer" and call.state.consent is True
    return call


def anonymous() -> Call:
    """A call past the Lead Gate with nothing given: name and email refused."""
    call = started()
    call.say("I'd rather not say")
    call.say("I'd rather not say")
    assert call.state.node_id == "answer" and call.state.variables == {} and call.state.consent is None
    return call


def with_flow(change) -> FlowDefinition:
    flow = template().to_json()
    change(flow)
    return FlowDefinition.model_validate(flow)


def gate_exits_apart() -> FlowDefinition:
    """The template with the Lead Gate's incomplete edge going to its own node, so the edge taken shows."""
    def change(flow):
        flow["nodes"].append(node("anonymous", "rag_answer", knowledge_base_id=7, prompt="How can I help?"))
        flow["edges"] = [e for e in flow["edges"] if e["condition"] != "incomplete"] + [
            edge("lead_gate", "anonymous", "incomplete"), edge("anonymous", "end", "done")]
    return with_flow(change)


def agent_lines(call: Call) -> list[str]:
    return [text for who, text in call.transcript if who == "agent"]


# ---------------------------------------------------------------- small talk before the name

@pytest.mark.parametrize("utterance", ["Hello.", "Hi there"])
def test_a_greeting_is_answered_and_the_name_asked_again(utterance):
    call = started()
    call.say(utterance)
    assert call.reply.startswith("Hi there!") and call.reply.endswith(NAME_PROMPT)
    assert "name" not in call.state.variables and not call.actions("capture")
    assert call.state.gate.attempts == {} and call.state.gate.asking == "name"


@pytest.mark.parametrize("utterance, answers", [
    ("How are you today?", ["I'm doing well, thanks for asking."]),
    ("Are you a robot?", ["virtual assistant", "AI"]),  # either says what it is
])
def test_small_talk_gets_a_few_honest_words_and_the_name_asked_again(utterance, answers):
    call = started()
    call.say(utterance)
    before_the_question = call.reply.partition(NAME_PROMPT)[0]
    assert any(answer in before_the_question for answer in answers) and call.reply.endswith(NAME_PROMPT)
    assert "name" not in call.state.variables and call.state.gate.attempts == {}


def test_what_do_you_mean_at_the_name_question_explains_it_and_asks_again():
    call = started()
    call.say("What do you mean?")
    assert call.reply.startswith(courtesy.EXPLANATIONS["name"]) and call.reply.endswith(NAME_PROMPT)
    assert call.state.variables == {} and call.state.gate.attempts == {}


def test_what_do_you_mean_at_the_read_back_with_consent_explains_the_consent():
    call = started()
    call.say("Ana")
    call.say("a n a at example dot com")
    assert call.reply.startswith("I have a-n-a at example dot com.") and WORDING in call.reply
    call.say("What do you mean?")
    assert call.reply.startswith(courtesy.EXPLANATIONS["consent"]) and call.reply.endswith("Do you agree?")
    assert call.state.consent is None and call.state.variables["email"] == "ana@example.com"


@pytest.mark.parametrize("utterance, prefix", [("", "Are you still there?"), ("um", "Sorry, I didn't catch that.")])
def test_silence_and_hesitation_repeat_the_name_question_without_counting_a_try(utterance, prefix):
    call = started()
    call.say(utterance)
    assert call.reply == f"{prefix} {NAME_PROMPT}"
    assert call.state.gate.attempts == {} and call.state.variables == {}


# ---------------------------------------------------------------- refusals

def test_a_refused_name_is_skipped_and_never_asked_again():
    call = started()
    call.say("I'd rather not say")
    assert call.reply == f"No problem. {EMAIL_PROMPT}"
    assert call.state.gate.skipped == ["name"] and "name" not in call.state.variables
    call.say("ana@example.com")
    call.say("yes")
    assert call.state.node_id == "answer" and call.state.consent is True
    after_refusal = agent_lines(call)[2:]
    assert after_refusal and not any(NAME_PROMPT in line for line in after_refusal)


def test_a_refused_phone_number_is_skipped():
    call = started(ask_phone=True)
    call.say("Ana")
    call.say("ana@example.com")
    assert call.reply.endswith("in case we need to call you back?")
    call.say("I'd rather not say")
    assert call.reply.startswith("No problem.") and call.reply.endswith("Do you agree?")
    assert "phone" in call.state.gate.skipped and "phone" not in call.state.variables
    call.say("yes")
    assert call.state.consent is True and call.state.node_id == "answer"


def test_a_refused_email_leaves_the_gate_by_its_incomplete_edge_keeping_nothing():
    call = started(gate_exits_apart())
    call.say("Ana")
    call.say("I'd rather not say")
    assert call.reply.startswith("No problem, we can carry on without it.")
    assert call.state.node_id == "anonymous"
    assert call.state.variables == {} and call.state.consent is None


# ---------------------------------------------------------------- what counts as a name

@pytest.mark.parametrize("utterance", ["Yes, correct, I agree", "Cost."])
def test_words_that_are_not_names_are_not_stored_as_the_name(utterance):
    call = started()
    call.say(utterance)
    assert "name" not in call.state.variables and not call.actions("capture")


def test_an_email_spoken_after_its_is_no_name():
    call = started()
    call.say("Hi, um, it's luke dot brennan at mail dot example dot net if you need to email me anything.")
    assert "name" not in call.state.variables and call.state.variables["email"] == "luke.brennan@mail.example.net"


@pytest.mark.parametrize("utterance, name", [("Priya", "Priya"), ("It's Oluwaseun", "Oluwaseun"),
                                             ("Uh, hello, this is Desmond Achterberg.", "Desmond Achterberg"),
                                             ("Hey, it's Ravi Deshpande.", "Ravi Deshpande"),
                                             ("Hello, Maya Chen", "Maya Chen")])
def test_a_name_given_in_reply_to_the_name_question_is_stored(utterance, name):
    call = started()
    call.say(utterance)
    assert call.state.variables["name"] == name
    assert call.reply == f"Thanks, {name.split()[0]}. {EMAIL_PROMPT}"  # the caller hears the name understood


# ---------------------------------------------------------------- consent, hedged

@pytest.mark.parametrize("utterance, granted", [
    ("I don't mind", True),
    ("I suppose that's fine", True),
    ("fine by me", True),
    ("I'd rather you didn't", False),
])
def test_hedged_answers_to_the_consent_question(utterance, granted):
    call = started()
    call.say("Ana")
    call.say("ana@example.com")
    assert call.reply.endswith("Do you agree?")
    call.say(utterance)
    assert call.state.consent is granted
    assert call.actions("consent")[0]["granted"] is granted
    if not granted:
        assert call.state.variables == {}


# ---------------------------------------------------------------- the email, as callers give it

def test_an_email_volunteered_before_the_name_is_read_back_then_the_name_then_consent_is_asked():
    call = started()
    call.say("Hi, my email is a n a at example dot com")
    assert call.reply.startswith("I have a-n-a at example dot com. Is that right?")
    assert WORDING not in call.reply  # the name is still missing: consent comes last
    call.say("yes")
    assert call.state.consent is None and call.reply.endswith(NAME_PROMPT)
    call.say("Ana")
    assert call.reply.endswith("Do you agree?") and WORDING in call.reply
    call.say("yes")
    assert call.state.consent is True and call.state.node_id == "answer"
    assert call.state.variables == {"email": "ana@example.com", "name": "Ana"}


def test_after_two_rejected_read_backs_the_gate_gives_up_on_the_email():
    call = started(gate_exits_apart())
    call.say("Ana")
    call.say("a n a at example dot com")
    call.say("no")
    assert call.reply.endswith(EMAIL_PROMPT)
    call.say("b o b at example dot com")
    assert call.reply.startswith("I have b-o-b at example dot com. Is that right?")
    call.say("no")
    assert "having trouble getting your email address right" in call.reply
    assert call.state.node_id == "anonymous" and "email" not in call.state.variables
    assert call.state.consent is None


class TypedCall(Call):
    def start_typed(self, **typed):
        return self._keep(engine.start(self.flow, self.ctx(), **typed), None)


@pytest.mark.parametrize("before", [[], ["Ana"]])  # at the name question, or later at the RAG Answer node
def test_a_typed_email_beats_one_spoken_later(before):
    call = TypedCall(template())
    call.start_typed(given={"email": "typed@example.com"}, consent=True)
    for utterance in before:
        call.say(utterance)
    call.say("my email is other at example dot com")
    assert call.state.variables["email"] == "typed@example.com"
    assert call.state.sources["email"] == "typed"


def test_a_confirmed_email_is_not_replaced_by_one_mentioned_later_in_passing():
    call = started()
    call.say("Ana")
    call.say("a n a at example dot com")
    call.say("yes")
    assert call.state.sources["email"] == "confirmed"
    call.say("is there parking? you can also write to bob@example.com")
    assert call.state.variables["email"] == "ana@example.com" and call.state.sources["email"] == "confirmed"
    call.say("by the way, my husband's email is bob@example.com")
    assert call.state.variables["email"] == "ana@example.com"


def test_a_correction_during_the_read_back_replaces_the_email():
    call = started()
    call.say("Ana")
    call.say("a n a at example dot com")
    call.say("no, it's x@example.com")
    assert call.state.variables["email"] == "x@example.com"
    assert call.actions("capture")[0]["correction"] is True


# ---------------------------------------------------------------- the name, once known

@pytest.mark.parametrize("at_the_rag_node", [False, True])
def test_a_known_name_is_not_replaced_by_a_weak_cue(at_the_rag_node):
    call = consented() if at_the_rag_node else started()
    if not at_the_rag_node:
        call.say("I'm Ana")
    call.say("I'm calling for my wife Maria")
    assert call.state.variables["name"] == "Ana"


def test_a_known_name_is_replaced_by_a_deliberate_correction():
    call = consented()
    call.say("sorry, my name is Tomas")
    assert call.state.variables["name"] == "Tomas"


def test_a_known_name_is_replaced_by_a_correction_in_the_gate():
    call = started()
    call.say("I'm Ana")
    call.say("sorry, my name is Tomas")
    assert call.state.variables["name"] == "Tomas" and call.reply.endswith(EMAIL_PROMPT)


# ---------------------------------------------------------------- questions the documents cannot answer

def test_an_unanswerable_question_without_a_consented_email_gets_the_plain_honest_answer():
    call = anonymous()
    call.say("do you have a swimming pool?")
    assert call.reply.startswith(NOT_FOUND) and "follow up" not in call.reply
    assert call.state.unanswered == ["do you have a swimming pool?"]
    assert call.state.node_id == "answer" and call.state.status == "active"


def test_an_unanswerable_question_with_a_consented_email_offers_the_default_follow_up():
    call = consented()
    call.say("do you have a swimming pool?")
    assert "I don't have that information" in call.reply and "follow up with you by email" in call.reply
    assert call.state.unanswered == ["do you have a swimming pool?"]


def test_an_unanswerable_question_with_a_consented_email_says_the_campaigns_fallback():
    def change(flow):
        for n in flow["nodes"]:
            if n["id"] == "answer":
                n["config"]["fallback_text"] = "Good question! Our leasing team will email you about it."
    call = consented(with_flow(change))
    call.say("do you have a swimming pool?")
    assert call.reply.startswith("Good question! Our leasing team will email you about it.")
    assert call.state.unanswered == ["do you have a swimming pool?"]


def test_unanswerable_clear_questions_never_hand_the_call_off_for_low_confidence():
    def change(flow):
        for n in flow["nodes"]:
            if n["type"] == "dispatch":
                n["config"]["triggers"]["low_confidence_streak"] = 2
    call = consented(with_flow(change))
    questions = ["do you have a swimming pool?", "is there a sauna?", "can i rent a boat slip?",
                 "are the kitchens gas or electric?", "is there a tennis court?"]
    for question in questions:
        call.say(question)
        assert call.reply.startswith("I don't have that information")
        assert not call.actions("handoff")
    assert call.state.status == "active" and call.state.node_id == "answer"
    assert call.state.handoff is None and call.state.low_confidence_streak == 0
    assert call.state.unanswered == questions


@pytest.mark.parametrize("question", ["what about that?", "tell me more"])
def test_a_vague_question_goes_to_clarify(question):
    call = consented()
    call.say(question)
    assert call.state.node_id == "clarify" and call.state.open_question.startswith(question)
    assert not call.state.unanswered


def test_an_unanswerable_question_in_the_lead_gate_is_answered_honestly_at_once():
    call = started()
    call.say("do you have a swimming pool?")
    assert call.reply == f"{NOT_FOUND} {NAME_PROMPT}"
    assert "come back" not in call.reply
    assert call.state.open_question is None and call.state.unanswered == ["do you have a swimming pool?"]
    call.say("Ana")
    call.say("ana@example.com")
    call.say("yes")  # nothing was promised for later: the RAG Answer node does not bring it up again
    assert call.state.node_id == "answer" and call.reply.endswith("What would you like to know?")
    assert "swimming pool" not in call.reply and "information" not in call.reply


# ---------------------------------------------------------------- questions that sound like goodbyes

@pytest.mark.parametrize("utterance", ["do I have to go to my GP first?", "Do I need to go to my GP first?"])
@pytest.mark.parametrize("semantic", [None, "local"], ids=["rules", "rules and embeddings"])
def test_having_to_go_somewhere_first_is_a_question_not_a_goodbye(utterance, semantic):
    said = understand(utterance, local_matcher() if semantic else None)
    assert said.question and not said.goodbye and said.intent == "question"


@pytest.mark.parametrize("utterance", ["do I have to go to my GP first?", "Do I need to go to my GP first?"])
def test_having_to_go_somewhere_first_does_not_end_the_call(utterance):
    call = consented()
    call.say(utterance)
    assert call.state.status == "active" and call.state.node_id == "answer"
    assert not call.actions("end") and call.reply.endswith("Is there anything else I can help you with?")


# ---------------------------------------------------------------- greetings, requests and statements

def test_good_morning_is_a_greeting_not_a_yes():
    call = started()
    call.say("Good morning!")
    assert call.reply == f"{courtesy.GREETING_REPLY} {NAME_PROMPT}" and not call.state.gate.attempts


def test_a_request_the_documents_do_not_cover_is_noted_for_the_team():
    from quantum_voice.services.flows.answers import REQUEST_NOTED

    call = consented()
    call.say("Could someone come out and give me a quote?")
    assert call.reply.startswith(REQUEST_NOTED)
    assert call.state.requests == ["Could someone come out and give me a quote?"]


def test_asking_about_a_visit_is_a_question_not_a_request():
    call = consented()
    call.say("do you charge to come out and look at my roof?")
    assert call.state.requests == [] and call.state.unanswered == ["do you charge to come out and look at my roof?"]


@pytest.mark.parametrize("question", ["what if I need to cancel my appointment this afternoon?",
                                      "what happens if I need to book a visit and can't make it?",
                                      "do I need to book, or can I just turn up?",
                                      "should I book an appointment first?"])
def test_asking_what_happens_is_a_question_not_a_request(question):
    call = consented()
    call.say(question)
    assert call.state.requests == [] and call.state.unanswered == [question]


def test_what_brought_the_caller_said_before_the_name_is_acknowledged_not_misheard():
    call = started()
    call.say("Hi, I dropped my phone this morning and the screen's totally shattered, I really need it fixed today.")
    assert call.reply == f"Got it, thanks. {NAME_PROMPT}"  # not "Sorry, I didn't catch that"
    assert call.state.variables == {"timeline": "today"} and not call.state.gate.attempts
    call.say("Chloe Martin.")
    assert call.state.variables["name"] == "Chloe Martin"


@pytest.mark.parametrize("utterance", ["the screen's totally shattered", "we're right next to the station",
                                       "it has a great view of the harbour", "my old one was perfect for years"])
def test_yes_words_used_as_adverbs_are_no_answer(utterance):
    assert understand(utterance).answer is None


@pytest.mark.parametrize("utterance, answer", [
    ("totally", "yes"), ("that's right", "yes"), ("right, thanks", "yes"), ("sounds great", "yes"),
    ("that's absolutely fine", "yes"), ("exactly right", "yes"), ("absolutely not", "no"), ("definitely not", "no"),
])
def test_yes_words_that_answer(utterance, answer):
    assert understand(utterance).answer == answer


def test_a_statement_the_documents_do_not_speak_to_is_acknowledged():
    call = consented()
    call.say("We just moved into the area last year.")
    assert call.reply.startswith("Got it, thanks.") and call.state.unanswered == []

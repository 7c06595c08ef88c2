"""Questions about something no business answers get a plain "I can't help with that", with no follow-up offered
and nothing kept for the team; business questions the documents miss keep the honest fallback. Real MiniLM."""

import pytest

from quantum_voice.services.flows.off_topic import OFF_TOPIC_EXAMPLES, is_off_topic
from quantum_voice.services.flows.schema import FlowDefinition
from tests.unit.flows.support import KB_ID, Call, edge, node

# none of these is among the examples the detector compares with
OFF_TOPIC = ["What's the weather going to be like tomorrow?", "Who do you think will win the election?",
             "What's your opinion on the new prime minister?", "Do you know a good recipe for lasagne?",
             "What's your favourite movie?", "What's the best movie of all time?", "What's happening in the news?",
             "Will it be sunny on Saturday?", "What's the best pizza topping?", "Tell me something funny."]
# and some it misses, which get the usual fallback: "Any idea if it will snow next week?", "Do you know any good
# jokes?", "How tall is the Eiffel Tower?", "Who wrote Romeo and Juliet?", "Are you a fan of the Lakers?"
# questions callers ask businesses unlike the benchmark's (a cleaner, a phone repairer, a caterer, a swim school)
BUSINESS = ["Do you clean carpets in offices?", "How much is a one-bedroom deep clean?", "Are your cleaners vetted?",
            "Can you come on a Sunday?", "What happens if something gets broken?", "Do you fix cracked phone "
            "screens?", "Is there a warranty on repairs?", "Do you cater weddings?", "Can you do gluten-free menus?",
            "Do you need a deposit to hold the date?", "Are you open on bank holidays?", "Is the pool heated?",
            "What should my kid bring to the first lesson?", "Do you deliver on weekends?", "Do you sell gift cards?",
            # the weather, a party, the business's own story: business questions that sound like small talk
            "What if it snows on the day of the job?", "Is the outdoor area covered if it rains?",
            "What's the weather like where your shop is, is there shade for waiting?",
            "Do you have space for a party of twenty on the weekend?", "Can I see some reviews?",
            "Can my dog come along?"]


def test_the_table_does_not_repeat_the_examples():
    assert not {q.lower().rstrip("?") for q in OFF_TOPIC} & set(OFF_TOPIC_EXAMPLES)


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_small_talk_about_the_world_is_off_topic(question):
    assert is_off_topic(question)


@pytest.mark.parametrize("question", BUSINESS)
def test_a_question_for_a_business_is_never_off_topic(question):
    assert not is_off_topic(question)


def qa_call() -> Call:
    flow = FlowDefinition.model_validate({
        "nodes": [node("s", "start"), node("qa", "rag_answer", knowledge_base_id=KB_ID), node("e", "end")],
        "edges": [edge("s", "qa"), edge("qa", "e", "done")]})
    call = Call(flow)
    call.start()
    return call


def test_an_off_topic_question_is_declined_without_a_follow_up_or_a_note_for_the_team():
    call = qa_call()
    call.say("who do you think will win the election?")
    assert call.reply.startswith("I'm afraid I can't help with that") and "follow up" not in call.reply
    assert call.state.unanswered == [] and call.state.low_confidence_streak == 0
    call.say("what about schools?")  # a business question the documents miss: the fallback, and kept
    assert call.reply.startswith("I'm sorry, I don't have that information.")
    assert call.state.unanswered == ["what about schools?"]


def test_the_documents_answer_first():
    # a confident answer is never set aside: the check only runs when the documents gave none
    call = qa_call()
    call.say("is it going to rain on the HOA meeting?")
    assert "$350" in call.reply

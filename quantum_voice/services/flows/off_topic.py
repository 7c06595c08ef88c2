"""Is a caller's question about something no business answers ("who won the game last night?")?

Such a question is not a miss of the documents: offering a follow-up from the team ("someone can follow up with
you by email") would be absurd, and it is not kept for the team either. It is told apart from a business
question the documents happen not to cover ("do you do window tinting?") by meaning: all-MiniLM-L6-v2 compares
the question with example questions of both kinds, written for no business in particular (small talk about the
news, sport, weather, trivia, opinions; and what callers ask any service business): ``semantic.ExampleMatcher``
with its own examples and settings. It is off topic only when it is close to an off-topic example (``CLOSE``) and
clearly closer to it than to every business one (``LEAD``), and the RAG Answer node asks only when the documents
gave no confident answer: an off-topic question missed costs nothing worse than the usual fallback; a business
question wrongly set aside would go unanswered ("what if it rains on the day of the party?" scores 0.51 against
"is it going to rain tomorrow").

Measured (tests/unit/flows/test_off_topic.py): none of the conversation benchmark's 200 business questions, nor
the test's 15 for other kinds of business (a cleaner, a phone repairer, a caterer, a swim school), is off topic
at these settings; the test's 7 off-topic questions are caught, and the 3 it lists as missed get the usual
fallback (about half of the off-topic questions tried are caught).
"""

from __future__ import annotations

from quantum_voice.services.flows.semantic import ExampleMatcher, _local_model_embed

CLOSE = 0.55
LEAD = 0.05

OFF_TOPIC_EXAMPLES = (
    "who won the game last night", "what's the score in the match", "what's the weather like today",
    "is it going to rain tomorrow", "who will win the election", "what do you think about the president",
    "tell me a joke", "what's the capital of France", "how tall is Mount Everest", "can you help me with my homework",
    "what's a good recipe for dinner", "what's your favourite film", "what music do you like",
    "what time is it in London", "what's the news today", "what's the meaning of life", "do you believe in god",
    "how are the stocks doing", "who is the most famous actor", "what's two plus two", "can you recommend a good book",
    "where should I go on holiday", "who invented the telephone",
)
BUSINESS_EXAMPLES = (
    "do you offer this service", "how much does it cost", "what are your opening hours", "where are you located",
    "can I book an appointment", "do you have availability this week", "what's included in the price",
    "do you give discounts", "how long does it take", "are you insured", "what areas do you cover",
    "can I pay by card", "what is your cancellation policy", "do you do repairs", "who will do the work",
    "is there a warranty", "can you come to my house", "do you accept new customers", "what do I need to bring",
)

_matcher: ExampleMatcher | None = None


def _off_topic_matcher() -> ExampleMatcher:
    global _matcher
    if _matcher is None:
        _matcher = ExampleMatcher(_local_model_embed, threshold=CLOSE, margin=LEAD,
                                  examples={"off_topic": OFF_TOPIC_EXAMPLES, "business": BUSINESS_EXAMPLES})
    return _matcher


def is_off_topic(question: str) -> bool:
    """Close to an off-topic example and clearly closer to it than to every business one; never without the
    model."""
    return _off_topic_matcher().match(question, {"off_topic"}) is not None

"""Is a caller's question about something no business answers ("who won the game last night?")?

Such a question is not a miss of the documents: offering a follow-up from the team ("someone can follow up with
you by email") would be absurd, and it is not kept for the team either. It is told apart from a business
question the documents happen not to cover ("do you do window tinting?") by meaning: all-MiniLM-L6-v2 compares
the question with example questions of both kinds, written for no business in particular (small talk about the
news, sport, weather, trivia, opinions; and what callers ask any service business): ``semantic.ExampleMatcher``
with its own examples and settings. It is off topic only when it is close to an off-topic example (``CLOSE``) and
clearly closer to it than to every business one (``LEAD``), and the RAG Answer node asks only when the documents
gave no confident answer: an off-topic question missed costs nothing worse than the usual fallback; a business
question wrongly set aside would go unanswered. So the settings favour precision: at 0.55 "what happens if it
rains on the day?" (a caterer's caller) scored 0.56 against "is it going to rain tomorrow" and was set aside.

Measured on questions written before the examples were chosen (2026-12-04): 6 of 15 off-topic questions caught;
none of 18 business questions for other kinds of business, nor the conversation benchmark's 200, set aside. The
test (tests/unit/flows/test_off_topic.py) holds off-topic questions that must be caught, business ones that must
not, and lists some that are missed. The misses get the usual fallback.
"""

from __future__ import annotations

from quantum_voice.services.flows.semantic import ExampleMatcher, _local_model_embed

CLOSE = 0.6
LEAD = 0.05

OFF_TOPIC_EXAMPLES = (
    "who won the game last night", "what's the score in the match", "what's the weather like today",
    "is it going to rain tomorrow", "who will win the election", "what do you think about the president",
    "tell me a joke", "what's the capital of France", "how tall is Mount Everest", "can you help me with my homework",
    "what's a good recipe for dinner", "what's your favourite film", "what music do you like",
    "what time is it in London", "what's the news today", "what's the meaning of life", "do you believe in god",
    "how are the stocks doing", "who is the most famous actor", "what's two plus two", "can you recommend a good book",
    "where should I go on holiday", "who invented the telephone",
    # sport, screen and music, the world's facts, the assistant's own tastes, politics
    "did you see the game on Sunday", "which team will win the league", "who's your favourite football team",
    "what was the score in the final", "what's the best movie out right now", "who's your favourite singer",
    "what's on tv tonight", "who won the Oscars", "can you sing me a song", "tell me a story",
    "how many planets are in the solar system", "how old is the universe", "what's the population of the world",
    "who painted the Mona Lisa", "when did the Second World War end", "how far away is the moon", "are aliens real",
    "what is the biggest animal in the world", "what's your favourite colour", "what's your star sign",
    "do you like pizza", "do you have any hobbies", "what do you think of the economy",
    "which party should I vote for", "what's the weather forecast for the weekend",
)
BUSINESS_EXAMPLES = (
    "do you offer this service", "how much does it cost", "what are your opening hours", "where are you located",
    "can I book an appointment", "do you have availability this week", "what's included in the price",
    "do you give discounts", "how long does it take", "are you insured", "what areas do you cover",
    "can I pay by card", "what is your cancellation policy", "do you do repairs", "who will do the work",
    "is there a warranty", "can you come to my house", "do you accept new customers", "what do I need to bring",
    # business questions that sound like small talk: the weather on the day, parties, the business's own story
    "how long have you been in business", "what happens if it rains on the day", "can you work in bad weather",
    "do you cater for parties and events", "can I bring my children", "is there parking",
    "can I get a quote over the phone", "do you sell gift vouchers", "what payment methods do you accept",
    "can I change my booking", "what do your customers say about you", "is it suitable for a group",
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

"""End of turn from the transcript and the question asked (agent/turns.py), and its seat in livekit's session."""

import asyncio

import pytest
from livekit.agents import llm

from agent.turns import LIKELY, PLAIN, THRESHOLD, UNLIKELY, TranscriptTurnDetector, end_of_turn_probability
from agent.voice import turn_detector

EMAIL = "What's the best email address to reach you?"
PHONE = "And what's the best phone number to reach you?"


@pytest.mark.parametrize("said", ["Is parking included?", "Yes, I agree.", "No.", "How much is the HOA fee?",
                                  "My email is John.Smith at example.com.", "Thanks, that's all!"])
def test_a_finished_sentence_is_the_end_of_the_turn(said):
    assert end_of_turn_probability(said) == LIKELY > THRESHOLD


def test_words_without_punctuation_end_the_turn_but_less_surely():
    assert end_of_turn_probability("Maria Garcia") == PLAIN > THRESHOLD


@pytest.mark.parametrize("said", ["My email is.", "I'd like to know about the", "So, um...", "Well, and",
                                  "I was wondering if", "Can I book a tour for,", "It's john dot"])
def test_a_turn_that_trails_off_is_not_over(said):
    assert end_of_turn_probability(said) == UNLIKELY < THRESHOLD


@pytest.mark.parametrize("said, over", [
    ("john.smith", False),
    ("John dot Smith at example.", False),
    ("My email address is", False),
    ("My email is john.smith@example.com.", True),
    ("It's jane at gmail dot com.", True),
    ("No, I'd rather not.", True),  # a refusal is a whole answer
    ("What about parking?", True),
])
def test_an_email_asked_for_is_awaited_until_it_has_a_domain(said, over):
    assert (end_of_turn_probability(said, EMAIL) > THRESHOLD) is over


@pytest.mark.parametrize("said, over", [
    ("It's 555-123.", False),
    ("five five five", False),
    ("555-123-4567.", True),
    ("I don't have one.", True),
    ("Call me at 415 555 0134.", True),
])
def test_a_phone_number_asked_for_is_awaited_until_it_has_seven_digits(said, over):
    assert (end_of_turn_probability(said, PHONE) > THRESHOLD) is over


def test_nothing_said_is_no_turn():
    assert end_of_turn_probability("   ") == 0.0


def test_the_detector_reads_the_callers_words_and_the_agents_last_line():
    chat = llm.ChatContext()
    chat.add_message(role="assistant", content="Hi! Can I get your name, please?")
    chat.add_message(role="user", content="John Smith.")
    chat.add_message(role="assistant", content=EMAIL)
    chat.add_message(role="user", content="It's john dot smith at")
    detector = TranscriptTurnDetector()
    assert asyncio.run(detector.predict_end_of_turn(chat)) == UNLIKELY
    chat.add_message(role="user", content="It's john dot smith at example dot com.")
    assert asyncio.run(detector.predict_end_of_turn(chat)) == LIKELY
    assert asyncio.run(detector.unlikely_threshold("en")) == THRESHOLD
    assert asyncio.run(detector.supports_language("en-US")) and not asyncio.run(detector.supports_language("de"))


def test_the_setting_picks_the_detector():
    assert isinstance(turn_detector("transcript"), TranscriptTurnDetector)
    assert turn_detector("vad") is None
    assert type(turn_detector("audio")).__name__ == "TurnDetector"  # livekit's offline audio model
    with pytest.raises(ValueError, match="VOICE_TURN_DETECTOR"):
        turn_detector("psychic")

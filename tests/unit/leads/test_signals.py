"""Keyword matching for lead scoring: word forms, phrases with a filler word, spelling, clauses and negation."""

import pytest

from quantum_voice.services.leads.signals import clauses, forms, keywords_said, said, said_any


@pytest.mark.parametrize("keyword,heard", [
    ("quote", "quotes"), ("quote", "quoted"), ("quote", "quoting"), ("visit", "visiting"), ("visit", "visits"),
    ("visit", "visited"), ("schedule", "scheduling"), ("schedule", "scheduled"), ("price", "pricing"),
    ("finance", "financing"), ("charge", "charges"), ("reserve", "reserving"), ("fee", "fees"),
    ("inquiry", "inquiries"), ("stop by", "stopping by"), ("come out", "coming out"), ("sign up", "signed up"),
    ("follow up", "following up"), ("test drive", "test driving"), ("call me back", "calling me back"),
])
def test_word_forms(keyword, heard):
    assert said(f"we were {heard} today", keyword)


@pytest.mark.parametrize("keyword,heard", [
    ("book", "bookcase"), ("book", "facebook"), ("visit", "visitor centre"), ("me", "mess"), ("cost", "costume"),
    ("come out", "come in and out"), ("how much", "how very very much"),
])
def test_only_whole_words_and_at_most_one_filler(keyword, heard):
    assert not said(f"the {heard} was fine", keyword)


def test_short_words_match_only_as_they_are():
    assert forms("me") == {"me"} and forms("a") == {"a"}
    assert not said("please email mes", "email me")


def test_phrases_allow_one_filler_word():
    assert said("could someone come right out", "come out")
    assert said("call me right back please", "call me back")
    assert not said("come over to the other side and out", "come out")


def test_spelling_is_ignored():
    assert said("What’s the DAMAGE?", "what's the damage")
    assert said("whats the damage", "what's the damage")
    assert said("the move-in date", "move in") and said("the move in date", "move-in")
    assert said("can you e-mail me", "email me")
    assert said("how   much", "how much")


def test_clauses_break_at_punctuation_and_contrast_words():
    parts = clauses("No, I don't need a quote, but can you visit? Thanks.")
    assert [c.words for c in parts] == [("no",), ("i", "dont", "need", "a", "quote"), ("can", "you", "visit"),
                                        ("thanks",)]
    assert [c.asking for c in parts] == [False, False, True, False]


@pytest.mark.parametrize("sentence", [
    "I don't need a quote", "we do not need a quote", "no quote", "no need for a quote really",
    "I'm not after a quote", "we never asked for a quote", "we'll manage without a quote",
    "I dont really need a quote",
])
def test_negations_cancel_a_keyword(sentence):
    assert not said(sentence, "quote")


@pytest.mark.parametrize("sentence", [
    "I'm not sure, can I get a quote", "I don't know if you do quotes", "I wouldn't mind a quote",
    "can't wait to get the quote", "don't you do quotes?", "why don't you send a quote", "no, I'd like a quote",
    "I don't need a visit, a quote is fine", "not now but a quote later", "isn't there a quote option?",
    "this is not a problem at all and I would like a quote",  # the negator is more than four words away
])
def test_not_negations(sentence):
    assert said(sentence, "quote")


def test_a_negated_mention_does_not_hide_a_later_one():
    assert said("No quote needed. Can I get a quote for the garage though?", "quote")


def test_keywords_said_explains_which_matched():
    assert keywords_said("How much for a quote, and can you email me?", ["how much", "quote", "email me", "tour"]) \
        == ["how much", "quote", "email me"]
    assert said_any("hello", ["tour", "visit"]) is False


def test_a_keyword_without_words_is_searched_as_text():
    assert said("is that 24/7?", "24/7") and said("call 24/7", "24/7")
    assert said("fees in $$$", "$$$") and not said("fees in dollars", "$$$")

"""Email addresses said, spelled and repaired, read back for confirmation; other field extractors."""

import pytest

from quantum_voice.services.leads.emails import extract_email, readback, repair_missing_at, spoken_to_written
from quantum_voice.services.leads.extraction import (
    extract_choice,
    extract_date_time,
    extract_pattern,
    extract_phone,
    extract_timeline,
)


def test_whisper_without_the_spoken_at_is_repaired_and_read_back():
    for heard in ("john.smith.example.com", "john.smithatexample.com"):
        candidate = extract_email(heard)
        assert candidate.address == "john.smith@example.com" and candidate.spoken
        assert f"I have {readback(candidate.address)} — is that right?" == \
            "I have j-o-h-n dot smith at example dot com — is that right?"


@pytest.mark.parametrize("token,expected", [
    ("matt.jones.gmail.com", "matt.jones@gmail.com"),  # a known provider wins
    ("kate.atlassian.com", "kate@atlassian.com"),  # "at" at the start of a domain is not a swallowed "at"
    ("ana.lopez.acme.co.uk", "ana.lopez@acme.co.uk"),
    ("example.com", None),  # a website, not an address
    ("3.5", None),
    ("e.g.", None),
])
def test_repair_missing_at(token, expected):
    assert repair_missing_at(token) == expected


def test_spelled_letters_and_spoken_symbols_are_joined():
    assert spoken_to_written("my email is j o h n dot doe at example dot com") == "my email is john.doe@example.com"


@pytest.mark.parametrize("address,spoken", [
    ("ana@example.com", "a-n-a at example dot com"),
    ("john.smith@example.com", "j-o-h-n dot smith at example dot com"),
    ("ana_lopez99@outlook.com", "a-n-a underscore l-o-p-e-z-9-9 at outlook dot com"),
    ("jo.li@mail.co.uk", "j-o dot l-i at mail dot co dot uk"),
])
def test_readback_spells_what_is_easily_misheard(address, spoken):
    assert readback(address) == spoken


def test_invalid_spoken_email_is_not_accepted():
    assert extract_email("john at example dot") is None
    assert extract_email("john dot at dot com") is None


def test_phone_needs_seven_to_fifteen_digits():
    assert extract_phone("call 911") is None
    assert extract_phone("one two three four five six seven eight nine zero one two three four five six") is None
    assert extract_phone("it's 555 0199 thanks") == "5550199"


def test_money_is_not_a_phone_number():
    assert extract_phone("my budget is $1,500,000") is None


def test_custom_choice_with_spoken_synonyms():
    choices = ["3-bedroom|three bedroom|3 bed", "2-bedroom|two bedroom"]
    assert extract_choice("we'd love a three bedroom place", choices) == "3-bedroom"
    assert extract_choice("the 2 bedroom one", ["2-bedroom|2 bedroom"]) == "2-bedroom"
    assert extract_choice("a studio", choices) is None


def test_day_and_time():
    assert extract_date_time("could we do next Tuesday at 3pm?") == "next Tuesday at 3pm"
    assert extract_date_time("tomorrow morning works") == "tomorrow morning"
    assert extract_date_time("June 12th at 10") == "June 12th at 10"
    assert extract_date_time("whenever") is None


def test_pattern_uses_the_value_group_when_there_is_one():
    assert extract_pattern("my order is AB-12345", r"order is (?P<value>[A-Z]{2}-\d+)") == "AB-12345"
    assert extract_pattern("nothing here", r"\d{5}") is None


@pytest.mark.parametrize("said, address", [
    ("Hi, this is Ana Ruiz, you can email me at ana dot ruiz at example dot net.", "ana.ruiz@example.net"),
    ("reach us at bookings at example dot com", "bookings@example.com"),
    ("my email is me at example dot com", "me@example.com"),  # "me" can be the address itself
])
def test_the_at_of_email_me_at_is_not_the_addresses_own(said, address):
    candidate = extract_email(said)
    assert candidate and candidate.address == address


@pytest.mark.parametrize("said, timeline", [
    ("We'd like it done tomorrow morning.", "tomorrow morning"),
    ("Hoping to start the week of the 14th.", "the week of the 14th"),
    ("Could you come next Tuesday?", "next tuesday"),
    ("Ideally by June 3rd.", "by june"),
    ("Sometime around the 3rd of June.", "the 3rd of june"),
    ("I really need it fixed today.", "today"),
    ("We're hoping to get this done this afternoon.", "this afternoon"),
    ("Can I have it back by Friday?", "by friday"),
    ("We're hoping to do this before the heating season starts.", "before the heating season starts"),
    ("Ideally ahead of the holidays.", "ahead of the holidays"),
])
def test_a_timeline_said_as_a_day(said, timeline):
    assert extract_timeline(said) == timeline


@pytest.mark.parametrize("said", ["How are you today?", "I may 5 times have called", "Is it open Saturdays?",
                                  "My dog is 12 weeks old.", "I'm fine today, thanks.",
                                  "I dropped it this morning."])
def test_small_talk_and_numbers_are_no_timeline(said):
    assert extract_timeline(said) is None

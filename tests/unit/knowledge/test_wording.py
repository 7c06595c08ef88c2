"""Bridging how callers ask and how documents say it: stems, everyday synonyms, the kind of answer wanted, and
the extractive answerer that uses them to pick the sentence a caller hears."""

import pytest

from quantum_voice.services.knowledge.answering import ExtractiveAnswerer
from quantum_voice.services.knowledge.chunking import HEADING_MARK
from quantum_voice.services.knowledge.retrieval import Passage
from quantum_voice.services.knowledge.wording import (answer_types, in_plain_words, question_terms, stem, stems_of,
                                                      types_in, with_ranges_spelled_out)


@pytest.mark.parametrize("one, other", [("insured", "insurance"), ("licensed", "license")])
def test_word_forms_share_a_stem(one, other):
    assert stem(one) == stem(other)


def test_different_words_keep_different_stems():
    assert stem("insured") != stem("licensed")


def test_a_callers_word_brings_the_documents_word_with_it():
    terms = question_terms("do you fit heat pumps")
    fit = next(options for options in terms if stem("fit") in options)
    assert stem("install") in fit
    assert any(stem("pumps") in options for options in terms)


@pytest.mark.parametrize("question, wanted", [
    ("how much is it", "money"),
    ("where are you located", "address"),
    ("how long have you been around", "year"),
    ("how long does it take", "duration"),
    ("are you open on Saturday", "time"),
    ("what's your phone number", "phone"),
    ("is there somewhere to stay close by", "distance"),
    ("how old is the building", "year"),
    ("how long has the clinic been around", "year"),
    ("is it cheaper in the daytime", "money"),
    ("I work till six, could I come in the evening", "time"),
])
def test_the_kind_of_answer_a_question_wants(question, wanted):
    assert wanted in answer_types(question)


def test_close_by_is_about_distance_not_closing_time():
    assert "time" not in answer_types("is there a hotel close by?")
    assert "time" in answer_types("when do you close?")


def test_how_long_have_you_been_around_wants_a_year_not_a_duration():
    assert "duration" not in answer_types("how long have you been around")


@pytest.mark.parametrize("text, kind", [
    ("Call (555) 012-8857", "phone"),
    ("It costs $40", "money"),
    ("There is no charge", "money"),
    ("The inn is 400 metres along the quay", "distance"),
    ("We're next door to the post office", "distance"),
    ("A restored 1890s warehouse", "year"),
    ("The mill was built in 1887", "year"),
])
def test_the_kinds_of_answer_a_sentence_holds(text, kind):
    assert kind in types_in(text)


def test_the_full_text_search_also_looks_for_the_documents_words():
    from quantum_voice.services.knowledge.fulltext import MAX_TERMS, search_terms

    terms = search_terms("can you fix my phone after I dropped it in the bath?")
    assert terms[:3] == ["fix", "phone", "dropped"] and {"repair", "liquid", "water"} <= set(terms)
    assert len(search_terms(" ".join(f"fix{i} cost{i}" for i in range(40)) + " fix cost")) <= MAX_TERMS


@pytest.mark.parametrize("question, plain", [
    ("how far out can we book?", "how far ahead in advance can we book?"),
    ("could we do it over the computer?", "could we do it online virtual video?"),
    ("can someone swing by and grab it?", "can someone collect pick up it?"),
    ("I'm locked out of my phone", "I'm locked out forgotten passcode of my phone"),
])
def test_callers_idioms_in_plain_words(question, plain):
    assert in_plain_words(question) == plain


def test_a_quantity_is_no_year():
    assert "year" not in types_in("The hall holds 1500 square feet of dance floor.")


@pytest.mark.parametrize("text, held, not_held", [
    ("Monday to Thursday, any time of year: $4,500.", {"wednesday", "weekday"}, {"friday", "weekend"}),
    ("Off-season Saturday (October to April) is $6,900.", {"november", "january"}, {"june"}),
    ("Open Mon-Fri, 9 to 5.", {"tuesday", "weekday"}, {"saturday"}),
    ("Friday to Sunday only.", {"saturday", "weekend"}, {"monday"}),
])
def test_a_range_of_days_or_months_holds_the_ones_inside(text, held, not_held):
    stems = stems_of(text)
    assert {stem(w) for w in held} <= stems and not {stem(w) for w in not_held} & stems


def test_text_without_a_range_is_left_alone():
    assert with_ranges_spelled_out("We may close early in March.") == "We may close early in March."


def test_a_sentence_without_figures_holds_no_money_or_phone():
    assert not {"money", "phone"} & types_in("We groom dogs of all sizes.")


# ---------------------------------------------------------------- the extractive answerer, on a small business

def passage(text: str, section: str, chunk_id: int) -> Passage:
    return Passage(chunk_id, 10, "flowright.txt", text, 1, section, 0.6, 0.5, 0.8, 0.03)


HEADINGS = ["About Us", "Insurance and Licensing", "Hours and Contact"]
PLUMBER = [
    passage(f"{HEADING_MARK}About Us\nFlowRight Plumbing has served Millbrook since 2009. We repair leaks, unblock "
            f"drains and install water heaters.\n{HEADING_MARK}Insurance and Licensing\nWe carry $2 million public "
            "liability insurance. All our plumbers hold a state plumbing licence.", "FlowRight Plumbing › About", 1),
    passage(f"{HEADING_MARK}Hours and Contact\nWe are open from 7am to 6pm, Monday to Saturday.\n"
            "Address: 52 Willow Bend Road, Millbrook.\nPhone: (555) 012-8857.", "FlowRight Plumbing › Contact", 2),
]


def test_are_you_insured_picks_the_insurance_sentence():
    answer = ExtractiveAnswerer().answer("are you insured?", PLUMBER)
    assert answer.text.startswith("We carry $2 million public liability insurance."), answer.text


def test_where_are_you_picks_the_address():
    answer = ExtractiveAnswerer().answer("where are you?", PLUMBER)
    assert "52 Willow Bend Road" in answer.text.split(".")[0], answer.text


@pytest.mark.parametrize("question", ["are you insured?", "where are you?", "what are your hours?",
                                      "how long have you been around?", "what do you do?"])
def test_an_answer_never_reads_out_a_heading(question):
    answer = ExtractiveAnswerer().answer(question, PLUMBER)
    assert answer is not None
    assert not any(heading in answer.text for heading in HEADINGS) and HEADING_MARK.strip() not in answer.text


def test_the_next_best_sentence_is_kept_as_the_alternative_and_is_never_what_was_said():
    choice = ExtractiveAnswerer().choose("do your plumbers have a licence and insurance?", PLUMBER)
    assert choice.alternative and choice.alternative not in choice.text
    assert choice.alternative in {c.text for c in ExtractiveAnswerer()._candidates(
        "do your plumbers have a licence and insurance?", PLUMBER)}
    assert ExtractiveAnswerer().answer("do your plumbers have a licence and insurance?", PLUMBER).alternative \
        == choice.alternative


def test_an_off_topic_question_gets_a_low_confidence():
    answer = ExtractiveAnswerer().answer("do you do window tinting?", PLUMBER[:1])
    assert answer is None or answer.confidence < 0.5


@pytest.mark.parametrize("question, plain", [
    ("roughly what would a new boiler set me back?", "roughly what would a new boiler cost?"),
    ("how long have you guys been around?", "when was the business founded since what year?"),
    ("can I spread the cost out over a few years?", "can I financing loan monthly payments over a few years?"),
    ("is there any wiggle room?", "is there any negotiate the price no-haggle discount?"),
])
def test_callers_idioms_are_searched_in_plain_words(question, plain):
    assert in_plain_words(question) == plain


@pytest.mark.parametrize("question", ["can you send someone out today?", "is the roof damage covered?",
                                      "are you open at the weekend?"])
def test_plain_questions_are_left_as_they_are(question):
    assert in_plain_words(question) == question


@pytest.mark.parametrize("sentence, kind", [
    ("A 1-hour lesson is £38.", "money"), ("Entry is €12 for adults.", "money"), ("It's 40 pounds a month.", "money"),
    ("Lessons run Monday to Friday, 7am–9pm.", "time"),
    ("Kestrel Driving School, 14 Bridge Row, Harrowby HB4 2TL", "address"),
    ("Phone: 01632 960418", "phone"), ("Call +44 1632 960418 from abroad.", "phone"),
])
def test_amounts_times_addresses_and_numbers_written_the_british_or_european_way_are_recognised(sentence, kind):
    assert kind in types_in(sentence)


def test_an_afternoon_time_is_not_taken_for_money():
    assert "money" not in types_in("We close at 3 p.m. on Fridays.")


def test_till_in_a_statement_does_not_make_a_question_about_a_duration():
    assert "duration" not in answer_types("I work till six most days, could I do lessons in the evening?")
    assert "duration" in answer_types("how long till I see a price?")


@pytest.mark.parametrize("question, words", [
    ("is there a card where I buy a bunch of visits?", {"pack", "block"}),
    ("if I want to pack it in completely, what do I do?", {"cancel"}),
    ("do I get my money back?", {"refund"}),
    ("are you open on Boxing Day?", {"boxing", "holiday"}),
    ("could we leave the dog with you for a week?", {"boarding"}),
    ("any chance you can see her today?", {"same-day"}),
    ("would the instructor come and get me from college?", {"pick-up"}),
    ("is there any way to split it up?", {"instalments"}),
    ("what if you cancel last minute?", {"notice"}),
    ("what if I get it home and I hate it?", {"return"}),
    ("can you drop the car off at my house?", {"delivery"}),
    ("will I hear how she's doing while I'm away?", {"updates"}),
    ("I've got a bearded dragon, can you see him?", {"bearded dragon", "reptile"}),
    ("my dog just ate a bar of dark chocolate, what do I do?", {"chocolate", "emergency"}),
    ("is anybody there with the dogs at night?", {"overnight"}),
    ("after the visit, how long till I see a price?", {"quote"}),
])
def test_everyday_phrasings_gain_the_words_documents_use(question, words):
    plain = in_plain_words(question).lower()
    assert all(word in plain for word in words), plain


def test_a_tap_is_a_faucet_and_photos_are_data():
    terms = question_terms("my kitchen tap is dripping, can you get my photos back?")
    assert any(stem("faucet") in options for options in terms) and any(stem("data") in options for options in terms)


def test_a_look_at_something_keeps_what_is_to_be_looked_at():
    assert "desktop" in in_plain_words("could you have a look at my desktop PC?")

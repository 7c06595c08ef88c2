"""A passage as the sentences an agent could say from it: headings are context, never answers; labels and list
items become sentences a caller can follow; an FAQ's question is context for its answer."""

import pytest

from quantum_voice.services.knowledge.chunking import HEADING_MARK
from quantum_voice.services.knowledge.spoken import units_of

CONTACT = (f"{HEADING_MARK}Hours and Contact\n"
           "We are open from 9am to 5pm on weekdays.\n"
           "Address: 52 Willow Bend Road.\n"
           "Phone: (555) 012-8857.")


def sayable(text: str, section: str | None = None):
    """The units an agent could say (an FAQ question is only context for its answer)."""
    return [unit for unit in units_of(text, section) if not unit.text.endswith("?")]


def spoken(text: str, section: str | None = None) -> list[str]:
    return [unit.spoken for unit in sayable(text, section)]


def test_a_marked_heading_is_never_a_unit_and_heads_what_follows():
    units = sayable(CONTACT, "Paws Place › About")
    assert all("Hours and Contact" not in u.text and "Hours and Contact" not in u.spoken for u in units)
    assert [u.heading for u in units] == ["Hours and Contact"] * 3
    assert units[0].spoken == "We are open from 9am to 5pm on weekdays."


def test_the_last_part_of_the_section_path_heads_the_units_before_any_marked_heading():
    units = sayable(f"We groom dogs of all sizes.\n{HEADING_MARK}Policies\nWe close on public holidays.",
                     "Paws Place › Services › Grooming")
    assert [(u.text, u.heading) for u in units] == [("We groom dogs of all sizes.", "Grooming"),
                                                   ("We close on public holidays.", "Policies")]


def test_without_a_section_the_heading_is_empty():
    assert sayable("We groom dogs of all sizes.", None)[0].heading == ""


@pytest.mark.parametrize("line, said", [
    ("Address: 52 Willow Bend Road.", "Our address is 52 Willow Bend Road."),
    ("Phone: (555) 012-8857.", "Our phone number is (555) 012-8857."),
    ("Full day: $38.", "Full day is $38."),
    ("Critter guards: $45 per panel.", "Critter guards are $45 per panel."),
    ("Drop-off and pick-up: 7 a.m. to 7 p.m.", "Drop-off and pick-up are 7 a.m. to 7 p.m."),
    ("Saturday: 9 a.m. to 1 p.m.", "Saturday: 9 a.m. to 1 p.m."),  # a day stays a label
    ("Free site assessment: a surveyor checks your roof.", "Free site assessment: a surveyor checks your roof."),
    ("Corner room with a balcony and a sea view: $180 per night.", "Corner room with a balcony and a sea view is $180 "
                                                                   "per night."),
    ("A second room for a guest sharing the cottage: $30 per night.", "A second room for a guest sharing the cottage is "
                                                                     "$30 per night."),
])
def test_a_label_and_its_value_are_said_as_a_sentence(line, said):
    assert spoken(line) == [said]


def test_list_items_are_said_after_their_lead_in_and_the_lead_in_alone_is_not_a_unit():
    units = sayable("We can't take:\nPuppies younger than 12 weeks.\nDogs with fleas.", "Policies")
    assert [u.spoken for u in units] == ["We can't take puppies younger than 12 weeks.",
                                         "We can't take dogs with fleas."]
    assert [u.text for u in units] == ["Puppies younger than 12 weeks.", "Dogs with fleas."]
    assert all(u.intro == "We can't take:" for u in units)


def test_an_faq_question_is_the_asked_context_of_its_answer_and_a_bare_yes_leads_it():
    units = sayable("Q: Do you groom cats?\nA: Yes. We do.\nQ: Is parking free?\nA: Parking costs $5.", "FAQ")
    assert [u.asked for u in units] == ["Do you groom cats?", "Is parking free?"]
    assert units[0].spoken == "Yes. We do."
    assert units[1].spoken == "Parking costs $5."
    assert not any("?" in u.spoken or u.spoken.startswith(("Q:", "A:")) for u in units)


@pytest.mark.parametrize("text", [
    "Q: My dog panics at the vet. Can you help? A: Yes. We go slowly.",  # one paragraph, as Markdown joins it
    "Q: My dog panics at the vet. Can you help?\nA: Yes. We go slowly.",
])
def test_an_faq_question_of_several_sentences_is_one_question_and_never_said(text):
    units = units_of(text, "FAQ")
    assert [u.text for u in units if u.is_question] == ["My dog panics at the vet. Can you help?"]
    assert [(u.spoken, u.asked) for u in units if not u.is_question][0] == ("Yes. We go slowly.",
                                                                         "My dog panics at the vet. Can you help?")


def test_a_table_row_is_said_the_way_a_person_reads_it_and_its_header_row_is_not_said():
    units = units_of("Lesson | Manual | Automatic\nLesson: 1-hour lesson; Manual: £38; Automatic: £42\n"
                     "Plan: Kitten Plan; Per month: $31\nDay: Monday; Hours: 7:30am–6pm\n"
                     "Model: 2-bedroom; Price: $689,000; Features: garden", "Prices")
    assert [u.spoken for u in units] == ["1-hour lesson: £38 manual, £42 automatic.", "Kitten Plan is $31 per month.",
                                         "Monday: 7:30am–6pm.", "2-bedroom: $689,000, features garden."]


def test_a_table_row_whose_cells_hold_sentences_stays_one_unit():
    units = units_of("Course | What it is | Price\nCourse: Ropes Foundation; What it is: 2 × 2-hour sessions. "
                     "Leave able to belay; Price: £55", "Courses")
    assert [u.spoken for u in units] == ["Ropes Foundation is 2 × 2-hour sessions. Leave able to belay, £55."]


def test_a_label_without_a_colon_over_a_short_list_leads_its_items_until_a_sentence():
    units = units_of("Off-peak (Monday to Friday before 4pm)\nAdult £11\nConcession £9.50\n"
                     "Concessions are for students.\nMonday to Friday 7am–9pm\nSaturday 8am–6pm", None)
    assert [u.spoken for u in units][:3] == ["Off-peak (Monday to Friday before 4pm): adult £11.",
                                             "Off-peak (Monday to Friday before 4pm): concession £9.50.",
                                             "Concessions are for students."]
    assert not any(u.intro for u in units[3:])  # a list of hours is no label over a list


def test_a_pdf_tables_header_row_is_no_label_and_a_wrapped_sentence_is_no_item():
    units = units_of("Model Bedrooms Bathrooms Interior size Starting price\nAster 1 1 640 sq ft $420,000\n"
                     "Birch 2 2 980 sq ft $565,000\nEvery residence has a private balcony. Cedar homes get light from "
                     "two", None)
    assert not any(u.intro for u in units)
    assert "Every residence has a private balcony." in [u.spoken for u in units]


def test_a_label_set_off_by_a_dash_before_an_amount_is_said_as_a_sentence():
    assert spoken("Car for your test — £120.") == ["Car for your test is £120."]
    assert spoken("New pupil offer — your first 2 hours for £55.") == ["New pupil offer — your first 2 hours for £55."]


def test_an_unmarked_heading_line_in_an_older_chunk_is_treated_as_a_heading():
    units = sayable("Opening Hours\nWe are open from 9am to 5pm, Monday to Saturday.", None)
    assert [u.spoken for u in units] == ["We are open from 9am to 5pm, Monday to Saturday."]
    assert units[0].heading == "Opening Hours"


def test_a_short_sentence_is_not_mistaken_for_a_heading():
    units = sayable("We love dogs.\nEvery groom includes a bath, a brush and a nail trim.", "Grooming")
    assert [u.text for u in units] == ["We love dogs.", "Every groom includes a bath, a brush and a nail trim."]


@pytest.mark.parametrize("heading, items, said", [
    ("What We Repair", ["Cracked phone screens and worn batteries.", "Water-damaged laptops."],
     ["We repair cracked phone screens and worn batteries.", "We repair water-damaged laptops."]),
    ("Who We Can't Seat", ["Parties larger than 14 guests."], ["We can't seat parties larger than 14 guests."]),
    ("Brands We Stock", ["Ortlieb panniers and Brooks saddles."], ["We stock Ortlieb panniers and Brooks saddles."]),
    ("Services", ["Gutter cleaning and moss removal."], ["Our services include gutter cleaning and moss removal."]),
])
def test_a_listed_noun_phrase_is_said_as_a_sentence_through_its_heading(heading, items, said):
    assert spoken("\n".join(items), f"Guide › {heading}") == said


@pytest.mark.parametrize("heading, line", [
    ("What We Repair", "We also fix game consoles."),  # a sentence already
    ("What We Repair", "Replace the battery yourself and the warranty ends."),  # an instruction is a sentence
    ("How a Repair Works", "Diagnosis, which takes about an hour."),  # a heading with no subject for the item
    ("Prices and Parking", "Free parking behind the shop."),
    ("Kestrel Cycles", "Refurbished road bikes and touring frames."),  # a name is no subject ("Our kestrel cycles")
    ("FAQs", "Refurbished road bikes and touring frames."),
])
def test_a_sentence_or_an_item_whose_heading_gives_no_verb_is_said_as_written(heading, line):
    assert spoken(line, f"Guide › {heading}") == [line]


def test_an_faq_answer_is_never_rewritten_through_the_heading():
    assert spoken("Do you sell used bikes?\nRefurbished road bikes only.", "Guide › What We Sell") == [
        "Refurbished road bikes only."]


def test_without_the_parser_every_line_is_said_as_written(monkeypatch):
    from quantum_voice.services.knowledge import grammar

    monkeypatch.setattr(grammar, "_nlp", None)
    monkeypatch.setattr(grammar, "_failed", True)
    grammar.shape_of.cache_clear()
    try:
        assert spoken("Water-damaged laptops.", "Guide › What We Repair") == ["Water-damaged laptops."]
    finally:
        grammar.shape_of.cache_clear()

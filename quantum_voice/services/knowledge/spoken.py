"""A passage as the things an agent could say from it: whole sentences, each with the heading it sits under.

Documents are not written to be read aloud. A heading ("Hours and Contact") is a label, never an answer; a list
item ("Puppies younger than 12 weeks.") is a fragment that only makes sense after its lead-in ("We can't take:");
"Phone: (555) 012-8857." is a label and a value. ``units_of`` turns a passage's lines into ``Unit``s whose
``spoken`` text is a sentence a caller can follow, and whose ``heading`` gives the sentence its context (the
passage's section, or a heading line marked inside the chunk by the chunker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quantum_voice.services.knowledge.chunking import HEADING_MARK
from quantum_voice.services.knowledge.grammar import shape_of
from quantum_voice.services.knowledge.text import split_sentences
from quantum_voice.services.leads.names import is_ordinary_word

_TERMINAL = (".", "!", "?", '."', ".)", "!)")
_LABEL_VALUE = re.compile(r"^(?P<label>[A-Z][\w'’&/()\-, ]{0,80}?):\s+(?P<value>\S.*)$")
_DASHED_LABEL = re.compile(r"^(?P<label>[A-Z0-9][\w'’&/()+\-, ]{0,60}?)\s+[—–]\s+(?P<value>[$£€\d].*)$")  # "Car hire — £120."
_OWN_LABELS = {"address": "Our address is", "phone": "Our phone number is", "telephone": "Our phone number is",
               "email": "Our email address is", "e-mail": "Our email address is", "hours": "Our hours are",
               "opening hours": "Our opening hours are", "website": "Our website is", "fax": "Our fax number is"}
_MAX_LIST_WORDS = 40
_DAYS = re.compile(r"^(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?s?\b|^week(?:day|end)s?\b|"
                   r"^(?:daily|every day|holidays?)\b", re.I)  # "Saturday: 9 a.m. to 1 p.m." stays as it is
# a value that reads as the label's complement: an amount, a time or a count ("$38", "7 a.m. to 7 p.m.", "free")
_PLAIN_VALUE = re.compile(r"^(?:\$|£|€|\d|free\b|no charge\b|included\b|from \$|up to\b|about\b|around\b)", re.I)
_FAQ_LABEL = re.compile(r"^(?:Q|A|Question|Answer)\s*[:.]\s+")  # "Q: ...?" / "A: ..." in an FAQ


@dataclass
class Unit:
    text: str  # as written (one line or one sentence)
    spoken: str  # what the agent would say
    heading: str  # the section it sits under ("" when unknown)
    index: int  # position among the passage's units
    asked: str = ""  # an FAQ question right before it ("What deposit is required?"), which it answers
    intro: str = ""  # the lead-in of the list this item belongs to ("We can't take:")
    asked_index: int | None = None  # the position of that FAQ question among the units

    @property
    def is_question(self) -> bool:
        """An FAQ question: never said, only the context of the answer after it."""
        return self.text.endswith("?")

    @property
    def with_context(self) -> str:
        """What the embedder compares with a question: the heading gives a short sentence its subject."""
        return f"{self.heading}: {self.text}" if self.heading else self.text


def last_heading(section: str | None) -> str:
    """"Harbor View › Fees › Parking" → "Parking"."""
    return (section or "").split("›")[-1].strip()


def units_of(text: str, section: str | None) -> list[Unit]:
    """The units of one passage, in order: sayable ones, and FAQ questions (``is_question``) as their context."""
    heading, intro, units = last_heading(section), "", []
    raw = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [_FAQ_LABEL.sub("", line) for line in raw]
    for position, line in enumerate(lines):
        if line.startswith(HEADING_MARK) or _looks_like_heading(line, lines, position):
            heading, intro = line.removeprefix(HEADING_MARK).strip(), ""
            continue
        if intro and (not _is_list_item(line) or not intro.endswith(":") and not _short_item(line)):
            intro = ""  # a sentence ends a label's list ("Off-peak" + "Adult £11" ... "Concessions are for ...")
        if " | " in line and position + 1 < len(lines) and _table_row(lines[position + 1]):
            continue  # a table's header row: its words head every row below it
        if _is_faq_question(raw, position, line):  # "Q: My dog panics at the vet. Can you help?" is one question
            units.append(Unit(line, line, heading, len(units)))
            continue
        if intro or _table_row(line):  # a list item, or a table row whose cells hold sentences, stays whole
            sentences = [line]
        else:
            sentences = [_FAQ_LABEL.sub("", x) for x in _faq_questions_whole(split_sentences(raw[position]))]
        lead = ""  # a bare "Yes." / "No, sorry." answers the FAQ question; it leads the sentence after it
        for sentence in sentences:
            if sentence.endswith("?"):
                units.append(Unit(sentence, sentence, heading, len(units)))  # an FAQ question, kept as context
                continue
            if len(sentence.split()) <= 2 and sentence.endswith((".", "!")) and sentence is not sentences[-1]:
                lead = f"{lead} {sentence}".strip()
                continue
            after_question = bool(units) and units[-1].is_question
            alone = len(sentences) == 1 and not after_question  # a list item, or a line of its own
            spoken = f"{lead} {_speakable(sentence, intro, heading if alone else '')}".strip()
            units.append(Unit(sentence, spoken, heading, len(units), asked=units[-1].text if after_question else "",
                              intro=intro, asked_index=units[-1].index if after_question else None))
            lead = ""
        if (line.endswith(":") and len(line.split()) <= 20 or _names_a_list(lines, position)) and units \
                and not units[-1].is_question:
            intro = line
            units.pop()  # the lead-in alone says nothing; its items carry it
    return units


def _names_a_list(lines: list[str], position: int) -> bool:
    """A short label with no colon over a list ("Off-peak (Monday to Friday before 4pm)" then "Adult £11",
    "Concession £9.50"): no sentence of its own, no figures outside brackets, two short items after it."""
    line, after = lines[position], lines[position + 1:position + 3]
    if line.endswith(_TERMINAL + (":", ",", ";")) or len(line.split()) > 12 or len(after) < 2:
        return False
    if re.search(r"\d", re.sub(r"\([^)]*\)", "", line)) or line.startswith(HEADING_MARK):
        return False
    words = line.split()
    if len(words) >= 4 and sum(w[:1].isupper() for w in words) > 0.6 * len(words):
        return False  # "Model Bedrooms Bathrooms Interior size Starting price": a table's header row, not a label
    return all(_short_item(item) and not item.startswith(HEADING_MARK) for item in after) and shape_of(line).fragment


def _short_item(line: str) -> bool:
    """An item a label's list can hold: a few words, no sentence ("Adult £11", "Under 16 £7.50")."""
    return len(line.split()) <= 10 and not line.endswith(_TERMINAL) and not re.search(r"[.!?]\s", line)


def _is_faq_question(raw: list[str], position: int, line: str) -> bool:
    """A whole line that asks an FAQ question: labelled "Q:" (or followed by an "A:" line) and ending in "?"."""
    if not line.endswith("?") or len(line.split()) > 40:
        return False
    following = raw[position + 1] if position + 1 < len(raw) else ""
    return bool(_FAQ_QUESTION.match(raw[position]) or _FAQ_ANSWER.match(following))


def _faq_questions_whole(sentences: list[str]) -> list[str]:
    """"Q: My dog panics at the vet." + "Can you help?" → one question: an FAQ's question runs from its "Q:" to
    the first sentence that ends in "?" (at most three sentences, never past an "A:")."""
    merged, position = [], 0
    while position < len(sentences):
        sentence = sentences[position]
        if _FAQ_QUESTION.match(sentence) and not sentence.endswith("?"):
            end = next((k for k in range(position + 1, min(position + 3, len(sentences)))
                        if _FAQ_ANSWER.match(sentences[k]) or sentences[k].endswith("?")), None)
            if end is not None and sentences[end].endswith("?") and not _FAQ_ANSWER.match(sentences[end]):
                merged.append(" ".join(sentences[position:end + 1]))
                position = end + 1
                continue
        merged.append(sentence)
        position += 1
    return merged


_FAQ_QUESTION = re.compile(r"^(?:Q|Question)\s*[:.]\s+")
_FAQ_ANSWER = re.compile(r"^(?:A|Answer)\s*[:.]\s+")


def embedding_texts(text: str, section: str | None) -> list[str]:
    """What is embedded for a passage's units, in order (stored with the chunk when it is processed)."""
    return [unit.with_context for unit in units_of(text, section)]


def _looks_like_heading(line: str, lines: list[str], position: int) -> bool:
    """A heading in an older chunk (before headings were marked): short, no full stop, no figures, capitalised,
    and followed by a sentence."""
    words = line.split()
    if not words or len(words) > 6 or line.endswith(_TERMINAL + (":", ",", ";")) or re.search(r"\d|\$", line):
        return False
    following = lines[position + 1] if position + 1 < len(lines) else ""
    capitalised = sum(w[:1].isupper() for w in words if len(w) > 3) >= max(1, len([w for w in words if len(w) > 3]))
    return capitalised and following.endswith(_TERMINAL) and len(following.split()) > len(words)


def _label_is_plural(label: str) -> bool:
    """By the parser where it reads the label as a noun phrase ("Deluxe suite with a bed and a webcam" is one
    suite), else by ``_plural``'s rule of thumb."""
    head = _HEAD_END.split(label, maxsplit=1)[0]
    if re.search(r"\band\b|&", head):  # "Drop-off and pick-up": two things
        return True
    shape = shape_of(label)
    return shape.plural if shape.fragment else _plural(label)


_HEAD_END = re.compile(r"\s+(?:before|after|for|of|with|in|on|at|per|from|to|sharing|including)\b|,")


def _plural(label: str) -> bool:
    """"Critter guards", "Drop-off and pick-up" → are; "Bath before going home", "Full day" → is."""
    if re.search(r"\band\b|&", label):
        return True
    head = _HEAD_END.split(label, maxsplit=1)[0].split()[-1].lower()
    return head.endswith("s") and not head.endswith(("ss", "us", "is")) and len(head) > 3


def _is_list_item(line: str) -> bool:
    return len(line.split()) <= 25 and not line.endswith(":")


def _speakable(sentence: str, intro: str, heading: str = "") -> str:
    """One sentence a caller can follow: a list item after its lead-in, "Label: value" said as words, a noun
    phrase on a line of its own made a sentence by its ``heading`` (``_from_heading``)."""
    text = sentence.strip()
    if intro:
        lead = intro.rstrip(": ").strip() + ("" if intro.rstrip().endswith(":") else ":")  # a label: "Peak: adult £14"
        item = text[:1].lower() + text[1:] if text[:2].isalpha() and not text[:2].isupper() else text
        text = f"{lead} {item}" if len(lead.split()) + len(item.split()) <= _MAX_LIST_WORDS else text
    else:
        text = _table_row(text) or text
        match = _LABEL_VALUE.match(text) or _DASHED_LABEL.match(text)
        label, value = (match.group("label").strip(), match.group("value").strip()) if match else ("", "")
        if match and len(label.split()) <= 14:
            own = _OWN_LABELS.get(label.lower())
            if own:
                text = f"{own} {value}"
            elif _PLAIN_VALUE.match(value) and len(value.split()) <= 12 and not _DAYS.match(label):  # "Full day: $38." → "Full day is $38."
                text = f"{label} {'are' if _label_is_plural(label) else 'is'} {value}"
        elif heading and ":" not in text:  # "Half day, up to 5 hours: $26." is a label and a value, said as it is
            text = _from_heading(text, heading) or text
    if not text.endswith(_TERMINAL):
        text += "."
    return text


_PRICE_HEADS = {"price", "prices", "cost", "fee", "amount", "rate", "total", "charge"}
_CELL = re.compile(r"^(?P<head>[^:;]{1,40}):\s+(?P<value>[^;]+)$")


def _table_row(line: str) -> str | None:
    """A table row as the parser stores it ("Lesson: 1-hour lesson; Manual: £38; Automatic: £42") said the way
    a person reads it: "1-hour lesson: £38 manual, £42 automatic" (the first cell names the row, the columns'
    headers follow amounts and go before words); ``None`` for anything else."""
    cells = [_CELL.match(part.strip()) for part in line.split("; ")]
    if len(cells) < 2 or not all(cells):
        return None
    name, rest = cells[0]["value"].strip(), [(c["head"].strip(), c["value"].strip()) for c in cells[1:]]
    said = []
    for head, value in rest:
        head = head if head.isupper() else head[:1].lower() + head[1:]
        short, amount = len(value.split()) <= 4, bool(_PLAIN_VALUE.match(value))
        if not short or amount and head.lower() in _PRICE_HEADS:
            said.append(value)  # a longer value speaks for itself; "Price: £55" is just "£55"
        elif amount:
            said.append(f"{value} {head}" if len(rest) > 1 or head.startswith(("per ", "each ", "a ")) else value)
        else:
            said.append(f"{head} {value}")  # "features garden"
    return f"{name}: {', '.join(v.rstrip('.') for v in said)}."


_MODAL = r"(?:(?:don't|do not|can|can't|cannot|won't|will|also|only|no longer)\s+)?"
_WHAT_WE = re.compile(rf"^what\s+(?P<who>we|i)\s+(?P<verb>{_MODAL}[a-z][\w-]*(?: \w+)?)$", re.I)
_THINGS_WE = re.compile(rf"^(?P<what>[\w' -]+?)\s+(?P<who>we|i|you can)\s+(?P<verb>{_MODAL}[a-z][\w-]*)$", re.I)
_OWNED = re.compile(r"^(?:our|the|my|your)\b", re.I)
_NO_SUBJECT = {"faq", "faqs", "questions", "notes", "details", "contacts", "links", "terms", "conditions", "updates",
               "news", "highlights", "basics", "essentials", "reviews", "testimonials"}


def _from_heading(item: str, heading: str) -> str | None:
    """A noun phrase said as a sentence through its heading, or ``None`` when it is a sentence already or the
    heading gives it no verb:

    - "What We Install" + "Ground-mounted arrays for open land." → "We install ground-mounted arrays for open land."
    - "Services We Offer" + "Drain cleaning." → "We offer drain cleaning."
    - "Services" + "Drain cleaning and camera inspections." → "Our services include drain cleaning and ..."
    """
    heading = " ".join(heading.split()).rstrip(":.")
    if not heading or len(heading.split()) > 6:
        return None
    shape = shape_of(item)
    if not shape.fragment:
        return None
    phrase = item.rstrip(".!;,")
    if not shape.proper_start and not phrase[:2].isupper():
        phrase = phrase[:1].lower() + phrase[1:]
    what_we, things_we = _WHAT_WE.match(heading), _THINGS_WE.match(heading)
    if what_we:
        lead = f"{what_we['who'].capitalize()} {what_we['verb'].lower()}"
    elif things_we:
        lead = f"{things_we['who'].capitalize()} {things_we['verb'].lower()}"
    else:
        kind = shape_of(heading)
        words = re.findall(r"[a-z]+", heading.lower())
        if not (kind.fragment and kind.plural) or re.search(r"\b(?:and|or|&)\b", heading) \
                or not all(is_ordinary_word(w) for w in words) or set(words) & _NO_SUBJECT:
            # "How a Project Works", "About Us and Where We Work", "Northgate Motors", "FAQs": no subject to hang
            # the item on; only plural everyday nouns ("Services", "Our Treatments", "Extras") are
            return None
        subject = heading.lower() if _OWNED.match(heading) else f"our {heading.lower()}"
        lead = f"{subject[:1].upper()}{subject[1:]} include"
    if len(lead.split()) + len(phrase.split()) > _MAX_LIST_WORDS:
        return None
    return f"{lead} {phrase}."

"""Lead fields from natural speech: name, phone, interest, timeline, budget, a day and time, custom choices.

Rules only (no model): each extractor returns the value as the caller said it, lightly normalised, or ``None``.
Emails live in ``emails.py``. ``extract_fields`` runs them all over one utterance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from quantum_voice.services.leads.emails import extract_email
from quantum_voice.services.leads.names import could_be_a_name

DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
               "six": "6", "seven": "7", "eight": "8", "nine": "9"}
REPEATS = {"double": 2, "triple": 3}
# Words that follow "I'm" / "this is" but are not names ("I'm interested", "this is great").
NOT_NAMES = set("""
a an the and or but so very really just not no yes yeah sure ok okay well also still here there from with in on
at about for to of by as is was be been calling looking interested wondering trying thinking hoping planning
curious asking checking ready going gonna glad happy good fine great excited sorry new old buying selling moving
renting searching after actually currently only kind sort bit little fan fan big first second retired married
single busy free available around nearby close local back home away done over open closed sure thanks thank
hi hello hey hmm um uh calling writing reaching ringing phoning contacting following considering comparing
interested keen eager impressed surprised confused lost stuck unsure certain afraid worried concerned aware
tired late early almost nearly definitely probably maybe perhaps like inquiring enquiring wanting needing
gonna wanna gotta that this it its they them their your you we our us he she his her him me my mine i i'm
what who why how when where which whose email phone number name agent person human someone somebody
correct right agree agreed exactly absolutely certainly okay alright perfect nope nah yep yup please cheers
bye goodbye morning afternoon evening thanks anonymous skip pass none nothing
""".split())
# what people say before their name ("Uh, hello, this is ...", "Hey, it's ...")
_OPENERS = r"(?:hi|hello|hey|hiya|uh|um|er|oh|so|well|yes|yeah|sure|ok|okay|(?:good )?(?:morning|afternoon|evening))"
# (cue, how sure it makes us): "strong" takes any name-like words, "weak" wants a capitalised name (or all-lowercase
# typing), "answer" counts only right after the name was asked for ("it's Ana").
_NAME_CUES = [
    (re.compile(r"\b(?:my name is|my name's|name is|the name is|name's)\s+", re.I), "strong"),
    (re.compile(r"\bcall me\s+", re.I), "strong"),
    (re.compile(r"\b(?:i am|i'm|im)\s+", re.I), "weak"),
    (re.compile(rf"^(?:\W*{_OPENERS}\W+)*this is\s+", re.I), "weak"),
    (re.compile(rf"^(?:\W*{_OPENERS}\W+)*(?:it's|it is)\s+", re.I), "answer"),
]
# "Good morning, Barnaby Whitcombe here." / "Tom Baker speaking": the name before "here" or "speaking"
_NAME_HERE = re.compile(rf"^(?:\W*{_OPENERS}\W+)*(?P<name>[^\W\d_][\w'\-]*(?:\s+[^\W\d_][\w'\-]*){{0,2}})\s+"
                        r"(?:here|speaking)\b", re.I)
_NAME_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'\-]*$")
MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
SEASONS = "spring|summer|fall|autumn|winter"
COUNT = (r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|a few|few|"
         r"a couple(?: of)?|couple of|several|\d+)")
_TIMELINE = re.compile("|".join([
    r"\b(?:as soon as possible|asap|a\.s\.a\.p|right away|immediately|right now|urgently|straight away)\b",
    rf"\b(?:next|this|coming|early next|later this|end of (?:the|this|next)) (?:week|month|year|quarter|weekend|"
    rf"{SEASONS})\b",
    rf"\b(?:in|within|over) (?:the next |about |around )?{COUNT} (?:or (?:two|three|so) )?"
    r"(?:days?|weeks?|months?|years?)\b",
    rf"\b(?:by|before|in|around|this|next|early|late|mid) (?:the )?(?:end of )?(?:{MONTHS}|{SEASONS})\b",
    r"\b(?:by|before) (?:the )?end of (?:the )?(?:year|month|summer|spring|fall|winter)\b",
    # "before the heating season starts", "ahead of the holidays", "before our wedding", "before the new term"
    r"\b(?:before|ahead of|in time for) (?:the |our |my |his |her )?(?:[a-z]+ ){0,2}(?:season|holidays?|christmas|"
    r"thanksgiving|easter|new year|term|semester|school year|wedding|baby|move|winter|summer|spring|autumn|fall)\b"
    r"(?: (?:starts?|begins?|comes?|arrives?|kicks? in))?",
    r"\b(?:no rush|no hurry|not in a hurry|just browsing|just looking|not sure when|some ?time next year)\b",
    r"\b(?:this|next) (?:fall|autumn)\b",
    r"\bin 20\d\d\b",
    # not a bare "today" or "this morning": "how are you today?" is small talk, not a timeline; but "I need it
    # fixed today" and "hoping to get it done this afternoon" are
    r"\b(?:tomorrow(?: (?:morning|afternoon|evening|night))?|the day after tomorrow)\b",
    r"\b(?:by|before|until|no later than) (?:this |next |the )?(?:monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|weekend|end of the week|end of the day)\b",
    r"\b(?:this|next|coming) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    rf"\b(?:the )?week of (?:the )?\d{{1,2}}(?:st|nd|rd|th)\b|\bon the \d{{1,2}}(?:st|nd|rd|th)\b"
    rf"|\b(?:on|by|before|from) (?:{MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?\b|\b(?:{MONTHS}) \d{{1,2}}(?:st|nd|rd|th)\b"
    rf"|\bthe \d{{1,2}}(?:st|nd|rd|th) of (?:{MONTHS})\b",
]), re.I)
_TODAY = re.compile(r"\b(?:need|want|like|hope|hoping|get|fix|fixed|done|ready|back|sorted|repaired|booked|book|"
                    r"come|in)\s+(?:(?:it|this|that|them|him|her|one|something|done|fixed|sorted|back|in|out|to|do|"
                    r"booked)\s+){0,3}(?P<when>today|tonight|this (?:morning|afternoon|evening))\b", re.I)
_NUMBER_WORDS = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
                 r"fifty|sixty|seventy|eighty|ninety|hundred|a|half a|and|point|-)")
_AMOUNT = (r"(?:\$\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|m|mm|thousand|million|grand))?"
           r"|\d[\d,]*(?:\.\d+)?\s?(?:k|m|thousand|million|grand|dollars|bucks)\b"
           rf"|(?:{_NUMBER_WORDS}\s+)*{_NUMBER_WORDS}\s+(?:thousand|million|grand|dollars)\b"
           r"|a million|half a million)")
_MONEY = re.compile(
    r"\bbetween\s+\$?\d[\d,.]*\s?(?:k|thousand|million)?\s*(?:and|to|-)\s*" + _AMOUNT + "|"
    r"(?:\b(?:under|below|around|about|roughly|approximately|up to|max(?:imum)?|at most|no more than|less than|"
    r"over|above|at least|between)\s+)?" + _AMOUNT + r"(?:\s*(?:and|to|-|or)\s*" + _AMOUNT + r")?", re.I)
_BUDGET_CUE = re.compile(r"\b(?:budget|afford|spend|spending|price range|pre-?approved|looking to pay)\b", re.I)
_INTEREST = re.compile(
    r"\b(?:interested in|looking for|looking at|looking to (?:buy|rent|get|book|install|purchase|lease)|"
    r"in the market for|shopping for|thinking (?:about|of) (?:buying|getting|installing|renting)?|calling about|"
    r"want(?:ed)? to (?:buy|rent|get|install|purchase|lease)|i(?:'d| would) like to (?:buy|rent|get|install|purchase)|"
    r"need(?:ing)? (?:a|an|some|new))\s+(?P<what>[^,.;!?]+)", re.I)
_INTEREST_END = re.compile(r"\s+(?:and|but|because|so|which|that|if|since|though|before|after|when|for my|my email|"
                           r"my name|my number|please)\b.*$", re.I)
_NOT_AN_INTEREST = re.compile(r"^(?:information|info|help|someone|a person|an agent|the price|prices|to know|"
                              r"to talk|to speak|you|it|that|this)\b", re.I)
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_TIME = r"(?:\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.|o'clock)?|noon|midday|(?:one|two|three|four|five|six|" \
        r"seven|eight|nine|ten|eleven|twelve)(?:\s?(?:am|pm|o'clock|thirty))?)"
_DATE_TIME = re.compile(
    rf"\b(?:(?:next|this|on|coming)\s+)?(?:{_WEEKDAYS}|tomorrow|today|the weekend)"
    rf"(?:\s+(?:morning|afternoon|evening|night))?(?:\s+(?:at|around|about)\s+{_TIME})?"
    rf"|\b(?:at|around)\s+\d{{1,2}}(?::\d{{2}})?\s?(?:am|pm|a\.m\.|p\.m\.)"
    rf"|\b(?:{MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s+at\s+{_TIME})?", re.I)


def extract_phone(text: str) -> str | None:
    """Digits said or typed (``five five five one two three four``, ``(555) 123-4567``, ``double five``)."""
    cleaned = _MONEY.sub(" ", text.lower())
    tokens = re.findall(r"\+?\d+|[a-z']+|[^\s\w]", cleaned)
    best: list[str] = []
    run: list[str] = []
    repeat = 1
    for index, token in enumerate(tokens):
        starts_a_number = index + 1 < len(tokens) and (tokens[index + 1] in DIGIT_WORDS or tokens[index + 1]
                                                       in REPEATS or tokens[index + 1].isdigit())
        digits = _digits_of(token, in_run=bool(run) or starts_a_number)
        if token in REPEATS:
            repeat = REPEATS[token]
        elif digits is not None:
            run.append(digits * repeat if len(digits) == 1 else digits)
            repeat = 1
        elif token in {"-", "(", ")", ".", ",", "/"} or (token == "and" and run):
            continue
        else:
            best, run, repeat = _longer(best, run), [], 1
    number = "".join(_longer(best, run))
    bare = number.lstrip("+")
    return number if 7 <= len(bare) <= 15 else None


def _digits_of(token: str, *, in_run: bool) -> str | None:
    if re.fullmatch(r"\+?\d+", token):
        return token
    if token in ("o", "oh"):
        return "0" if in_run else None
    return DIGIT_WORDS.get(token)


def _longer(best: list[str], run: list[str]) -> list[str]:
    return run if len("".join(run)) > len("".join(best)) else best


def extract_name(text: str, *, expecting: bool = False) -> str | None:
    """``Hi, I'm John Smith`` → ``John Smith``. With ``expecting`` (the name was just asked for) a bare answer
    ("John", "it's Ana Lopez", "a n a") counts too."""
    for cue, strength in _NAME_CUES:
        if strength == "answer" and not expecting:
            continue
        for match in cue.finditer(text):
            name = _name_after(text[match.end():], strong=strength == "strong" or expecting, original=text)
            if name:
                return name
    here = _NAME_HERE.match(text.strip())
    if here:
        name = _name_after(here.group("name"), strong=False, original=text)
        if name and len(name.split()) == len(here.group("name").split()):
            return name
    if expecting:
        return _bare_name(text)
    return None


_SPELLING_AN_EMAIL = re.compile(r"^\S+\s+(?:dot|at|underscore|dash|hyphen)\b|^\S+@", re.I)


def _name_after(rest: str, *, strong: bool, original: str) -> str | None:
    if _SPELLING_AN_EMAIL.match(rest.strip()):
        return None  # "it's luke dot brennan at ...": an email being spoken, not a name
    words: list[str] = []
    for raw in re.split(r"\s+", rest.strip()):
        word = raw.strip(",.;!?:\"")
        if not word or not _NAME_WORD.match(word) or word.lower() in NOT_NAMES:
            break
        words.append(word)
        if raw[-1:] in ",.;!?:" or len(words) == 3:
            break
    if not words:
        return None
    lowercase_typing = original == original.lower()
    if not strong and not (words[0][0].isupper() or lowercase_typing) or _looks_like_activity(words[0]):
        return None
    if not strong and not could_be_a_name(words[0]):
        return None  # "I'm Fine", "this is Great": an ordinary word, not a name
    return _title(words)


def _looks_like_activity(word: str) -> bool:
    return len(word) > 5 and word.lower().endswith(("ing", "ly"))


def _bare_name(text: str) -> str | None:
    if "?" in text:
        return None
    cleaned = re.sub(r"^(?:\W*(?:yes|yeah|sure|ok|okay|it's|it is|um|uh|so|hi|hello|hey)\b\W*)+", "", text.strip(),
                     flags=re.I)
    cleaned = re.split(r"[,;]", cleaned.strip(" .,!?"))[0]  # "Sam, sam@example.com": the name comes first
    tokens = cleaned.split()
    if tokens and all(len(t) == 1 and t.isalpha() for t in tokens) and len(tokens) >= 2:
        return "".join(tokens).title()  # spelled: "a n a" → "Ana"
    if 1 <= len(tokens) <= 3 and all(_NAME_WORD.match(t) and t.lower() not in NOT_NAMES for t in tokens) \
            and could_be_a_name(tokens[0]):
        return _title(tokens)  # "Cost." (a word caught alone) is no name; "Priya" and "Oluwaseun" are
    return None


def _title(words: Iterable[str]) -> str:
    return " ".join(w if any(ch.isupper() for ch in w[1:]) else w[:1].upper() + w[1:].lower() for w in words)


def extract_interest(text: str) -> str | None:
    """``I'm interested in the 3-bedroom model`` → ``the 3-bedroom model``."""
    for match in _INTEREST.finditer(text):
        what = _INTEREST_END.sub("", match.group("what")).strip(" -")
        what = " ".join(what.split()[:8])
        if what and not _NOT_AN_INTEREST.match(what) and extract_email(what) is None:
            return what
    return None


def extract_timeline(text: str) -> str | None:
    """``we'd like to move next month`` → ``next month``."""
    match = _TIMELINE.search(text)
    if match:
        return " ".join(match.group(0).lower().split())
    today = _TODAY.search(text)
    return today.group("when").lower() if today else None


def extract_budget(text: str) -> str | None:
    """``around $450k`` / ``between 400 and 500 thousand`` / ``my budget is 2 million``; amounts need a currency
    word or a budget cue so "3 bedrooms" is never a budget."""
    for match in _MONEY.finditer(text):
        phrase = " ".join(match.group(0).split())
        if re.search(r"[$]|k\b|m\b|thousand|million|grand|dollars|bucks", phrase, re.I) or _BUDGET_CUE.search(text):
            return phrase
    return None


def extract_date_time(text: str) -> str | None:
    """``next Tuesday at 3pm`` / ``tomorrow morning`` / ``June 12th``, as said."""
    match = _DATE_TIME.search(text)
    return " ".join(match.group(0).split()) if match else None


def extract_choice(text: str, choices: Iterable[str]) -> str | None:
    """The first choice mentioned. A choice ``"3-bedroom|three bedroom|3 bed"`` lists its spoken synonyms."""
    lowered = " ".join(text.lower().replace("-", " ").split())
    for choice in choices:
        names = [n.strip() for n in choice.split("|") if n.strip()]
        for name in names:
            spoken = " ".join(name.lower().replace("-", " ").split())
            if re.search(rf"\b{re.escape(spoken)}\b", lowered):
                return names[0]
    return None


def extract_pattern(text: str, pattern: str) -> str | None:
    match = re.search(pattern, text, re.I)
    if not match:
        return None
    return (match.groupdict().get("value") or match.group(0)).strip()

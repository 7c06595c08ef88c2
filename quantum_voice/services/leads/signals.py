"""Does a caller's turn say a scoring keyword? Matching by words, not characters, tolerant of how people talk.

* Word forms: a keyword word also matches its inflections: ``s``, ``es``, ``ed``, ``ing``, ``d`` / ``ing`` after a
  trailing ``e`` ("schedule" → "scheduled", "scheduling"), ``ies`` / ``ied`` after a consonant ``y``, and a doubled
  final consonant ("stop by" → "stopping by"). Words of one or two letters ("a", "me") match only as they are.
* Phrases: a keyword of several words matches those words in order, with at most one filler word ("right", "just",
  "please", ...) between two of them: "come out" hears "come right out", "call me back" hears "call me right back".
* Spelling: case, apostrophes ("what's" = "whats"), hyphens ("move-in" = "move in", "e-mail" = "email") and
  spacing are ignored.
* Negation: "I don't need a quote", "no visit needed", "not looking to book" do not fire. A negator ("not", "never",
  "without", "don't", "can't", ...) up to four words before the keyword, in the same clause, cancels it; "no" only
  right before it ("no visit") or as "no need". Clauses end at punctuation and at "but", "though", "however", ...
  Not negations: "not sure", "don't know", "wouldn't mind", "can't wait", and questions ("Doesn't that cost extra?",
  "Why don't you send me a quote?", "Can't someone come out today?"), which still ask for the thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

NEGATORS = frozenset({
    "not", "never", "without", "nor", "cannot", "dont", "doesnt", "didnt", "wont", "wouldnt", "cant", "couldnt",
    "isnt", "arent", "wasnt", "werent", "shouldnt", "havent", "hasnt", "hadnt", "aint", "neednt",
})
# negator + one of these is not a negation of what follows: "not sure how much", "wouldn't mind a quote"
NOT_NEGATING_NEXT = frozenset({"sure", "know", "mind", "wait", "only", "certain", "problem", "worries"})
NEGATION_WINDOW = 4  # words between a negator and the keyword it cancels (same clause)
# "dont you", "cant someone", "isnt there": a negative question, which still asks
PRONOUNS = frozenset({"you", "we", "i", "they", "it", "there", "someone", "anyone", "somebody", "anybody", "that",
                      "this", "he", "she", "your", "u"})
QUESTION_OPENERS = frozenset({
    "why", "how", "what", "when", "where", "who", "which", "do", "does", "did", "can", "could", "would", "will",
    "is", "are", "shall", "should", "may", "have", "has",
})
CLAUSE_BREAKERS = frozenset({"but", "though", "although", "however", "except", "instead", "otherwise"})
FILLERS = frozenset({"right", "just", "please", "on", "also", "quickly", "soon", "maybe", "possibly", "actually"})

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"[^.!?;]+[.!?;]*")
_CLAUSE_PUNCT = re.compile(r"[,:()\[\]\"—–]|\s-+\s")
_WORD_HYPHEN = re.compile(r"(?<=[a-z0-9])-(?=[a-z0-9])")
_APOSTROPHE = re.compile(r"(?<=[a-z])['’‘`](?=[a-z])")
_VOWELS = set("aeiou")


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped inside words, word hyphens as spaces, "e-mail" as "email"."""
    text = _APOSTROPHE.sub("", text.lower())
    text = re.sub(r"\be-mail", "email", text)
    return _WORD_HYPHEN.sub(" ", text)


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


@lru_cache(maxsize=4096)
def forms(word: str) -> frozenset[str]:
    """The word and its regular inflections (a few nonsense forms too: harmless, nobody says them)."""
    if len(word) < 3 or not word.isalpha():
        return frozenset({word})
    found = {word, word + "s", word + "es", word + "ed", word + "ing"}
    if word.endswith("e"):
        found |= {word + "d", word[:-1] + "ing"}
    if word.endswith("y") and word[-2] not in _VOWELS:
        found |= {word[:-1] + "ies", word[:-1] + "ied"}
    if word[-1] not in _VOWELS and word[-1] not in "wxy":
        found |= {word + word[-1] + "ed", word + word[-1] + "ing"}
    return frozenset(found)


@dataclass(frozen=True)
class Clause:
    words: tuple[str, ...]
    asking: bool  # a question: negations in it do not cancel a keyword


def clauses(utterance: str) -> list[Clause]:
    """The utterance cut at punctuation and contrast words ("but", "however"), each marked as a question or not."""
    found: list[Clause] = []
    for sentence in _SENTENCE.findall(normalise(utterance)):
        pieces: list[list[str]] = []
        for chunk in _CLAUSE_PUNCT.split(sentence):
            current: list[str] = []
            for word in _WORD.findall(chunk):
                if word in CLAUSE_BREAKERS:
                    pieces.append(current)
                    current = []
                else:
                    current.append(word)
            pieces.append(current)
        pieces = [p for p in pieces if p]
        question_mark = sentence.rstrip().endswith("?")
        for index, piece in enumerate(pieces):
            asking = (question_mark and index == len(pieces) - 1) or _opens_a_question(piece)
            found.append(Clause(tuple(piece), asking))
    return found


def _opens_a_question(piece: list[str]) -> bool:
    if piece[0] in QUESTION_OPENERS:
        return True
    return piece[0] in NEGATORS and len(piece) > 1 and piece[1] in PRONOUNS


@lru_cache(maxsize=4096)
def _pattern(keyword: str) -> tuple[frozenset[str], ...]:
    return tuple(forms(word) for word in words(keyword))


def _match_at(clause: tuple[str, ...], start: int, pattern: tuple[frozenset[str], ...]) -> bool:
    if clause[start] not in pattern[0]:
        return False
    position = start + 1
    for allowed in pattern[1:]:
        if position < len(clause) and clause[position] in allowed:
            position += 1
        elif (position + 1 < len(clause) and clause[position] in FILLERS and clause[position + 1] in allowed):
            position += 2
        else:
            return False
    return True


def _negated(clause: tuple[str, ...], start: int) -> bool:
    """A negator shortly before ``start`` in the same clause ("don't need a", "no", "no need for a")."""
    for index in range(max(0, start - NEGATION_WINDOW), start):
        word = clause[index]
        following = clause[index + 1]
        if word == "no":
            if index == start - 1 or following in ("need", "needs", "interest"):
                return True
        elif word in NEGATORS and following not in NOT_NEGATING_NEXT:
            return True
    return False


def said(utterance: str | list[Clause], keyword: str) -> bool:
    """Whether the caller said ``keyword`` (a word or phrase), in some form and not negated."""
    pattern = _pattern(keyword)
    if not pattern:  # a keyword of punctuation only: plain text search
        text = utterance if isinstance(utterance, str) else " ".join(" ".join(c.words) for c in utterance)
        return bool(keyword.strip()) and keyword.strip().lower() in normalise(text)
    for clause in clauses(utterance) if isinstance(utterance, str) else utterance:
        for start in range(len(clause.words)):
            if _match_at(clause.words, start, pattern) and (clause.asking or not _negated(clause.words, start)):
                return True
    return False


def said_any(utterance: str | list[Clause], keywords: list[str]) -> bool:
    parsed = clauses(utterance) if isinstance(utterance, str) else utterance
    return any(said(parsed, keyword) for keyword in keywords)


def keywords_said(utterance: str, keywords: list[str]) -> list[str]:
    """Which of ``keywords`` the caller said (for explaining a score and for tests)."""
    parsed = clauses(utterance)
    return [keyword for keyword in keywords if said(parsed, keyword)]

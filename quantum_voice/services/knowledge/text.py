"""Plain-text helpers shared by chunking, retrieval and answering: sentences, token estimates, search terms."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
# A sentence ends at . ! ? followed by space and an upper-case letter, digit or quote; not after common
# abbreviations or single initials.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "no", "vs", "etc", "e.g", "i.e", "approx", "incl", "sq", "ft",
                  "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "inc", "ltd",
                  "co", "ave", "blvd", "rd", "mt", "a.m", "p.m", "u.s", "min", "max"}

STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being below between both
but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from further
had hadn't has hasn't have haven't having he her here hers herself him himself his how i i'm if in into is isn't it
it's its itself let's me more most my myself no nor not of off on once only or other ought our ours ourselves out
over own same she should shouldn't so some such than that that's the their theirs them themselves then there
there's these they this those through to too under until up very was wasn't we were weren't what what's when where
which while who whom why with won't would wouldn't you your yours yourself yourselves tell please know want like
get got also just will shall may might must there's here's anything something thing things
""".split())


def count_tokens(text: str) -> int:
    """Roughly the number of model tokens (words and punctuation marks)."""
    return len(_TOKEN.findall(text))


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def stem(word: str) -> str:
    """A light English stemmer, enough to match "fees"/"fee" and "parking"/"park" in term overlap."""
    for suffix in ("ings", "ing", "ies", "es", "s", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            return base + "y" if suffix == "ies" else base
    return word


def content_terms(text: str) -> list[str]:
    """Words that carry meaning in a question (no stop words), in order, without repeats."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; each line of a list or table stays on its own."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            candidate = line[start : match.start()].strip()
            last_word = candidate.rsplit(" ", 1)[-1].rstrip(".!?\"')]").lower()
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                continue
            sentences.append(candidate)
            start = match.end()
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def squash_spaces(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()
